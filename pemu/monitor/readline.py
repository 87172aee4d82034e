"""Line editing for the human monitor on a raw terminal (QEMU's readline.c).

Keys: printable characters insert; Backspace/DEL erase; Left/Right, Home/End
(also Ctrl-A/Ctrl-E) move; Delete (and Ctrl-D) delete under the cursor;
Ctrl-K kills to the end, Ctrl-U to the start, Ctrl-W the previous word;
Up/Down (Ctrl-P/Ctrl-N) walk the history; Tab completes; CR or LF submits
(an LF right after a CR is ignored). The editor returns what to echo, so
it works the same on a terminal, a socket or a pipe.
"""
from __future__ import annotations

from collections.abc import Callable

HISTORY_MAX = 64


class LineEditor:
    def __init__(self, prompt: str = "(qemu) ",
                 complete: Callable[[str], list[str]] | None = None) -> None:
        self.prompt = prompt
        self.complete = complete
        self.history: list[str] = []
        self.reset()

    def reset(self) -> None:
        self.line = ""
        self.cursor = 0
        self._hist_pos = -1
        self._esc = ""
        self._last_cr = False
        self._utf8 = b""
        self._scr = 0  # where the terminal's cursor is, in characters after the prompt

    # --- helpers ------------------------------------------------------------------
    def _redraw(self) -> str:
        """Rewrite the line after the prompt (the prompt itself is left alone)."""
        out = f"\x1b[{self._scr}D" if self._scr else ""
        out += self.line + "\x1b[K"
        back = len(self.line) - self.cursor
        if back:
            out += f"\x1b[{back}D"
        self._scr = self.cursor
        return out

    def _set_line(self, text: str) -> str:
        self.line, self.cursor = text, len(text)
        return self._redraw()

    def add_history(self, line: str) -> None:
        if not line:
            return
        if line in self.history:
            self.history.remove(line)
        self.history.append(line)
        del self.history[:-HISTORY_MAX]

    # --- input ---------------------------------------------------------------------
    def feed(self, data: bytes) -> tuple[str, list[str]]:
        """Process bytes; returns (echo text, completed lines)."""
        echo: list[str] = []
        lines: list[str] = []
        for b in data:
            if self._esc:
                echo.append(self._escape(b))
                continue
            if b >= 0x80:
                self._utf8 += bytes([b])
                try:
                    ch = self._utf8.decode("utf-8")
                except UnicodeDecodeError:
                    if len(self._utf8) >= 4:
                        self._utf8 = b""
                    continue
                self._utf8 = b""
                echo.append(self._insert(ch))
                continue
            cr = self._last_cr
            self._last_cr = b == 13
            if b in (10, 13):
                if b == 10 and cr:
                    continue
                line = self.line
                echo.append("\r\n")
                self.add_history(line.strip())
                lines.append(line)
                self.line, self.cursor, self._hist_pos, self._scr = "", 0, -1, 0
            elif b == 27:
                self._esc = "\x1b"
            elif b in (8, 127):
                if self.cursor > 0:
                    self.line = self.line[:self.cursor - 1] + self.line[self.cursor:]
                    self.cursor -= 1
                    echo.append(self._redraw())
            elif b == 1:
                self.cursor = 0
                echo.append(self._redraw())
            elif b == 5:
                self.cursor = len(self.line)
                echo.append(self._redraw())
            elif b == 4:
                echo.append(self._delete())
            elif b == 11:
                self.line = self.line[:self.cursor]
                echo.append(self._redraw())
            elif b == 21:
                self.line, self.cursor = self.line[self.cursor:], 0
                echo.append(self._redraw())
            elif b == 23:
                start = self.line.rstrip()[:self.cursor].rfind(" ") + 1
                self.line = self.line[:start] + self.line[self.cursor:]
                self.cursor = start
                echo.append(self._redraw())
            elif b == 16:
                echo.append(self._history(-1))
            elif b == 14:
                echo.append(self._history(+1))
            elif b == 9:
                echo.append(self._complete())
            elif b >= 32:
                echo.append(self._insert(chr(b)))
        return "".join(echo), lines

    def _insert(self, ch: str) -> str:
        at_end = self.cursor == len(self.line)
        self.line = self.line[:self.cursor] + ch + self.line[self.cursor:]
        self.cursor += 1
        if at_end:
            self._scr += 1
            return ch
        return self._redraw()

    def _delete(self) -> str:
        if self.cursor < len(self.line):
            self.line = self.line[:self.cursor] + self.line[self.cursor + 1:]
            return self._redraw()
        return ""

    def _escape(self, b: int) -> str:
        self._esc += chr(b)
        seq = self._esc
        if seq in ("\x1b[", "\x1bO") or (seq.startswith("\x1b[") and chr(b).isdigit()):
            return ""
        self._esc = ""
        key = seq[2:] if len(seq) > 2 else ""
        if key in ("A",):
            return self._history(-1)
        if key in ("B",):
            return self._history(+1)
        if key == "C" and self.cursor < len(self.line):
            self.cursor += 1
            self._scr += 1
            return "\x1b[C"
        if key == "D" and self.cursor > 0:
            self.cursor -= 1
            self._scr -= 1
            return "\x1b[D"
        if key in ("H", "1~", "7~"):
            self.cursor = 0
            return self._redraw()
        if key in ("F", "4~", "8~"):
            self.cursor = len(self.line)
            return self._redraw()
        if key == "3~":
            return self._delete()
        return ""

    def _history(self, step: int) -> str:
        if not self.history:
            return ""
        pos = self._hist_pos if self._hist_pos >= 0 else len(self.history)
        pos += step
        if pos < 0:
            return ""
        if pos >= len(self.history):
            self._hist_pos = -1
            return self._set_line("")
        self._hist_pos = pos
        return self._set_line(self.history[pos])

    def _complete(self) -> str:
        if self.complete is None:
            return ""
        head = self.line[:self.cursor]
        words = head.split(" ")
        matches = self.complete(head)
        if not matches:
            return ""
        prefix = matches[0]
        for m in matches[1:]:
            while not m.startswith(prefix):
                prefix = prefix[:-1]
        last = words[-1]
        if len(matches) == 1:
            prefix += " "
        if len(prefix) > len(last):
            new_head = head[:len(head) - len(last)] + prefix
            self.line = new_head + self.line[self.cursor:]
            self.cursor = len(new_head)
            return self._redraw()
        if len(matches) > 1:
            self._scr = 0
            return "\r\n" + "  ".join(matches) + "\r\n" + self.prompt + self._redraw()
        return ""
