"""virtio-gpu 2D on the virt board, driven as a guest driver would (no guest code)."""
from __future__ import annotations

import struct

import pytest
from gpu_driver import BACKING, GpuDriver, pattern_bgrx, show_pattern
from virtio_driver import RAM

from pemu.hw.display import virtio_gpu as vg
from pemu.ui.console import Rect


def test_device_identity_and_config():
    d = GpuDriver()
    assert d.r(0x008) == 16  # DeviceID: GPU
    assert struct.unpack("<IIII", bytes(d.mem.read(0x10001100 + i, 1) for i in range(16))) \
        == (0, 0, 1, 0)  # events_read, events_clear, num_scanouts 1, num_capsets 0


def test_display_info_reports_xres_yres():
    d = GpuDriver(xres=1024, yres=768)
    code, body, _ = d.request(vg.CMD_GET_DISPLAY_INFO, resp_len=24 + 16 * 24)
    assert code == vg.RESP_OK_DISPLAY_INFO
    assert struct.unpack_from("<IIIIII", body) == (0, 0, 1024, 768, 1, 0)
    assert body[24:] == bytes(15 * 24)  # the other scanouts are disabled


def test_default_resolution_is_qemus():
    d = GpuDriver()
    body = d.request(vg.CMD_GET_DISPLAY_INFO, resp_len=24 + 16 * 24)[1]
    assert struct.unpack_from("<II", body, 8) == (1280, 800)


def test_pattern_reaches_the_console():
    d = GpuDriver()
    seen: list[Rect] = []

    class Watch:
        def console_updated(self, rect):
            seen.append(rect)

        def console_resized(self, w, h):
            seen.append((w, h))

    d.console.add_listener(Watch())
    pix = show_pattern(d, 64, 48)
    assert (d.console.width, d.console.height) == (64, 48)
    assert bytes(d.console.pixels) == pix
    assert (64, 48) in seen and Rect(0, 0, 64, 48) in seen


@pytest.mark.parametrize("fmt,order", [(1, (0, 1, 2)), (3, (3, 2, 1)), (67, (2, 1, 0)),
                                       (121, (1, 2, 3))])
def test_formats_are_converted(fmt, order):
    d = GpuDriver()
    b, g, r = order
    pixel = bytearray(4)
    pixel[b], pixel[g], pixel[r] = 0x11, 0x22, 0x33
    d.mem.write_bytes(BACKING, bytes(pixel) * 4)
    assert d.create_2d(5, fmt, 2, 2) == vg.RESP_OK_NODATA
    assert d.attach(5, [(BACKING, 16)]) == vg.RESP_OK_NODATA
    assert d.set_scanout(0, 5, 0, 0, 2, 2) == vg.RESP_OK_NODATA
    assert d.transfer(5, 0, 0, 2, 2) == vg.RESP_OK_NODATA
    assert d.flush(5, 0, 0, 2, 2) == vg.RESP_OK_NODATA
    assert bytes(d.console.pixels[:3]) == b"\x11\x22\x33"


def test_partial_transfer_and_flush_over_a_scattered_backing():
    d = GpuDriver()
    w, h = 32, 16
    pix = pattern_bgrx(w, h)
    # Backing in three pieces of guest RAM, in a different order than their addresses.
    pieces = [(BACKING + 0x20000, 1000), (BACKING, 700), (BACKING + 0x8000, len(pix) - 1700)]
    at = 0
    for addr, n in pieces:
        d.mem.write_bytes(addr, pix[at:at + n])
        at += n
    assert d.create_2d(1, 2, w, h) == vg.RESP_OK_NODATA
    assert d.attach(1, pieces) == vg.RESP_OK_NODATA
    assert d.set_scanout(0, 1, 0, 0, w, h) == vg.RESP_OK_NODATA
    stride = w * 4
    assert d.transfer(1, 5, 3, 10, 7, offset=3 * stride + 5 * 4) == vg.RESP_OK_NODATA
    assert d.flush(1, 5, 3, 10, 7) == vg.RESP_OK_NODATA
    px = bytes(d.console.pixels)
    for y in range(h):
        for x in range(w):
            want = pix[(y * w + x) * 4:(y * w + x) * 4 + 4] \
                if 5 <= x < 15 and 3 <= y < 10 else bytes(4)
            assert px[(y * w + x) * 4:(y * w + x) * 4 + 4] == want, (x, y)


def test_fence_is_echoed():
    d = GpuDriver()
    code, _, hdr = d.request(vg.CMD_RESOURCE_CREATE_2D, struct.pack("<IIII", 1, 2, 4, 4),
                             flags=vg.FLAG_FENCE, fence=0x1234)
    assert code == vg.RESP_OK_NODATA and hdr[1] == vg.FLAG_FENCE and hdr[2] == 0x1234


def test_unref_frees_memory_and_disables_the_scanout():
    d = GpuDriver()
    show_pattern(d, 8, 8)
    assert d.unref(1) == vg.RESP_OK_NODATA
    assert d.gpu.hostmem == 0 and d.gpu.scanouts[0].resource_id == 0
    assert d.flush(1, 0, 0, 8, 8) == vg.RESP_ERR_INVALID_RESOURCE_ID


# --- guest mistakes -------------------------------------------------------------------
def test_create_errors():
    d = GpuDriver(max_hostmem=1 << 20)
    assert d.create_2d(0, 2, 4, 4) == vg.RESP_ERR_INVALID_RESOURCE_ID
    assert d.create_2d(1, 2, 4, 4) == vg.RESP_OK_NODATA
    assert d.create_2d(1, 2, 4, 4) == vg.RESP_ERR_INVALID_RESOURCE_ID  # exists
    assert d.create_2d(2, 999, 4, 4) == vg.RESP_ERR_INVALID_PARAMETER  # format
    assert d.create_2d(2, 2, 0, 4) == vg.RESP_ERR_INVALID_PARAMETER
    # A huge size: refused before any host allocation.
    assert d.create_2d(2, 2, 0xFFFFFFFF, 0xFFFFFFFF) == vg.RESP_ERR_OUT_OF_MEMORY
    assert d.create_2d(2, 2, 1024, 256) == vg.RESP_ERR_OUT_OF_MEMORY  # 1 MiB + 64 > cap
    assert d.gpu.hostmem == 64


def test_unknown_resource_ids():
    d = GpuDriver()
    assert d.unref(7) == vg.RESP_ERR_INVALID_RESOURCE_ID
    assert d.attach(7, [(BACKING, 64)]) == vg.RESP_ERR_INVALID_RESOURCE_ID
    assert d.detach(7) == vg.RESP_ERR_INVALID_RESOURCE_ID
    assert d.set_scanout(0, 7, 0, 0, 4, 4) == vg.RESP_ERR_INVALID_RESOURCE_ID
    assert d.transfer(7, 0, 0, 4, 4) == vg.RESP_ERR_INVALID_RESOURCE_ID
    assert d.flush(7, 0, 0, 4, 4) == vg.RESP_ERR_INVALID_RESOURCE_ID


def test_backing_outside_ram_is_refused():
    d = GpuDriver()
    assert d.create_2d(1, 2, 4, 4) == vg.RESP_OK_NODATA
    assert d.attach(1, [(0x10000000, 64)]) == vg.RESP_ERR_UNSPEC  # the UART, not RAM
    assert d.attach(1, [(0x0, 64)]) == vg.RESP_ERR_UNSPEC  # a hole
    end = RAM + (16 << 20)
    assert d.attach(1, [(end - 32, 64)]) == vg.RESP_ERR_UNSPEC  # runs past RAM's end
    assert d.attach(1, [(BACKING, 0)]) == vg.RESP_ERR_UNSPEC
    assert d.attach(1, []) == vg.RESP_ERR_UNSPEC
    # More entries claimed than sent.
    body = struct.pack("<II", 1, 1000) + struct.pack("<QII", BACKING, 64, 0)
    assert d.request(vg.CMD_RESOURCE_ATTACH_BACKING, body)[0] == vg.RESP_ERR_UNSPEC
    assert d.gpu.resources[1].backing is None


def test_backing_rules():
    d = GpuDriver()
    assert d.create_2d(1, 2, 4, 4) == vg.RESP_OK_NODATA
    assert d.transfer(1, 0, 0, 4, 4) == vg.RESP_ERR_UNSPEC  # no backing yet
    assert d.detach(1) == vg.RESP_ERR_UNSPEC
    assert d.attach(1, [(BACKING, 32)]) == vg.RESP_OK_NODATA
    assert d.attach(1, [(BACKING, 64)]) == vg.RESP_ERR_UNSPEC  # already attached
    assert d.transfer(1, 0, 0, 4, 4) == vg.RESP_ERR_INVALID_PARAMETER  # backing too short
    assert d.transfer(1, 0, 0, 4, 2) == vg.RESP_OK_NODATA
    assert d.detach(1) == vg.RESP_OK_NODATA


def test_rectangles_outside_the_resource():
    d = GpuDriver()
    show_pattern(d, 8, 8)
    assert d.transfer(1, 4, 0, 5, 1) == vg.RESP_ERR_INVALID_PARAMETER
    assert d.transfer(1, 0xFFFFFFFF, 0, 2, 1) == vg.RESP_ERR_INVALID_PARAMETER
    assert d.flush(1, 0, 7, 1, 2) == vg.RESP_ERR_INVALID_PARAMETER
    assert d.set_scanout(0, 1, 0, 0, 9, 8) == vg.RESP_ERR_INVALID_PARAMETER
    assert d.set_scanout(0, 1, 0, 0, 0, 0) == vg.RESP_ERR_INVALID_PARAMETER
    assert d.transfer(1, 0, 0, 8, 8, offset=1 << 60) == vg.RESP_ERR_INVALID_PARAMETER


def test_bad_scanout_and_unknown_commands():
    d = GpuDriver()
    show_pattern(d, 8, 8)
    assert d.set_scanout(1, 1, 0, 0, 8, 8) == vg.RESP_ERR_INVALID_SCANOUT_ID
    assert d.set_scanout(0xFFFFFFFF, 1, 0, 0, 8, 8) == vg.RESP_ERR_INVALID_SCANOUT_ID
    assert d.request(0x0999)[0] == vg.RESP_ERR_UNSPEC
    assert d.request(vg.CMD_RESOURCE_CREATE_2D, b"\1\0")[0] == vg.RESP_ERR_UNSPEC  # truncated
    assert d.set_scanout(0, 0, 0, 0, 0, 0) == vg.RESP_OK_NODATA  # disable
    assert d.gpu.scanouts[0].resource_id == 0


def test_descriptor_loop_resets_the_device_not_the_host():
    d = GpuDriver()
    req = d.alloc(24)
    d.desc(0, req, 24, 1, 1)
    d.desc(1, req, 24, 1, 0)  # 0 -> 1 -> 0 -> ...
    d.publish(0)
    assert d.r(0x70) & 64  # DEVICE_NEEDS_RESET
