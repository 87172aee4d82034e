"""The null back end: output is discarded, no input ever arrives (-serial null)."""
from __future__ import annotations

from pemu.chardev.base import Chardev
from pemu.core.main_loop import MainLoop


class NullChardev(Chardev):
    """Discards output; `label` is what 'info chardev' shows (null, vc, ...)."""

    type_name = "null"

    def __init__(self, chr_id: str, loop: MainLoop | None = None, label: str = "null") -> None:
        super().__init__(chr_id, loop)
        self.label = label

    def describe(self) -> str:
        return self.label
