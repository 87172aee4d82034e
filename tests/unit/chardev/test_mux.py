"""The Ctrl-A mux: focus, escapes, help, quit, timestamps."""
from __future__ import annotations

from pemu.chardev.base import Chardev
from pemu.chardev.mux import MuxChardev
from pemu.core.clock import VirtualClock
from pemu.core.main_loop import MainLoop


class Screen(Chardev):
    def __init__(self) -> None:
        super().__init__("screen")
        self.out = bytearray()

    def write(self, data: bytes) -> None:
        self.out += data


def setup(loop=None):
    screen = Screen()
    mux = MuxChardev("serial0", loop, screen)
    got = {"mon": bytearray(), "serial": bytearray()}
    events = {"mon": [], "serial": []}
    mux.attach(got["mon"].extend, None, events["mon"].append)
    mux.attach(got["serial"].extend, None, events["serial"].append)
    return screen, mux, got, events


def test_last_attached_has_focus_and_ctrl_a_c_switches():
    screen, mux, got, events = setup()
    screen.feed(b"ab")
    assert bytes(got["serial"]) == b"ab" and not got["mon"]
    screen.feed(b"\x01cinfo")
    assert bytes(got["mon"]) == b"info"
    assert events["serial"][-1] == "mux-out" and events["mon"][-1] == "mux-in"
    screen.feed(b"\x01c")
    assert events["serial"][-1] == "mux-in"


def test_ctrl_a_ctrl_a_sends_ctrl_a():
    screen, mux, got, _ = setup()
    screen.feed(b"x\x01\x01y")
    assert bytes(got["serial"]) == b"x\x01y"


def test_help_text():
    screen, mux, _, _ = setup()
    screen.feed(b"\x01h")
    text = bytes(screen.out)
    assert text.startswith(b"\n\rC-a h    print this help\n\r")
    assert b"C-a C-a  sends C-a\n\r" in text


def test_ctrl_a_x_quits_through_the_loop():
    loop = MainLoop(VirtualClock())
    events = []
    loop.listeners.append(lambda e, d: events.append((e, d)))
    screen, mux, _, _ = setup(loop)
    screen.feed(b"\x01x")
    assert bytes(screen.out).endswith(b"pemu: Terminated\n\r")
    loop._process_requests()
    assert loop.exit_code == 0
    assert events == [("SHUTDOWN", {"guest": False, "reason": "host-qmp-quit"})]


def test_break_and_timestamps():
    screen, mux, _, events = setup()
    screen.feed(b"\x01b")
    assert events["serial"][-1] == "break"
    screen.feed(b"\x01t")
    mux.write(b"one\ntwo")
    assert screen.out.startswith(b"[00:00:00.") and b"\n[00:00:00." in screen.out


def test_monitor_held_until_focused():
    """A monitor attached before the serial port only talks once it has the focus."""
    from pemu.core.machine import Machine
    from pemu.monitor.hmp import HmpMonitor
    machine = Machine()
    screen = Screen()
    mux = MuxChardev("serial0", machine.loop, screen)
    HmpMonitor(machine, mux)
    mux.attach(lambda data: None)
    while machine.loop._bhs:
        machine.loop._bhs.popleft()()
    assert bytes(screen.out) == b""
    screen.feed(b"\x01c")
    assert b"monitor - type 'help' for more information\r\n(qemu) " in screen.out
