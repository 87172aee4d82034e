"""QEMU's mux: several front ends (serial, monitor) sharing one back end.

Every `attach()` adds a front end and gives it the focus, so the last one
attached (the serial port, after the monitor) has it at start, as in QEMU.
Output from every front end goes to the back end; input goes to the focused
one. Ctrl-A is the escape key:

  C-a h  help          C-a x  quit (prints "pemu: Terminated")
  C-a c  next front end (serial <-> monitor)
  C-a s  flush disks   C-a b  send break      C-a t  toggle timestamps
  C-a C-a  sends C-a itself

A front end losing the focus gets "mux-out", the one gaining it "mux-in".
"""
from __future__ import annotations

import time
from collections.abc import Callable

from pemu.chardev.base import Chardev
from pemu.core.main_loop import MainLoop

ESCAPE = 0x01  # Ctrl-A

HELP_LINES = (
    "% h    print this help\n\r",
    "% x    exit emulator\n\r",
    "% s    save disk data back to file (if -snapshot)\n\r",
    "% t    toggle console timestamps\n\r",
    "% b    send break (magic sysrq)\n\r",
    "% c    switch between console and monitor\n\r",
    "% %  sends %\n\r",
)


class _Frontend:
    __slots__ = ("can_receive", "event", "receive")

    def __init__(self, receive: Callable[[bytes], None], can_receive: Callable[[], int],
                 event: Callable[[str], None] | None) -> None:
        self.receive = receive
        self.can_receive = can_receive
        self.event = event


class MuxChardev(Chardev):
    """Wraps `backend`; front ends attach to the mux, never to the back end."""

    type_name = "mux"

    def __init__(self, chr_id: str, loop: MainLoop | None, backend: Chardev) -> None:
        super().__init__(chr_id, loop)
        self.backend = backend
        self.frontends: list[_Frontend] = []
        self.focus = -1
        self._told = -1  # the front end that last heard "mux-in"
        self.timestamps = False
        self._ts_start = 0.0
        self._linestart = True
        self._escaped = False
        #: Called for C-a s (flush block backends); set by whoever owns the disks.
        self.on_save: Callable[[], None] | None = None
        backend.attach(self._from_backend, self._room, self._backend_event)

    # --- front-end side -------------------------------------------------------
    def attach(self, receive: Callable[[bytes], None],
               can_receive: Callable[[], int] | None = None,
               event: Callable[[str], None] | None = None) -> None:
        fe = _Frontend(receive, can_receive or (lambda: 1 << 30), event)
        self.frontends.append(fe)
        if event is not None and self.backend.be_open:
            event("opened")
        # The newest front end takes the focus; it hears "mux-in" once start-up is
        # over (from the loop), so a monitor attached before the serial port
        # stays quiet instead of showing its banner and losing the focus at once.
        self.focus = len(self.frontends) - 1
        if self.loop is not None:
            self.loop.bh(self._announce_focus)
        else:
            self._announce_focus()

    @property
    def frontend_open(self) -> bool:
        return bool(self.frontends)

    def _announce_focus(self) -> None:
        if self._told != self.focus and 0 <= self.focus < len(self.frontends):
            self._told = self.focus
            fe = self.frontends[self.focus]
            if fe.event is not None:
                fe.event("mux-in")
        self.accept_input()

    def set_focus(self, index: int) -> None:
        """Give the input to front end `index` (modulo their number)."""
        if not self.frontends:
            return
        index %= len(self.frontends)
        if 0 <= self._told < len(self.frontends) and self._told != index:
            old = self.frontends[self._told]
            if old.event is not None:
                old.event("mux-out")
            self._told = -1
        self.focus = index
        self._announce_focus()

    def write(self, data: bytes) -> None:
        if not self.timestamps:
            self.backend.write(data)
            if data:
                self._linestart = data.endswith(b"\n")
            return
        out = bytearray()
        for b in data:
            if self._linestart:
                ms = int((time.monotonic() - self._ts_start) * 1000)
                s, ms = divmod(ms, 1000)
                m, s = divmod(s, 60)
                h, m = divmod(m, 60)
                out += f"[{h:02d}:{m:02d}:{s:02d}.{ms:03d}] ".encode()
                self._linestart = False
            out.append(b)
            if b == 0x0A:
                self._linestart = True
        self.backend.write(bytes(out))

    def accept_input(self) -> None:
        self.backend.accept_input()

    def close(self) -> None:
        self.backend.close()

    def describe(self) -> str:
        return "mux"

    # --- back-end side ----------------------------------------------------------
    def _focused(self) -> _Frontend | None:
        if 0 <= self.focus < len(self.frontends):
            return self.frontends[self.focus]
        return None

    def _room(self) -> int:
        fe = self._focused()
        return fe.can_receive() if fe is not None else 0

    def _backend_event(self, event: str) -> None:
        for fe in self.frontends:
            if fe.event is not None:
                fe.event(event)

    def _from_backend(self, data: bytes) -> None:
        plain = bytearray()
        for b in data:
            if self._escaped:
                self._escaped = False
                if b == ESCAPE:
                    plain.append(b)
                else:
                    self._deliver(plain)
                    plain.clear()
                    self._escape(b)
            elif b == ESCAPE:
                self._escaped = True
            else:
                plain.append(b)
        self._deliver(plain)

    def _deliver(self, data: bytes | bytearray) -> None:
        fe = self._focused()
        if data and fe is not None:
            fe.receive(bytes(data))

    def _escape(self, key: int) -> None:
        ch = chr(key).lower() if key < 0x80 else ""
        if ch == "h" or ch == "?":
            text = "\n\r" + "".join(line.replace("%", "C-a") for line in HELP_LINES)
            self.backend.write(text.encode())
        elif ch == "x":
            self.write(b"pemu: Terminated\n\r")
            if self.loop is not None:
                self.loop.request("shutdown", "host-qmp-quit")
        elif ch == "c":
            self.set_focus(self.focus + 1)
        elif ch == "s":
            if self.on_save is not None:
                self.on_save()
        elif ch == "b":
            fe = self._focused()
            if fe is not None and fe.event is not None:
                fe.event("break")
        elif ch == "t":
            self.timestamps = not self.timestamps
            self._ts_start = time.monotonic()
            self._linestart = True
