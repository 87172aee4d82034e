"""pemu's image locks: the bytes QEMU 7.2 locks, and conflicts between two opens.

The expected byte sets are what /proc/locks showed while Debian's qemu-io and
qemu-system-riscv64 held images (see pemu/block/locking.py); the interop
tests check the same against the live tools.
"""

from __future__ import annotations

import os

import pytest

from pemu.block import BlockError, create_image, open_backend, open_image
from pemu.block.locking import DEVICE, LockConflict, LockPolicy


def _held_bytes(path: str) -> list[int]:
    ino = os.stat(path).st_ino
    out = []
    with open("/proc/locks") as f:
        for line in f:
            fields = line.split()
            if "OFDLCK" in fields and fields[5].endswith(f":{ino}"):
                out += range(int(fields[6]), int(fields[7]) + 1)
    return sorted(out)


@pytest.fixture
def img(tmp_path):
    path = str(tmp_path / "a.qcow2")
    create_image(path, "qcow2", 1 << 20, {})
    raw = str(tmp_path / "r.raw")
    create_image(raw, "raw", 1 << 20, {})
    return path, raw


@pytest.mark.parametrize("fmt,readonly,policy,expect", [
    ("qcow2", False, LockPolicy(), [100, 101, 103, 201, 203]),   # qemu-io rw
    ("qcow2", True, LockPolicy(), [100, 201, 203]),              # qemu-io -r
    ("qcow2", True, LockPolicy(force_share=True), [100]),        # qemu-io -r -U
    ("qcow2", True, LockPolicy(no_io=True), [201, 203]),         # qemu-img info
    ("qcow2", False, DEVICE, [100, 101, 103, 201, 203]),         # -drive if=virtio
    ("raw", False, LockPolicy(), [100, 101]),                    # qemu-io -f raw
    ("raw", False, DEVICE, [100, 101, 201]),                     # -drive format=raw
    ("raw", True, DEVICE, [100, 201]),                           # ... readonly=on
    ("raw", True, LockPolicy(no_io=True), []),                   # qemu-img info r.raw
    ("qcow2", False, LockPolicy(locking="off"), []),             # file.locking=off
])
def test_lock_bytes_are_qemus(img, fmt, readonly, policy, expect):
    path = img[0] if fmt == "qcow2" else img[1]
    with open_image(path, fmt, readonly=readonly, lock=policy):
        assert _held_bytes(path) == expect
    assert _held_bytes(path) == []


def test_two_opens_in_one_process_conflict_as_in_qemu(img):
    path, _ = img
    with open_image(path, readonly=False):
        with pytest.raises(LockConflict) as e:
            open_image(path, readonly=True)
        assert str(e.value) == (f"Could not open '{path}': Failed to get shared \"write\" lock\n"
                                f"Is another process using the image [{path}]?")
        with open_image(path, readonly=True, lock=LockPolicy(force_share=True)) as n:
            assert n.size == 1 << 20
    with open_image(path, readonly=True), open_image(path, readonly=True):
        with pytest.raises(LockConflict, match='Failed to get "write" lock'):
            open_image(path, readonly=False)


def test_force_share_needs_read_only(img):
    with pytest.raises(BlockError, match="force-share=on can only be used with read-only"):
        open_image(img[0], readonly=False, lock=LockPolicy(force_share=True))


def test_create_over_a_held_image_keeps_it(img):
    path, _ = img
    with open_image(path, readonly=False) as n:
        n.write(0, b"precious" * 512)
        with pytest.raises(LockConflict, match='Failed to get "write" lock'):
            create_image(path, "raw", 4096, {})
        assert n.read(0, 8) == b"precious"
        assert os.path.getsize(path) > 4096


def test_snapshot_base_is_a_backing_reader(img):
    path, raw = img
    be = open_backend(raw, "raw", snapshot=True)
    try:
        assert _held_bytes(raw) == [100, 201, 203]
        be.write(0, b"x" * 512)  # lands in the overlay, the base stays free of writes
    finally:
        be.close()
    assert _held_bytes(raw) == []
