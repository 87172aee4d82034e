"""A graphical console: the pixels a display device shows, and who watches them.

The surface is `width` x `height` pixels, 4 bytes each in memory order
B, G, R, X (32-bit little-endian x8r8g8b8, the layout QEMU's consoles use by
default). A display device writes pixels with `blit`/`resize`; viewers (the
VNC server) subscribe with `add_listener` and are told which rectangles
changed. Input from viewers (key and pointer events) goes to the hooks in
`input_hooks`, where an input device can pick it up.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

BYTES_PER_PIXEL = 4
#: QEMU shows a 640x480 surface until a display device sets a mode.
DEFAULT_WIDTH = 640
DEFAULT_HEIGHT = 480


@dataclass(frozen=True)
class Rect:
    x: int
    y: int
    w: int
    h: int

    def intersect(self, other: Rect) -> Rect | None:
        x0, y0 = max(self.x, other.x), max(self.y, other.y)
        x1 = min(self.x + self.w, other.x + other.w)
        y1 = min(self.y + self.h, other.y + other.h)
        if x1 <= x0 or y1 <= y0:
            return None
        return Rect(x0, y0, x1 - x0, y1 - y0)

    def union(self, other: Rect) -> Rect:
        x0, y0 = min(self.x, other.x), min(self.y, other.y)
        x1 = max(self.x + self.w, other.x + other.w)
        y1 = max(self.y + self.h, other.y + other.h)
        return Rect(x0, y0, x1 - x0, y1 - y0)


class ConsoleListener:
    """What a viewer implements to follow a console."""

    def console_updated(self, rect: Rect) -> None:
        """Pixels inside `rect` changed."""

    def console_resized(self, width: int, height: int) -> None:
        """The surface has a new size; all of it is to be redrawn."""


class Console:
    """One graphical console (QEMU's QemuConsole, graphic kind)."""

    def __init__(self, width: int = DEFAULT_WIDTH, height: int = DEFAULT_HEIGHT) -> None:
        self.width = width
        self.height = height
        self.pixels = bytearray(width * height * BYTES_PER_PIXEL)
        self.listeners: list[ConsoleListener] = []
        #: Called with (keysym, down) for key events and (x, y, buttons) for pointer events.
        self.key_hooks: list[Callable[[int, bool], None]] = []
        self.pointer_hooks: list[Callable[[int, int, int], None]] = []

    @property
    def stride(self) -> int:
        return self.width * BYTES_PER_PIXEL

    def add_listener(self, listener: ConsoleListener) -> None:
        self.listeners.append(listener)

    def remove_listener(self, listener: ConsoleListener) -> None:
        if listener in self.listeners:
            self.listeners.remove(listener)

    def resize(self, width: int, height: int) -> None:
        """A new mode: the surface is cleared to black and every viewer told."""
        self.width, self.height = width, height
        self.pixels = bytearray(width * height * BYTES_PER_PIXEL)
        for listener in list(self.listeners):
            listener.console_resized(width, height)

    def blit_row(self, x: int, y: int, bgrx: bytes) -> None:
        """Write one run of pixels (B,G,R,X bytes) at (x, y); the caller clips."""
        start = y * self.stride + x * BYTES_PER_PIXEL
        self.pixels[start:start + len(bgrx)] = bgrx

    def updated(self, rect: Rect) -> None:
        """Tell viewers that `rect` (clipped to the surface) changed."""
        clipped = rect.intersect(Rect(0, 0, self.width, self.height))
        if clipped is None:
            return
        for listener in list(self.listeners):
            listener.console_updated(clipped)

    def rows(self, rect: Rect) -> list[bytes]:
        """The B,G,R,X bytes of each row of `rect` (inside the surface)."""
        s, bpp = self.stride, BYTES_PER_PIXEL
        return [bytes(self.pixels[(rect.y + j) * s + rect.x * bpp:
                                  (rect.y + j) * s + (rect.x + rect.w) * bpp])
                for j in range(rect.h)]

    def rgb_bytes(self) -> bytes:
        """The whole surface as packed R,G,B bytes (PPM/PNG order)."""
        n = self.width * self.height
        out = bytearray(n * 3)
        px = self.pixels
        out[0::3] = px[2::4]
        out[1::3] = px[1::4]
        out[2::3] = px[0::4]
        return bytes(out)

    def send_key(self, keysym: int, down: bool) -> None:
        for hook in list(self.key_hooks):
            hook(keysym, down)

    def send_pointer(self, x: int, y: int, buttons: int) -> None:
        for hook in list(self.pointer_hooks):
            hook(x, y, buttons)
