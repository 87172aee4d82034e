"""-pidfile and -daemonize, as QEMU 7.2 does them (os-posix.c, util/oslib-posix.c).

-pidfile FILE: the file is created (mode 0600), locked with a POSIX record
lock (fcntl F_SETLK, so another QEMU or pemu with the same pid file fails
with "Cannot lock pid file"), truncated and given the pid; the lock is held
for the life of the process and the file is removed at exit.

-daemonize: fork; the parent waits on a pipe and exits 0 only when the
daemon writes a zero byte there, which it does once the machine is built and
its monitors listen (`ready`), after pointing stdin/stdout (and stderr,
unless a -D log file is in use) at /dev/null. A daemon that fails before
then exits 1 with its error on the original stderr, and so does the parent.
The daemon is a session leader's child (fork, setsid, fork) with umask 027,
as QEMU's.
"""
from __future__ import annotations

import atexit
import fcntl
import os
import signal
import sys

from pemu.cli.options import OptionError


class PidFile:
    """A locked pid file that disappears when the process ends."""

    def __init__(self, path: str) -> None:
        self.path = os.path.abspath(path)  # -daemonize changes to / before exit
        self.fd = self._create(path)
        self.pid = os.getpid()
        atexit.register(self.remove)

    def _create(self, path: str) -> int:
        while True:
            try:
                fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_CLOEXEC, 0o600)
            except OSError as e:
                raise OptionError(f"cannot create PID file: Could not create '{path}': "
                                  f"{e.strerror}") from None
            try:
                st = os.fstat(fd)
                fcntl.lockf(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError as e:
                os.close(fd)
                raise OptionError(f"cannot create PID file: Cannot lock pid file: "
                                  f"{e.strerror}") from None
            try:
                now = os.stat(path)
            except FileNotFoundError:
                os.close(fd)  # another process removed it after we opened it: again
                continue
            if now.st_ino == st.st_ino and now.st_dev == st.st_dev:
                break
            os.close(fd)  # replaced meanwhile: lock the file that is there now
        os.ftruncate(fd, 0)
        os.write(fd, f"{os.getpid()}\n".encode())
        return fd

    def remove(self) -> None:
        """Unlink and unlock (only in the process that wrote it)."""
        if self.fd < 0 or os.getpid() != self.pid:
            return
        try:
            os.unlink(self.path)
        except OSError:
            pass
        os.close(self.fd)
        self.fd = -1


class Daemon:
    """The daemon side of -daemonize: `ready()` releases the waiting parent."""

    def __init__(self) -> None:
        sys.stdout.flush()
        sys.stderr.flush()
        r, w = os.pipe()
        if os.fork() > 0:
            os.close(w)
            status = b""
            try:
                status = os.read(r, 1)
            except OSError:
                pass
            # only a zero byte written by a daemon that finished setting up means success
            os._exit(0 if status == b"\0" else 1)
        os.close(r)
        os.set_inheritable(w, False)
        os.setsid()
        if os.fork() > 0:
            os._exit(0)
        os.umask(0o027)
        for sig in (signal.SIGTSTP, signal.SIGTTOU, signal.SIGTTIN):
            signal.signal(sig, signal.SIG_IGN)
        self.pipe = w

    def ready(self, keep_stderr: bool = False) -> None:
        """Machine set up: stdio to /dev/null, cwd to /, and tell the parent to exit 0."""
        try:
            os.chdir("/")
        except OSError as e:
            raise OptionError(f"not able to chdir to /: {e.strerror}") from None
        sys.stdout.flush()
        sys.stderr.flush()
        null = os.open("/dev/null", os.O_RDWR)
        os.dup2(null, 0)
        os.dup2(null, 1)
        if not keep_stderr:
            os.dup2(null, 2)
        os.close(null)
        os.write(self.pipe, b"\0")
        os.close(self.pipe)
        self.pipe = -1


__all__ = ["PidFile", "Daemon"]
