"""gdb-multiarch against pemu-system-riscv64 -gdb ... -S, and the same session
against qemu-system-riscv64, the oracle: start at the reset vector, stepi,
x/4i, a breakpoint, a register write, a watchpoint firing at the writing
instruction, two harts as threads, the monitor through gdb, Ctrl-C stopping
a running guest, and detach leaving it running (QMP query-status).

The guest is a small bare-metal program (-bios none -kernel prog.elf): hart
1 parks in WFI, hart 0 waits for that, then loops storing a counter and
calling a function.
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


@pytest.fixture(scope="module")
def program(tmp_path_factory) -> str:
    if shutil.which(GCC) is None:
        pytest.skip(f"{GCC} missing (Debian package gcc-riscv64-linux-gnu)")
    if not gdb_mi.available():
        pytest.skip("gdb-multiarch missing (Debian package gdb-multiarch)")
    d = tmp_path_factory.mktemp("gdbprog")
    (d / "prog.S").write_text(PROGRAM)
    (d / "link.ld").write_text(LINK)
    elf = d / "prog.elf"
    subprocess.run([GCC, "-nostdlib", "-nostartfiles", "-static", "-no-pie", "-g",
                    "-march=rv64gc", "-mabi=lp64d", "-T", str(d / "link.ld"),
                    "-Wl,--no-relax", "-Wl,--build-id=none", "-o", str(elf), str(d / "prog.S")],
                   check=True, capture_output=True)
    return str(elf)


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
    env = dict(os.environ, PYTHONPATH=os.path.dirname(os.path.dirname(
        os.path.dirname(os.path.abspath(__file__)))))
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
SAME = ("connect", "start_pc", "stepi_pc", "x4i", "break", "break_stop", "break_pc", "a0",
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
