"""Boot tests: real guests on pemu-system-riscv64, driven through the serial console."""
from __future__ import annotations

import os

import pytest
from guest import PEMU_RISCV, SHARED_IMAGES, Console, needs_shared_images

PROMPT = r"pemu:[^\n]*# "
UBOOT = "/usr/lib/u-boot/qemu-riscv64_smode/u-boot.bin"


def test_bundled_guest_shell_reboot_and_poweroff():
    con = Console(PEMU_RISCV + ["-nographic"])
    try:
        con.expect(r"booting the bundled guest", 30)
        con.expect(r"OpenSBI v1")
        con.expect(r"Linux version 6\.1")
        con.expect(r"pemu guest: Linux 6\.1[^\n]* on riscv64")
        con.expect(PROMPT)
        assert con.run("echo $((6*7))") == "42"
        isa = con.run("grep -m1 isa /proc/cpuinfo")
        assert "rv64imafdc" in isa
        # reboot -f: the same process boots the guest again
        con.send("reboot -f\n")
        con.expect(r"OpenSBI v1")
        con.expect(r"Linux version 6\.1")
        con.expect(PROMPT)
        assert con.run("echo again") == "again"
        con.send("poweroff -f\n")
        assert con.wait(120) == 0
    finally:
        con.kill()


@needs_shared_images
def test_reference_guest_with_two_harts():
    con = Console(PEMU_RISCV + [
        "-M", "virt", "-m", "256M", "-smp", "2", "-nographic",
        "-kernel", os.path.join(SHARED_IMAGES, "Image"),
        "-initrd", os.path.join(SHARED_IMAGES, "initramfs.cpio.gz"),
        "-append", "console=ttyS0"])
    try:
        con.expect(r"smp: Brought up 1 node, 2 CPUs")
        con.expect(r"pemu reference guest: Linux 6\.1")
        con.expect(PROMPT)
        assert con.run("grep -c ^processor /proc/cpuinfo") == "2"
        assert con.run("echo $((6*7))") == "42"
        con.send("poweroff -f\n")
        assert con.wait(120) == 0
    finally:
        con.kill()


@pytest.mark.skipif(not os.path.exists(UBOOT), reason="Debian u-boot-qemu is not installed")
def test_uboot_reaches_its_prompt_under_opensbi():
    con = Console(PEMU_RISCV + ["-M", "virt", "-m", "256M", "-nographic", "-kernel", UBOOT])
    try:
        con.expect(r"OpenSBI v1")
        con.expect(r"U-Boot 20\d\d")
        con.expect(r"=> ")
        con.send("version\n")
        con.expect(r"U-Boot 20\d\d\.\d\d")
        con.send("\x01x")  # Ctrl-A x quits, as in QEMU
        assert con.wait(60) == 0
    finally:
        con.kill()
