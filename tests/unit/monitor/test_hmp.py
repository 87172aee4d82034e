"""HMP parsing and output, laid out as QEMU 7.2 prints it (checked against qemu-system-riscv64)."""
from __future__ import annotations

import pytest

from pemu.monitor import add_monitor
from pemu.monitor.hmp import HmpSession


@pytest.fixture
def hmp(machine):
    return HmpSession(machine)


@pytest.mark.parametrize("line, expected", [
    ("xp /4xw 0x1000", "0000000000001000: 0x00000297 0x02828613 0x14402573 0x0202b583\n"),
    ("xp /2xg 0x1000", "0000000000001000: 0x0282861300000297 0x0202b58314402573\n"),
    ("xp /8xb 0x1000", "0000000000001000: 0x97 0x02 0x00 0x00 0x13 0x86 0x82 0x02\n"),
    ("xp /3dh 0x1000", "0000000000001000:   663     0 34323\n"),
    ("xp /3uw 0x1000", "0000000000001000:        663   42108435  339748211\n"),
    ("xp /3ow 0x1000", "0000000000001000:       01227  0240503023 02420022563\n"),
    ("xp /2xw 0x1000+4", "0000000000001004: 0x02828613 0x14402573\n"),
    ("xp /4xw 0x0", "0000000000000000: Cannot access memory\n"),
    ("xp /4xw 0x10000000", "0000000010000000: Cannot access memory\n"),
    ("xp /4xw 1000", "00000000000003e8: Cannot access memory\n"),
    ("xp /2z 0x1000", "invalid char in format: 'z'\nTry \"help xp\" for more information\n"),
    ("xp", "unexpected end of expression\nTry \"help xp\" for more information\n"),
    ("pmemsave 0 16 /tmp/f",
     "invalid char 't' in expression\nTry \"help pmemsave\" for more information\n"),
    ("stop now", "stop: extraneous characters at the end of line\n"
                 "Try \"help stop\" for more information\n"),
    ("nosuch", "unknown command: 'nosuch'\n"),
    ("info nosuch", "unknown command: 'info nosuch'\n"),
    ("help xp", "xp /fmt addr -- physical memory dump starting at 'addr'\n"),
    ("info status", "VM status: paused (prelaunch)\n"),
    ("p /x 0x10*(2+1)", "0x30\n"),
    ("p /d 7/0", "division by zero\nTry \"help p\" for more information\n"),
    ("p /x $pc", "0x1000\n"),
])
def test_output(hmp, line, expected):
    assert hmp.run(line) == expected


def test_format_defaults_carry_over(hmp):
    hmp.run("xp /2xb 0x1000")
    assert hmp.run("xp /3 0x1000") == "0000000000001000: 0x97 0x02 0x00\n"
    hmp.run("xp /2i 0x1000")
    assert hmp.run("xp 0x1000").startswith("0x0000000000001000:  00000297")


def test_chars_use_last_size_like_qemu(hmp):
    out = hmp.run("xp /2c 0x1000")  # size w from the default: 8 bytes shown
    assert out == ("0000000000001000: '\\x97' '\\x02' '\\x00' '\\x00' '\\x13' '\\x86' "
                   "'\\x82' '\\x02'\n")


def test_info_registers_and_cpus(machine):
    from fake_machine import FakeCpu
    machine.cpus.append(FakeCpu(1))
    hmp = HmpSession(machine)
    assert hmp.run("info registers").startswith("\nCPU#0\n pc       0000000000001000")
    assert hmp.run("info registers -a").count("CPU#") == 2
    assert hmp.run("info registers 1").startswith("\nCPU#1\n")
    assert hmp.run("info cpus").splitlines()[0].startswith("* CPU #0: thread_id=")
    hmp.run("cpu 1")
    assert hmp.run("info cpus").splitlines()[1].startswith("* CPU #1:")


def test_run_control(machine, hmp):
    from conftest import run_loop_once
    hmp.run("c")
    run_loop_once(machine)
    assert hmp.run("info status") == "VM status: running\n"
    hmp.run("s")
    run_loop_once(machine)
    assert hmp.run("info status") == "VM status: paused\n"
    hmp.run("q")
    run_loop_once(machine)
    assert machine.loop.exit_code == 0


def test_memsave_and_pmemsave(hmp, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert hmp.run("pmemsave 0x1000 8 p.bin") == ""
    assert (tmp_path / "p.bin").read_bytes() == bytes.fromhex("9702000013868202")
    assert hmp.run("memsave 0x1000 4 v.bin") == ""
    assert (tmp_path / "v.bin").read_bytes() == bytes.fromhex("97020000")
    assert hmp.run("memsave 0 4 v.bin") == \
        "Error: Invalid addr 0x0000000000000000/size 4 specified\n"


def test_info_mtree_qtree_chardev(machine, hmp):
    assert "(prio 0, ram): fake.ram" in hmp.run("info mtree")
    assert 'dev: fake-uart, id "uart0"' in hmp.run("info qtree")
    assert "reg-shift = 0 (0x0)" in hmp.run("info qtree")
    from pemu.chardev.null import NullChardev
    machine.chardevs["serial0"] = NullChardev("serial0")
    assert hmp.run("info chardev") == "serial0: filename=null\n"
    assert hmp.run("info block") == ""


def test_monitor_on_chardev_echoes_and_prompts(machine, recorder):
    add_monitor(machine, recorder, "readline")
    banner = recorder.take()
    assert banner.endswith(b"monitor - type 'help' for more information\r\n(qemu) ")
    recorder.feed(b"info status\r")
    assert recorder.take() == b"info status\r\nVM status: paused (prelaunch)\r\n(qemu) "


def test_human_monitor_command_output_has_crlf(machine):
    from pemu.monitor import commands
    out = commands.execute(machine, "human-monitor-command", {"command-line": "info status"})
    assert out == "VM status: paused (prelaunch)\r\n"
