"""screendump: the console's picture as a file, as QEMU 7.2 writes it.

PPM (the default): binary "P6" with the header "P6\\n<width> <height>\\n255\\n",
then R, G, B bytes row by row (netpbm's format, as QEMU's ppm_save writes).
PNG: through Pillow, 8-bit RGB.
"""
from __future__ import annotations

from pemu.ui.console import Console

FORMATS = ("ppm", "png")


class ScreendumpError(Exception):
    """A one-line message for the monitor."""


def ppm_bytes(console: Console) -> bytes:
    header = f"P6\n{console.width} {console.height}\n255\n".encode()
    return header + console.rgb_bytes()


def png_bytes(console: Console) -> bytes:
    try:
        from PIL import Image
    except ImportError:
        raise ScreendumpError("Enable PNG support with libpng for screendump "
                              "(pemu: install Pillow)") from None
    import io

    img = Image.frombytes("RGB", (console.width, console.height), console.rgb_bytes())
    out = io.BytesIO()
    img.save(out, format="PNG")
    return out.getvalue()


def screendump(console: Console, filename: str, fmt: str = "ppm") -> None:
    """Write the console to `filename` in `fmt` (ppm or png); raises ScreendumpError."""
    if fmt not in FORMATS:
        raise ScreendumpError(f"Parameter 'format' does not accept value '{fmt}'")
    data = png_bytes(console) if fmt == "png" else ppm_bytes(console)
    try:
        with open(filename, "wb") as f:
            f.write(data)
    except OSError as e:
        raise ScreendumpError(f"failed to open file '{filename}': {e.strerror}") from None
