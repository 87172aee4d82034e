"""Interrupt lines between devices and interrupt controllers or CPUs.

An `IrqLine` is the output pin of a device; whoever it is wired to gets the
level through a callback. Edge-triggered users pulse it (raise then lower).
"""
from __future__ import annotations

from collections.abc import Callable


class IrqLine:
    """A level-sensitive wire; `set(level)` calls the sink only on change."""

    __slots__ = ("_sink", "level", "name")

    def __init__(self, sink: Callable[[int], None] | None = None, name: str = "") -> None:
        self._sink = sink
        self.level = 0
        self.name = name

    def connect(self, sink: Callable[[int], None]) -> None:
        self._sink = sink

    def set(self, level: int) -> None:
        level = 1 if level else 0
        if level != self.level:
            self.level = level
            if self._sink is not None:
                self._sink(level)

    def raise_(self) -> None:
        self.set(1)

    def lower(self) -> None:
        self.set(0)


def irq_to(sink: Callable[[int, int], None], n: int, name: str = "") -> IrqLine:
    """A line that reports to `sink(n, level)`: input n of a controller."""
    return IrqLine(lambda level: sink(n, level), name or f"irq{n}")
