"""virtio GPU device, 2D mode (VIRTIO 1.2 section 5.7), shown on a `pemu.ui.console.Console`.

Queues (5.7.2): 0 controlq, 1 cursorq. VIRTIO_GPU_F_EDID (5.7.3) is offered when
an EDID base block can describe `xres` x `yres` at 60 Hz (`edid.edid_supported`);
GET_EDID then returns it. No virgl. Config (5.7.4): events_read u32, events_clear
u32, num_scanouts u32, num_capsets u32; one scanout.

Every request starts with `virtio_gpu_ctrl_hdr` (5.7.6.7): type u32, flags u32,
fence_id u64, ctx_id u32, ring_idx u8, padding[3] (24 bytes). The response
starts with the same header: its type is an OK_* or ERR_* code; with
VIRTIO_GPU_FLAG_FENCE set the fence id (and ring_idx) is echoed back.

Resources live in host memory, 4 bytes per pixel, in the format's own byte
order (a format named B8G8R8A8 has the bytes B, G, R, A in that order). The
guest's backing pages (RESOURCE_ATTACH_BACKING) must lie in guest RAM;
TRANSFER_TO_HOST_2D copies from them into the resource, RESOURCE_FLUSH copies
from the resource to the console's surface (converting to B,G,R,X) for each
scanout showing it. Total resource memory is capped by `max-hostmem` (QEMU's
default 256 MiB): a bigger request is ERR_OUT_OF_MEMORY, never a host
allocation the guest chose.

The cursor queue (UPDATE_CURSOR, MOVE_CURSOR) is consumed and the cursor's
resource and position are recorded, but the cursor is not drawn on the
console.
"""
from __future__ import annotations

import struct
from dataclasses import dataclass, field
from typing import Any

from pemu.hw.display.edid import edid_supported, make_edid
from pemu.hw.virtio.virtio_mmio import VirtioDevice
from pemu.hw.virtio.virtqueue import VirtqElement, VirtQueue, VirtqueueError
from pemu.qom import Property, register_type
from pemu.qom.object import parse_size
from pemu.ui.console import Console, Rect

VIRTIO_ID_GPU = 16
NUM_SCANOUTS = 1
#: VIRTIO_GPU_MAX_SCANOUTS (5.7.6.8): the size of the display info array.
MAX_SCANOUTS = 16
#: QEMU's limit on the entries of one ATTACH_BACKING (virtio-gpu.c, 16384).
MAX_BACKING_ENTRIES = 16384

# Command types (5.7.6.7).
CMD_GET_DISPLAY_INFO = 0x0100
CMD_RESOURCE_CREATE_2D = 0x0101
CMD_RESOURCE_UNREF = 0x0102
CMD_SET_SCANOUT = 0x0103
CMD_RESOURCE_FLUSH = 0x0104
CMD_TRANSFER_TO_HOST_2D = 0x0105
CMD_RESOURCE_ATTACH_BACKING = 0x0106
CMD_RESOURCE_DETACH_BACKING = 0x0107
CMD_GET_EDID = 0x010A
CMD_UPDATE_CURSOR = 0x0300
CMD_MOVE_CURSOR = 0x0301
# Response types (5.7.6.7).
RESP_OK_NODATA = 0x1100
RESP_OK_DISPLAY_INFO = 0x1101
RESP_OK_EDID = 0x1104
RESP_ERR_UNSPEC = 0x1200
RESP_ERR_OUT_OF_MEMORY = 0x1201
RESP_ERR_INVALID_SCANOUT_ID = 0x1202
RESP_ERR_INVALID_RESOURCE_ID = 0x1203
RESP_ERR_INVALID_CONTEXT_ID = 0x1204
RESP_ERR_INVALID_PARAMETER = 0x1205
FLAG_FENCE = 1
VIRTIO_GPU_F_EDID = 1 << 1
#: The EDID array of a GET_EDID response (5.7.6.8, virtio_gpu_resp_edid).
EDID_ARRAY = 1024

# Formats (5.7.6.8, enum virtio_gpu_formats) -> index of B, G, R in each pixel's bytes.
FORMAT_BYTE_ORDER: dict[int, tuple[int, int, int]] = {
    1: (0, 1, 2),    # B8G8R8A8_UNORM
    2: (0, 1, 2),    # B8G8R8X8_UNORM
    3: (3, 2, 1),    # A8R8G8B8_UNORM
    4: (3, 2, 1),    # X8R8G8B8_UNORM
    67: (2, 1, 0),   # R8G8B8A8_UNORM
    68: (1, 2, 3),   # X8B8G8R8_UNORM
    121: (1, 2, 3),  # A8B8G8R8_UNORM
    134: (2, 1, 0),  # R8G8B8X8_UNORM
}
BPP = 4

HDR = struct.Struct("<IIQIB3x")
RECT = struct.Struct("<IIII")
MEM_ENTRY = struct.Struct("<QII")


class HostSize(int):
    """A byte count given as QEMU sizes are (4096, 64M, 1G)."""

    def __new__(cls, value: object) -> HostSize:
        return super().__new__(cls, parse_size(value))


class GpuError(Exception):
    """A guest mistake: the request is answered with `code` (an ERR_* response)."""

    def __init__(self, code: int) -> None:
        super().__init__(hex(code))
        self.code = code


@dataclass
class Resource:
    """A 2D resource (5.7.6.8 RESOURCE_CREATE_2D) and its guest backing."""

    width: int
    height: int
    fmt: int
    pixels: bytearray
    backing: list[tuple[int, int]] | None = None

    @property
    def stride(self) -> int:
        return self.width * BPP

    def contains(self, r: Rect) -> bool:
        return r.x + r.w <= self.width and r.y + r.h <= self.height


@dataclass
class Scanout:
    resource_id: int = 0
    rect: Rect = field(default_factory=lambda: Rect(0, 0, 0, 0))


def to_bgrx(data: bytes, fmt: int) -> bytes:
    """Pixels of format `fmt` as B, G, R, X bytes (the console's layout)."""
    b, g, r = FORMAT_BYTE_ORDER[fmt]
    if (b, g, r) == (0, 1, 2):
        return bytes(data)
    out = bytearray(len(data))
    out[0::4] = data[b::4]
    out[1::4] = data[g::4]
    out[2::4] = data[r::4]
    return bytes(out)


@register_type
class VirtioGpu(VirtioDevice):
    """virtio-gpu in 2D mode, one scanout, shown on `console`."""

    type_name = "virtio-gpu-device"
    description = "virtio GPU (2D)"
    user_creatable = True
    device_id = VIRTIO_ID_GPU
    num_queues = 2
    queue_size = 256
    xres = Property(int, 1280, "preferred horizontal resolution (GET_DISPLAY_INFO)")
    yres = Property(int, 800, "preferred vertical resolution (GET_DISPLAY_INFO)")
    max_hostmem = Property(HostSize, 256 << 20, "cap on the bytes of all 2D resources (QEMU's "
                           "max_hostmem)")

    def __init__(self, console: Console, **props: Any) -> None:
        super().__init__(**props)
        if not 1 <= self.xres <= 16384 or not 1 <= self.yres <= 16384:
            from pemu.qom import PropertyError
            raise PropertyError("xres and yres must be between 1 and 16384")
        self.console = console
        self.features = VIRTIO_GPU_F_EDID if edid_supported(self.xres, self.yres) else 0
        self.resources: dict[int, Resource] = {}
        self.hostmem = 0
        self.scanouts = [Scanout() for _ in range(NUM_SCANOUTS)]
        self.cursor: dict[str, int] = {}

    @property
    def config(self) -> bytes:
        return struct.pack("<IIII", 0, 0, NUM_SCANOUTS, 0)

    def reset(self) -> None:
        self.resources.clear()
        self.hostmem = 0
        self.scanouts = [Scanout() for _ in range(NUM_SCANOUTS)]
        self.cursor = {}

    # --- queues -------------------------------------------------------------------
    def handle(self, queue_index: int) -> None:
        vq = self.vqs[queue_index]
        try:
            pushed = False
            while (elem := vq.pop()) is not None:
                if queue_index == 0:
                    written = self._control(vq, elem)
                else:
                    self._cursor(vq, elem)
                    written = 0
                vq.push(elem, written)
                pushed = True
            if pushed:
                self.notify(queue_index)
        except VirtqueueError:
            if self.transport is not None:
                self.transport.needs_reset()

    def _control(self, vq: VirtQueue, elem: VirtqElement) -> int:
        """One control request; returns the bytes of response written."""
        req = vq.read_out(elem, 0, 4096 + 24 + MEM_ENTRY.size * MAX_BACKING_ENTRIES)
        if len(req) < HDR.size:
            return self._respond(vq, elem, (0, 0, 0, 0, 0), RESP_ERR_UNSPEC)
        hdr = HDR.unpack_from(req)
        try:
            code, body = self._command(hdr[0], req[HDR.size:])
        except GpuError as e:
            code, body = e.code, b""
        return self._respond(vq, elem, hdr, code, body)

    def _respond(self, vq: VirtQueue, elem: VirtqElement, hdr: tuple, code: int,
                 body: bytes = b"") -> int:
        flags, fence, ctx, ring = hdr[1] & FLAG_FENCE, hdr[2], hdr[3], hdr[4]
        resp = HDR.pack(code, flags, fence if flags else 0, ctx, ring if flags else 0) + body
        return vq.write_in(elem, resp)

    def _cursor(self, vq: VirtQueue, elem: VirtqElement) -> None:
        """5.7.6.10: update_cursor/move_cursor carry the position and the cursor image."""
        req = vq.read_out(elem, 0, HDR.size + 32)
        if len(req) < HDR.size + 32:
            return
        ctype = HDR.unpack_from(req)[0]
        scanout, x, y, _, res, hot_x, hot_y, _ = struct.unpack_from("<8I", req, HDR.size)
        if ctype == CMD_UPDATE_CURSOR:
            self.cursor.update(resource_id=res, hot_x=hot_x, hot_y=hot_y)
        if ctype in (CMD_UPDATE_CURSOR, CMD_MOVE_CURSOR):
            self.cursor.update(scanout=scanout, x=x, y=y)

    # --- control commands (5.7.6.8) -------------------------------------------------
    def _command(self, ctype: int, body: bytes) -> tuple[int, bytes]:
        handlers = {
            CMD_GET_DISPLAY_INFO: (0, self._get_display_info),
            CMD_RESOURCE_CREATE_2D: (16, self._resource_create_2d),
            CMD_RESOURCE_UNREF: (8, self._resource_unref),
            CMD_SET_SCANOUT: (24, self._set_scanout),
            CMD_RESOURCE_FLUSH: (24, self._resource_flush),
            CMD_TRANSFER_TO_HOST_2D: (32, self._transfer_to_host_2d),
            CMD_RESOURCE_ATTACH_BACKING: (8, self._attach_backing),
            CMD_RESOURCE_DETACH_BACKING: (8, self._detach_backing),
            CMD_GET_EDID: (8, self._get_edid),
        }
        entry = handlers.get(ctype)
        if entry is None or len(body) < entry[0]:
            return RESP_ERR_UNSPEC, b""
        return entry[1](body)

    def _resource(self, rid: int) -> Resource:
        res = self.resources.get(rid)
        if res is None:
            raise GpuError(RESP_ERR_INVALID_RESOURCE_ID)
        return res

    def _get_display_info(self, body: bytes) -> tuple[int, bytes]:
        modes = bytearray(24 * MAX_SCANOUTS)
        struct.pack_into("<IIIIII", modes, 0, 0, 0, self.xres, self.yres, 1, 0)
        return RESP_OK_DISPLAY_INFO, bytes(modes)

    def _get_edid(self, body: bytes) -> tuple[int, bytes]:
        if not self.driver_features & VIRTIO_GPU_F_EDID:
            return RESP_ERR_UNSPEC, b""  # a command of a feature not negotiated
        (scanout,) = struct.unpack_from("<I", body)
        if scanout >= NUM_SCANOUTS:
            raise GpuError(RESP_ERR_INVALID_SCANOUT_ID)
        edid = make_edid(self.xres, self.yres)
        return RESP_OK_EDID, struct.pack("<II", len(edid), 0) + edid.ljust(EDID_ARRAY, b"\0")

    def _resource_create_2d(self, body: bytes) -> tuple[int, bytes]:
        rid, fmt, width, height = struct.unpack_from("<IIII", body)
        if rid == 0 or rid in self.resources:
            raise GpuError(RESP_ERR_INVALID_RESOURCE_ID)
        if fmt not in FORMAT_BYTE_ORDER or width == 0 or height == 0:
            raise GpuError(RESP_ERR_INVALID_PARAMETER)
        size = width * height * BPP
        if self.hostmem + size > self.max_hostmem:
            raise GpuError(RESP_ERR_OUT_OF_MEMORY)
        self.resources[rid] = Resource(width, height, fmt, bytearray(size))
        self.hostmem += size
        return RESP_OK_NODATA, b""

    def _resource_unref(self, body: bytes) -> tuple[int, bytes]:
        (rid,) = struct.unpack_from("<I", body)
        res = self._resource(rid)
        for sc in self.scanouts:
            if sc.resource_id == rid:
                sc.resource_id = 0  # as QEMU: a scanout loses a resource that goes away
        self.hostmem -= len(res.pixels)
        del self.resources[rid]
        return RESP_OK_NODATA, b""

    def _set_scanout(self, body: bytes) -> tuple[int, bytes]:
        rect = Rect(*RECT.unpack_from(body))
        scanout_id, rid = struct.unpack_from("<II", body, 16)
        if scanout_id >= NUM_SCANOUTS:
            raise GpuError(RESP_ERR_INVALID_SCANOUT_ID)
        sc = self.scanouts[scanout_id]
        if rid == 0:
            sc.resource_id = 0  # the scanout is disabled; the console keeps its last picture
            return RESP_OK_NODATA, b""
        res = self._resource(rid)
        if rect.w == 0 or rect.h == 0 or not res.contains(rect):
            raise GpuError(RESP_ERR_INVALID_PARAMETER)
        sc.resource_id, sc.rect = rid, rect
        if (self.console.width, self.console.height) != (rect.w, rect.h):
            self.console.resize(rect.w, rect.h)
        self._show(res, sc, rect)
        return RESP_OK_NODATA, b""

    def _resource_flush(self, body: bytes) -> tuple[int, bytes]:
        rect = Rect(*RECT.unpack_from(body))
        (rid,) = struct.unpack_from("<I", body, 16)
        res = self._resource(rid)
        if not res.contains(rect):
            raise GpuError(RESP_ERR_INVALID_PARAMETER)
        for sc in self.scanouts:
            if sc.resource_id == rid:
                self._show(res, sc, rect)
        return RESP_OK_NODATA, b""

    def _show(self, res: Resource, sc: Scanout, rect: Rect) -> None:
        """Copy `rect` of the resource (where the scanout shows it) to the console."""
        part = rect.intersect(sc.rect)
        if part is None:
            return
        for j in range(part.h):
            start = (part.y + j) * res.stride + part.x * BPP
            row = to_bgrx(res.pixels[start:start + part.w * BPP], res.fmt)
            self.console.blit_row(part.x - sc.rect.x, part.y + j - sc.rect.y, row)
        self.console.updated(Rect(part.x - sc.rect.x, part.y - sc.rect.y, part.w, part.h))

    def _transfer_to_host_2d(self, body: bytes) -> tuple[int, bytes]:
        rect = Rect(*RECT.unpack_from(body))
        offset, rid = struct.unpack_from("<QI", body, 16)
        res = self._resource(rid)
        if not res.contains(rect):
            raise GpuError(RESP_ERR_INVALID_PARAMETER)
        if res.backing is None:
            raise GpuError(RESP_ERR_UNSPEC)
        backing_len = sum(n for _, n in res.backing)
        row_len = rect.w * BPP
        # As QEMU: row j of the rectangle starts at offset + j * stride in the backing.
        if rect.h and offset + (rect.h - 1) * res.stride + row_len > backing_len:
            raise GpuError(RESP_ERR_INVALID_PARAMETER)
        for j in range(rect.h):
            data = self._read_backing(res.backing, offset + j * res.stride, row_len)
            dst = (rect.y + j) * res.stride + rect.x * BPP
            res.pixels[dst:dst + row_len] = data
        return RESP_OK_NODATA, b""

    def _read_backing(self, backing: list[tuple[int, int]], offset: int, length: int) -> bytes:
        out = bytearray()
        mem = self.transport.dma if self.transport is not None else None
        for addr, n in backing:
            if length <= 0:
                break
            if offset >= n:
                offset -= n
                continue
            take = min(n - offset, length)
            try:
                out += mem.read_bytes(addr + offset, take)  # type: ignore[union-attr]
            except Exception:
                raise GpuError(RESP_ERR_UNSPEC) from None
            length -= take
            offset = 0
        return bytes(out)

    def _attach_backing(self, body: bytes) -> tuple[int, bytes]:
        rid, count = struct.unpack_from("<II", body)
        res = self._resource(rid)
        if res.backing is not None or count == 0 or count > MAX_BACKING_ENTRIES:
            raise GpuError(RESP_ERR_UNSPEC)
        if len(body) < 8 + count * MEM_ENTRY.size:
            raise GpuError(RESP_ERR_UNSPEC)
        mem = self.transport.dma if self.transport is not None else None
        entries = []
        for i in range(count):
            addr, length, _ = MEM_ENTRY.unpack_from(body, 8 + i * MEM_ENTRY.size)
            # Every page of the backing must be guest RAM (not MMIO, not a hole).
            if mem is None or length == 0 or mem.ram_at(addr, length) is None:
                raise GpuError(RESP_ERR_UNSPEC)
            entries.append((addr, length))
        res.backing = entries
        return RESP_OK_NODATA, b""

    def _detach_backing(self, body: bytes) -> tuple[int, bytes]:
        (rid,) = struct.unpack_from("<I", body)
        res = self._resource(rid)
        if res.backing is None:
            raise GpuError(RESP_ERR_UNSPEC)
        res.backing = None
        return RESP_OK_NODATA, b""
