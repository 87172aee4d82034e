"""futex(2): wait queues keyed by guest address, shared by the process's
threads. The value check and the enqueue happen under the address
space's lock, which also serialises AMOs and SC, so a waker that changes
the word and then wakes cannot be missed."""
from __future__ import annotations

import errno
import struct
import threading
import time

from pemu.linux_user.syscalls import s32, syscall

FUTEX_WAIT, FUTEX_WAKE, FUTEX_FD, FUTEX_REQUEUE, FUTEX_CMP_REQUEUE, FUTEX_WAKE_OP = range(6)
FUTEX_WAIT_BITSET, FUTEX_WAKE_BITSET = 9, 10
FUTEX_CLOCK_REALTIME = 256
BITSET_ANY = 0xFFFFFFFF


class Waiter:
    __slots__ = ("event", "bitset", "addr")

    def __init__(self, addr: int, bitset: int) -> None:
        self.event = threading.Event()
        self.bitset = bitset
        self.addr = addr


def _queues(proc) -> dict[int, list[Waiter]]:
    q = getattr(proc, "futex_queues", None)
    if q is None:
        q = proc.futex_queues = {}
    return q


def futex_wake(proc, addr: int, n: int, bitset: int = BITSET_ANY) -> int:
    with proc.mem.lock:
        q = _queues(proc).get(addr, [])
        woken = 0
        for w in list(q):
            if woken >= n:
                break
            if w.bitset & bitset:
                q.remove(w)
                w.event.set()
                woken += 1
        return woken


def _wait(t, addr: int, val: int, deadline: float | None, bitset: int) -> int:
    proc = t.proc
    mem = proc.mem
    with mem.lock:
        if mem.read_u32(addr) != val & 0xFFFFFFFF:
            return -errno.EAGAIN
        w = Waiter(addr, bitset)
        _queues(proc).setdefault(addr, []).append(w)
    while True:
        slice_ = 0.05
        if deadline is not None:
            slice_ = min(slice_, max(0.0, deadline - time.monotonic()))
        if w.event.wait(slice_):
            return 0
        timed_out = deadline is not None and time.monotonic() >= deadline
        if timed_out or t.has_deliverable():
            with mem.lock:
                q = _queues(proc).get(addr, [])
                if w in q:
                    q.remove(w)
                    return -errno.ETIMEDOUT if timed_out else -errno.EINTR
            return 0


def _timeout(t, addr: int, absolute: bool, realtime: bool) -> float | None:
    if not addr:
        return None
    sec, nsec = struct.unpack("<qq", t.proc.mem.read(addr, 16))
    span = sec + nsec / 1e9
    if not absolute:
        return time.monotonic() + span
    now = time.time() if realtime else time.clock_gettime(time.CLOCK_MONOTONIC)
    return time.monotonic() + (span - now)


def _wake_op(t, uaddr, n, n2, uaddr2, val3) -> int:
    op, cmp_ = (val3 >> 28) & 15, (val3 >> 24) & 15
    oparg, cmparg = (val3 >> 12) & 0xFFF, val3 & 0xFFF
    if op & 8:
        oparg = 1 << oparg
        op &= 7
    mem = t.proc.mem
    with mem.lock:
        old = mem.read_u32(uaddr2)
        new = (oparg, old + oparg, old | oparg, old & ~oparg, old ^ oparg)[op]
        mem.write_u32(uaddr2, new)
        woken = futex_wake(t.proc, uaddr, n)
        so = old - (1 << 32) if old & 0x80000000 else old
        sc = cmparg - (1 << 12) if cmparg & 0x800 else cmparg
        hit = (so == sc, so != sc, so < sc, so <= sc, so > sc, so >= sc)[cmp_] \
            if cmp_ < 6 else False
        if hit:
            woken += futex_wake(t.proc, uaddr2, n2)
    return woken


@syscall
def sys_futex(t, uaddr, op, val, timeout, uaddr2, val3):
    cmd = op & 127
    realtime = bool(op & FUTEX_CLOCK_REALTIME)
    val &= 0xFFFFFFFF
    if uaddr & 3:
        return -errno.EINVAL
    if cmd == FUTEX_WAIT:
        return _wait(t, uaddr, val, _timeout(t, timeout, False, realtime), BITSET_ANY)
    if cmd == FUTEX_WAIT_BITSET:
        if not val3 & BITSET_ANY:
            return -errno.EINVAL
        return _wait(t, uaddr, val, _timeout(t, timeout, True, realtime), val3 & BITSET_ANY)
    if cmd == FUTEX_WAKE:
        return futex_wake(t.proc, uaddr, s32(val) if s32(val) > 0 else 0x7FFFFFFF)
    if cmd == FUTEX_WAKE_BITSET:
        return futex_wake(t.proc, uaddr, val, val3 & BITSET_ANY)
    if cmd in (FUTEX_REQUEUE, FUTEX_CMP_REQUEUE):
        mem = t.proc.mem
        with mem.lock:
            if cmd == FUTEX_CMP_REQUEUE and mem.read_u32(uaddr) != val3 & 0xFFFFFFFF:
                return -errno.EAGAIN
            woken = futex_wake(t.proc, uaddr, val)
            qs = _queues(t.proc)
            src = qs.get(uaddr, [])
            moved = src[:timeout & 0x7FFFFFFF]
            del src[:len(moved)]
            qs.setdefault(uaddr2, []).extend(moved)
            return woken + len(moved)
    if cmd == FUTEX_WAKE_OP:
        return _wake_op(t, uaddr, val, timeout & 0x7FFFFFFF, uaddr2, val3 & 0xFFFFFFFF)
    return -errno.ENOSYS
