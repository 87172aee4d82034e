"""Guest disks end to end: virtio-blk under a bare-metal program and under Linux.

- fast: a tiny bare-metal program (no firmware) drives virtio-mmio by hand,
  reads sector 0 of the disk and prints it on the UART; raw, qcow2 and
  -snapshot variants.
- slow: the bundled Linux guest formats a virtio disk with busybox mkfs.ext2,
  writes files and powers off; the image passes `qemu-img check` and the host's
  e2fsck/debugfs read the files; a second boot with -snapshot reads them back,
  changes the file system, and the image is unchanged afterwards.
"""
from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys

import pytest
from guest import PEMU_RISCV, SHARED_IMAGES, Console

FIRMWARE = os.path.join(os.path.dirname(__file__), "..", "..", "pemu", "firmware")
AS, LD = "riscv64-linux-gnu-as", "riscv64-linux-gnu-ld"
SECTOR0 = b"PEMU SECTOR ZERO: hello from the disk"

needs_as = pytest.mark.skipif(shutil.which(AS) is None or shutil.which(LD) is None,
                              reason=f"{AS}/{LD} missing (Debian binutils-riscv64-linux-gnu)")
needs_qemu_img = pytest.mark.skipif(shutil.which("qemu-img") is None,
                                    reason="qemu-img missing (Debian qemu-utils)")

# Bare metal: set up queue 0 of the virtio-blk device in the top virtio-mmio slot
# (VIRTIO 1.2 3.1.1 initialisation, 4.2.3 registers), post one IN request for
# sector 0 (5.2.6: header, 512-byte data buffer, status byte), poll the used
# ring, print the data up to its first NUL and "S=<status>" on the UART, then
# power off through the sifive_test device (0x5555; 0x13333 = fail, code 1).
READ_SECTOR0 = r"""
.equ VIRTIO, 0x10008000
.equ UART, 0x10000000
.equ DESC, 0x80010000
.equ AVAIL, 0x80011000
.equ USED, 0x80012000
.equ HDR, 0x80013000
.equ DATA, 0x80014000
.equ STAT, 0x80015000
.text
.globl _start
_start:
  li s0, VIRTIO
  li s1, UART
  lw t0, 0(s0)            # MagicValue
  li t1, 0x74726976
  bne t0, t1, fail
  lw t0, 8(s0)            # DeviceID: 2 = block
  li t1, 2
  bne t0, t1, fail
  sw zero, 0x70(s0)       # Status: reset
  li t0, 1                # ACKNOWLEDGE
  sw t0, 0x70(s0)
  li t0, 3                # | DRIVER
  sw t0, 0x70(s0)
  li t0, 1                # DriverFeatures[63:32] = VIRTIO_F_VERSION_1
  sw t0, 0x24(s0)
  sw t0, 0x20(s0)
  sw zero, 0x24(s0)       # DriverFeatures[31:0] = 0
  sw zero, 0x20(s0)
  li t0, 11               # | FEATURES_OK
  sw t0, 0x70(s0)
  lw t0, 0x70(s0)
  andi t0, t0, 8
  beqz t0, fail
  sw zero, 0x30(s0)       # QueueSel 0
  li t0, 8
  sw t0, 0x38(s0)         # QueueNum 8
  li t0, DESC
  sw t0, 0x80(s0)
  sw zero, 0x84(s0)
  li t0, AVAIL
  sw t0, 0x90(s0)
  sw zero, 0x94(s0)
  li t0, USED
  sw t0, 0xa0(s0)
  sw zero, 0xa4(s0)
  li t0, 1
  sw t0, 0x44(s0)         # QueueReady
  li t0, 15               # | DRIVER_OK
  sw t0, 0x70(s0)
  li t2, HDR              # header: type IN (0), reserved, sector 0
  sd zero, 0(t2)
  sd zero, 8(t2)
  li t3, DESC
  sd t2, 0(t3)            # desc 0: header, 16 bytes, NEXT -> 1
  li t0, 16
  sw t0, 8(t3)
  li t0, 1
  sh t0, 12(t3)
  sh t0, 14(t3)
  li t4, DATA             # desc 1: data, 512 bytes, WRITE|NEXT -> 2
  sd t4, 16(t3)
  li t0, 512
  sw t0, 24(t3)
  li t0, 3
  sh t0, 28(t3)
  li t0, 2
  sh t0, 30(t3)
  li t5, STAT             # desc 2: status byte, WRITE
  li t0, 0xff
  sb t0, 0(t5)
  sd t5, 32(t3)
  li t0, 1
  sw t0, 40(t3)
  li t0, 2
  sh t0, 44(t3)
  sh zero, 46(t3)
  li t6, AVAIL            # avail: flags 0, ring[0] = 0, then idx = 1
  sh zero, 0(t6)
  sh zero, 4(t6)
  fence
  li t0, 1
  sh t0, 2(t6)
  fence
  sw zero, 0x50(s0)       # QueueNotify 0
  li a0, USED
1:
  lhu t0, 2(a0)           # wait for used idx 1
  beqz t0, 1b
  fence
  li a1, DATA
  li a2, 64
2:
  lbu t0, 0(a1)
  beqz t0, 3f
  sb t0, 0(s1)
  addi a1, a1, 1
  addi a2, a2, -1
  bnez a2, 2b
3:
  li t0, '\n'
  sb t0, 0(s1)
  li t0, 'S'
  sb t0, 0(s1)
  li t0, '='
  sb t0, 0(s1)
  lbu t0, 0(t5)
  addi t0, t0, '0'
  sb t0, 0(s1)
  li t0, '\n'
  sb t0, 0(s1)
  li t0, 0x100000
  li t1, 0x5555
  sw t1, 0(t0)
4:
  j 4b
fail:
  li t0, 'F'
  sb t0, 0(s1)
  li t0, '\n'
  sb t0, 0(s1)
  li t0, 0x100000
  li t1, 0x13333
  sw t1, 0(t0)
  j 4b
"""


@pytest.fixture(scope="module")
def read_sector0_elf(tmp_path_factory) -> str:
    d = tmp_path_factory.mktemp("baremetal")
    src, obj, elf = (str(d / n) for n in ("prog.S", "prog.o", "prog.elf"))
    with open(src, "w") as f:
        f.write(".option norelax\n" + READ_SECTOR0)
    subprocess.run([AS, "-march=rv64gc", "-o", obj, src], check=True, capture_output=True)
    subprocess.run([LD, "-N", "-Ttext=0x80000000", "-o", elf, obj], check=True,
                   capture_output=True)
    return elf


def _run_bare(elf: str, *drive_args: str) -> subprocess.CompletedProcess:
    return subprocess.run(PEMU_RISCV + ["-m", "32M", "-bios", "none", "-kernel", elf,
                                        "-nographic", *drive_args],
                          stdin=subprocess.DEVNULL, capture_output=True, timeout=300)


@needs_as
@pytest.mark.parametrize("variant", ["raw", "qcow2", "snapshot", "cdrom"])
def test_bare_metal_reads_sector0(tmp_path, read_sector0_elf, variant) -> None:
    raw = tmp_path / "disk.raw"
    raw.write_bytes(SECTOR0 + bytes(64 * 1024 - len(SECTOR0)))
    if variant == "qcow2":
        if shutil.which("qemu-img") is None:
            pytest.skip("qemu-img missing (Debian qemu-utils)")
        subprocess.run(["qemu-img", "convert", "-f", "raw", "-O", "qcow2", str(raw),
                        str(tmp_path / "disk.qcow2")], check=True)
        args = ["-drive", f"file={tmp_path}/disk.qcow2,if=virtio"]
    elif variant == "snapshot":
        args = ["-snapshot", "-drive", f"file={raw},format=raw"]
    elif variant == "cdrom":
        args = ["-cdrom", str(raw)]
    else:
        args = ["-drive", f"file={raw},format=raw,if=none,id=d0",
                "-device", "virtio-blk-device,drive=d0,serial=bare"]
    r = _run_bare(read_sector0_elf, *args)
    out = r.stdout.replace(b"\r", b"")
    assert SECTOR0 + b"\nS=0\n" in out, (out + r.stderr).decode(errors="replace")
    assert r.returncode == 0


def _guest_argv() -> list[str]:
    """The bundled guest, or the shared reference images while it is being built."""
    if os.path.exists(os.path.join(FIRMWARE, "linux-riscv64-Image")) and \
            os.path.exists(os.path.join(FIRMWARE, "initramfs-riscv64.cpio")):
        return []
    if not os.path.exists(os.path.join(SHARED_IMAGES, "Image")):
        pytest.skip("no guest: neither pemu/firmware/linux-riscv64-Image nor "
                    "../shared/images/riscv64/Image")
    return ["-kernel", os.path.join(SHARED_IMAGES, "Image"),
            "-initrd", os.path.join(SHARED_IMAGES, "initramfs.cpio.gz"),
            "-append", "console=ttyS0"]


def _boot(*args: str) -> Console:
    c = Console(PEMU_RISCV + ["-nographic", *_guest_argv(), *args])
    c.expect(r"pemu:[^\n]*# ")
    return c


def _sha256(path: str) -> str:
    with open(path, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()


NUMBERS = "".join(f"{i}\n" for i in range(1, 3001)).encode()
MARKER = "written-by-the-guest"


@pytest.mark.slow
@needs_qemu_img
def test_guest_formats_writes_and_reads_back(tmp_path) -> None:
    disk = str(tmp_path / "disk.qcow2")
    subprocess.run(["qemu-img", "create", "-f", "qcow2", disk, "32M"], check=True,
                   capture_output=True)

    # Boot 1: mkfs, mount, write, unmount, power off.
    c = _boot("-drive", f"file={disk},format=qcow2,if=virtio")
    try:
        assert "vda" in c.run("cat /proc/partitions")
        c.run("mkfs.ext2 /dev/vda", timeout=900)
        c.run("mount -t ext2 /dev/vda /mnt")
        c.run(f"echo {MARKER} > /mnt/hello.txt")
        c.run("mkdir /mnt/dir && seq 1 3000 > /mnt/dir/numbers")
        c.run("sync && umount /mnt")
        c.send("poweroff -f\n")
        assert c.wait(300) == 0
    finally:
        c.kill()

    check = subprocess.run(["qemu-img", "check", disk], capture_output=True, text=True)
    assert check.returncode == 0, check.stdout + check.stderr
    if shutil.which("debugfs") and shutil.which("e2fsck"):
        raw = str(tmp_path / "disk.raw")
        subprocess.run(["qemu-img", "convert", "-f", "qcow2", "-O", "raw", disk, raw],
                       check=True)
        fsck = subprocess.run(["e2fsck", "-fn", raw], capture_output=True, text=True)
        assert fsck.returncode == 0, fsck.stdout + fsck.stderr
        cat = subprocess.run(["debugfs", "-R", "cat /dir/numbers", raw], capture_output=True)
        assert cat.stdout == NUMBERS

    # Boot 2, -snapshot: the files are there; changes vanish with the overlay.
    before = _sha256(disk)
    c = _boot("-snapshot", "-drive", f"file={disk},format=qcow2,if=virtio")
    try:
        c.run("mount -t ext2 /dev/vda /mnt")
        assert c.run("cat /mnt/hello.txt") == MARKER
        assert c.run("md5sum /mnt/dir/numbers").split()[0] == hashlib.md5(NUMBERS).hexdigest()
        c.run("rm /mnt/hello.txt && echo scratch > /mnt/scratch.txt")
        c.run("dd if=/dev/zero of=/mnt/zeros bs=1k count=512")
        c.run("sync && umount /mnt")
        c.send("poweroff -f\n")
        assert c.wait(300) == 0
    finally:
        c.kill()
    assert _sha256(disk) == before
    check = subprocess.run(["qemu-img", "check", disk], capture_output=True, text=True)
    assert check.returncode == 0, check.stdout + check.stderr


if __name__ == "__main__":
    sys.exit(pytest.main([__file__, "-v"]))
