"""RFB pixel formats (RFC 6143 section 7.4) and conversion from the console's B,G,R,X bytes."""
from __future__ import annotations

import struct
from array import array
from dataclasses import dataclass

_PIXEL_FORMAT = struct.Struct(">BBBBHHHBBB3x")


class PixelFormatError(ValueError):
    """A PIXEL_FORMAT this server cannot send."""


@dataclass(frozen=True)
class PixelFormat:
    """RFC 6143 7.4: bits-per-pixel, depth, big-endian-flag, true-colour-flag,
    red/green/blue max and shift."""

    bpp: int = 32
    depth: int = 24
    big_endian: bool = False
    true_colour: bool = True
    red_max: int = 255
    green_max: int = 255
    blue_max: int = 255
    red_shift: int = 16
    green_shift: int = 8
    blue_shift: int = 0

    def pack(self) -> bytes:
        return _PIXEL_FORMAT.pack(self.bpp, self.depth, int(self.big_endian),
                                  int(self.true_colour), self.red_max, self.green_max,
                                  self.blue_max, self.red_shift, self.green_shift,
                                  self.blue_shift)

    @classmethod
    def unpack(cls, data: bytes) -> PixelFormat:
        """Parse 16 bytes; raises PixelFormatError for a format that cannot be served."""
        f = _PIXEL_FORMAT.unpack(data)
        pf = cls(f[0], f[1], bool(f[2]), bool(f[3]), *f[4:])
        if pf.bpp not in (8, 16, 32):
            raise PixelFormatError(f"bits-per-pixel {pf.bpp}")
        if not pf.true_colour:
            raise PixelFormatError("colour-map pixel formats are not supported")
        for mx, sh in ((pf.red_max, pf.red_shift), (pf.green_max, pf.green_shift),
                       (pf.blue_max, pf.blue_shift)):
            if mx == 0 or sh >= pf.bpp or (mx << sh) >> pf.bpp:
                raise PixelFormatError("colour max/shift do not fit the pixel")
        return pf

    @property
    def bytes_per_pixel(self) -> int:
        return self.bpp // 8


def _byte_lanes(pf: PixelFormat) -> tuple[int, int, int] | None:
    """For 32-bit formats with 8-bit channels on byte boundaries: the byte index of R, G, B."""
    if pf.bpp != 32 or (pf.red_max, pf.green_max, pf.blue_max) != (255, 255, 255):
        return None
    shifts = (pf.red_shift, pf.green_shift, pf.blue_shift)
    if any(s % 8 for s in shifts) or len(set(shifts)) != 3:
        return None
    lanes = tuple(3 - s // 8 if pf.big_endian else s // 8 for s in shifts)
    return lanes  # type: ignore[return-value]


def convert(bgrx: bytes, pf: PixelFormat) -> bytes:
    """Console pixels (B,G,R,X bytes) in the client's pixel format."""
    lanes = _byte_lanes(pf)
    if lanes is not None:
        out = bytearray(len(bgrx))
        r, g, b = lanes
        out[r::4] = bgrx[2::4]
        out[g::4] = bgrx[1::4]
        out[b::4] = bgrx[0::4]
        return bytes(out)
    rt = [(v * pf.red_max + 127) // 255 << pf.red_shift for v in range(256)]
    gt = [(v * pf.green_max + 127) // 255 << pf.green_shift for v in range(256)]
    bt = [(v * pf.blue_max + 127) // 255 << pf.blue_shift for v in range(256)]
    values = array({8: "B", 16: "H", 32: "I"}[pf.bpp],
                   map(lambda b, g, r: rt[r] | gt[g] | bt[b],
                       bgrx[0::4], bgrx[1::4], bgrx[2::4]))
    if pf.bpp > 8 and pf.big_endian:
        values.byteswap()
    return values.tobytes()
