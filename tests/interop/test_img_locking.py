"""Image locks between pemu and QEMU, both ways: QEMU's tools are the oracle.

A holder (qemu-io, qemu-system-riscv64, pemu-system-riscv64) keeps an image
open; a contender from the other side must succeed or fail exactly as QEMU's
own tool does in its place: same exit status, same message (program name
aside).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from test_img_util import QEMU_IO, needs_qemu, pemu_img, qemu_img

QEMU_SYSTEM = shutil.which("qemu-system-riscv64")
needs_qemu_system = pytest.mark.skipif(
    QEMU_SYSTEM is None, reason="qemu-system-riscv64 not installed (apt-get install "
    "qemu-system-misc)")
pytestmark = needs_qemu
QUIET = ["-M", "virt", "-S", "-nographic", "-monitor", "none", "-serial", "none"]
PEMU_SYSTEM = [sys.executable, "-m", "pemu.cli.system"]


def _locks_on(path: str) -> list[str]:
    ino = os.stat(path).st_ino
    with open("/proc/locks") as f:
        return [ln for ln in f if f":{ino} " in ln]


@contextmanager
def held(path: str, cmd: list[str]) -> Iterator[subprocess.Popen]:
    """Run ``cmd`` (which opens ``path`` and waits on stdin) until the block ends."""
    before = len(_locks_on(path))
    p = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.DEVNULL,
                         stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 60
        while len(_locks_on(path)) <= before:
            if p.poll() is not None:
                raise AssertionError(f"holder {cmd} ended: {p.stderr.read()}")
            if time.monotonic() > deadline:
                raise AssertionError(f"holder {cmd} took no lock on {path}")
            time.sleep(0.05)
        yield p
    finally:
        p.kill()
        p.wait()


def _same_outcome(pemu: subprocess.CompletedProcess, qemu: subprocess.CompletedProcess,
                  qemu_prog: str) -> None:
    assert pemu.returncode == qemu.returncode, (pemu.stderr, qemu.stderr)
    if qemu.returncode:
        assert pemu.stderr.replace("pemu-", "qemu-") == qemu.stderr.replace(qemu_prog, "qemu-img")


@pytest.fixture
def images(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # relative names, as a user types them
    qemu_img("create", "-q", "-f", "qcow2", "a.qcow2", "16M")
    qemu_img("create", "-q", "-f", "qcow2", "-b", "a.qcow2", "-F", "qcow2", "top.qcow2")
    qemu_img("create", "-q", "-f", "raw", "r.raw", "1M")
    return tmp_path


COMMANDS = [
    ["info", "a.qcow2"], ["info", "-U", "a.qcow2"], ["info", "top.qcow2"],
    ["info", "--backing-chain", "top.qcow2"], ["check", "a.qcow2"], ["check", "-U", "a.qcow2"],
    ["snapshot", "-l", "a.qcow2"], ["snapshot", "-c", "s1", "a.qcow2"],
    ["resize", "a.qcow2", "32M"], ["commit", "top.qcow2"], ["map", "-U", "top.qcow2"],
    ["compare", "a.qcow2", "top.qcow2"], ["compare", "-U", "a.qcow2", "top.qcow2"],
    ["convert", "-O", "raw", "top.qcow2", "out.raw"],
    ["convert", "-U", "-O", "raw", "top.qcow2", "out.raw"],
    ["create", "-q", "-f", "qcow2", "a.qcow2", "1M"], ["check", "-U", "-r", "all", "a.qcow2"],
    ["info", "r.raw"], ["compare", "r.raw", "r.raw"], ["resize", "-f", "raw", "r.raw", "2M"],
]
HOLDERS = {
    "qemu-io rw qcow2": ["-f", "qcow2", "a.qcow2"],
    "qemu-io ro qcow2": ["-r", "-f", "qcow2", "a.qcow2"],
    "qemu-io rw raw": ["-f", "raw", "r.raw"],
}


@pytest.mark.parametrize("holder", HOLDERS)
def test_pemu_img_refuses_as_qemu_img_while_qemu_io_holds(images, holder):
    args = HOLDERS[holder]
    with held(args[-1], [QEMU_IO, *args]):
        for cmd in COMMANDS:
            # the state the command meets must be the same for both tools
            if cmd[0] in ("resize", "snapshot", "commit", "create"):
                continue
            _same_outcome(pemu_img(*cmd, check=False), qemu_img(*cmd, check=False), "qemu-img")


@pytest.mark.parametrize("cmd", [c for c in COMMANDS
                                 if c[0] in ("resize", "snapshot", "commit", "create")])
def test_modifying_commands_refused_as_qemu_img(images, cmd):
    # qemu-img refuses first (changing nothing), then pemu-img meets the same state
    with held("a.qcow2", [QEMU_IO, "-f", "qcow2", "a.qcow2"]), \
            held("r.raw", [QEMU_IO, "-f", "raw", "r.raw"]):
        q = qemu_img(*cmd, check=False)
        _same_outcome(pemu_img(*cmd, check=False), q, "qemu-img")
    assert pemu_img(*cmd, check=False).returncode == 0  # free again once qemu-io is gone
    qemu_img("check", "a.qcow2")


def _pemu_holder(path: str, fmt: str, readonly: bool) -> list[str]:
    code = ("import sys; from pemu.block import open_backend; "
            f"b = open_backend({path!r}, {fmt!r}, readonly={readonly}); sys.stdin.read()")
    return [sys.executable, "-c", code]


@pytest.mark.parametrize("readonly", [False, True])
@pytest.mark.parametrize("fmt", ["qcow2", "raw"])
def test_qemu_tools_see_pemu_device_locks(images, fmt, readonly):
    """pemu's device locks keep QEMU's tools out exactly where QEMU's own device does."""
    path = "a.qcow2" if fmt == "qcow2" else "r.raw"
    probes = [["info", path], ["info", "-U", path], ["check", "-U", path],
              ["compare", "-f", fmt, path, path], ["resize", "-f", fmt, path, "64M"]]
    drive = f"file={path},format={fmt},if=virtio" + (",readonly=on" if readonly else "")
    expect = []
    if QEMU_SYSTEM is not None:  # QEMU's own device is the reference
        with held(path, [QEMU_SYSTEM, *QUIET, "-drive", drive]):
            expect = [qemu_img(*c, check=False) for c in probes]
    with held(path, _pemu_holder(path, fmt, readonly)):
        got = [qemu_img(*c, check=False) for c in probes]
        io = subprocess.run([QEMU_IO, "-f", fmt, "-c", "read 0 512", path],
                            capture_output=True, text=True, check=False)
        assert io.returncode == 1 and 'Failed to get "write" lock' in io.stderr
    for q, p in zip(expect, got, strict=False):
        assert (p.returncode, p.stderr) == (q.returncode, q.stderr)
    # info only claims that nobody writes: it fails under a qcow2 writer alone
    assert got[0].returncode == (1 if fmt == "qcow2" and not readonly else 0)
    assert got[1].returncode == 0


@needs_qemu_system
def test_running_pemu_system_keeps_qemu_out(images):
    drive = "file=a.qcow2,if=virtio"
    with held("a.qcow2", [*PEMU_SYSTEM, *QUIET, "-drive", drive]):
        r = qemu_img("info", "a.qcow2", check=False)
        assert r.returncode == 1 and r.stderr == (
            "qemu-img: Could not open 'a.qcow2': Failed to get shared \"write\" lock\n"
            "Is another process using the image [a.qcow2]?\n")
        assert qemu_img("info", "-U", "a.qcow2").returncode == 0
        q = subprocess.run([QEMU_SYSTEM, *QUIET, "-drive", drive + ",readonly=on"],
                           capture_output=True, text=True, timeout=60, check=False)
        assert q.returncode == 1 and "Failed to get shared \"write\" lock" in q.stderr


@needs_qemu_system
@pytest.mark.parametrize("drive", [
    "file=a.qcow2,if=virtio", "file=a.qcow2,if=virtio,readonly=on",
    "file=top.qcow2,if=virtio", "file=a.qcow2,if=virtio,snapshot=on",
    "file=top.qcow2,if=virtio,file.locking=off", "file=a.qcow2,if=virtio,force-share=on",
])
def test_pemu_system_refuses_as_qemu_system(images, drive):
    with held("a.qcow2", [QEMU_SYSTEM, *QUIET, "-drive", "file=a.qcow2,if=virtio"]):
        q = subprocess.run([QEMU_SYSTEM, *QUIET, "-drive", drive], capture_output=True,
                           text=True, timeout=60, check=False)
        p = subprocess.run([*PEMU_SYSTEM, *QUIET, "-drive", drive], capture_output=True,
                           text=True, timeout=120, check=False)
    assert q.returncode == p.returncode == 1
    assert p.stderr.replace("pemu-system", "qemu-system") == q.stderr


def test_locking_off_and_force_share_let_pemu_in(images):
    from pemu.cli.drive_options import open_drive, parse_drive

    with held("a.qcow2", [QEMU_IO, "-f", "qcow2", "a.qcow2"]):
        for text in ("file=a.qcow2,file.locking=off", "file=a.qcow2,readonly=on,force-share=on"):
            drive = open_drive(parse_drive(text))
            try:
                assert drive.size == 16 << 20
            finally:
                drive.close()
        with pytest.raises(ValueError, match='Failed to get "write" lock'):
            open_drive(parse_drive("file=a.qcow2,file.locking=on"))
    # file.locking=off takes no lock: qemu-img can then write the image
    drive = open_drive(parse_drive("file=a.qcow2,file.locking=off"))
    try:
        assert _locks_on("a.qcow2") == []
        assert qemu_img("resize", "a.qcow2", "32M").returncode == 0
    finally:
        drive.close()


def test_snapshot_commit_upgrades_own_lock(images):
    """-snapshot's Ctrl-A s commits into the base this process holds read-only."""
    from pemu.cli.drive_options import open_drive, parse_drive

    drive = open_drive(parse_drive("file=a.qcow2,snapshot=on"))
    try:
        drive.write(0, b"\x5a" * 65536)
        with held("a.qcow2", [QEMU_IO, "-r", "-U", "-f", "qcow2", "a.qcow2"]):
            drive.commit()  # a force-share reader does not stop the commit
        with held("a.qcow2", [QEMU_IO, "-r", "-f", "qcow2", "a.qcow2"]):
            with pytest.raises(Exception, match='Failed to get "write" lock'):
                drive.commit()  # a plain reader does, as in QEMU
        # back to a reader's lock: writers stay out, metadata readers get in
        assert qemu_img("resize", "a.qcow2", "32M", check=False).returncode == 1
        assert qemu_img("info", "a.qcow2", check=False).returncode == 0
    finally:
        drive.close()
    out = subprocess.run([QEMU_IO, "-f", "qcow2", "-c", "read -P 0x5a 0 64k", "a.qcow2"],
                         capture_output=True, text=True, check=True).stdout
    assert "read 65536/65536" in out
