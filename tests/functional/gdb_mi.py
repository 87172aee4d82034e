"""Drive Debian's gdb-multiarch through its machine interface (MI) for tests.

MI lets a test run CLI commands (`-interpreter-exec console`) and read their
printed text, wait for the target to stop (`*stopped` records) and interrupt
a running target (`-exec-interrupt`, the same Ctrl-C packet gdb sends), all
without a terminal.
"""
from __future__ import annotations

import queue
import shutil
import subprocess
import threading
import time

GDB = "gdb-multiarch"


def available() -> bool:
    return shutil.which(GDB) is not None


def _c_string(text: str) -> str:
    """The value of an MI c-string (without its quotes)."""
    return text.encode("latin-1", "backslashreplace").decode("unicode_escape")


class GdbMi:
    """One gdb process; every call waits at most `timeout` seconds."""

    def __init__(self, program: str, timeout: float = 30.0) -> None:
        self.timeout = timeout
        self.proc = subprocess.Popen([GDB, "-q", "-nx", "--interpreter=mi2", program],
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     stderr=subprocess.STDOUT, text=True, bufsize=1)
        self._lines: queue.Queue[str | None] = queue.Queue()
        self._async: list[str] = []
        threading.Thread(target=self._pump, daemon=True).start()
        self._until_prompt()
        for cmd in ("-gdb-set mi-async on", "-gdb-set pagination off",
                    "-gdb-set confirm off", "-gdb-set tcp connect-timeout 30"):
            self.mi(cmd)

    def _pump(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self._lines.put(line.rstrip("\n"))
        self._lines.put(None)

    def _next(self) -> str:
        line = self._lines.get(timeout=self.timeout)
        if line is None:
            raise EOFError("gdb exited")
        return line

    def _until_prompt(self) -> list[str]:
        out = []
        while True:
            line = self._next()
            if line.startswith("(gdb)"):
                return out
            out.append(line)

    def mi(self, command: str) -> list[str]:
        """Run an MI command; its output lines up to the result record's prompt."""
        assert self.proc.stdin is not None
        self.proc.stdin.write(command + "\n")
        self.proc.stdin.flush()
        out: list[str] = []
        while True:
            lines = self._until_prompt()
            out += lines
            for line in lines:
                if line.startswith("*"):
                    self._async.append(line)
            if any(line.startswith("^") for line in lines):
                return out

    def cli(self, command: str) -> str:
        """Run a CLI command; the text it printed."""
        quoted = command.replace("\\", "\\\\").replace('"', '\\"')
        out = self.mi(f'-interpreter-exec console "{quoted}"')
        errors = [line for line in out if line.startswith("^error")]
        # console text (~) and what the target printed (@: monitor output)
        text = "".join(_c_string(line[2:-1]) for line in out if line.startswith(('~"', '@"')))
        if errors:
            text += "ERROR: " + _c_string(errors[0].split('msg="', 1)[1][:-1])
        return text

    def wait_stopped(self) -> str:
        """The next *stopped record (the target stopped)."""
        while True:
            for i, rec in enumerate(self._async):
                if rec.startswith("*stopped"):
                    del self._async[: i + 1]
                    return rec
            self._async.clear()
            line = self._next()
            if line.startswith("*"):
                self._async.append(line)

    def resume(self, command: str) -> str:
        """Run a resuming CLI command (stepi, continue) and wait for its stop."""
        self._async.clear()  # stops reported before this command are not its own
        self.cli(command)
        return self.wait_stopped()

    def interrupt_after(self, seconds: float) -> str:
        """Continue, let the target run a while, interrupt it (Ctrl-C); the stop."""
        self._async.clear()
        self.mi("-exec-continue")
        time.sleep(seconds)
        self.mi("-exec-interrupt")
        return self.wait_stopped()

    def close(self) -> None:
        if self.proc.poll() is None:
            try:
                self.proc.stdin.write("-gdb-exit\n")  # type: ignore[union-attr]
                self.proc.stdin.flush()  # type: ignore[union-attr]
                self.proc.wait(timeout=5)
            except (OSError, subprocess.TimeoutExpired):
                self.proc.kill()
                self.proc.wait()
