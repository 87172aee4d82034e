"""The gdb packet layer against good and malformed input (framing, checksums,
escapes, run-length encoding, interrupts, oversize packets)."""
from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from pemu.gdbstub.packet import (
    MAX_PACKET,
    Event,
    PacketReader,
    checksum,
    escape,
    frame,
    rle_decode,
    rle_encode,
    unescape,
)


def test_frame_has_the_modulo_256_checksum() -> None:
    assert frame(b"OK") == b"$OK#9a"
    assert frame(b"") == b"$#00"
    assert checksum(b"\xff\x02") == 1


def test_reader_splits_packets_acks_and_interrupts() -> None:
    r = PacketReader()
    evs = r.feed(b"+$g#67-\x03$m0,4#fd")
    assert evs == [Event("ack"), Event("packet", b"g"), Event("nak"), Event("interrupt"),
                   Event("packet", b"m0,4")]


def test_reader_keeps_partial_packets_between_feeds() -> None:
    r = PacketReader()
    data = frame(b"qSupported:multiprocess+")
    out = []
    for i in range(len(data)):
        out += r.feed(data[i:i + 1])
    assert out == [Event("packet", b"qSupported:multiprocess+")]


def test_bad_checksum_is_reported_not_delivered() -> None:
    r = PacketReader()
    assert r.feed(b"$g#00") == [Event("bad-checksum", b"g")]
    assert r.feed(b"$g#zz") == [Event("bad-checksum", b"g")]
    # the reader recovers: the next good packet comes through
    assert r.feed(b"$g#67") == [Event("packet", b"g")]


def test_a_new_dollar_restarts_a_cut_packet() -> None:
    assert PacketReader().feed(b"$m0,$g#67") == [Event("packet", b"g")]


def test_oversize_packet_is_dropped_and_reported_once() -> None:
    r = PacketReader()
    huge = b"M0,1:" + b"00" * MAX_PACKET
    evs = r.feed(frame(huge))
    assert evs == [Event("overflow")]
    assert r.feed(b"$g#67") == [Event("packet", b"g")]


def test_noise_between_packets_is_ignored() -> None:
    assert PacketReader().feed(b"garbage\r\n$g#67") == [Event("packet", b"g")]


def test_escape_round_trip_and_wire_form() -> None:
    assert escape(b"a#b$c}d*e") == b"a}\x03b}\x04c}]d}\x0ae"
    assert unescape(escape(b"a#b$c}d*e")) == b"a#b$c}d*e"
    assert unescape(b"abc}") == b"abc"  # a trailing lone escape is dropped, no crash


def test_rle_known_form() -> None:
    # "0" repeated 8 times: '0' then '*' with count 7 repeats ('$' would be 36: avoided)
    enc = rle_encode(b"00000000")
    assert b"$" not in enc and b"#" not in enc
    assert rle_decode(enc) == b"00000000"
    assert rle_encode(b"000") == b"000"  # too short to pay off


@given(st.binary(max_size=300).map(lambda b: bytes(x for x in b if x not in b"#$*}")))
def test_rle_round_trip(data: bytes) -> None:
    enc = rle_encode(data)
    assert rle_decode(enc) == data
    counts = [enc[i + 1] for i in range(len(enc) - 1) if enc[i] == ord("*")]
    assert all(32 <= c <= 126 and c not in b"#$+-" for c in counts)


@given(st.binary(max_size=200))
def test_reader_never_raises_on_random_bytes(data: bytes) -> None:
    r = PacketReader(max_payload=64)
    for ev in r.feed(data):
        assert ev.kind in ("packet", "ack", "nak", "interrupt", "bad-checksum", "overflow")
