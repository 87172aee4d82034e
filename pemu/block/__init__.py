"""pemu's block layer: image formats, backing chains, snapshots, device backends.

Public API:

- :func:`open_image(filename, fmt=None, readonly=True, backing=True)` -> :class:`BlockNode`
  (``node.read/write/write_zeroes/discard/flush/close/truncate/block_status``,
  ``node.size``, ``node.backing``).
- :func:`create_image(filename, fmt, size, options, backing_file=None, backing_fmt=None)`.
- :func:`open_backend(filename, fmt=None, readonly=False, snapshot=False)` ->
  :class:`BlockBackend` for device models (see :mod:`pemu.block.backend`).
- :func:`temporary_overlay(filename, fmt=None)` for ``-snapshot``.
- Internal snapshots: :mod:`pemu.block.qcow2_snapops` (``create_snapshot``,
  ``apply_snapshot``, ``delete_snapshot``, ``find_snapshot``).
- :class:`BlockError` for every user-facing failure.
"""

from .backend import BlockBackend, open_backend, temporary_overlay
from .errors import BlockError, ImageCorrupt, UnsupportedImage
from .node import BlockNode
from .open import create_image, open_image

__all__ = ["BlockBackend", "BlockError", "BlockNode", "ImageCorrupt", "UnsupportedImage",
           "create_image", "open_backend", "open_image", "temporary_overlay"]
