"""A test-side virtio-gpu driver on the real virt board: requests as a guest would send them."""
from __future__ import annotations

import struct

from virtio_driver import RAM, Driver

from pemu.hw.display import virtio_gpu as vg
from pemu.hw.riscv.virt import VirtMachine
from pemu.ui.console import Console

#: Where the tests put resource backing (guest RAM, far from the queues' buffers).
BACKING = RAM + 0x100000


class GpuDriver(Driver):
    """The virt board with a virtio-gpu in virtio-mmio slot 0, driven through `Driver`."""

    def __init__(self, **gpu_props: object) -> None:
        self.machine = VirtMachine(ram_size=16 << 20, bios="none")
        self.console = Console()
        self.gpu = vg.VirtioGpu(self.console, **gpu_props)
        slot = self.machine.virtio[0]  # 0x10001000, the address Driver talks to
        slot.plug(self.gpu)
        self.mem = self.machine.memory
        self.dev = slot
        self.qsize = 8
        self.event_idx = False
        self.avail_idx = 0
        self.used_seen = 0
        self.next_desc = 0
        self.bump = RAM + 0x10000
        self.init()

    def request(self, ctype: int, body: bytes = b"", resp_len: int = 24,
                flags: int = 0, fence: int = 0) -> tuple[int, bytes, tuple]:
        """Send one control request; returns (response type, response body, header)."""
        self.bump = RAM + 0x10000  # one request at a time: reuse the buffer area
        req = self.alloc(struct.pack("<IIQIB3x", ctype, flags, fence, 0, 0) + body)
        resp = self.alloc(resp_len)
        self.mem.write_bytes(resp, b"\xee" * resp_len)
        self.publish(self.chain([(req, 24 + len(body), False), (resp, resp_len, True)]))
        used = self.used()
        assert len(used) == 1, used
        data = self.mem.read_bytes(resp, used[0][1])
        hdr = struct.unpack_from("<IIQIB3x", data)
        return hdr[0], data[24:], hdr

    # --- the commands ---------------------------------------------------------------
    def create_2d(self, rid: int, fmt: int, w: int, h: int) -> int:
        return self.request(vg.CMD_RESOURCE_CREATE_2D, struct.pack("<IIII", rid, fmt, w, h))[0]

    def attach(self, rid: int, entries: list[tuple[int, int]]) -> int:
        body = struct.pack("<II", rid, len(entries)) + b"".join(
            struct.pack("<QII", a, n, 0) for a, n in entries)
        return self.request(vg.CMD_RESOURCE_ATTACH_BACKING, body)[0]

    def detach(self, rid: int) -> int:
        return self.request(vg.CMD_RESOURCE_DETACH_BACKING, struct.pack("<II", rid, 0))[0]

    def set_scanout(self, scanout: int, rid: int, x: int, y: int, w: int, h: int) -> int:
        return self.request(vg.CMD_SET_SCANOUT,
                            struct.pack("<IIIIII", x, y, w, h, scanout, rid))[0]

    def transfer(self, rid: int, x: int, y: int, w: int, h: int, offset: int = 0) -> int:
        return self.request(vg.CMD_TRANSFER_TO_HOST_2D,
                            struct.pack("<IIIIQII", x, y, w, h, offset, rid, 0))[0]

    def flush(self, rid: int, x: int, y: int, w: int, h: int) -> int:
        return self.request(vg.CMD_RESOURCE_FLUSH, struct.pack("<IIIIII", x, y, w, h, rid, 0))[0]

    def unref(self, rid: int) -> int:
        return self.request(vg.CMD_RESOURCE_UNREF, struct.pack("<II", rid, 0))[0]


def pattern_bgrx(w: int, h: int) -> bytes:
    """A picture where every pixel differs from its neighbours: B=x, G=y, R=x^y."""
    return b"".join(bytes((x & 0xFF, y & 0xFF, (x * 7 ^ y * 13) & 0xFF, 0))
                    for y in range(h) for x in range(w))


def show_pattern(d: GpuDriver, w: int, h: int, rid: int = 1) -> bytes:
    """Create, back, scan out, transfer and flush a w x h B8G8R8X8 pattern; returns it."""
    pix = pattern_bgrx(w, h)
    d.mem.write_bytes(BACKING, pix)
    assert d.create_2d(rid, 2, w, h) == vg.RESP_OK_NODATA
    assert d.attach(rid, [(BACKING, len(pix))]) == vg.RESP_OK_NODATA
    assert d.set_scanout(0, rid, 0, 0, w, h) == vg.RESP_OK_NODATA
    assert d.transfer(rid, 0, 0, w, h) == vg.RESP_OK_NODATA
    assert d.flush(rid, 0, 0, w, h) == vg.RESP_OK_NODATA
    return pix
