"""The stdio back end: the user's terminal (or pipes, in tests and scripts).

On a terminal the input side goes raw the way QEMU sets it (no echo, no line
editing, CR not mapped; output processing kept, so '\\n' still ends a line),
and ISIG stays on unless signal=off (Ctrl-C then reaches the guest, as with
mon:stdio). The saved terminal settings come back on close, at exit, on
SIGTERM/SIGHUP and when an exception ends the program.

When stdin is not a terminal the back end just reads and writes; EOF on
stdin stops reading and leaves the machine running. Only one stdio back end
may exist at a time (QEMU: "cannot use stdio by multiple character devices").
"""
from __future__ import annotations

import atexit
import os
import signal
import sys
import termios

from pemu.chardev.fd import FdChardev
from pemu.core.main_loop import MainLoop

_in_use = False
_saved_attrs: list | None = None
_chained: dict[int, object] = {}


def restore_terminal() -> None:
    """Put stdin's terminal back as we found it (idempotent)."""
    global _saved_attrs
    if _saved_attrs is not None:
        try:
            termios.tcsetattr(0, termios.TCSANOW, _saved_attrs)
        except (termios.error, OSError):
            pass
        _saved_attrs = None


def _on_signal(signum: int, frame: object) -> None:
    restore_terminal()
    prev = _chained.get(signum)
    if callable(prev):
        prev(signum, frame)
        return
    signal.signal(signum, signal.SIG_DFL)
    os.kill(os.getpid(), signum)


def _install_restore_hooks() -> None:
    atexit.register(restore_terminal)
    prev_hook = sys.excepthook

    def hook(*args: object) -> None:
        restore_terminal()
        prev_hook(*args)  # type: ignore[arg-type]

    sys.excepthook = hook
    for sig in (signal.SIGTERM, signal.SIGHUP, signal.SIGQUIT):
        try:
            prev = signal.getsignal(sig)
            _chained[sig] = prev if prev not in (signal.SIG_DFL, signal.SIG_IGN, None) else None
            if prev != signal.SIG_IGN:
                signal.signal(sig, _on_signal)
        except ValueError:  # not the main thread
            pass


def make_raw(fd: int, allow_signals: bool) -> None:
    """QEMU's qemu_chr_set_echo_stdio(false) on `fd`, saving the old settings."""
    global _saved_attrs
    attrs = termios.tcgetattr(fd)
    if _saved_attrs is None:
        _saved_attrs = [a[:] if isinstance(a, list) else a for a in attrs]
        _install_restore_hooks()
    iflag, oflag, cflag, lflag = attrs[0], attrs[1], attrs[2], attrs[3]
    iflag &= ~(termios.IGNBRK | termios.BRKINT | termios.PARMRK | termios.ISTRIP
               | termios.INLCR | termios.IGNCR | termios.ICRNL | termios.IXON)
    oflag |= termios.OPOST
    lflag &= ~(termios.ECHO | termios.ECHONL | termios.ICANON | termios.IEXTEN)
    if not allow_signals:
        lflag &= ~termios.ISIG
    cflag &= ~(termios.CSIZE | termios.PARENB)
    cflag |= termios.CS8
    attrs[0], attrs[1], attrs[2], attrs[3] = iflag, oflag, cflag, lflag
    attrs[6][termios.VMIN] = 1
    attrs[6][termios.VTIME] = 0
    termios.tcsetattr(fd, termios.TCSANOW, attrs)


class StdioChardev(FdChardev):
    """-chardev stdio,id=x[,signal=on|off]"""

    type_name = "stdio"

    def __init__(self, chr_id: str, loop: MainLoop | None, *, signal_ok: bool = True,
                 in_fd: int = 0, out_fd: int = 1) -> None:
        global _in_use
        if _in_use:
            raise ValueError("cannot use stdio by multiple character devices")
        _in_use = True
        self.is_tty = os.isatty(in_fd)
        if self.is_tty:
            make_raw(in_fd, signal_ok)
        try:
            os.fstat(in_fd)
        except OSError:
            in_fd = None  # type: ignore[assignment]  # stdin closed: output only
        # stdin stays blocking (O_NONBLOCK would leak to the shell sharing the
        # terminal); the selector says when a read will not block.
        super().__init__(chr_id, loop, in_fd, out_fd, blocking_out=True, nonblocking_in=False)

    def close(self) -> None:
        global _in_use
        super().close()
        restore_terminal()
        _in_use = False

    def describe(self) -> str:
        return "stdio"
