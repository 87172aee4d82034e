"""pemu-img convert -l SNAPSHOT writes the snapshot's data, as qemu-img does
(by ID or name, snapshot.id=/snapshot.name=), and fails as qemu-img does for a
snapshot that does not exist."""
from __future__ import annotations

import shutil
import subprocess
import sys

import pytest

pytestmark = pytest.mark.skipif(
    not (shutil.which("qemu-img") and shutil.which("qemu-io")),
    reason="qemu-img/qemu-io missing (Debian qemu-utils): qemu-img is the oracle")


def _pemu(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "pemu.cli.img", *args],
                          capture_output=True, text=True, timeout=120)


def _qemu(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(["qemu-img", *args], capture_output=True, text=True, timeout=120)


@pytest.fixture
def image(tmp_path):
    """A qcow2 image with two snapshots over three generations of data."""
    img = str(tmp_path / "s.qcow2")
    subprocess.run(["qemu-img", "create", "-q", "-f", "qcow2", img, "2M"], check=True)
    for pattern, snap in (("0x11", "first"), ("0x22", "second"), ("0x33", None)):
        subprocess.run(["qemu-io", "-c", f"write -P {pattern} 64k 64k", img], check=True,
                       capture_output=True)
        if snap:
            subprocess.run(["qemu-img", "snapshot", "-c", snap, img], check=True)
    return img


@pytest.mark.parametrize("spec", ["first", "1", "second", "2", "snapshot.name=first",
                                  "snapshot.id=2", "snapshot.id=1,snapshot.name=first"])
def test_convert_writes_the_snapshot_as_qemu_img_does(image, tmp_path, spec):
    before = open(image, "rb").read()
    ours, theirs = str(tmp_path / "p.raw"), str(tmp_path / "q.raw")
    p = _pemu("convert", "-l", spec, "-O", "raw", image, ours)
    q = _qemu("convert", "-l", spec, "-O", "raw", image, theirs)
    assert q.returncode == 0, q.stderr
    assert p.returncode == 0, p.stderr
    assert open(ours, "rb").read() == open(theirs, "rb").read()
    assert open(image, "rb").read() == before  # reading a snapshot writes nothing
    # and the active disk is not the snapshot's: the latest data is 0x33
    assert open(ours, "rb").read()[65536] in (0x11, 0x22)


@pytest.mark.parametrize("spec", ["nosuch", "snapshot.id=1,snapshot.name=second",
                                  "snapshot.foo=1"])
def test_a_missing_snapshot_fails_as_qemu_img_does(image, tmp_path, spec):
    p = _pemu("convert", "-l", spec, "-O", "raw", image, str(tmp_path / "p.raw"))
    q = _qemu("convert", "-l", spec, "-O", "raw", image, str(tmp_path / "q.raw"))
    assert (p.returncode, q.returncode) == (1, 1)
    assert p.stderr.splitlines()[-1].replace("pemu-img", "qemu-img") == \
        q.stderr.splitlines()[-1]
