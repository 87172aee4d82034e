"""Opening images: format probing, backing chains, creation dispatch.

``open_image`` returns the top :class:`BlockNode` of a chain; each node's
``backing`` attribute links to the next one.  Backing file names that are
relative are resolved against the directory of the image that names them (as
QEMU does).  Chains that loop or exceed :data:`MAX_CHAIN` fail cleanly.

Every file opened is locked as QEMU locks it (:mod:`locking`): the caller's
:class:`LockPolicy` says what it shares, the format decides what its file
needs, and backing files are read-only users that let nobody write them.
"""

from __future__ import annotations

import os
import struct

from .errors import BlockError
from .file import FileProtocol
from .locking import DEFAULT, PROBE, LockConflict, LockPolicy, file_perms
from .node import BlockNode
from .qcow2_format import MAGIC

MAX_CHAIN = 256
FORMATS = ("raw", "qcow2")


def probe_format(filename: str) -> str:
    """Guess the format from the magic bytes (anything unknown is raw)."""
    try:
        with open(filename, "rb") as fh:
            head = fh.read(4)
    except OSError as e:
        raise BlockError(f"Could not open '{filename}': {e.strerror}") from None
    return "qcow2" if head == MAGIC else "raw"


def resolve_backing(overlay: str, backing: str) -> str:
    """Path of a backing file named inside ``overlay`` (relative to its directory)."""
    if os.path.isabs(backing) or ":" in backing.split("/")[0] and backing.startswith("json:"):
        return backing
    return os.path.join(os.path.dirname(overlay), backing)


def open_image(filename: str, fmt: str | None = None, readonly: bool = True,
               backing: bool = True, check_mode: bool = False,
               lock: LockPolicy = DEFAULT, _seen: tuple = ()) -> BlockNode:
    """Open ``filename`` (and its backing chain unless ``backing`` is False).

    Errors raise :class:`BlockError` whose message reads like QEMU's:
    ``Could not open 'x': <reason>``; a lock held by another user raises
    :class:`LockConflict` worded as QEMU's (``Failed to get "write" lock``).
    """
    if fmt is not None and fmt not in FORMATS:
        raise BlockError(f"Unknown driver '{fmt}'")
    if filename.startswith("json:"):
        raise BlockError(f"Could not open '{filename}': json: filenames are not supported")
    if fmt is None:
        fmt = probe_format(filename)
    if len(_seen) >= MAX_CHAIN:
        raise BlockError(f"Could not open '{filename}': backing chain is too long")
    try:
        st = os.stat(filename)
        key = (st.st_dev, st.st_ino)
    except OSError as e:
        raise BlockError(f"Could not open '{filename}': Could not open '{filename}': "
                         f"{e.strerror}") from None
    if key in _seen:
        raise BlockError(f"Could not open '{filename}': backing chain contains a loop")
    try:
        perm, shared = file_perms(fmt, readonly, lock)
    except BlockError as e:
        raise BlockError(f"Could not open '{filename}': {e}") from None
    f = FileProtocol(filename, readonly=readonly, locking=lock.locking)
    try:
        f.set_perm(perm, shared)
    except LockConflict as e:
        f.close()
        if _seen:  # a backing file: QEMU words it as a permission error, no prefix
            raise
        raise LockConflict(f"Could not open '{filename}': {e}", str(e)) from None
    except BlockError:
        f.close()
        raise
    try:
        node = _open_format(f, fmt, check_mode)
    except BlockError as e:
        f.close()
        raise BlockError(f"Could not open '{filename}': {e}") from None
    except (struct.error, ValueError, OverflowError, MemoryError, OSError) as e:
        f.close()
        raise BlockError(f"Could not open '{filename}': corrupt image ({e})") from None
    try:
        if fmt == "qcow2":
            _attach_qcow2_files(node, filename, backing, lock, _seen + (key,))
    except LockConflict as e:
        node.close()
        if _seen:
            raise
        raise LockConflict(f"Could not open '{filename}': {e}", str(e)) from None
    except BlockError as e:
        node.close()
        msg = str(e)
        raise BlockError(f"Could not open '{filename}': {msg}") from None
    return node


def _open_format(f: FileProtocol, fmt: str, check_mode: bool) -> BlockNode:
    if fmt == "qcow2":
        from .qcow2 import Qcow2Node
        return Qcow2Node(f, check_mode=check_mode)
    from .raw import RawNode
    return RawNode(f)


def _attach_qcow2_files(node: BlockNode, filename: str, backing: bool, lock: LockPolicy,
                        seen: tuple) -> None:
    h = node.hdr  # type: ignore[attr-defined]
    if h.data_file:
        path = resolve_backing(filename, h.data_file)
        try:
            data = FileProtocol(path, readonly=node.readonly, locking=lock.locking)
            node.data_file = data  # type: ignore[attr-defined]
            data.set_perm(*file_perms("raw", node.readonly, lock))
        except LockConflict as e:
            raise LockConflict(f"Could not open data file: {e}") from None
        except BlockError as e:
            raise BlockError(f"Could not open data file: {e}") from None
    if backing and h.backing_file:
        path = resolve_backing(filename, h.backing_file)
        try:
            node.backing = open_image(path, h.backing_format, readonly=True,
                                      lock=lock.for_backing(), _seen=seen)
        except LockConflict as e:
            raise LockConflict(f"Could not open backing file: {e}") from None
        except BlockError as e:
            raise BlockError(f"Could not open backing file: {e}") from None


def create_image(filename: str, fmt: str, size: int | None, options: dict[str, str],
                 backing_file: str | None = None, backing_fmt: str | None = None) -> int:
    """Create an image (``pemu-img create``); returns the size used."""
    from .qcow2_create import create_qcow2
    from .raw import create_raw

    if fmt not in FORMATS:
        raise BlockError(f"Unknown file format '{fmt}'")
    if backing_file:
        if fmt != "qcow2":
            raise BlockError(f"Backing file not supported for file format '{fmt}'")
        path = resolve_backing(filename, backing_file)
        try:
            # as QEMU's bdrv_img_create: metadata only, and a running user is no obstacle
            b = open_image(path, backing_fmt, readonly=True, backing=False, lock=PROBE)
        except BlockError as e:
            raise BlockError(f"Could not open backing image: {e}") from None
        try:
            if backing_fmt is None:
                backing_fmt = b.format_name
            if size is None:
                size = b.size
        finally:
            b.close()
    if size is None:
        raise BlockError("Image creation needs a size parameter")
    prealloc = options.get("preallocation", "off")
    if fmt == "raw":
        create_raw(filename, size, prealloc)
        return size
    create_qcow2(
        filename, size,
        cluster_size=int(options.get("cluster_size", 65536)),
        compat=options.get("compat", "1.1"),
        lazy_refcounts=options.get("lazy_refcounts", "off") in ("on", "true", "yes"),
        refcount_bits=int(options.get("refcount_bits", 16)),
        compression_type=options.get("compression_type", "zlib"),
        backing_file=backing_file, backing_fmt=backing_fmt, preallocation=prealloc)
    return size
