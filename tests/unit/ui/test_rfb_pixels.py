"""Console pixels in every RFB true-colour format, against a per-pixel reference (RFC 6143 7.4)."""
from __future__ import annotations

import os
import struct

import pytest

from pemu.ui.rfb_pixels import PixelFormat, PixelFormatError, convert


def reference(bgrx: bytes, pf: PixelFormat) -> bytes:
    """The RFC's definition, one pixel at a time: value = channel scaled to max << shift."""
    out = b""
    code = {8: "B", 16: "H", 32: "I"}[pf.bpp]
    order = ">" if pf.big_endian else "<"
    for i in range(0, len(bgrx), 4):
        b, g, r = bgrx[i:i + 3]
        v = (round(r * pf.red_max / 255) << pf.red_shift
             | round(g * pf.green_max / 255) << pf.green_shift
             | round(b * pf.blue_max / 255) << pf.blue_shift)
        out += struct.pack(order + code, v)
    return out


FORMATS = [
    PixelFormat(),                                                        # server default
    PixelFormat(32, 24, False, True, 255, 255, 255, 0, 8, 16),            # vncdotool's
    PixelFormat(32, 24, True, True, 255, 255, 255, 16, 8, 0),             # big-endian
    PixelFormat(32, 24, True, True, 255, 255, 255, 24, 16, 8),
    PixelFormat(16, 16, False, True, 31, 63, 31, 11, 5, 0),               # RGB565
    PixelFormat(16, 15, True, True, 31, 31, 31, 10, 5, 0),                # RGB555 big-endian
    PixelFormat(8, 8, False, True, 7, 7, 3, 0, 3, 6),                     # BGR233
    PixelFormat(32, 30, False, True, 1023, 1023, 1023, 20, 10, 0),        # 10-bit channels
]


@pytest.mark.parametrize("pf", FORMATS, ids=lambda pf: f"{pf.bpp}bpp-{pf.red_shift}"
                         f"{'-be' if pf.big_endian else ''}-{pf.red_max}")
@pytest.mark.parametrize("npixels", [1, 7, 333])
def test_convert_matches_the_reference(pf, npixels):
    bgrx = os.urandom(4 * npixels)
    assert convert(bgrx, pf) == reference(bgrx, pf)


def test_pack_unpack_round_trip():
    for pf in FORMATS:
        assert PixelFormat.unpack(pf.pack()) == pf


@pytest.mark.parametrize("fields", [
    (24, 24, 0, 1, 255, 255, 255, 16, 8, 0),   # 24 bpp is not an RFB pixel size
    (8, 8, 0, 0, 0, 0, 0, 0, 0, 0),            # colour map
    (16, 16, 0, 1, 255, 63, 31, 11, 5, 0),     # red does not fit 16 bits
    (32, 24, 0, 1, 0, 255, 255, 16, 8, 0),     # max 0
    (8, 8, 0, 1, 7, 7, 3, 9, 3, 6),            # shift past the pixel
])
def test_unservable_formats_are_refused(fields):
    with pytest.raises(PixelFormatError):
        PixelFormat.unpack(struct.pack(">BBBBHHHBBB3x", *fields))
