"""sifive_test finisher: each code becomes the right loop request or exit status."""
from __future__ import annotations

from pemu.core.clock import VirtualClock
from pemu.core.main_loop import MainLoop
from pemu.core.memory import AddressSpace
from pemu.hw.misc.sifive_test import SifiveTest

BASE = 0x100000


def rig():
    loop = MainLoop(VirtualClock())
    mem = AddressSpace()
    mem.map(BASE, SifiveTest(loop).region)
    return loop, mem


def test_pass_is_shutdown() -> None:
    loop, mem = rig()
    events = []
    loop.listeners.append(lambda e, d: events.append((e, d)))
    mem.write(BASE, 4, 0x5555)
    assert list(loop._requests) == [("shutdown", "guest-shutdown")]
    assert loop.run() == 0
    assert events == [("SHUTDOWN", {"guest": True, "reason": "guest-shutdown"})]


def test_reset_request() -> None:
    loop, mem = rig()
    seen = []
    loop.handlers["reset"] = seen.append
    mem.write(BASE, 4, 0x7777)
    assert list(loop._requests) == [("reset", "guest-reset")]
    loop._process_requests()
    assert seen == ["guest-reset"]
    assert loop.exit_code is None


def test_fail_exits_with_code() -> None:
    loop, mem = rig()
    mem.write(BASE, 4, 0x3333 | (42 << 16))
    assert loop.exit_code == 42
    assert loop.run() == 42


def test_other_values_ignored() -> None:
    loop, mem = rig()
    mem.write(BASE, 4, 0x1234)
    mem.write(BASE + 4, 4, 0x5555)
    assert not loop._requests and loop.exit_code is None
    assert mem.read(BASE, 4) == 0
