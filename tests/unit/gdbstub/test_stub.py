"""The gdbstub's commands on a real virt board, through a chardev that records
what the stub sends: replies to good, malformed and unknown packets, and run
control (breakpoint, watchpoint, step, detach) through the main loop."""
from __future__ import annotations

import re

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pemu.chardev.base import Chardev
from pemu.gdbstub import GdbStub
from pemu.gdbstub.packet import frame, rle_decode, unescape
from pemu.hw.riscv.virt import VirtMachine

BASE = 0x80000000
DATA = 0x80001000
# addi a0,a0,1 ; sd a0,0(s0) ; j .-8
CODE = (0x00150513, 0x00A43023, 0xFF9FF06F)


class Wire(Chardev):
    """The gdb end of the connection: records what the stub writes."""

    def __init__(self) -> None:
        super().__init__("gdb")
        self.out = bytearray()

    def write(self, data: bytes) -> None:
        self.out += data

    def replies(self) -> list[str]:
        got = [rle_decode(m).decode("latin-1")
               for m in re.findall(rb"\$([^#]*)#[0-9a-f]{2}", bytes(self.out))]
        self.out.clear()
        return got


@pytest.fixture(params=[1, 0], ids=["blocks", "one-insn-per-tb"])
def rig(request):
    m = VirtMachine(ram_size=16 << 20, bios="none", smp=2, tier=request.param)
    for i, word in enumerate(CODE):
        m.memory.write_bytes(BASE + 4 * i, word.to_bytes(4, "little"))
    for cpu in m.cpus:
        cpu.pc = BASE
        cpu.x[8] = DATA  # s0
    wire = Wire()
    stub = GdbStub(m, wire)
    m.loop.listeners.append(lambda ev, d: ev == "STOP" and m.loop.quit(0))
    return m, wire, stub


def ask(wire: Wire, payload: str) -> list[str]:
    wire.feed(frame(payload.encode("latin-1")))
    return wire.replies()


def le64(v: int) -> str:
    return v.to_bytes(8, "little").hex()


def test_unknown_commands_get_the_empty_reply(rig) -> None:
    _, wire, _ = rig
    for cmd in ("qFooBar", "!", "vFlashErase:0,1", "Z9,0,0", "i"):
        assert ask(wire, cmd) == [""], cmd


def test_acks_and_bad_checksums(rig) -> None:
    _, wire, _ = rig
    wire.feed(b"$g#00")
    assert bytes(wire.out) == b"-"
    wire.out.clear()
    wire.feed(frame(b"QStartNoAckMode"))
    assert bytes(wire.out).startswith(b"+$OK#")
    wire.out.clear()
    wire.feed(frame(b"qC"))
    assert bytes(wire.out).startswith(b"$QC")  # no '+' any more


def test_malformed_packets_get_einval(rig) -> None:
    _, wire, _ = rig
    for cmd in ("mzz,4", "m80000000", "M80000000,2:0", "Pzz=00", "p", "Z0,zz,4",
                "X80000000,4:ab", "Hx1", "vCont;q", "G123"):
        assert ask(wire, cmd) == ["E22"], cmd
    # larger than the announced PacketSize: refused, never read
    assert ask(wire, "m80000000,100000") == ["E22"]
    wire.feed(b"$" + b"M0,1:" + b"0" * 0x5000 + b"#00")
    assert wire.replies() == ["E22"]


def test_qsupported_and_target_description(rig) -> None:
    _, wire, _ = rig
    (reply,) = ask(wire, "qSupported:multiprocess+;swbreak+;hwbreak+;xmlRegisters=i386")
    feats = reply.split(";")
    assert "PacketSize=4000" in feats and "qXfer:features:read+" in feats
    assert "multiprocess+" in feats and "vContSupported+" in feats
    (xml,) = ask(wire, "qXfer:features:read:target.xml:0,3fff")
    assert xml.startswith("l<?xml") and "riscv:rv64" in xml
    (cpu_xml,) = ask(wire, "qXfer:features:read:riscv-64bit-cpu.xml:0,3fff")
    assert 'name="org.gnu.gdb.riscv.cpu"' in cpu_xml and 'name="pc"' in cpu_xml
    (part,) = ask(wire, "qXfer:features:read:riscv-64bit-csr.xml:0,10")
    assert part.startswith("m") and len(part) == 17
    assert ask(wire, "qXfer:features:read:nonesuch.xml:0,100") == ["E00"]
    assert ask(wire, "vCont?") == ["vCont;c;C;s;S"]


def test_registers(rig) -> None:
    m, wire, _ = rig
    (g,) = ask(wire, "g")
    assert len(g) == 33 * 16 and g[32 * 16:] == le64(BASE)
    assert ask(wire, f"Pa={le64(5)}") == ["OK"]  # a0 is x10
    assert m.cpus[0].x[10] == 5 and ask(wire, "pa") == [le64(5)]
    assert ask(wire, f"P0={le64(7)}") == ["OK"] and m.cpus[0].x[0] == 0
    assert ask(wire, f"p{65 + 0xF14:x}") == [le64(0)]  # mhartid
    assert ask(wire, f"p{65 + 4096:x}") == [le64(3)]  # priv: M
    assert ask(wire, "p2000") == ["E14"]
    # thread 2 is hart 1
    assert ask(wire, "Hgp1.2") == ["OK"]
    assert ask(wire, f"p{65 + 0xF14:x}") == [le64(1)]
    assert ask(wire, "Hgp1.9") == ["E22"]


def test_memory(rig) -> None:
    _, wire, _ = rig
    assert ask(wire, f"m{BASE:x},4") == [CODE[0].to_bytes(4, "little").hex()]
    assert ask(wire, f"M{DATA:x},2:abcd") == ["OK"]
    wire.feed(frame(f"X{DATA + 2:x},2:".encode() + b"}\x03}\x04"))  # '#', '$' escaped
    assert wire.replies() == ["OK"]
    assert ask(wire, f"m{DATA:x},4") == ["abcd2324"]
    assert ask(wire, f"X{DATA:x},0:") == ["OK"]
    assert ask(wire, "m0,4") == ["E14"]          # nothing there
    assert ask(wire, "m10000000,1") == ["E14"]   # a device: never read for gdb


def test_threads(rig) -> None:
    _, wire, _ = rig
    ask(wire, "qSupported:multiprocess+")
    assert ask(wire, "qfThreadInfo") == ["mp1.1,p1.2"]
    assert ask(wire, "qsThreadInfo") == ["l"]
    assert ask(wire, "qC") == ["QCp1.1"]
    assert ask(wire, "Tp1.2") == ["OK"] and ask(wire, "Tp1.3") == ["E22"]
    (extra,) = ask(wire, "qThreadExtraInfo,p1.2")
    assert bytes.fromhex(extra) == b"CPU#1 [running]"
    (xml,) = ask(wire, "qXfer:threads:read::0,fff")
    text = unescape(xml[1:].encode("latin-1")).decode()  # '#' travels escaped
    assert '<thread id="p1.2" core="1">CPU#1 [running]</thread>' in text
    assert ask(wire, "qAttached:1") == ["1"]


def test_breakpoint_stops_before_the_instruction(rig) -> None:
    m, wire, _ = rig
    ask(wire, "qSupported:multiprocess+;swbreak+")
    assert ask(wire, f"Z0,{BASE + 8:x},4") == ["OK"]
    assert ask(wire, "c") == []
    m.run()
    assert wire.replies() == ["T05thread:p1.1;swbreak:;"]
    assert m.loop.runstate == "debug" and m.cpus[0].pc == BASE + 8
    assert m.cpus[0].x[10] == 1  # the addi ran, the j did not
    assert ask(wire, f"z0,{BASE + 8:x},4") == ["OK"]
    assert ask(wire, f"z0,{BASE + 8:x},4") == ["E22"]  # not there any more


def test_watchpoint_stops_at_the_writing_instruction(rig) -> None:
    m, wire, _ = rig
    ask(wire, "qSupported:multiprocess+")
    assert ask(wire, f"Z2,{DATA:x},8") == ["OK"]
    ask(wire, "c")
    m.run()
    assert wire.replies() == [f"T05thread:p1.1;watch:{DATA:x};"]
    assert m.cpus[0].pc == BASE + 4  # stopped before the store, as QEMU's RISC-V target
    assert ask(wire, "s") == ["T05thread:p1.1;"]  # gdb steps over it: the store happens
    assert ask(wire, f"m{DATA:x},8") == [le64(1)]
    assert ask(wire, f"z2,{DATA:x},8") == ["OK"]


def test_step_runs_one_instruction_of_one_hart(rig) -> None:
    m, wire, _ = rig
    ask(wire, "qSupported:multiprocess+")
    assert ask(wire, "vCont;s:p1.2;c") == ["T05thread:p1.2;"]
    assert m.cpus[1].pc == BASE + 4 and m.cpus[1].x[10] == 1
    assert m.cpus[0].pc == BASE  # the other hart stayed
    assert ask(wire, "qC") == ["QCp1.2"]
    assert ask(wire, f"s{BASE + 8:x}") == ["T05thread:p1.2;"]  # s ADDR: resume there
    assert m.cpus[1].pc == BASE


def test_monitor_commands_and_detach(rig) -> None:
    m, wire, _ = rig
    out = ask(wire, "qRcmd," + b"info status".hex())
    assert out[-1] == "OK" and bytes.fromhex(out[0][1:]) == b"VM status: paused (prelaunch)\r\n"
    assert ask(wire, "qRcmd,zz") == ["E22"]
    ask(wire, f"Z0,{BASE:x},4")
    assert ask(wire, "D;1") == ["OK"]
    assert m.loop.runstate == "running" and not m.cpus[0].debugger.breakpoints


COMMAND_HEADS = ["?", "g", "G", "p", "P", "m", "M", "X", "c", "C", "s", "S", "Z", "z", "H",
                 "T", "D", "qSupported:", "qXfer:features:read:", "qXfer:threads:read:",
                 "qThreadExtraInfo,", "qRcmd,", "vCont;", "vCont?", "qC", "qfThreadInfo",
                 "qAttached", "QStartNoAckMode", "vMustReplyEmpty", ""]


@settings(max_examples=300, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(head=st.sampled_from(COMMAND_HEADS),
       arg=st.text(alphabet="0123456789abcdefpx,:;=.-}#*$ \x00\xff", max_size=40))
def test_no_packet_makes_a_command_raise(rig, head, arg) -> None:
    m, _, stub = rig
    reply = stub.commands.handle((head + arg).encode("latin-1"))
    assert reply is None or isinstance(reply, str)
    m.loop.set_runstate("paused")


def test_hardware_breakpoint_and_read_watchpoint(rig) -> None:
    m, wire, _ = rig
    ask(wire, "qSupported:multiprocess+;swbreak+;hwbreak+")
    assert ask(wire, f"Z1,{BASE + 4:x},4") == ["OK"]
    ask(wire, "c")
    m.run()
    assert wire.replies() == ["T05thread:p1.1;hwbreak:;"]
    assert ask(wire, f"z1,{BASE + 4:x},4") == ["OK"]
    # nothing reads the data: a read watchpoint stays quiet, an access one fires
    assert ask(wire, f"Z3,{DATA:x},8") == ["OK"] and ask(wire, f"Z4,{DATA + 4:x},4") == ["OK"]
    ask(wire, "c")
    m.loop.exit_code = None  # the first stop ended the previous run
    m.run()
    assert wire.replies() == [f"T05thread:p1.1;awatch:{DATA + 4:x};"]
    assert ask(wire, "Z2,0,0") == ["E22"]  # a zero-length watchpoint is refused


def test_kill_ends_pemu_with_status_0(rig, capsys) -> None:
    m, wire, _ = rig
    assert ask(wire, "k") == []
    assert m.loop.exit_code == 0
    assert capsys.readouterr().err == "pemu-system-riscv64: Terminated via GDBstub\n"


def test_every_described_register_reads_and_writes_back(rig) -> None:
    m, wire, stub = rig
    cpu = m.cpus[0]
    files = stub.commands.target.feature_files(cpu)
    regnums = sorted({int(n) for text in files.values()
                      for n in re.findall(r'regnum="(\d+)"', text)})
    assert len(regnums) > 100 and regnums[:33] == list(range(33))
    for n in regnums:
        (value,) = ask(wire, f"p{n:x}")
        assert re.fullmatch(r"[0-9a-f]{16}", value), (n, value)
        # writing back what was read is accepted (or refused for a read-only CSR)
        assert ask(wire, f"P{n:x}={value}")[0] in ("OK", "E14"), n
