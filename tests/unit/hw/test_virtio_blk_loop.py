"""virtio-blk served from the main loop: notifications return at once, long
queues are served in budgeted turns with the CPU free in between."""
from __future__ import annotations

import struct

import pytest
from virtio_driver import Driver

from pemu.core.clock import Timer, VirtualClock
from pemu.core.main_loop import MainLoop
from pemu.hw.virtio import virtio_blk as vb


class MemBackend:
    def __init__(self, size: int = 1 << 20) -> None:
        self.data = bytearray(bytes(range(256)) * (size // 256))
        self.size = size
        self.readonly = False
        self.reads = 0

    def read(self, offset: int, length: int) -> bytes:
        self.reads += 1
        return bytes(self.data[offset:offset + length])

    def write(self, offset: int, data: bytes) -> None:
        self.data[offset:offset + len(data)] = data

    def flush(self) -> None:
        pass

    def discard(self, offset: int, length: int) -> None:
        pass

    def write_zeroes(self, offset: int, length: int) -> None:
        self.data[offset:offset + length] = bytes(length)


def submit_read(d: Driver, sector: int, length: int) -> tuple[int, int]:
    """Post (without waiting) an IN request; returns (data address, status address)."""
    hdr = d.alloc(struct.pack("<IIQ", vb.VIRTIO_BLK_T_IN, 0, sector))
    data = d.alloc(length)
    status = d.alloc(1)
    d.mem.write_bytes(status, b"\xff")
    d.publish(d.chain([(hdr, 16, False), (data, length, True), (status, 1, True)]))
    return data, status


def run_until(loop: MainLoop, clock: VirtualClock, cond, limit_ns: int = 2_000_000_000) -> int:
    """Run the loop until cond() holds; returns how many loop turns it took."""
    turns = 0

    def check() -> None:
        nonlocal turns
        turns += 1
        if cond():
            loop.quit(0)
        else:
            t.mod(clock.now() + 10_000)

    t = Timer(clock, check)
    t.mod(clock.now())
    give_up = Timer(clock, lambda: loop.quit(1))
    give_up.mod(clock.now() + limit_ns)
    assert loop.run() == 0
    loop.exit_code = None
    return turns


@pytest.fixture
def rig():
    clock = VirtualClock(icount_shift=0, sleep=False)  # no CPU: idle time warps at once
    loop = MainLoop(clock)
    loop.set_runstate("running")
    be = MemBackend()
    d = Driver(vb.VirtioBlk(be, loop=loop), qsize=16)
    d.init()
    return d, be, loop, clock


def test_notify_returns_before_the_request_is_served(rig) -> None:
    d, be, loop, clock = rig
    data, status = submit_read(d, 2, 4096)
    assert d.used() == [] and be.reads == 0  # the MMIO write only scheduled work
    run_until(loop, clock, lambda: d.mem.read_bytes(status, 1) != b"\xff")
    assert d.mem.read_bytes(status, 1)[0] == vb.VIRTIO_BLK_S_OK
    assert d.mem.read_bytes(data, 4096) == bytes(be.data[1024:1024 + 4096])
    assert len(d.used()) == 1
    assert d.ack() & 1  # used-buffer interrupt


def test_long_queue_is_served_in_turns(rig, monkeypatch) -> None:
    d, be, loop, clock = rig
    monkeypatch.setattr(vb, "TURN_BUDGET", 8192)
    statuses = [submit_read(d, 16 * i, 8192)[1] for i in range(4)]
    seen: list[int] = []

    def progress() -> bool:
        seen.append(be.reads)
        return all(d.mem.read_bytes(s, 1) == b"\x00" for s in statuses)

    run_until(loop, clock, progress)
    assert be.reads == 4
    # one request per turn, CONTINUE_NS apart: the loop (and the CPUs) ran in between
    assert sorted(set(seen)) == [1, 2, 3, 4]
    assert seen.count(2) >= vb.CONTINUE_NS // 10_000 - 1


def test_reset_while_pending_drops_the_work(rig) -> None:
    d, be, loop, clock = rig
    submit_read(d, 0, 512)
    d.w(0x70, 0)  # device reset before the loop got to it
    done = Timer(clock, lambda: loop.quit(0))
    done.mod(clock.now() + 1_000_000)
    assert loop.run() == 0
    assert be.reads == 0 and d.dev.status == 0  # no stray DEVICE_NEEDS_RESET
