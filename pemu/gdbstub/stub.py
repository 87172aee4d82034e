"""A gdb remote-protocol server for a machine, as a chardev front end.

All-stop mode, as QEMU's system-mode gdbstub: harts are gdb threads
(thread ids p1.1, p1.2, ... with the multiprocess extension, 1, 2, ...
without); when one stops, the machine stops. Stopping and resuming are the
runstate machinery QMP's stop/cont use: a breakpoint or watchpoint puts the
machine in "debug", Ctrl-C in "paused", and whatever stops the machine while
gdb waits (QMP stop, a guest shutdown with -no-shutdown) is reported to gdb
with QEMU's signal for that runstate. A gdb connecting stops a running
machine; `D` (detach) removes every breakpoint and lets the machine run.

Commands are in `commands.py`; this file holds the connection and run control.
"""
from __future__ import annotations

import sys
from typing import Any

from pemu.gdbstub.breakpoints import Breakpoints, Stop
from pemu.gdbstub.packet import PacketReader, frame, rle_encode

SIGINT, SIGQUIT, SIGTRAP, SIGABRT, SIGUNKNOWN = 2, 3, 5, 6, 143
#: runstate the machine stopped in -> the signal a stop reply gives gdb (QEMU's table)
RUNSTATE_SIGNAL = {"debug": SIGTRAP, "paused": SIGINT, "shutdown": SIGQUIT,
                   "internal-error": SIGABRT}


class GdbStub:
    """One gdb connection's state on a chardev, over the machine's harts."""

    def __init__(self, machine: Any, chardev: Any) -> None:
        from pemu.gdbstub import commands
        self.machine = machine
        self.loop = machine.loop
        self.chardev = chardev
        self.cpus: list[Any] = list(machine.cpus)
        self.points = Breakpoints(self.cpus, self._hart_stopped)
        self.commands = commands.Commands(self)
        self.reader = PacketReader()
        self.ack = True
        self.connected = False
        #: gdb has resumed the machine and waits for a stop reply
        self.waiting = False
        self.multiprocess = False
        self.gdb_features: set[str] = set()
        self.g_cpu = self.c_cpu = self.cpus[0]
        #: Z2-Z4 are honoured (the softmmu slow path watches the pages)
        self.watchpoints = True
        self._hmp: Any = None
        self._pending: Stop | None = None
        self._last = b""
        self._closed = False
        self.loop.listeners.append(self._on_loop_event)
        self.loop.handlers["debug"] = self._on_debug_request
        chardev.attach(self._receive, None, self._on_chr_event)

    # --- connection -----------------------------------------------------------------
    def _on_chr_event(self, event: str) -> None:
        if event == "opened":
            self.connected = True
            self.ack = True
            self.waiting = False
            self.reader = PacketReader()
            self.g_cpu = self.c_cpu = self.cpus[0]
            self.gdb_features = set()
            if self.loop.running:
                self._stop_machine("paused")  # QEMU stops the machine when gdb attaches
        elif event == "closed":
            self.connected = False
            self.waiting = False
            self.points.clear()  # nobody is left to report a hit to

    def _receive(self, data: bytes) -> None:
        for ev in self.reader.feed(data):
            if ev.kind == "packet":
                if self.ack:
                    self.chardev.write(b"+")
                try:
                    reply = self.commands.handle(ev.data)
                except Exception as e:  # noqa: BLE001 (a stub bug must not end the machine)
                    sys.stderr.write(f"pemu: gdbstub: error in packet {ev.data[:40]!r}: "
                                     f"{type(e).__name__}: {e}\n")
                    reply = "E01"
                if reply is not None:
                    self.send(reply)
            elif ev.kind == "bad-checksum":
                if self.ack:
                    self.chardev.write(b"-")
            elif ev.kind == "overflow":
                if self.ack:
                    self.chardev.write(b"+")
                self.send("E22")  # longer than the PacketSize announced
            elif ev.kind == "interrupt":
                self.interrupt()
            elif ev.kind == "nak" and self._last:
                self.chardev.write(self._last)

    def send(self, payload: str | bytes) -> None:
        data = payload.encode("latin-1") if isinstance(payload, str) else payload
        self._last = frame(rle_encode(data))
        self.chardev.write(self._last)

    def close(self) -> None:
        """Stop serving: forget breakpoints, leave the loop, release the chardev's front end."""
        if self._closed:
            return
        self._closed = True
        self.points.detach()
        self.chardev.attach(lambda data: None)  # a chardev:ID outlives its stub
        if self._on_loop_event in self.loop.listeners:
            self.loop.listeners.remove(self._on_loop_event)
        if self.loop.handlers.get("debug") == self._on_debug_request:
            del self.loop.handlers["debug"]

    # --- thread ids -------------------------------------------------------------------
    def thread_id(self, cpu: Any) -> str:
        tid = self.cpus.index(cpu) + 1
        return f"p1.{tid:x}" if self.multiprocess else f"{tid:x}"

    def parse_thread(self, text: str) -> list[Any] | None:
        """The harts a thread-id names ('-1': all, '0': any, 'p1.2', '2'); None if malformed."""
        if text.startswith("p"):
            pid, dot, tid = text[1:].partition(".")
            if pid not in ("-1", "0", "1", "01"):
                return None  # one process only: the machine
            if not dot:
                return list(self.cpus)  # "p1": every thread of it
            text = tid
        if text == "-1":
            return list(self.cpus)
        try:
            n = int(text, 16)
        except ValueError:
            return None
        if n == 0:
            return [self.cpus[0]]
        if 1 <= n <= len(self.cpus):
            return [self.cpus[n - 1]]
        return []

    # --- run control --------------------------------------------------------------------
    def stop_reply(self, signal: int, cpu: Any, reason: str = "") -> str:
        return f"T{signal:02x}thread:{self.thread_id(cpu)};{reason}"

    def resume(self, signal: int = 0) -> None:
        """Let every hart run; gdb then waits for a stop reply (system mode
        has no signals: `signal` is dropped, as QEMU does)."""
        for cpu in self.cpus:
            cpu.irq_check = cpu.event = True
            cpu.exit_req = False
        self.waiting = True
        self.loop.set_runstate("running")

    def step(self, cpu: Any, signal: int = 0) -> str:
        """Execute one instruction of `cpu` while the others stay stopped; the stop reply."""
        self.points.stepping = True
        try:
            cpu.step_instruction()
        finally:
            self.points.stepping = False
        cpu.irq_check = cpu.event = True
        self.c_cpu = self.g_cpu = cpu
        if not self.loop.running:
            self.loop.set_runstate("debug")
        return self.stop_reply(SIGTRAP, cpu)

    def interrupt(self) -> None:
        """Ctrl-C from gdb: stop the machine; gdb gets SIGINT."""
        if self.loop.running:
            self._stop_machine("paused")
        elif self.waiting:
            self.waiting = False
            self.send(self.stop_reply(SIGINT, self.c_cpu))

    def _stop_machine(self, state: str) -> None:
        accel = getattr(self.machine, "accel", None)
        if accel is not None:
            accel.kick()
        self.loop.set_runstate(state)

    def _hart_stopped(self, stop: Stop) -> None:
        """Called from inside the CPU loop: stop soon, from the main loop."""
        # leave the CPU loop now, before it looks at interrupts: the hart must
        # stay on the instruction that stopped it (irq_check is set again on resume)
        stop.cpu.irq_check = False
        stop.cpu.exit_req = stop.cpu.event = True
        if self._pending is None:
            self._pending = stop
        accel = getattr(self.machine, "accel", None)
        if accel is not None:
            accel.kick()
        self.loop.request("debug", "gdb")

    def _on_debug_request(self, reason: str) -> None:
        stop = self._pending
        if stop is None or not self.loop.running:
            self._pending = None
            return
        # A watchpoint stops before the access, as QEMU's RISC-V target does
        # (gdb_stop_before_watchpoint): gdb steps over it and shows the new value.
        self.c_cpu = self.g_cpu = stop.cpu
        self.loop.set_runstate("debug")  # the STOP listener sends the reply
        self._pending = None

    def _on_loop_event(self, event: str, data: dict) -> None:
        if event == "STOP" and self.waiting and self.connected:
            state = self.loop.runstate
            signal = RUNSTATE_SIGNAL.get(state, SIGUNKNOWN)
            reason = ""
            stop = self._pending
            if state == "debug" and stop is not None:
                reason = self.points.stop_reason(stop)
                if reason.startswith(("swbreak", "hwbreak")) and \
                        reason[:7] + "+" not in self.gdb_features:
                    reason = ""
            self.waiting = False
            self.send(self.stop_reply(signal, self.c_cpu, reason))
        # A guest power-off ends pemu: gdb sees the connection close, as with QEMU
        # (no W packet: the machine is not a process that exited).

    def thread_name(self, cpu: Any) -> str:
        # QEMU's words: the index and whether the hart waits for an interrupt
        return f"CPU#{cpu.index} [{'halted ' if cpu.halted else 'running'}]"

    def monitor(self, line: str) -> str:
        """qRcmd: one HMP command line; its output with QEMU's \r\n line ends."""
        from pemu.monitor.hmp import HmpSession
        if self._hmp is None:
            self._hmp = HmpSession(self.machine)
        return self._hmp.run_captured(line)

    def detach(self) -> None:
        """gdb leaves: every breakpoint goes, the machine runs on."""
        self.points.clear()
        if not self.loop.running:
            self.resume()
        self.waiting = False

    def kill(self) -> None:
        """gdb's kill: end pemu as QEMU does (status 0)."""
        # QEMU: "qemu-system-riscv64: QEMU: Terminated via GDBstub"
        sys.stderr.write(f"pemu-system-{self.cpus[0].arch}: Terminated via GDBstub\n")
        sys.stderr.flush()
        self.loop.quit(0)


__all__ = ["GdbStub"]
