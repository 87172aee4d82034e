"""The event loop: fd handlers, timers, bottom halves and runstate requests.

One loop per process. Each turn it handles requests (shutdown, reset,
powerdown, stop, cont, debug), runs bottom halves and expired timers, lets
the CPUs run for a bounded slice, then polls file descriptors. When every
vCPU is idle (WFI/HLT) the poll waits until the next timer: an idle guest
costs the host almost nothing.

Runstate names are QEMU's (prelaunch, running, paused, shutdown, debug,
internal-error, guest-panicked, ...).
"""
from __future__ import annotations

import collections
import os
import selectors
import threading
import time
from collections.abc import Callable
from typing import Protocol

from pemu.core.clock import VirtualClock

# Upper bound of one CPU slice and of one poll while CPUs run (ns).
SLICE_NS = 10_000_000


class CpuRunner(Protocol):
    def run_slice(self, deadline_ns: int) -> bool:
        """Run guest code until about deadline_ns; return True if every vCPU is idle."""

    def idle(self) -> bool: ...

    def kick(self) -> None: ...


class MainLoop:
    def __init__(self, clock: VirtualClock) -> None:
        self.clock = clock
        self.sel = selectors.DefaultSelector()
        self._bhs: collections.deque[Callable[[], None]] = collections.deque()
        self._requests: collections.deque[tuple[str, str]] = collections.deque()
        self._lock = threading.Lock()
        self._wake_r, self._wake_w = os.pipe()
        os.set_blocking(self._wake_r, False)
        os.set_blocking(self._wake_w, False)
        self.sel.register(self._wake_r, selectors.EVENT_READ, self._drain_wakeup)
        self.runstate = "prelaunch"
        self.cpus: CpuRunner | None = None
        self.exit_code: int | None = None
        #: Handlers for requests: name -> callable(reason). Boards/monitors add to them.
        self.handlers: dict[str, Callable[[str], None]] = {}
        #: Observers of runstate changes and events (the monitor emits QMP events).
        self.listeners: list[Callable[[str, dict], None]] = []
        #: The big lock: held by the loop except while it polls; threads that touch
        #: devices (KVM vCPU threads) take it first.
        self.bql = threading.RLock()

    # --- file descriptors and bottom halves ----------------------------------
    def add_fd(self, fd: int, on_read: Callable[[], None]) -> None:
        try:
            self.sel.register(fd, selectors.EVENT_READ, on_read)
        except PermissionError:
            # Regular files and /dev/null cannot be polled: they are always
            # readable, so let the handler read them (to EOF) from a bottom half.
            self.bh(on_read)

    def remove_fd(self, fd: int) -> None:
        try:
            self.sel.unregister(fd)
        except (KeyError, ValueError):
            pass

    def bh(self, fn: Callable[[], None]) -> None:
        """Run fn soon, from the loop; safe to call from any thread."""
        self._bhs.append(fn)
        self.wakeup()

    def wakeup(self) -> None:
        try:
            os.write(self._wake_w, b"\0")
        except (BlockingIOError, OSError):
            pass
        if self.cpus is not None:
            self.cpus.kick()

    def _drain_wakeup(self) -> None:
        try:
            while os.read(self._wake_r, 4096):
                pass
        except (BlockingIOError, OSError):
            pass

    # --- runstate ---------------------------------------------------------
    def request(self, what: str, reason: str = "host-signal") -> None:
        """Ask for shutdown/reset/powerdown/stop/cont/debug; thread- and signal-safe."""
        self._requests.append((what, reason))
        self.wakeup()

    def emit(self, event: str, data: dict | None = None) -> None:
        for fn in list(self.listeners):
            fn(event, data or {})

    def set_runstate(self, state: str) -> None:
        if state == self.runstate:
            return
        old = self.runstate
        self.runstate = state
        if state == "running":
            self.clock.resume()
            self.emit("RESUME")
        elif old == "running":
            self.clock.stop()
            self.emit("STOP")

    @property
    def running(self) -> bool:
        return self.runstate == "running"

    def quit(self, code: int = 0) -> None:
        self.exit_code = code
        self.wakeup()

    def _process_requests(self) -> None:
        while self._requests:
            what, reason = self._requests.popleft()
            handler = self.handlers.get(what)
            if handler is not None:
                handler(reason)
            elif what == "stop":
                self.set_runstate("paused")
            elif what == "cont":
                self.set_runstate("running")
            elif what == "shutdown":
                self.emit("SHUTDOWN", {"guest": reason.startswith("guest"), "reason": reason})
                self.quit(0)

    # --- the loop -----------------------------------------------------------
    def run(self) -> int:
        with self.bql:
            return self._run()

    def _run(self) -> int:
        clock = self.clock
        while True:
            if self._requests:
                self._process_requests()
            if self.exit_code is not None:
                return self.exit_code
            while self._bhs:
                self._bhs.popleft()()
            clock.run_timers()
            idle = True
            if self.running and self.cpus is not None and not self._requests and not self._bhs:
                deadline = clock.now() + SLICE_NS
                nd = clock.next_deadline()
                if nd is not None and nd < deadline:
                    deadline = nd
                clock.slice_deadline = deadline
                clock.kick = self.cpus.kick
                try:
                    idle = self.cpus.run_slice(deadline)
                finally:
                    clock.slice_deadline = None
            timeout: float | None = 0.0
            warp_to = None
            if idle and not self._requests and not self._bhs and self.exit_code is None:
                nd = clock.next_deadline()
                if nd is None:
                    timeout = None
                elif clock.deterministic and self.running:
                    # idle vCPUs under instruction-count time: skip to the deadline,
                    # after that long in real time unless sleep=off
                    warp_to = nd
                    timeout = max(0.0, (nd - clock.now()) / 1e9) if clock.sleep else 0.0
                else:
                    timeout = max(0.0, (nd - clock.now()) / 1e9)
            self.bql.release()
            try:
                start = time.monotonic_ns()
                events = self.sel.select(timeout)
            finally:
                self.bql.acquire()
            if warp_to is not None:
                if events and clock.sleep:
                    warp_to = min(warp_to, clock.now() + time.monotonic_ns() - start)
                clock.warp_to(warp_to)
            for key, _ in events:
                key.data()
