"""Splitting a QMP byte stream into messages, with QEMU's parse-error wording."""
from __future__ import annotations

from pemu.monitor.jsonstream import JsonStreamer


def test_back_to_back_objects_without_newlines():
    s = JsonStreamer()
    got = s.feed(b'{"execute":"a"}{"execute":"b","arguments":{"x":"}{\\""}}')
    assert got == [({"execute": "a"}, None), ({"execute": "b", "arguments": {"x": '}{"'}}, None)]


def test_split_across_reads():
    s = JsonStreamer()
    assert s.feed(b'{"exec') == []
    assert s.feed(b'ute": "q"') == []
    assert s.feed(b"}") == [({"execute": "q"}, None)]


def test_errors_are_qemus():
    s = JsonStreamer()
    got = [e for _, e in s.feed(b'garbage {"a" 1} {"execute": } } 123 ')]
    assert got == ["JSON parse error, invalid keyword 'garbage'",
                   "JSON parse error, missing : in object pair",
                   "JSON parse error, expecting value",
                   "JSON parse error, expecting value",
                   None]


def test_overflow_and_recovery():
    s = JsonStreamer(max_size=1000)
    s.feed(b'{"x": "' + b"a" * 2000)
    assert s.overflow
    s.overflow = False
    assert s.feed(b'{"ok": 1}') == [({"ok": 1}, None)]


def test_deep_nesting_is_an_error_not_a_crash():
    s = JsonStreamer()
    got = s.feed(b"[" * 5000)
    assert got and got[0][1] == "JSON parse error, nesting too deep"
