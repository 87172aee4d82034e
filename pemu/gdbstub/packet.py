"""The GDB remote serial protocol's framing ("Overview" and "Binary Data" in
the GDB manual, appendix "GDB Remote Serial Protocol").

A packet is `$payload#cc`, cc the two-hex-digit sum of the payload bytes
modulo 256. The receiver answers `+` (good) or `-` (resend) until both ends
switch acknowledgements off (QStartNoAckMode). A lone 0x03 outside a packet
is an interrupt request (Ctrl-C). In binary data (X, vFile) the bytes
`#`, `$`, `}` and `*` are sent as `}` followed by the byte XOR 0x20.
Responses may be run-length encoded: `X*n` repeats X (n - 29) more times,
where the count character is printable and never `#` or `$`.

`PacketReader` is a byte-fed state machine: it never raises on bad input;
it reports what it saw as events, so the stub decides how to answer.
"""
from __future__ import annotations

from dataclasses import dataclass

#: Largest payload accepted (and advertised as PacketSize in qSupported).
MAX_PACKET = 0x4000
INTERRUPT = 0x03
_ESCAPED = frozenset(b"#$}*")
#: RLE: run lengths whose count character would be '#' (35) or '$' (36) are
#: split, and '+'/'-' are avoided too so a count is never mistaken for an ack.
_RLE_MIN, _RLE_MAX = 4, 97
_RLE_BAD = {ord("#") - 29, ord("$") - 29, ord("+") - 29, ord("-") - 29}


@dataclass(frozen=True)
class Event:
    """What the reader saw: kind is "packet", "interrupt", "ack", "nak",
    "bad-checksum" or "overflow"; `data` is the payload of a packet."""

    kind: str
    data: bytes = b""


def checksum(payload: bytes) -> int:
    return sum(payload) & 0xFF


def frame(payload: bytes) -> bytes:
    """`$payload#cc` (the payload already escaped/encoded as needed)."""
    return b"$" + payload + b"#" + b"%02x" % checksum(payload)


def escape(data: bytes) -> bytes:
    out = bytearray()
    for b in data:
        if b in _ESCAPED:
            out += bytes((0x7D, b ^ 0x20))
        else:
            out.append(b)
    return bytes(out)


def unescape(data: bytes) -> bytes:
    """Binary data of an X packet; a trailing lone '}' is dropped."""
    out = bytearray()
    i, n = 0, len(data)
    while i < n:
        b = data[i]
        if b == 0x7D:
            if i + 1 < n:
                out.append(data[i + 1] ^ 0x20)
            i += 2
        else:
            out.append(b)
            i += 1
    return bytes(out)


def rle_encode(payload: bytes) -> bytes:
    """Run-length encode a response (runs of 4 or more; the protocol's limits)."""
    out = bytearray()
    i, n = 0, len(payload)
    while i < n:
        b = payload[i]
        j = i + 1
        while j < n and payload[j] == b and j - i < _RLE_MAX + 1:
            j += 1
        run = j - i
        repeats = run - 1
        while repeats in _RLE_BAD:
            repeats -= 1
        if repeats + 1 >= _RLE_MIN and b not in b"#$*}":
            out.append(b)
            out += b"*" + bytes((repeats + 29,))
            i += repeats + 1
        else:
            out.append(b)
            i += 1
    return bytes(out)


def rle_decode(payload: bytes) -> bytes:
    """The inverse of rle_encode (what gdb does with a response)."""
    out = bytearray()
    i, n = 0, len(payload)
    while i < n:
        b = payload[i]
        if b == ord("*") and out and i + 1 < n:
            out += bytes((out[-1],)) * (payload[i + 1] - 29)
            i += 2
        else:
            out.append(b)
            i += 1
    return bytes(out)


class PacketReader:
    """Splits a byte stream into events; keeps partial packets between calls."""

    def __init__(self, max_payload: int = MAX_PACKET) -> None:
        self.max_payload = max_payload
        # idle | payload | csum1 | csum2 | skip | skip-csum1 | skip-csum2
        self._state = "idle"
        self._buf = bytearray()
        self._csum = b""

    def feed(self, data: bytes) -> list[Event]:
        events: list[Event] = []
        for b in data:
            st = self._state
            if st == "idle":
                if b == ord("$"):
                    self._buf.clear()
                    self._state = "payload"
                elif b == INTERRUPT:
                    events.append(Event("interrupt"))
                elif b == ord("+"):
                    events.append(Event("ack"))
                elif b == ord("-"):
                    events.append(Event("nak"))
                # anything else between packets is line noise: ignored
            elif st == "payload":
                if b == ord("#"):
                    self._state = "csum1"
                elif b == ord("$"):
                    self._buf.clear()  # a new packet start: the old one was cut short
                elif len(self._buf) >= self.max_payload:
                    # longer than the PacketSize we announced: drop it to its end,
                    # then report it once (the stub answers with an error)
                    self._buf.clear()
                    self._state = "skip"
                else:
                    self._buf.append(b)
            elif st == "skip":
                if b == ord("#"):
                    self._state = "skip-csum1"
            elif st == "skip-csum1":
                self._state = "skip-csum2"
            elif st == "skip-csum2":
                self._state = "idle"
                events.append(Event("overflow"))
            elif st == "csum1":
                self._csum = bytes((b,))
                self._state = "csum2"
            else:  # csum2
                self._state = "idle"
                text = self._csum + bytes((b,))
                try:
                    good = int(text, 16) == checksum(self._buf)
                except ValueError:
                    good = False
                if good:
                    events.append(Event("packet", bytes(self._buf)))
                else:
                    events.append(Event("bad-checksum", bytes(self._buf)))
                self._buf.clear()
        return events


__all__ = ["Event", "PacketReader", "MAX_PACKET", "checksum", "frame", "escape", "unescape",
           "rle_encode", "rle_decode"]
