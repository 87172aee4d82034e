"""HMP argument syntax: QEMU's expressions, /FMT specifiers and strings.

Expressions are QEMU's: + - * / % & | ^ ~, parentheses, numbers in C syntax
(0x.. hex, 0.. octal, decimal) with an optional k/M/G suffix, 'c' character
literals and $reg registers. As in QEMU, whitespace inside an expression is
skipped, so `pmemsave 0 16 /tmp/f` reads "16 / tmp..." (use a relative path).
Errors raise HmpError with QEMU's messages.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

_SUFFIX = {"k": 1 << 10, "K": 1 << 10, "m": 1 << 20, "M": 1 << 20, "g": 1 << 30, "G": 1 << 30}
MASK64 = (1 << 64) - 1


class HmpError(Exception):
    """A message for the user; `usage` adds 'Try "help CMD" for more information'."""

    def __init__(self, message: str, usage: bool = True) -> None:
        super().__init__(message)
        self.usage = usage


class Cursor:
    """A position in the command line being parsed."""

    def __init__(self, text: str, pos: int = 0) -> None:
        self.text = text
        self.pos = pos

    def peek(self) -> str:
        return self.text[self.pos] if self.pos < len(self.text) else ""

    def skip_space(self) -> None:
        while self.pos < len(self.text) and self.text[self.pos].isspace():
            self.pos += 1

    def next(self) -> None:
        self.pos += 1
        self.skip_space()

    def at_end(self) -> bool:
        return self.pos >= len(self.text)


class ExprParser:
    """QEMU's get_expr: sum > logic > product > unary."""

    def __init__(self, cur: Cursor, register: Callable[[str], int | None]) -> None:
        self.cur = cur
        self.register = register

    def parse(self) -> int:
        self.cur.skip_space()
        return self.sum() & MASK64

    def sum(self) -> int:
        val = self.logic()
        while self.cur.peek() in ("+", "-") and self.cur.peek():
            op = self.cur.peek()
            self.cur.next()
            rhs = self.logic()
            val = val + rhs if op == "+" else val - rhs
        return val

    def logic(self) -> int:
        val = self.prod()
        while self.cur.peek() in ("&", "|", "^") and self.cur.peek():
            op = self.cur.peek()
            self.cur.next()
            rhs = self.prod()
            val = val & rhs if op == "&" else val | rhs if op == "|" else val ^ rhs
        return val

    def prod(self) -> int:
        val = self.unary()
        while self.cur.peek() in ("*", "/", "%") and self.cur.peek():
            op = self.cur.peek()
            self.cur.next()
            rhs = self.unary()
            if op == "*":
                val *= rhs
            else:
                if rhs == 0:
                    raise HmpError("division by zero")
                val = int(val / rhs) if op == "/" else val - rhs * int(val / rhs)
        return val

    def unary(self) -> int:
        cur = self.cur
        c = cur.peek()
        if c == "+":
            cur.next()
            return self.unary()
        if c == "-":
            cur.next()
            return -self.unary()
        if c == "~":
            cur.next()
            return ~self.unary()
        if c == "(":
            cur.next()
            val = self.sum()
            if cur.peek() != ")":
                raise HmpError("')' expected")
            cur.next()
            return val
        if c == "'":
            cur.pos += 1
            if cur.at_end():
                raise HmpError("character constant expected")
            val = ord(cur.peek())
            cur.pos += 1
            if cur.peek() != "'":
                raise HmpError("missing terminating ' character")
            cur.next()
            return val
        if c == "$":
            cur.pos += 1
            start = cur.pos
            while cur.peek() and (cur.peek().isalnum() or cur.peek() in "_."):
                cur.pos += 1
            name = cur.text[start:cur.pos]
            val = self.register(name)
            if val is None:
                raise HmpError("unknown register")
            cur.skip_space()
            return val
        if c == "":
            raise HmpError("unexpected end of expression")
        return self.number()

    def number(self) -> int:
        cur = self.cur
        text, start = cur.text, cur.pos
        i = start
        if text[i:i + 2].lower() == "0x":
            j = i + 2
            while j < len(text) and text[j] in "0123456789abcdefABCDEF":
                j += 1
            if j == i + 2:
                j = i + 1  # "0x" alone: C reads the 0
            digits, base = text[i + 2:j] if j > i + 2 else "0", 16
        elif text[i:i + 1] == "0":
            j = i + 1
            while j < len(text) and text[j] in "01234567":
                j += 1
            digits, base = text[i:j], 8
        else:
            j = i
            while j < len(text) and text[j].isdigit():
                j += 1
            digits, base = text[i:j], 10
        if j == start:
            raise HmpError(f"invalid char '{text[start]}' in expression")
        val = int(digits, base)
        if j < len(text) and text[j] in _SUFFIX:
            val *= _SUFFIX[text[j]]
            j += 1
        cur.pos = j
        cur.skip_space()
        return val


@dataclass
class Format:
    count: int
    format: str   # x d u o c i
    size: int     # 1 2 4 8, or -1 for 'i' without a size


class FormatDefaults:
    """QEMU keeps the last /FMT's format and size as the defaults for the next."""

    def __init__(self) -> None:
        self.format = "x"
        self.size = 4


def parse_format(cur: Cursor, defaults: FormatDefaults) -> Format:
    """An optional '/[count][format][size]' at the cursor (QEMU's '/' argument type)."""
    cur.skip_space()
    if cur.peek() != "/":
        fmt = defaults.format
        return Format(1, fmt, -1 if fmt == "i" else defaults.size)
    cur.pos += 1
    count = 1
    if cur.peek().isdigit():
        start = cur.pos
        while cur.peek().isdigit():
            cur.pos += 1
        count = int(cur.text[start:cur.pos])
    size, fmt = -1, ""
    sizes = {"b": 1, "h": 2, "w": 4, "g": 8, "L": 8}
    while True:
        c = cur.peek()
        if c and c in "oduxic":
            fmt = c
        elif c and c in sizes:
            size = sizes[c]
        else:
            break
        cur.pos += 1
    if not cur.at_end() and not cur.peek().isspace():
        raise HmpError(f"invalid char in format: '{cur.peek()}'")
    fmt = fmt or defaults.format
    if fmt != "i":
        if size < 0:
            size = defaults.size
        defaults.size = size
    defaults.format = fmt
    return Format(count, fmt, size)


def parse_string(cur: Cursor) -> str | None:
    """A word, or a "quoted string" with C escapes; None at the end of the line."""
    cur.skip_space()
    if cur.at_end():
        return None
    if cur.peek() == '"':
        cur.pos += 1
        out = []
        while not cur.at_end() and cur.peek() != '"':
            c = cur.peek()
            if c == "\\" and cur.pos + 1 < len(cur.text):
                cur.pos += 1
                c = {"n": "\n", "r": "\r", "t": "\t", "\\": "\\", "'": "'", '"': '"'}.get(
                    cur.peek(), None)
                if c is None:
                    raise HmpError(f"unsupported escape code: '\\{cur.peek()}'")
            out.append(c)
            cur.pos += 1
        if cur.at_end():
            raise HmpError("unterminated string")
        cur.pos += 1
        return "".join(out)
    start = cur.pos
    while not cur.at_end() and not cur.peek().isspace():
        cur.pos += 1
    return cur.text[start:cur.pos]
