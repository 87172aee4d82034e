"""Corrupt and hostile qcow2 images: a clean one-line error, the file untouched."""

from __future__ import annotations

import contextlib
import hashlib
import io
import os
import struct

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pemu.block import open_image
from pemu.block.qcow2_snapops import create_snapshot
from pemu.cli.img import main


def _run(*args: str) -> tuple[int, str]:
    err, out = io.StringIO(), io.StringIO()
    with contextlib.redirect_stderr(err), contextlib.redirect_stdout(out):
        rc = main(list(args))
    return rc, err.getvalue()


def _digest(path: str) -> str:
    with open(path, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()


class _Blob(bytes):
    """The template image; a short repr keeps hypothesis reports readable."""

    def __repr__(self) -> str:
        return f"<qcow2 template, {len(self)} bytes>"


@pytest.fixture(scope="module")
def template(tmp_path_factory) -> bytes:
    d = tmp_path_factory.mktemp("tpl")
    path = str(d / "t.qcow2")
    assert _run("create", "-q", "-f", "qcow2", "-o", "cluster_size=4k", path, "4M")[0] == 0
    with open_image(path, readonly=False) as n:
        n.write(0, b"\x01" * 20000)
        create_snapshot(n, "s")
        n.write(8192, b"\x02" * 9000)
        n.write(3 << 20, b"\x03" * 4096)
    with open(path, "rb") as f:
        return _Blob(f.read())


# where the interesting metadata lives in the template: header, refcount
# table (cluster 1), refcount block (2), L1 (3), and the rest
_REGIONS = [(0, 112), (4096, 4096 + 64), (8192, 8192 + 64), (12288, 12288 + 16), (0, 65536)]


@settings(max_examples=150, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_corrupted_images_fail_cleanly(tmp_path, template, data):
    buf = bytearray(template)
    nmut = data.draw(st.integers(1, 6))
    for _ in range(nmut):
        lo, hi = data.draw(st.sampled_from(_REGIONS))
        hi = min(hi, len(buf))
        if hi <= lo:
            continue
        pos = data.draw(st.integers(lo, hi - 1))
        kind = data.draw(st.sampled_from(["byte", "u64", "u32", "trunc"]))
        if kind == "byte":
            buf[pos] = data.draw(st.integers(0, 255))
        elif kind == "u64" and pos + 8 <= len(buf):
            buf[pos:pos + 8] = struct.pack(">Q", data.draw(
                st.sampled_from([0, 1, 512, 1 << 60, (1 << 63) | 4096, 2**64 - 1, 12288, 4096])))
        elif kind == "u32" and pos + 4 <= len(buf):
            buf[pos:pos + 4] = struct.pack(">I", data.draw(
                st.sampled_from([0, 1, 9, 21, 22, 0x7FFFFFFF, 0xFFFFFFFF, 3])))
        elif kind == "trunc":
            del buf[max(pos, 1):]
    path = str(tmp_path / "h.qcow2")
    with open(path, "wb") as f:
        f.write(buf)
    before = _digest(path)
    for args in (["info", path], ["info", "--output=json", path], ["check", path],
                 ["snapshot", "-l", path], ["map", path],
                 ["convert", "-O", "raw", path, str(tmp_path / "o.raw")]):
        rc, err = _run(*args)
        assert "internal error" not in err, (args, err)
        assert "Traceback" not in err
        if rc == 1:
            lines = [ln for ln in err.splitlines() if ln.startswith("pemu-img:")]
            assert len(lines) == 1, err
        assert _digest(path) == before, args
    if os.path.exists(str(tmp_path / "o.raw")):
        os.unlink(str(tmp_path / "o.raw"))


def _write_header_field(path: str, offset: int, fmt: str, value: int) -> None:
    with open(path, "r+b") as f:
        f.seek(offset)
        f.write(struct.pack(fmt, value))


@pytest.mark.parametrize("field,fmt,value,msg", [
    (36, ">I", 1 << 28, "L1 table too large"),
    (40, ">Q", 1 << 60, "L1 table offset invalid"),
    (48, ">Q", 12288, "overlaps"),
    (56, ">I", 0x7FFFFFFF, "Reference count table too large"),
    (32, ">I", 1, "Encrypted images are not supported"),
    (4, ">I", 7, "Unsupported qcow2 version"),
])
def test_specific_hostile_headers(tmp_path, template, field, fmt, value, msg):
    path = str(tmp_path / "x.qcow2")
    with open(path, "wb") as f:
        f.write(template)
    _write_header_field(path, field, fmt, value)
    before = _digest(path)
    rc, err = _run("info", path)
    assert rc == 1 and msg in err and err.startswith("pemu-img: ")
    rc, err = _run("snapshot", "-c", "x", path)  # read-write open must not write
    assert rc == 1
    assert _digest(path) == before


def test_backing_loop(tmp_path):
    a, b = str(tmp_path / "a.qcow2"), str(tmp_path / "b.qcow2")
    _run("create", "-q", "-f", "qcow2", a, "1M")
    _run("create", "-q", "-f", "qcow2", "-b", "a.qcow2", "-F", "qcow2", b)
    with open_image(a, readonly=False, backing=False) as n:
        n.hdr.backing_file, n.hdr.backing_format = "b.qcow2", "qcow2"
        n.rewrite_header()
    assert _run("info", b)[0] == 0  # as qemu-img: info alone does not open the backing file
    rc, err = _run("info", "--backing-chain", b)
    assert rc == 1 and "loop" in err and err.count("\n") == 1
    rc, err = _run("map", b)
    assert rc == 1 and "loop" in err and err.count("\n") == 1
