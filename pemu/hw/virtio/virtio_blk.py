"""virtio block device (VIRTIO 1.2 section 5.2) over a block backend.

Requests (5.2.6): a 16-byte header {type u32, reserved u32, sector u64} in
device-readable memory, then data, then one device-writable status byte
(OK 0, IOERR 1, UNSUPP 2). Types handled: IN 0, OUT 1, FLUSH 4, GET_ID 8,
DISCARD 11, WRITE_ZEROES 13; DISCARD and WRITE_ZEROES carry segments of
{sector u64, num_sectors u32, flags u32} (flags bit 0: unmap). Sectors are
512 bytes whatever the logical block size.

Config layout (5.2.4), little-endian: capacity u64 @0, size_max u32 @8,
seg_max u32 @12, geometry @16, blk_size u32 @20, topology @24, writeback u8
@32, num_queues u16 @34, max_discard_sectors u32 @36, max_discard_seg u32
@40, discard_sector_alignment u32 @44, max_write_zeroes_sectors u32 @48,
max_write_zeroes_seg u32 @52, write_zeroes_may_unmap u8 @56 (60 bytes).

The backend is any object with read(offset, length) -> bytes, write(offset,
data), flush(), discard(offset, length), write_zeroes(offset, length), size
and readonly. A buffer outside guest RAM fails the request with IOERR when
the status byte can still be written; otherwise the device goes to
DEVICE_NEEDS_RESET.

Given a main loop (`loop=machine.loop`), a queue notification only schedules
a bottom half: the guest's MMIO write returns at once and the requests are
served from the main loop, at most TURN_BUDGET bytes per turn; when more is
queued the rest waits CONTINUE_NS of virtual time, so the vCPUs run between
chunks of a long queue instead of stalling for the whole transfer. One
request is the smallest unit (Linux sends at most ~1.25 MiB). Without a loop
(device tests) requests complete synchronously inside the notification.
"""
from __future__ import annotations

import struct
from typing import Any, Protocol

from pemu.core.clock import Timer
from pemu.hw.virtio.virtio_mmio import VirtioDevice
from pemu.hw.virtio.virtqueue import VirtqElement, VirtQueue, VirtqueueError
from pemu.qom import Property, register_type

VIRTIO_ID_BLOCK = 2
SECTOR = 512

# Feature bits (5.2.3).
VIRTIO_BLK_F_SIZE_MAX = 1 << 1
VIRTIO_BLK_F_SEG_MAX = 1 << 2
VIRTIO_BLK_F_RO = 1 << 5
VIRTIO_BLK_F_BLK_SIZE = 1 << 6
VIRTIO_BLK_F_FLUSH = 1 << 9
VIRTIO_BLK_F_DISCARD = 1 << 13
VIRTIO_BLK_F_WRITE_ZEROES = 1 << 14

# Request types and status values (5.2.6).
VIRTIO_BLK_T_IN = 0
VIRTIO_BLK_T_OUT = 1
VIRTIO_BLK_T_FLUSH = 4
VIRTIO_BLK_T_GET_ID = 8
VIRTIO_BLK_T_DISCARD = 11
VIRTIO_BLK_T_WRITE_ZEROES = 13
VIRTIO_BLK_S_OK = 0
VIRTIO_BLK_S_IOERR = 1
VIRTIO_BLK_S_UNSUPP = 2
VIRTIO_BLK_ID_BYTES = 20

SEG_MAX = 126
MAX_DISCARD_SECTORS = 1 << 22
MAX_DISCARD_SEG = 1
_SEGMENT = struct.Struct("<QII")
#: Bytes of requests served per main-loop turn, and the pause before the next turn.
TURN_BUDGET = 1 << 20
CONTINUE_NS = 100_000


class BlockBackend(Protocol):
    size: int
    readonly: bool

    def read(self, offset: int, length: int) -> bytes: ...
    def write(self, offset: int, data: bytes) -> None: ...
    def flush(self) -> None: ...
    def discard(self, offset: int, length: int) -> None: ...
    def write_zeroes(self, offset: int, length: int) -> None: ...


class _IoError(Exception):
    """The request fails with VIRTIO_BLK_S_IOERR."""


def _io(fn: Any, *args: Any) -> Any:
    """Call the backend; any failure it reports (its own error types included)
    becomes an I/O error for the guest, never a crash of the machine."""
    try:
        return fn(*args)
    except Exception as e:
        raise _IoError(str(e)) from e


@register_type
class VirtioBlk(VirtioDevice):
    """virtio-blk on one queue over `backend`."""

    type_name = "virtio-blk-device"
    description = "virtio block device"
    user_creatable = True
    device_id = VIRTIO_ID_BLOCK
    num_queues = 1
    queue_size = 256
    serial = Property(str, "", "disk serial number (GET_ID)")

    def __init__(self, backend: BlockBackend, loop: Any = None, **props: Any) -> None:
        super().__init__(**props)
        self.backend = backend
        self.loop = loop
        self._scheduled = False
        self._timer = Timer(loop.clock, self._turn) if loop is not None else None
        self.features = (VIRTIO_BLK_F_SEG_MAX | VIRTIO_BLK_F_BLK_SIZE | VIRTIO_BLK_F_FLUSH
                         | VIRTIO_BLK_F_DISCARD | VIRTIO_BLK_F_WRITE_ZEROES)
        if backend.readonly:
            self.features |= VIRTIO_BLK_F_RO

    @property
    def config(self) -> bytes:
        return struct.pack(
            "<QIIHBBIBBHIBBHIIIIIB3x",
            self.backend.size // SECTOR, 0, SEG_MAX,
            0, 0, 0,  # geometry: cylinders, heads, sectors
            SECTOR,  # blk_size
            0, 0, 0, 0,  # topology
            1, 0, 1,  # writeback, unused0, num_queues
            MAX_DISCARD_SECTORS, MAX_DISCARD_SEG, 1,
            MAX_DISCARD_SECTORS, MAX_DISCARD_SEG, 1)

    def handle(self, queue_index: int) -> None:
        if self.loop is None:
            self._serve(queue_index, None)
        elif not self._scheduled:
            self._scheduled = True
            self.loop.bh(self._turn)

    def reset(self) -> None:
        self._scheduled = False
        if self._timer is not None:
            self._timer.delete()

    def _turn(self) -> None:
        """One main-loop turn of request processing (bottom half or timer)."""
        self._scheduled = False
        if self.transport is None or not self.vqs or not self.vqs[0].ready:
            return
        try:
            more = self._serve(0, TURN_BUDGET)
        except VirtqueueError:
            self.transport.needs_reset()
            return
        if more and self._timer is not None:
            self._scheduled = True
            self._timer.mod(self.loop.clock.now() + CONTINUE_NS)

    def _serve(self, queue_index: int, budget: int | None) -> bool:
        """Serve queued requests, up to `budget` bytes if given; True if some remain."""
        vq = self.vqs[queue_index]
        done = 0
        more = False
        pushed = False
        while (elem := vq.pop()) is not None:
            written = self._request(vq, elem)
            vq.push(elem, written)
            pushed = True
            done += elem.out_len + elem.in_len
            if budget is not None and done >= budget:
                more = vq.has_work()
                break
        if pushed:
            self.notify(queue_index)
        return more

    # --- one request ----------------------------------------------------------
    def _request(self, vq: VirtQueue, elem: VirtqElement) -> int:
        """Process a chain; returns the bytes written to its writable buffers."""
        in_len = elem.in_len
        if elem.out_len < 16 or in_len < 1:
            raise VirtqueueError("virtio-blk request without header or status byte")
        data_len = in_len - 1
        try:
            status, written = self._execute(vq, elem, data_len)
        except (_IoError, VirtqueueError):
            status, written = VIRTIO_BLK_S_IOERR, 0
        # The status byte is the last writable byte; if even that is unreachable
        # the VirtqueueError propagates and the transport asks for a reset.
        vq.write_in(elem, bytes((status,)), offset=data_len)
        return written + 1

    def _check_range(self, sector: int, length: int) -> int:
        offset = sector * SECTOR
        if length % SECTOR or offset + length > self.backend.size:
            raise _IoError
        return offset

    def _execute(self, vq: VirtQueue, elem: VirtqElement, data_len: int) -> tuple[int, int]:
        rtype, _, sector = struct.unpack("<IIQ", vq.read_out(elem, 0, 16))
        be = self.backend
        if rtype == VIRTIO_BLK_T_IN:
            offset = self._check_range(sector, data_len)
            return VIRTIO_BLK_S_OK, vq.write_in(elem, _io(be.read, offset, data_len))
        if rtype == VIRTIO_BLK_T_OUT:
            data = vq.read_out(elem, 16)
            offset = self._check_range(sector, len(data))
            if be.readonly:
                raise _IoError
            _io(be.write, offset, data)
            return VIRTIO_BLK_S_OK, 0
        if rtype == VIRTIO_BLK_T_FLUSH:
            _io(be.flush)
            return VIRTIO_BLK_S_OK, 0
        if rtype == VIRTIO_BLK_T_GET_ID:
            ident = self.serial.encode()[:VIRTIO_BLK_ID_BYTES].ljust(VIRTIO_BLK_ID_BYTES, b"\0")
            return VIRTIO_BLK_S_OK, vq.write_in(elem, ident[:data_len])
        if rtype in (VIRTIO_BLK_T_DISCARD, VIRTIO_BLK_T_WRITE_ZEROES):
            return self._segments(vq, elem, rtype), 0
        return VIRTIO_BLK_S_UNSUPP, 0

    def _segments(self, vq: VirtQueue, elem: VirtqElement, rtype: int) -> int:
        payload = vq.read_out(elem, 16)
        if not payload or len(payload) % _SEGMENT.size:
            raise _IoError
        if self.backend.readonly:
            raise _IoError
        segs = [_SEGMENT.unpack_from(payload, i) for i in range(0, len(payload), _SEGMENT.size)]
        if len(segs) > MAX_DISCARD_SEG:
            raise _IoError
        for sector, count, flags in segs:
            if count > MAX_DISCARD_SECTORS:
                raise _IoError
            if rtype == VIRTIO_BLK_T_DISCARD:
                if flags:
                    return VIRTIO_BLK_S_UNSUPP  # 5.2.6.2: no flags defined for discard
                _io(self.backend.discard, self._check_range(sector, count * SECTOR),
                    count * SECTOR)
            else:
                if flags & ~1:
                    return VIRTIO_BLK_S_UNSUPP
                offset = self._check_range(sector, count * SECTOR)
                _io(self.backend.write_zeroes, offset, count * SECTOR)
        return VIRTIO_BLK_S_OK
