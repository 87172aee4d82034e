"""The gdb remote-protocol commands pemu answers (GDB manual, "Packets",
"General Query Packets", "Stop Reply Packets").

`Commands.handle(payload)` returns the reply payload, or None when the
reply comes later (a continue: the stop reply is sent when the machine
stops). A command pemu does not know gets the empty reply, as the protocol
asks; a malformed one gets `E22` (EINVAL), memory that is not there `E14`
(EFAULT), as QEMU answers.
"""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

from pemu.gdbstub import riscv_target
from pemu.gdbstub.packet import MAX_PACKET, escape, unescape

EINVAL, EFAULT = "E22", "E14"
#: each ISA's target description and register numbering, by the CPU's `arch`
TARGETS: dict[str, Any] = {"riscv64": riscv_target}
#: what qSupported announces besides what depends on gdb's own features
SUPPORTED = (f"PacketSize={MAX_PACKET:x}", "qXfer:features:read+", "qXfer:threads:read+",
             "QStartNoAckMode+", "vContSupported+", "swbreak+", "hwbreak+")


class BadPacket(Exception):
    """A malformed packet: the reply is E22."""


def _hex_int(text: str) -> int:
    try:
        return int(text, 16)
    except ValueError:
        raise BadPacket(text) from None


def _addr_len(text: str) -> tuple[int, int]:
    a, sep, n = text.partition(",")
    if not sep:
        raise BadPacket(text)
    return _hex_int(a), _hex_int(n)


def _le_hex(value: int, nbytes: int) -> str:
    return value.to_bytes(nbytes, "little").hex()


def _from_le_hex(text: str) -> int:
    try:
        return int.from_bytes(bytes.fromhex(text), "little")
    except ValueError:
        raise BadPacket(text) from None


class Commands:
    """Packet handlers of one stub."""

    def __init__(self, stub: Any) -> None:
        self.stub = stub
        self.target = TARGETS[stub.cpus[0].arch]
        self.simple: dict[str, Callable[[str], str | None]] = {
            "?": self.query_stop, "g": self.read_regs, "G": self.write_regs,
            "p": self.read_reg, "P": self.write_reg, "m": self.read_mem, "M": self.write_mem,
            "c": self.cont, "C": self.cont_signal, "s": self.step, "S": self.step_signal,
            "Z": self.insert_point, "z": self.remove_point, "H": self.set_thread,
            "T": self.thread_alive, "D": self.detach, "k": self.kill,
        }
        self.queries: dict[str, Callable[[str], str | None]] = {
            "qSupported": self.q_supported, "qXfer": self.q_xfer, "qC": self.q_current,
            "qfThreadInfo": self.q_first_thread, "qsThreadInfo": self.q_next_thread,
            "qThreadExtraInfo": self.q_thread_extra, "qAttached": lambda a: "1",
            "qRcmd": self.q_rcmd, "qSymbol": lambda a: "OK",
            "QStartNoAckMode": self.start_no_ack, "vCont?": lambda a: "vCont;c;C;s;S",
            "vCont": self.v_cont, "vKill": self.v_kill, "vMustReplyEmpty": lambda a: "",
        }

    def handle(self, payload: bytes) -> str | None:
        try:
            if payload[:1] == b"X":
                return self.write_mem_binary(payload[1:])
            text = payload.decode("latin-1")
            if not text:
                return ""
            if text[0] in "qQv":
                name, arg = self._split_query(text)
                fn = self.queries.get(name)
                return fn(arg) if fn is not None else ""
            fn = self.simple.get(text[0])
            return fn(text[1:]) if fn is not None else ""
        except BadPacket:
            return EINVAL

    @staticmethod
    def _split_query(text: str) -> tuple[str, str]:
        if text.startswith("vCont?"):
            return "vCont?", ""
        for i, ch in enumerate(text):
            if ch in ":,;":
                return text[:i], text[i + 1:]
        return text, ""

    # --- state and registers --------------------------------------------------------------
    def query_stop(self, arg: str) -> str:
        return self.stub.stop_reply(5, self.stub.c_cpu)

    def _reg_name(self, cpu: Any, regnum: int) -> str | None:
        return self.target.regnum_name(cpu, regnum)

    def read_regs(self, arg: str) -> str:
        cpu = self.stub.g_cpu
        return "".join(_le_hex(cpu.get_register(self._reg_name(cpu, n)), self.target.REG_BYTES)
                       for n in range(self.target.G_REGS))

    def write_regs(self, arg: str) -> str:
        cpu = self.stub.g_cpu
        width = 2 * self.target.REG_BYTES
        if len(arg) % width or len(arg) > width * self.target.G_REGS:
            raise BadPacket(arg)
        values = [_from_le_hex(arg[i:i + width]) for i in range(0, len(arg), width)]
        for n, v in enumerate(values):
            cpu.set_register(self._reg_name(cpu, n), v)
        return "OK"

    def read_reg(self, arg: str) -> str:
        cpu = self.stub.g_cpu
        name = self._reg_name(cpu, _hex_int(arg))
        if name is None:
            return EFAULT
        return _le_hex(cpu.get_register(name), self.target.REG_BYTES)

    def write_reg(self, arg: str) -> str:
        num, sep, value = arg.partition("=")
        if not sep or len(value) != 2 * self.target.REG_BYTES:
            raise BadPacket(arg)
        cpu = self.stub.g_cpu
        name = self._reg_name(cpu, _hex_int(num))
        if name is None:
            return EFAULT
        try:
            cpu.set_register(name, _from_le_hex(value))
        except (KeyError, ValueError):
            return EFAULT
        return "OK"

    # --- memory -----------------------------------------------------------------------------
    def read_mem(self, arg: str) -> str:
        addr, length = _addr_len(arg)
        if length > MAX_PACKET // 2:
            return EINVAL
        data = self.stub.g_cpu.read_memory(addr, length)
        return EFAULT if data is None else data.hex()

    def write_mem(self, arg: str) -> str:
        head, sep, hexdata = arg.partition(":")
        if not sep:
            raise BadPacket(arg)
        addr, length = _addr_len(head)
        if len(hexdata) != 2 * length:
            raise BadPacket(arg)
        try:
            data = bytes.fromhex(hexdata)
        except ValueError:
            raise BadPacket(arg) from None
        return "OK" if self.stub.g_cpu.write_memory(addr, data) else EFAULT

    def write_mem_binary(self, payload: bytes) -> str:
        head, sep, raw = payload.partition(b":")
        if not sep:
            raise BadPacket(payload)
        addr, length = _addr_len(head.decode("latin-1"))
        data = unescape(raw)
        if len(data) != length:
            raise BadPacket(payload)
        if not length:
            return "OK"  # gdb's probe for X support
        return "OK" if self.stub.g_cpu.write_memory(addr, data) else EFAULT

    # --- breakpoints and watchpoints ------------------------------------------------------
    def _point(self, arg: str) -> tuple[int, int, int]:
        parts = arg.split(";", 1)[0].split(",")
        if len(parts) != 3:
            raise BadPacket(arg)
        return _hex_int(parts[0]), _hex_int(parts[1]), _hex_int(parts[2])

    def insert_point(self, arg: str) -> str:
        ztype, addr, kind = self._point(arg)
        if ztype > 4 or (ztype > 1 and not self.stub.watchpoints):
            return ""  # unsupported: gdb falls back (software watchpoints)
        return "OK" if self.stub.points.insert(ztype, addr, kind) else EINVAL

    def remove_point(self, arg: str) -> str:
        ztype, addr, kind = self._point(arg)
        if ztype > 4 or (ztype > 1 and not self.stub.watchpoints):
            return ""
        return "OK" if self.stub.points.remove(ztype, addr, kind) else EINVAL

    # --- run control ------------------------------------------------------------------------
    def _resume_at(self, arg: str) -> None:
        if arg:
            self.stub.c_cpu.set_register("pc", _hex_int(arg))

    def cont(self, arg: str, signal: int = 0) -> None:
        self._resume_at(arg)
        self.stub.resume(signal)
        return None

    def cont_signal(self, arg: str) -> None:
        # the signal goes to the guest in user mode; system mode drops it, as QEMU does
        sig, _, addr = arg.partition(";")
        return self.cont(addr, _hex_int(sig))

    def step(self, arg: str, signal: int = 0) -> str:
        self._resume_at(arg)
        return self.stub.step(self.stub.c_cpu, signal)

    def step_signal(self, arg: str) -> str:
        sig, _, addr = arg.partition(";")
        return self.step(addr, _hex_int(sig))

    def v_cont(self, arg: str) -> str | None:
        """vCont;ACTION[:TID];... (all-stop: a step steps its thread, the others
        stay stopped; any continue resumes the machine)."""
        step_cpu = None
        step_sig = cont_sig = 0
        resume = False
        for action in arg.split(";"):
            op, _, tid = action.partition(":")
            if not op or op[0] not in "cCsS":
                raise BadPacket(arg)
            sig = _hex_int(op[1:]) if op[0] in "CS" else 0
            cpus = self.stub.parse_thread(tid) if tid else list(self.stub.cpus)
            if not cpus:
                raise BadPacket(arg)
            if op[0] in "sS" and step_cpu is None:
                step_cpu = cpus[0] if tid else self.stub.c_cpu
                step_sig = sig
            elif op[0] in "cC":
                resume = True
                cont_sig = cont_sig or sig
        if step_cpu is not None:
            return self.stub.step(step_cpu, step_sig)
        if resume:
            self.stub.resume(cont_sig)
        return None

    def set_thread(self, arg: str) -> str:
        if not arg or arg[0] not in "gc":
            raise BadPacket(arg)
        cpus = self.stub.parse_thread(arg[1:])
        if cpus is None or not cpus:
            return EINVAL
        if arg[1:] not in ("-1", "0", "p-1.-1", "p1.-1", "p1.0", "p0.0"):
            setattr(self.stub, f"{arg[0]}_cpu", cpus[0])
        return "OK"

    def thread_alive(self, arg: str) -> str:
        cpus = self.stub.parse_thread(arg)
        return "OK" if cpus else EINVAL

    def detach(self, arg: str) -> str:
        self.stub.detach()
        return "OK"

    def kill(self, arg: str) -> None:
        self.stub.kill()
        return None

    def v_kill(self, arg: str) -> str:
        self.stub.kill()
        return "OK"

    # --- queries -------------------------------------------------------------------------
    def q_supported(self, arg: str) -> str:
        feats = set(arg.split(";")) if arg else set()
        self.stub.gdb_features = feats
        reply = list(SUPPORTED)
        self.stub.multiprocess = "multiprocess+" in feats
        if self.stub.multiprocess:
            reply.append("multiprocess+")
        return ";".join(reply)

    def start_no_ack(self, arg: str) -> str:
        self.stub.ack = False
        return "OK"

    def q_current(self, arg: str) -> str:
        return "QC" + self.stub.thread_id(self.stub.c_cpu)

    def q_first_thread(self, arg: str) -> str:
        return "m" + ",".join(self.stub.thread_id(c) for c in self.stub.cpus)

    def q_next_thread(self, arg: str) -> str:
        return "l"

    def q_thread_extra(self, arg: str) -> str:
        cpus = self.stub.parse_thread(arg)
        if not cpus:
            return EINVAL
        return self.stub.thread_name(cpus[0]).encode().hex()

    def _threads_xml(self) -> str:
        body = "".join(f'<thread id="{self.stub.thread_id(c)}" core="{c.index}">'
                       f"{self.stub.thread_name(c)}</thread>\n" for c in self.stub.cpus)
        return f'<?xml version="1.0"?>\n<threads>\n{body}</threads>\n'

    def q_xfer(self, arg: str) -> str:
        # qXfer:OBJECT:read:ANNEX:OFFSET,LENGTH
        parts = arg.split(":")
        if len(parts) != 4 or parts[1] != "read":
            return ""
        obj, _, annex, span = parts
        offset, length = _addr_len(span)
        if obj == "features":
            text = self.target.feature_files(self.stub.g_cpu).get(annex)
            if text is None:
                return "E00"
        elif obj == "threads":
            text = self._threads_xml()
        else:
            return ""
        data = text.encode()
        length = min(length, MAX_PACKET // 2)
        chunk = data[offset:offset + length]
        more = offset + length < len(data)
        return ("m" if more else "l") + escape(chunk).decode("latin-1")

    def q_rcmd(self, arg: str) -> str:
        """monitor CMD: the stub's monitor runs it; its output goes to gdb as O packets."""
        try:
            line = bytes.fromhex(arg).decode("utf-8", "replace")
        except ValueError:
            raise BadPacket(arg) from None
        out = self.stub.monitor(line)
        if out is None:
            return ""  # no monitor here (user mode)
        step = MAX_PACKET // 2 - 1
        for i in range(0, len(out.encode()), step):
            self.stub.send("O" + out.encode()[i:i + step].hex())
        return "OK"


__all__ = ["Commands"]
