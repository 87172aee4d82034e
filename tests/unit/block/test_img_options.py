"""pemu-img refuses the qemu-img options it cannot honour (one line, status 1)."""

from __future__ import annotations

import contextlib
import io

import pytest

from pemu.block import create_image
from pemu.cli.img import main


def _run(*args: str) -> tuple[int, str, str]:
    err, out = io.StringIO(), io.StringIO()
    with contextlib.redirect_stderr(err), contextlib.redirect_stdout(out):
        rc = main(list(args))
    return rc, out.getvalue(), err.getvalue()


@pytest.mark.parametrize("args,opt", [
    (["convert", "--image-opts", "-O", "raw", "@", "@.out"], "--image-opts"),
    (["convert", "--target-image-opts", "-O", "raw", "@", "@.out"], "--target-image-opts"),
    (["convert", "-r", "1M", "-O", "raw", "@", "@.out"], "-r"),
    (["convert", "--salvage", "-O", "raw", "@", "@.out"], "--salvage"),
    (["info", "--object", "secret,id=s,data=x", "@"], "--object"),
    (["map", "--start-offset", "4096", "@"], "--start-offset"),
    (["map", "--max-length", "4096", "@"], "--max-length"),
])
def test_unhonoured_options_are_refused(tmp_path, args, opt):
    img = str(tmp_path / "a.qcow2")
    create_image(img, "qcow2", 1 << 20, {})
    rc, _, err = _run(*[a.replace("@", img) for a in args])
    assert rc == 1
    assert err == f"pemu-img: option '{opt}' is not supported by this build\n"
    assert not (tmp_path / "a.qcow2.out").exists()


def test_same_letters_that_mean_something_else_still_work(tmp_path):
    img = str(tmp_path / "a.qcow2")
    create_image(img, "qcow2", 1 << 20, {})
    assert _run("snapshot", "-c", "s1", img)[0] == 0
    rc, out, _ = _run("snapshot", "-l", img)  # -l: list
    assert rc == 0 and "s1" in out
    assert _run("check", "-r", "all", img)[0] == 0  # -r: repair
