"""Split a QMP byte stream into JSON messages, as QEMU's json-streamer does.

Messages need no newline between them: a top-level object or array ends when
its brackets balance (strings and escapes are skipped while counting). Bare
top-level tokens (`123`, `garbage`) are messages too, ended by whitespace or
a bracket. Errors are QEMU's "JSON parse error, ..." strings; a message
larger than `max_size` sets `overflow` (the monitor then drops the peer).
"""
from __future__ import annotations

import json
import re
from typing import Any

MAX_SIZE = 8 << 20
MAX_DEPTH = 1024

_IN_STRING = re.compile(rb'["\\]')
_IN_STRUCT = re.compile(rb'[{}\[\]"]')
_BARE = re.compile(rb'[^\s{}\[\]"]+')
_SPACE = re.compile(rb"\s*")


def _reject_constant(name: str) -> Any:
    raise ValueError(f"invalid keyword '{name}'")


def decode_message(raw: bytes) -> tuple[Any, str | None]:
    """(value, None) or (None, error description)."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        return None, "JSON parse error, invalid UTF-8 sequence in string"
    try:
        return json.loads(text, parse_constant=_reject_constant), None
    except json.JSONDecodeError as e:
        msg = e.msg
        if msg.startswith(("Expecting value", "Expecting property name")):
            if e.pos < len(text) and text[e.pos].isalpha() and text[e.pos] not in "tfn":
                word = re.match(r"\w+", text[e.pos:])
                return None, f"JSON parse error, invalid keyword '{word.group(0)}'"  # type: ignore[union-attr]
            return None, "JSON parse error, expecting value"
        if msg.startswith("Expecting ':'"):
            return None, "JSON parse error, missing : in object pair"
        if msg.startswith("Extra data"):
            return None, "JSON parse error, expecting value"
        return None, "JSON parse error, " + msg[0].lower() + msg[1:]
    except ValueError as e:
        return None, f"JSON parse error, {e}"
    except RecursionError:
        return None, "JSON parse error, nesting too deep"


class JsonStreamer:
    """feed(bytes) -> list of (value, error) for each complete message."""

    def __init__(self, max_size: int = MAX_SIZE) -> None:
        self.max_size = max_size
        self.reset()

    def reset(self) -> None:
        self.buf = bytearray()
        self.pos = 0          # scan position in buf
        self.depth = 0
        self.in_string = False
        self.overflow = False

    def feed(self, data: bytes) -> list[tuple[Any, str | None]]:
        self.buf += data
        out: list[tuple[Any, str | None]] = []
        buf = self.buf
        while self.pos < len(buf):
            if self.in_string:
                m = _IN_STRING.search(buf, self.pos)
                if m is None:
                    self.pos = len(buf)
                    break
                if m.group() == b"\\":
                    if m.end() >= len(buf):
                        self.pos = m.start()  # wait for the escaped byte
                        break
                    self.pos = m.end() + 1
                    continue
                self.pos = m.end()
                self.in_string = False
                if self.depth == 0:
                    out.append(self._take(self.pos))
                continue
            if self.depth == 0:
                self.pos = _SPACE.match(buf, self.pos).end()  # type: ignore[union-attr]
                del buf[:self.pos]
                self.pos = 0
                if not buf:
                    break
                c = buf[0]
                if c in b"{[":
                    self.depth = 1
                    self.pos = 1
                elif c == ord('"'):
                    self.in_string = True
                    self.pos = 1
                elif c in b"}]":
                    del buf[:1]
                    out.append((None, "JSON parse error, expecting value"))
                else:
                    m = _BARE.match(buf, 0)
                    if m.end() >= len(buf):  # type: ignore[union-attr]
                        break  # the token may continue in the next chunk
                    out.append(self._take(m.end()))  # type: ignore[union-attr]
                continue
            m = _IN_STRUCT.search(buf, self.pos)
            if m is None:
                self.pos = len(buf)
                break
            self.pos = m.end()
            c = m.group()
            if c == b'"':
                self.in_string = True
            elif c in (b"{", b"["):
                self.depth += 1
                if self.depth > MAX_DEPTH:
                    self._take(self.pos)
                    out.append((None, "JSON parse error, nesting too deep"))
            else:
                self.depth -= 1
                if self.depth == 0:
                    out.append(self._take(self.pos))
        if len(buf) > self.max_size:
            self.overflow = True
            self.buf = bytearray()
            self.pos = self.depth = 0
            self.in_string = False
        return out

    def _take(self, end: int) -> tuple[Any, str | None]:
        raw = bytes(self.buf[:end])
        del self.buf[:end]
        self.pos = 0
        self.depth = 0
        self.in_string = False
        return decode_message(raw)
