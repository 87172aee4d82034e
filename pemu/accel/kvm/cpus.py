"""vCPU threads: one host thread per vCPU running KVM_RUN, exits dispatched to devices.

Concurrency follows QEMU's big lock: a vCPU thread runs guest code without
any lock (KVM_RUN releases the GIL), and takes the main loop's `bql` to
dispatch a PIO/MMIO exit to the device models, which therefore never see two
callers at once. To pause (monitor `stop`, reset, shutdown) the main loop
sets a flag and kicks each thread: `immediate_exit` plus a signal, so
KVM_RUN returns EINTR wherever the thread was (api.rst 5, "immediate_exit";
4.10 KVM_RUN "-EINTR: an unmasked signal is pending").
"""
from __future__ import annotations

import errno
import signal
import sys
import threading
from collections.abc import Callable

from pemu.accel.kvm import ioctls as K
from pemu.accel.kvm.vcpu import KvmVcpu
from pemu.core.main_loop import MainLoop
from pemu.core.memory import AddressSpace, BusError

KICK_SIGNAL = signal.SIGUSR1


def install_kick_handler() -> None:
    """A no-op handler: the signal only exists to make KVM_RUN return EINTR.

    Must run in the main thread; without it SIGUSR1 would kill the process.
    """
    if threading.current_thread() is threading.main_thread():
        signal.signal(KICK_SIGNAL, lambda signum, frame: None)


class VcpuThreads:
    """Runs a list of vCPUs, one thread each, under the main loop's big lock."""

    def __init__(self, loop: MainLoop, memory: AddressSpace, io: AddressSpace,
                 on_fatal: Callable[[KvmVcpu, str], None],
                 on_emulation_failure: Callable[[KvmVcpu], bool] = lambda v: False) -> None:
        self.loop = loop
        self.memory = memory
        self.io = io
        self.on_fatal = on_fatal
        self.on_emulation_failure = on_emulation_failure
        self.bql = loop.bql
        self.cond = threading.Condition(self.bql)
        self.vcpus: list[KvmVcpu] = []
        self._threads: dict[int, threading.Thread] = {}
        self._paused = True
        self._parked = 0
        self._quit = False
        self.exits = 0

    # --- life cycle (call with the BQL held) ------------------------------------------
    def start(self, vcpus: list[KvmVcpu]) -> None:
        self.vcpus = vcpus
        self._quit = False
        self._paused = False
        for v in vcpus:
            t = threading.Thread(target=self._thread_main, args=(v,), daemon=True,
                                 name=f"CPU {v.index}/KVM")
            self._threads[v.index] = t
            t.start()

    def pause(self) -> None:
        """Stop every vCPU outside KVM_RUN and wait until all are parked."""
        if self._paused or not self._threads:
            self._paused = True
            return
        self._paused = True
        self._kick_all()
        while self._parked < len(self._threads):
            self.cond.wait(0.05)
            self._kick_all()

    def resume(self) -> None:
        self._paused = False
        self.cond.notify_all()

    def stop(self) -> None:
        """End the threads for good (shutdown, or reset before the VM is rebuilt)."""
        self.pause()
        self._quit = True
        self.cond.notify_all()
        while self._threads:
            self.cond.wait(0.05)
        self._paused = True
        self._parked = 0

    def _kick_all(self) -> None:
        for v in self.vcpus:
            v.run_struct.immediate_exit = 1
            t = self._threads.get(v.index)
            if t is not None and t.ident is not None and t.is_alive():
                try:
                    signal.pthread_kill(t.ident, KICK_SIGNAL)
                except (ProcessLookupError, OSError):
                    pass

    # --- the vCPU thread --------------------------------------------------------
    def _park(self, v: KvmVcpu) -> None:
        with self.bql:
            self._parked += 1
            self.cond.notify_all()
            while self._paused and not self._quit:
                self.cond.wait()
            self._parked -= 1

    def _thread_main(self, v: KvmVcpu) -> None:
        run = v.run_struct
        try:
            while not self._quit:
                if self._paused:
                    self._park(v)
                    continue
                try:
                    reason = v.run()
                except OSError as e:
                    if e.errno in (errno.EINTR, errno.EAGAIN):
                        run.immediate_exit = 0
                        continue
                    self._fatal(v, f"KVM_RUN failed: {e.strerror}")
                    break
                self.exits += 1
                if reason == K.KVM_EXIT_IO:
                    self._pio(v, run)
                elif reason == K.KVM_EXIT_MMIO:
                    self._mmio(run)
                elif not self._other_exit(v, reason):
                    break
        except Exception as e:  # noqa: BLE001 - a device model bug must not leave a zombie vCPU
            import traceback
            traceback.print_exc(file=sys.stderr)
            self._fatal(v, f"vCPU {v.index} thread died: {e!r}")
        finally:
            with self.bql:
                self._threads.pop(v.index, None)
                self.cond.notify_all()

    def _fatal(self, v: KvmVcpu, msg: str) -> None:
        with self.bql:
            self._paused = True
            self.on_fatal(v, msg)

    # --- exits (api.rst 5, "exit_reason") -----------------------------------------
    def _pio(self, v: KvmVcpu, run: K.KvmRun) -> None:
        io = run.u.io
        size, port, count = io.size, io.port, io.count
        data = v.io_data(size * count)
        before = self.loop.clock.next_deadline()
        with self.bql:
            if io.direction == K.KVM_EXIT_IO_OUT:
                raw = bytes(data)
                for i in range(count):
                    value = int.from_bytes(raw[i * size:(i + 1) * size], "little")
                    try:
                        self.io.write(port, size, value)
                    except BusError:
                        pass  # unassigned port: writes vanish
            else:
                out = bytearray()
                for _ in range(count):
                    try:
                        value = self.io.read(port, size)
                    except BusError:
                        value = (1 << (8 * size)) - 1  # unassigned port: all ones
                    out += value.to_bytes(size, "little")
                data[:] = out
            self._timers_changed(before)

    def _mmio(self, run: K.KvmRun) -> None:
        m = run.u.mmio
        addr, length = m.phys_addr, m.len
        before = self.loop.clock.next_deadline()
        with self.bql:
            if m.is_write:
                value = int.from_bytes(bytes(m.data[:length]), "little")
                try:
                    self.memory.write(addr, length, value)
                except BusError:
                    pass
            else:
                try:
                    value = self.memory.read(addr, length)
                except BusError:
                    value = 0
                for i in range(length):
                    m.data[i] = (value >> (8 * i)) & 0xFF
            self._timers_changed(before)

    def _timers_changed(self, before: int | None) -> None:
        """A device armed an earlier timer: wake the main loop so it re-plans its poll."""
        after = self.loop.clock.next_deadline()
        if after is not None and (before is None or after < before):
            self.loop.wakeup()

    def _other_exit(self, v: KvmVcpu, reason: int) -> bool:
        """Every other exit; False ends the thread."""
        run = v.run_struct
        if reason == K.KVM_EXIT_INTR:
            run.immediate_exit = 0
            return True
        if reason == K.KVM_EXIT_HLT:
            # Only without an in-kernel irqchip; nothing can wake this vCPU but a reset.
            self.loop.request("shutdown", "guest-shutdown")
            self._park(v)
            return not self._quit
        if reason == K.KVM_EXIT_SHUTDOWN:
            # Triple fault: the PC resets (QEMU: qemu_system_reset_request).
            self.loop.request("reset", "guest-reset")
            self._park(v)
            return not self._quit
        if reason == K.KVM_EXIT_SYSTEM_EVENT:
            kind = run.u.system_event.type
            if kind == K.KVM_SYSTEM_EVENT_RESET:
                self.loop.request("reset", "guest-reset")
            else:
                self.loop.request("shutdown", "guest-shutdown")
            self._park(v)
            return not self._quit
        if reason == K.KVM_EXIT_INTERNAL_ERROR:
            internal = run.u.internal
            if internal.suberror == 1 and self.on_emulation_failure(v):
                return True
            what = K.INTERNAL_ERROR_NAMES.get(internal.suberror, "")
            self._fatal(v, f"KVM internal error. Suberror: {internal.suberror}"
                        + (f" ({what})" if what else ""))
            return False
        if reason == K.KVM_EXIT_FAIL_ENTRY:
            code = run.u.fail_entry.hardware_entry_failure_reason
            self._fatal(v, f"KVM: entry failed, hardware error {code:#x}")
            return False
        name = K.EXIT_NAMES.get(reason, str(reason))
        self._fatal(v, f"KVM: unhandled exit {name} ({reason})")
        return False
