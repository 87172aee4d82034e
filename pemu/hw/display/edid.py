"""A 128-byte EDID 1.3 base block describing one preferred mode (VESA E-EDID Release A.2).

Layout (section 3): header 00 FF FF FF FF FF FF 00 @0, manufacturer ID @8 (three
letters, 5 bits each, big-endian), product code @10, serial @12, week/year @16,
version 1.3 @18, basic display parameters @20 (digital input, size in cm, gamma,
features), chromaticity @25, established timings @35, standard timings @38 (unused:
01 01), four 18-byte descriptors @54 (a detailed timing for the preferred mode, then
the monitor name, range limits and a dummy), extension count @126, checksum @127
(all bytes sum to 0 mod 256). The timing is a reduced-blanking 60 Hz mode; the
physical size assumes 100 dots per inch.
"""
from __future__ import annotations

import math
import struct

#: A detailed timing descriptor holds 12-bit active sizes.
MAX_EDID_SIZE = 4095
_HBLANK, _HSYNC_OFFSET, _HSYNC_WIDTH = 160, 48, 32
_VSYNC_OFFSET, _VSYNC_WIDTH = 3, 6
_REFRESH = 60


def _manufacturer(code: str) -> bytes:
    value = 0
    for ch in code:
        value = value << 5 | (ord(ch) - ord("@"))
    return struct.pack(">H", value)


def _timing(xres: int, yres: int) -> tuple[int, int]:
    """(vertical blanking lines, pixel clock in 10 kHz units) of the preferred mode."""
    # At least 460 us of vertical blanking, as CVT reduced blanking asks.
    vblank = max(_VSYNC_OFFSET + _VSYNC_WIDTH + 6,
                 math.ceil(yres * 460e-6 * _REFRESH / (1 - 460e-6 * _REFRESH)) + 1)
    clock = math.ceil((xres + _HBLANK) * (yres + vblank) * _REFRESH / 10_000)
    return vblank, clock


def edid_supported(xres: int, yres: int) -> bool:
    """Whether a base block can describe xres x yres at 60 Hz: 12-bit sizes, and a
    pixel clock between 10 MHz (the smallest a DTD may carry) and 655.35 MHz."""
    if not (1 <= xres <= MAX_EDID_SIZE and 1 <= yres <= MAX_EDID_SIZE):
        return False
    return 1000 <= _timing(xres, yres)[1] <= 0xFFFF


def _detailed_timing(xres: int, yres: int) -> bytes:
    """Descriptor (section 3.10.2): the preferred mode, reduced blanking at 60 Hz."""
    vblank, clock = _timing(xres, yres)
    w_mm, h_mm = xres * 254 // 1000, yres * 254 // 1000
    return struct.pack(
        "<H16B", clock,
        xres & 0xFF, _HBLANK & 0xFF, (xres >> 8) << 4 | _HBLANK >> 8,
        yres & 0xFF, vblank & 0xFF, (yres >> 8) << 4 | vblank >> 8,
        _HSYNC_OFFSET, _HSYNC_WIDTH, _VSYNC_OFFSET << 4 | _VSYNC_WIDTH, 0,
        w_mm & 0xFF, h_mm & 0xFF, (w_mm >> 8) << 4 | h_mm >> 8,
        0, 0, 0x1A)  # no borders; digital separate sync, +hsync -vsync


def _text_descriptor(tag: int, text: str) -> bytes:
    """Display descriptor (3.10.3): name (0xFC) or serial text, 13 bytes, LF-terminated."""
    body = (text.encode()[:12] + b"\n").ljust(13, b" ")
    return bytes((0, 0, 0, tag, 0)) + body


def _range_limits(xres: int, yres: int) -> bytes:
    """Display range limits (0xFD, 3.10.3.3): 50-75 Hz vertical and 30-160 kHz
    horizontal, widened to take in the preferred mode."""
    vblank, clock = _timing(xres, yres)
    hfreq_khz = clock * 10 / (xres + _HBLANK)
    vfreq = hfreq_khz * 1000 / (yres + vblank)
    vmin, vmax = min(50, math.floor(vfreq)), max(75, math.ceil(vfreq))
    hmin, hmax = min(30, math.floor(hfreq_khz)), max(160, math.ceil(hfreq_khz))
    max_clock = min(255, math.ceil(clock / 1000) + 1)  # in 10 MHz units
    return bytes((0, 0, 0, 0xFD, 0, vmin, vmax, hmin, hmax, max_clock, 0, 0x0A)) + b" " * 6


def make_edid(xres: int, yres: int, name: str = "pemu monitor",
              manufacturer: str = "PMU") -> bytes:
    """The EDID of a monitor whose preferred (and only listed) mode is xres x yres."""
    if not edid_supported(xres, yres):
        raise ValueError(f"{xres}x{yres} at 60 Hz does not fit an EDID detailed timing")
    dtd = _detailed_timing(xres, yres)
    w_mm, h_mm = xres * 254 // 1000, yres * 254 // 1000
    block = bytearray(b"\x00\xff\xff\xff\xff\xff\xff\x00")
    block += _manufacturer(manufacturer) + struct.pack("<HIBB", 1, 0, 1, 2022 - 1990)
    block += bytes((1, 3))  # EDID 1.3
    block += bytes((0x80, max(1, w_mm // 10), max(1, h_mm // 10), 120, 0x0E))  # sRGB
    # Chromaticity (3.7): sRGB primaries and white point, 10-bit fractions.
    block += bytes((0xEE, 0x91, 0xA3, 0x54, 0x4C, 0x99, 0x26, 0x0F, 0x50, 0x54))
    block += bytes(3)  # no established timings
    block += b"\x01\x01" * 8  # no standard timings
    block += dtd + _text_descriptor(0xFC, name)
    block += _range_limits(xres, yres)
    block += bytes((0, 0, 0, 0x10)) + bytes(14)  # dummy descriptor
    block += b"\x00"  # no extension blocks
    block.append(-sum(block) & 0xFF)
    assert len(block) == 128
    return bytes(block)
