"""gdb for a user-mode process: `pemu-riscv64 -g PORT` (or a unix socket path),
and QEMU_GDB, as qemu-user's gdbstub behaves.

There is no main loop in user mode: the guest thread that stops (a
breakpoint, a signal, the start of the program) talks to gdb itself over a
blocking socket until gdb resumes it, as QEMU's gdb_handlesig does. The
threads of the process are gdb's threads (thread ids p1.TID, TID the Linux
thread id); every signal a thread is about to take is first reported to gdb
as a T packet, and gdb's answer decides whether the guest gets it (`C sig`)
or not (`c`). The process's exit is `W status`, death by a signal `X sig`.
Software and hardware breakpoints are honoured; watchpoints are not (QEMU's
user mode has none either: gdb falls back to software watchpoints).
"""
from __future__ import annotations

import os
import socket
import sys
import threading
from typing import Any

from pemu.gdbstub.breakpoints import Breakpoints, Stop
from pemu.gdbstub.commands import Commands
from pemu.gdbstub.packet import PacketReader, frame, rle_encode
from pemu.gdbstub.signals import from_gdb, to_gdb

SIGTRAP = 5


def listen(where: str) -> socket.socket:
    """QEMU's rule: a number is a TCP port on every interface, anything else a unix path."""
    try:
        port = int(where, 10)
    except ValueError:
        port = 0
    try:
        if port > 0:
            sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            sock.bind(("", port))
        else:
            sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            sock.bind(where)
        sock.listen(1)
    except OSError as e:
        raise ValueError(f"Unable to bind gdbserver to '{where}': {e.strerror}") from None
    return sock


class UserGdbStub:
    """One gdb connection serving a process's threads."""

    def __init__(self, proc: Any, where: str) -> None:
        self.proc = proc
        listener = listen(where)
        try:
            self.sock: socket.socket | None = listener.accept()[0]
        finally:
            listener.close()
        if self.sock.family == socket.AF_INET:
            self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.reader = PacketReader()
        self.commands = Commands(self)
        self.lock = threading.RLock()
        self.ack = True
        self.multiprocess = False
        self.gdb_features: set[str] = set()
        self.watchpoints = False
        main = proc.main_thread.cpu
        self.points = Breakpoints([main], self._hart_stopped)
        self.g_cpu = self.c_cpu = main
        self._resumed: int | None = None   # the signal gdb resumed with; None: stopped
        self._step_signal: int | None = None
        self._stepping = False
        self._last = b""
        proc.gdbstub = self

    # --- what Commands asks ------------------------------------------------------------
    @property
    def cpus(self) -> list[Any]:
        return [t.cpu for t in list(self.proc.threads.values())]

    def thread_id(self, cpu: Any) -> str:
        tid = cpu.thread.tid
        return f"p1.{tid:x}" if self.multiprocess else f"{tid:x}"

    def parse_thread(self, text: str) -> list[Any] | None:
        if text.startswith("p"):
            pid, dot, tid = text[1:].partition(".")
            if pid not in ("-1", "0", "1", "01"):
                return None
            if not dot:
                return self.cpus
            text = tid
        if text == "-1":
            return self.cpus
        try:
            n = int(text, 16)
        except ValueError:
            return None
        if n == 0:
            return [self.c_cpu]
        return [c for c in self.cpus if c.thread.tid == n]

    def thread_name(self, cpu: Any) -> str:
        cpus = self.cpus
        index = cpus.index(cpu) if cpu in cpus else 0
        return f"CPU#{index} [running]"

    def stop_reply(self, signal: int, cpu: Any, reason: str = "") -> str:
        return f"T{signal:02x}thread:{self.thread_id(cpu)};{reason}"

    def monitor(self, line: str) -> None:
        return None  # user mode has no monitor (qRcmd gets the empty reply)

    def resume(self, signal: int = 0) -> None:
        self._resumed = from_gdb(signal)  # gdb numbers its signals its own way

    def step(self, cpu: Any, signal: int = 0) -> str:
        """One instruction of the stopped thread (only it can run here)."""
        cpu = self.c_cpu
        self._step_signal = None
        self._stepping = self.points.stepping = True
        try:
            cpu.step_instruction()
        finally:
            self._stepping = self.points.stepping = False
        sig = self._step_signal
        return self.stop_reply(to_gdb(sig if sig is not None else SIGTRAP), cpu)

    def detach(self) -> None:
        self.points.detach()
        self._resumed = 0
        self._close()

    def kill(self) -> None:
        sys.stderr.write(f"pemu-{self.c_cpu.arch}: Terminated via GDBstub\n")
        sys.stderr.flush()
        self.proc.flush()
        os._exit(0)

    def send(self, payload: str | bytes) -> None:
        if self.sock is None:
            return
        data = payload.encode("latin-1") if isinstance(payload, str) else payload
        self._last = frame(rle_encode(data))
        try:
            self.sock.sendall(self._last)
        except OSError:
            self._close()

    # --- serving --------------------------------------------------------------------------
    def serve(self, cpu: Any, signal: int = SIGTRAP, reason: str = "",
              report: bool = True) -> int:
        """Talk to gdb until it resumes; the (Linux) signal it resumed with (0: none)."""
        with self.lock:
            if self.sock is None:
                return signal
            self.c_cpu = self.g_cpu = cpu
            if report:
                self.send(self.stop_reply(to_gdb(signal), cpu, reason))
            self._resumed = None
            while self._resumed is None and self.sock is not None:
                try:
                    data = self.sock.recv(4096)
                except OSError:
                    data = b""
                if not data:
                    self._gone()
                    return signal
                self._receive(data)
            return self._resumed or 0

    def _receive(self, data: bytes) -> None:
        for ev in self.reader.feed(data):
            if ev.kind == "packet":
                if self.ack:
                    self._raw(b"+")
                try:
                    reply = self.commands.handle(ev.data)
                except Exception as e:  # noqa: BLE001 (a stub bug must not kill the guest)
                    sys.stderr.write(f"pemu: gdbstub: error in packet {ev.data[:40]!r}: "
                                     f"{type(e).__name__}: {e}\n")
                    reply = "E01"
                if reply is not None:
                    self.send(reply)
            elif ev.kind == "bad-checksum" and self.ack:
                self._raw(b"-")
            elif ev.kind == "overflow":
                if self.ack:
                    self._raw(b"+")
                self.send("E22")
            elif ev.kind == "nak" and self._last:
                self._raw(self._last)
            # an interrupt while stopped changes nothing

    def _raw(self, data: bytes) -> None:
        if self.sock is not None:
            try:
                self.sock.sendall(data)
            except OSError:
                self._close()

    def forked(self) -> None:
        """In a forked child: the connection and the breakpoints stay with the parent."""
        self.points.detach()
        self._close()

    def _gone(self) -> None:
        """gdb went away: the program runs on without a debugger (as QEMU's)."""
        self.points.detach()
        self._close()

    def _close(self) -> None:
        if self.sock is not None:
            try:
                self.sock.close()
            except OSError:
                pass
            self.sock = None
        self.proc.gdbstub = None

    # --- events from the process --------------------------------------------------------
    def attach(self, cpu: Any) -> None:
        """A new thread: it stops at breakpoints too."""
        self.points.attach(cpu)

    def _hart_stopped(self, stop: Stop) -> None:
        """A breakpoint, in the thread that reached it (the CPU loop goes on after)."""
        reason = self.points.stop_reason(stop)
        if reason[:7] + "+" not in self.gdb_features:
            reason = ""
        self.serve(stop.cpu, SIGTRAP, reason)

    def report_signal(self, thread: Any, sig: int) -> int:
        """A signal the thread is about to take: gdb sees it first; what it passes on."""
        if self._stepping:
            self._step_signal = sig  # the step's stop reply reports it
            return sig
        return self.serve(thread.cpu, sig)

    def process_exited(self, status: int) -> None:
        with self.lock:
            self.send(f"W{status & 0xFF:02x}")
            self._close()

    def process_killed(self, sig: int) -> None:
        with self.lock:
            self.send(f"X{to_gdb(sig):02x}")
            self._close()


__all__ = ["UserGdbStub", "listen"]
