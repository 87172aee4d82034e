"""gdb-multiarch against pemu-system-riscv64 -gdb ... -S, and the same session
against qemu-system-riscv64, the oracle: start at the reset vector, stepi,
x/4i, a breakpoint, a register write, a watchpoint firing at the writing
instruction, two harts as threads, the monitor through gdb, Ctrl-C stopping
a running guest, and detach leaving it running (QMP query-status).

The guest is a small bare-metal program (-bios none -kernel prog.elf): hart
1 parks in WFI, hart 0 waits for that, then loops storing a counter and
calling a function. A second program turns on Sv39 paging with an alias
mapping and drops to S-mode: gdb reads and writes memory through it.
"""
from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
import sys
import time

import gdb_mi
import pytest

GCC = "riscv64-linux-gnu-gcc"
QEMU = "qemu-system-riscv64"
PEMU = [sys.executable, "-m", "pemu.cli.system"]
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

PROGRAM = """\
.option norelax
.text
.globl _start
_start:
    csrr a0, mhartid
    bnez a0, secondary
    la t2, parked
wait:                       # hart 0 waits until hart 1 is parked
    lw t3, 0(t2)
    beqz t3, wait
    la t0, counter
    li t1, 0
loop:
    addi t1, t1, 1
    sd t1, 0(t0)
    call func
    j loop
.globl func
func:
    addi a1, a1, 1
    ret
secondary:
    la t2, parked
    li t3, 1
    sw t3, 0(t2)
park:
    wfi
    j park
.data
.globl counter
counter: .dword 0
parked: .word 0
"""
# Sv39 with two 1 GiB leaves, 0x80000000 (identity) and 0x40000000 (an alias of
# it), then S-mode: gdb reads and writes through the hart's translation.
PAGING = """\
.option norelax
.text
.globl _start
_start:
    li t0, -1
    csrw pmpaddr0, t0
    li t0, 0x1f
    csrw pmpcfg0, t0
    la t0, root
    li t1, ((0x80000000 >> 12) << 10) | 0xcf
    sd t1, 16(t0)
    sd t1, 8(t0)
    srli t0, t0, 12
    li t1, 8 << 60
    or t0, t0, t1
    csrw satp, t0
    sfence.vma
    li t0, 3 << 11
    csrc mstatus, t0
    li t0, 1 << 11
    csrs mstatus, t0
    la t0, s_mode
    csrw mepc, t0
    mret
s_mode:
    la t0, value
.globl spin
spin:
    ld t1, 0(t0)
    j spin
.data
.align 12
root: .zero 4096
.globl value
value: .dword 0x1122334455667788
"""
PAGING_SCRIPT = ["break spin", "continue", "p $priv", "p/x $satp", "p/x *(long *)&value",
                 "p/x *(long *)((long)&value - 0x40000000)",
                 "set var *(long *)((long)&value - 0x40000000 + 8) = 0x42",
                 "p/x *(long *)((long)&value + 8)", "x/2gx 0x100000000"]
POWEROFF = """\
.option norelax
.text
.globl _start
_start:
    li t0, 0x100000           # sifive_test: power off
    li t1, 0x5555
    sw t1, 0(t0)
1:  j 1b
"""
LINK = """\
ENTRY(_start)
SECTIONS {
  . = 0x80000000;
  .text : { *(.text*) }
  . = ALIGN(0x1000);
  .data : { *(.data*) *(.sdata*) *(.bss*) }
}
"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def build(d, name: str, source: str) -> str:
    (d / f"{name}.S").write_text(source)
    (d / "link.ld").write_text(LINK)
    elf = d / f"{name}.elf"
    subprocess.run([GCC, "-nostdlib", "-nostartfiles", "-static", "-no-pie", "-g",
                    "-march=rv64gc", "-mabi=lp64d", "-T", str(d / "link.ld"),
                    "-Wl,--no-relax", "-Wl,--build-id=none", "-o", str(elf),
                    str(d / f"{name}.S")], check=True, capture_output=True)
    return str(elf)


@pytest.fixture(scope="module")
def program(tmp_path_factory) -> str:
    if shutil.which(GCC) is None:
        pytest.skip(f"{GCC} missing (Debian package gcc-riscv64-linux-gnu)")
    if not gdb_mi.available():
        pytest.skip("gdb-multiarch missing (Debian package gdb-multiarch)")
    return build(tmp_path_factory.mktemp("gdbprog"), "prog", PROGRAM)


def _field(record: str, name: str) -> str | None:
    m = re.search(rf'{name}="([^"]*)"', record)
    return m.group(1) if m else None


def _query_status(path: str) -> str:
    from qemu.qmp.legacy import QEMUMonitorProtocol
    q = QEMUMonitorProtocol(path)
    q.connect()
    try:
        return q.cmd("query-status")["status"]  # type: ignore[index]
    finally:
        q.close()


def run_session(emulator: list[str], elf: str, workdir: str) -> dict[str, str]:
    """The same gdb session on one emulator; what each step showed."""
    port = free_port()
    qmp = os.path.join(workdir, "qmp.sock")
    argv = [*emulator, "-M", "virt", "-m", "128M", "-smp", "2", "-bios", "none",
            "-kernel", elf, "-display", "none", "-serial", "null", "-monitor", "none",
            "-qmp", f"unix:{qmp},server=on,wait=off", "-gdb", f"tcp:127.0.0.1:{port}", "-S"]
    env = dict(os.environ, PYTHONPATH=ROOT)
    emu = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, env=env)
    gdb = gdb_mi.GdbMi(elf)
    r: dict[str, str] = {}
    try:
        r["connect"] = gdb.cli(f"target remote 127.0.0.1:{port}").replace(str(port), "PORT")
        r["start_pc"] = gdb.cli("p/x $pc")
        gdb.resume("stepi")
        r["stepi_pc"] = gdb.cli("p/x $pc")
        r["x4i"] = gdb.cli("x/4i $pc")
        r["break"] = gdb.cli("break func")
        rec = gdb.resume("continue")
        r["break_stop"] = f"{_field(rec, 'reason')} thread {_field(rec, 'thread-id')}"
        r["break_pc"] = gdb.cli("p/x $pc")
        r["registers"] = gdb.cli("info registers ra sp t0 t1 t2 a0 a1 pc mstatus mhartid priv")
        gdb.cli("set var $a0 = 5")
        r["a0"] = gdb.cli("p $a0")
        r["watch"] = gdb.cli("watch *(long *)&counter")
        rec = gdb.resume("continue")
        r["watch_stop"] = (f"{_field(rec, 'reason')} old {_field(rec, 'old')} "
                           f"new {_field(rec, 'new')}")
        r["watch_pc"] = gdb.cli("p/x $pc")
        r["threads"] = gdb.cli("info threads")
        r["monitor"] = gdb.cli("monitor info status")
        gdb.cli("delete")
        rec = gdb.interrupt_after(0.5)
        r["interrupt_stop"] = f"{_field(rec, 'reason')} {_field(rec, 'signal-name')}"
        r["interrupt_pc"] = gdb.cli("p/x $pc")
        r["detach"] = gdb.cli("detach")
        time.sleep(0.3)
        r["status_after_detach"] = _query_status(qmp)
    finally:
        gdb.close()
        emu.kill()
        emu.wait()
    return r


@pytest.fixture(scope="module")
def sessions(program, tmp_path_factory) -> tuple[dict[str, str], dict[str, str]]:
    if shutil.which(QEMU) is None:
        pytest.skip(f"{QEMU} missing (Debian package qemu-system-misc): no oracle")
    pemu = run_session(PEMU, program, str(tmp_path_factory.mktemp("pemu")))
    qemu = run_session([QEMU], program, str(tmp_path_factory.mktemp("qemu")))
    return pemu, qemu


# Steps whose text is the same on pemu and QEMU (everything but where Ctrl-C lands).
SAME = ("connect", "start_pc", "stepi_pc", "x4i", "break", "break_stop", "break_pc",
        "registers", "a0",
        "watch", "watch_stop", "watch_pc", "threads", "monitor", "interrupt_stop", "detach",
        "status_after_detach")


@pytest.mark.parametrize("step", SAME)
def test_gdb_sees_what_it_sees_on_qemu(sessions, step) -> None:
    pemu, qemu = sessions
    assert pemu[step] == qemu[step]


def test_what_gdb_shows_on_pemu(sessions, program) -> None:
    pemu, _ = sessions
    assert pemu["start_pc"].strip().endswith("= 0x1000")  # the reset vector, as with -S
    assert pemu["stepi_pc"].strip().endswith("= 0x1004")
    assert len(pemu["x4i"].strip().splitlines()) == 4
    assert pemu["break_stop"] == "breakpoint-hit thread 1"
    assert pemu["a0"].strip().endswith("= 5")
    assert pemu["watch_stop"] == "watchpoint-trigger old 1 new 2"
    threads = pemu["threads"]
    assert "Thread 1.1 (CPU#0 [running])" in threads
    assert "Thread 1.2 (CPU#1 [halted ])" in threads
    assert pemu["monitor"].strip() == "VM status: paused (debug)"
    assert pemu["interrupt_stop"] == "signal-received SIGINT"
    pc = int(pemu["interrupt_pc"].split("=")[1], 16)
    assert 0x80000000 <= pc < 0x80001000  # somewhere in the running loop
    assert pemu["status_after_detach"] == "running"


def batch_session(emulator: list[str], elf: str, commands: list[str]) -> str:
    """gdb -batch with these commands against one emulator; its transcript."""
    port = free_port()
    emu = subprocess.Popen([*emulator, "-M", "virt", "-bios", "none", "-kernel", elf,
                            "-display", "none", "-serial", "null", "-monitor", "none",
                            "-gdb", f"tcp:127.0.0.1:{port}", "-S"],
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                           env=dict(os.environ, PYTHONPATH=ROOT))
    script = ["set pagination off", "set confirm off", "set tcp connect-timeout 30",
              f"target remote 127.0.0.1:{port}", *commands]
    try:
        gdb = subprocess.run([gdb_mi.GDB, "-batch", "-nx", *(a for c in script
                                                           for a in ("-ex", c)), elf],
                             capture_output=True, text=True, timeout=60)
    finally:
        emu.kill()
        emu.wait()
    return (gdb.stdout + gdb.stderr).replace(str(port), "PORT")


def test_memory_through_the_mmu_as_qemu(program, tmp_path) -> None:
    # (`program` brings the skips for a missing compiler or gdb)
    if shutil.which(QEMU) is None:
        pytest.skip(f"{QEMU} missing (Debian package qemu-system-misc): no oracle")
    elf = build(tmp_path, "paging", PAGING)
    pemu = batch_session(PEMU, elf, PAGING_SCRIPT)
    assert pemu == batch_session([QEMU], elf, PAGING_SCRIPT)
    assert "= 0x1122334455667788\n$4 = 0x1122334455667788" in pemu  # the alias reads it
    assert "$5 = 0x42" in pemu                                       # and writes it
    assert "Cannot access memory at address 0x100000000" in pemu      # unmapped


def test_guest_power_off_while_gdb_waits_as_qemu(program, tmp_path) -> None:
    if shutil.which(QEMU) is None:
        pytest.skip(f"{QEMU} missing (Debian package qemu-system-misc): no oracle")
    elf = build(tmp_path, "poweroff", POWEROFF)
    pemu = batch_session(PEMU, elf, ["continue"])
    assert pemu == batch_session([QEMU], elf, ["continue"])
    assert "Remote connection closed" in pemu
