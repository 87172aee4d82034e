"""The seam between character front ends (UART, monitor) and back ends.

A front end calls `write(data)` to send bytes out and `attach(receive,
can_receive, event)` to get bytes in, and, optionally, events: "opened" and
"closed" (a peer connected or went away), "mux-in"/"mux-out" (focus on a mux),
"break" (a serial break). A back end reads its fd from the main loop,
keeps what the front end cannot take yet, and delivers it when the front end
calls `accept_input()` (its FIFO drained): input is never dropped.
"""
from __future__ import annotations

from collections.abc import Callable

from pemu.core.main_loop import MainLoop


class Chardev:
    """Base back end: buffers input until the attached front end has room."""

    type_name = "null"

    def __init__(self, chr_id: str, loop: MainLoop | None = None) -> None:
        self.id = chr_id
        self.loop = loop
        self._receive: Callable[[bytes], None] | None = None
        self._can_receive: Callable[[], int] = lambda: 1 << 30
        self._pending = bytearray()
        self._event: Callable[[str], None] | None = None
        #: False while a socket waits for its peer; front ends get "opened" when it turns True.
        self.be_open = True

    # --- front-end side ---------------------------------------------------
    def attach(self, receive: Callable[[bytes], None],
               can_receive: Callable[[], int] | None = None,
               event: Callable[[str], None] | None = None) -> None:
        self._receive = receive
        if can_receive is not None:
            self._can_receive = can_receive
        self._event = event
        if event is not None and self.be_open:
            event("opened")
        self.accept_input()

    @property
    def frontend_open(self) -> bool:
        return self._receive is not None

    def send_event(self, event: str) -> None:
        """Tell the front end about a back-end event ("opened", "closed", ...)."""
        if event == "opened":
            self.be_open = True
        elif event == "closed":
            self.be_open = False
        if self._event is not None:
            self._event(event)

    def write(self, data: bytes) -> None:
        """Front end output; the base back end discards it (null)."""

    def accept_input(self) -> None:
        """The front end has room again: deliver what is pending."""
        while self._pending and self._receive is not None:
            room = self._can_receive()
            if room <= 0:
                return
            chunk = bytes(self._pending[:room])
            del self._pending[:room]
            self._receive(chunk)

    # --- back-end side --------------------------------------------------------
    def feed(self, data: bytes) -> None:
        """Bytes arrived from the outside world."""
        self._pending += data
        self.accept_input()

    def close(self) -> None:
        """Release fds and restore terminals."""

    def describe(self) -> str:
        """The filename column of 'info chardev' / query-chardev."""
        return self.type_name
