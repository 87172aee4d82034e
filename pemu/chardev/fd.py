"""A back end over a pair of file descriptors (pipes, ptys, sockets, stdio).

Input: the fd is watched by the main loop; what the front end cannot take yet
stays pending (reading pauses once too much is pending, so a slow front end
holds back the peer instead of growing memory). EOF stops reading.

Output: with `blocking_out` the bytes are written at once (stdio, files: as
QEMU's qemu_chr_write_all). Otherwise the fd is non-blocking; what the peer
does not take yet is queued and written when the fd becomes writable, so a
peer that stops reading never stalls the machine. Output queued past
`OUT_LIMIT` is dropped, as a disconnected terminal would.
"""
from __future__ import annotations

import atexit
import os
import selectors
import time
import weakref

from pemu.chardev.base import Chardev
from pemu.core.main_loop import MainLoop

READ_CHUNK = 65536
PENDING_LIMIT = 1 << 20
OUT_LIMIT = 16 << 20

_open: weakref.WeakSet[FdChardev] = weakref.WeakSet()


def _flush_all_at_exit() -> None:
    for chr_ in list(_open):
        chr_.flush(timeout=1.0)


atexit.register(_flush_all_at_exit)


class FdChardev(Chardev):
    """Reads `in_fd` from the main loop, writes `out_fd`."""

    type_name = "fd"

    def __init__(self, chr_id: str, loop: MainLoop | None, in_fd: int | None,
                 out_fd: int | None, *, blocking_out: bool = False,
                 nonblocking_in: bool = True) -> None:
        super().__init__(chr_id, loop)
        self.in_fd = in_fd
        self.out_fd = out_fd
        self.blocking_out = blocking_out
        self._out = bytearray()
        self._reading = False
        self._paused = False
        self._wfd: int | None = None  # dup of out_fd, registered for EVENT_WRITE
        if out_fd is not None and not blocking_out:
            os.set_blocking(out_fd, False)
        if in_fd is not None and in_fd != out_fd and nonblocking_in:
            try:
                os.set_blocking(in_fd, False)
            except OSError:
                pass
        self._start_reading()
        _open.add(self)

    # --- input ------------------------------------------------------------
    def _start_reading(self) -> None:
        if self.in_fd is not None and not self._reading and self.loop is not None:
            self.loop.add_fd(self.in_fd, self._on_readable)
            self._reading = True

    def _stop_reading(self) -> None:
        if self._reading and self.loop is not None and self.in_fd is not None:
            self.loop.remove_fd(self.in_fd)
        self._reading = False

    def _on_readable(self) -> None:
        try:
            data = os.read(self.in_fd, READ_CHUNK)  # type: ignore[arg-type]
        except (BlockingIOError, InterruptedError):
            return
        except OSError:
            data = b""
        if not data:
            self._stop_reading()
            self.on_eof()
            return
        self.feed(data)
        if len(self._pending) > PENDING_LIMIT and self._reading:
            self._stop_reading()
            self._paused = True

    def on_eof(self) -> None:
        """The input side ended (stdin at EOF, the peer hung up)."""

    def accept_input(self) -> None:
        super().accept_input()
        if self._paused and len(self._pending) < PENDING_LIMIT // 2:
            self._paused = False
            self._start_reading()

    # --- output -----------------------------------------------------------
    def write(self, data: bytes) -> None:
        if self.out_fd is None or not data:
            return
        if self.blocking_out:
            self._write_all(data)
            return
        if self._out:
            if len(self._out) < OUT_LIMIT:
                self._out += data
            return
        try:
            n = os.write(self.out_fd, data)
        except (BlockingIOError, InterruptedError):
            n = 0
        except OSError:
            self.on_write_error()
            return
        if n < len(data):
            self._out += data[n:]
            self._want_write(True)

    def _write_all(self, data: bytes) -> None:
        view = memoryview(data)
        while view:
            try:
                n = os.write(self.out_fd, view)  # type: ignore[arg-type]
            except InterruptedError:
                continue
            except BlockingIOError:
                selectors.DefaultSelector().select(0.01)
                continue
            except OSError:
                return
            view = view[n:]

    def _want_write(self, on: bool) -> None:
        if self.loop is None or self.out_fd is None:
            return
        if on and self._wfd is None:
            self._wfd = os.dup(self.out_fd)
            self.loop.sel.register(self._wfd, selectors.EVENT_WRITE, self._on_writable)
        elif not on and self._wfd is not None:
            try:
                self.loop.sel.unregister(self._wfd)
            except (KeyError, ValueError):
                pass
            os.close(self._wfd)
            self._wfd = None

    def _on_writable(self) -> None:
        if not self._out or self.out_fd is None:
            self._want_write(False)
            return
        try:
            n = os.write(self.out_fd, self._out)
        except (BlockingIOError, InterruptedError):
            return
        except OSError:
            self._out.clear()
            self._want_write(False)
            self.on_write_error()
            return
        del self._out[:n]
        if not self._out:
            self._want_write(False)

    def on_write_error(self) -> None:
        """The peer went away while we wrote."""

    def flush(self, timeout: float = 1.0) -> None:
        """Push queued output out, waiting at most `timeout` seconds (exit, close)."""
        if not self._out or self.out_fd is None:
            return
        sel = selectors.DefaultSelector()
        try:
            sel.register(self.out_fd, selectors.EVENT_WRITE)
        except (ValueError, KeyError, OSError):
            return
        end = time.monotonic() + timeout
        while self._out and time.monotonic() < end:
            if not sel.select(max(0.0, end - time.monotonic())):
                break
            try:
                n = os.write(self.out_fd, self._out)
            except (BlockingIOError, InterruptedError):
                continue
            except OSError:
                break
            del self._out[:n]
        sel.close()

    # --- life cycle ---------------------------------------------------------
    def close_fds(self) -> None:
        """Stop watching and close the fds (not stdio's)."""
        self._stop_reading()
        self._want_write(False)
        self._out.clear()
        for fd in {self.in_fd, self.out_fd}:
            if fd is not None and fd > 2:
                try:
                    os.close(fd)
                except OSError:
                    pass
        self.in_fd = self.out_fd = None

    def close(self) -> None:
        self.flush()
        self.close_fds()
        _open.discard(self)
