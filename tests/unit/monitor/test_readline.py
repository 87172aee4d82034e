"""The monitor's line editor."""
from __future__ import annotations

from pemu.monitor.readline import LineEditor


def test_typing_and_enter():
    ed = LineEditor()
    echo, lines = ed.feed(b"info\r\n")
    assert echo == "info\r\n" and lines == ["info"]


def test_backspace_and_cursor_moves():
    ed = LineEditor()
    _, lines = ed.feed(b"inf\x7fxo\x1b[D\x1b[D\x1b[3~f\r")
    assert lines == ["info"]
    _, lines = ed.feed(b"stop\x01x\x05y\r")  # Ctrl-A home, Ctrl-E end
    assert lines == ["xstopy"]


def test_kill_and_word_erase():
    ed = LineEditor()
    _, lines = ed.feed(b"info status\x17registers\r")
    assert lines == ["info registers"]
    _, lines = ed.feed(b"garbage\x15cont\r")
    assert lines == ["cont"]


def test_history():
    ed = LineEditor()
    ed.feed(b"one\rtwo\r")
    _, lines = ed.feed(b"\x1b[A\x1b[A\r")
    assert lines == ["one"]
    _, lines = ed.feed(b"\x10\x0e\x0e\r")  # Ctrl-P then Ctrl-N past the end: empty
    assert lines == [""]


def test_completion():
    ed = LineEditor(complete=lambda head: [w for w in ("info", "in2") if w.startswith(head)])
    echo, _ = ed.feed(b"inf\t")
    assert ed.line == "info "
