"""Exceptions raised by the block layer.

Every error carries a one-line, user-facing message; front ends print it
prefixed with the program name (``pemu-img: ...``) and exit with status 1.
"""

from __future__ import annotations


class BlockError(Exception):
    """A block-layer failure with a one-line message meant for the user."""


class ImageCorrupt(BlockError):
    """The image metadata is inconsistent or hostile."""


class UnsupportedImage(BlockError):
    """The image uses a feature pemu does not implement (e.g. encryption)."""
