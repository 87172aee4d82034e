"""Guest disks on the command line: -drive, -hda/-hdb, -cdrom, -snapshot, -device.

What QEMU does, on boards whose default block interface is virtio (RISC-V
``virt``):

- ``-drive file=F,format=raw|qcow2,if=virtio|none,id=ID,index=N,media=disk|cdrom,
  readonly=on,snapshot=on,cache=writeback|writethrough|none|directsync|unsafe,
  file.locking=on|off|auto,force-share=on``
  (plus the accepted-and-ignored ``aio``, ``discard``, ``detect-zeroes``,
  ``werror``, ``rerror``, ``bus``, ``unit``). ``if=virtio`` (the default)
  creates a virtio-blk device for the drive; ``if=none`` waits for
  ``-device virtio-blk-device,drive=ID``.
- ``-hda F`` / ``-hdb F`` are ``-drive file=F,index=0|1``; ``-cdrom F`` is a raw,
  read-only ``media=cdrom`` drive at index 2.
- ``-snapshot`` is ``snapshot=on`` for every writable drive: writes go to a
  temporary qcow2 overlay that disappears when the machine ends.
- ``-device virtio-blk-device,drive=ID[,serial=S][,bus=virtio-mmio-bus.N]`` and
  ``-device virtio-rng-device``.

Devices are created in QEMU's order: explicit ``-device`` options first, then
one virtio-blk per ``if=virtio`` drive in command-line order; each takes the
highest free virtio-mmio slot, so the first one is the guest's ``vda``.

Images are locked as QEMU locks them (:mod:`pemu.block.locking`, byte locks
that QEMU sees too): one file may have one writer and no other user, or any
number of readers (read-only, -snapshot bases); ``file.locking=off`` opts out,
``force-share=on`` (read-only drives) shares with writers. Under -snapshot,
:meth:`Drive.commit` (the mux's Ctrl-A s) writes the overlay's data back into
the image.

Every backend opened is registered in ``machine.block_backends[drive id]``
(what ``query-block`` lists) and closed by :func:`close_drives`, which the
CLI calls when the machine ends (and an ``atexit`` hook calls otherwise).
Bad input raises ``ValueError`` with QEMU's wording, prefixed by the option
(``-drive file=x: Could not open 'x': No such file or directory``).
"""
from __future__ import annotations

import atexit
import dataclasses
import os
import re
import sys
from dataclasses import dataclass, field
from typing import Any

from pemu.block import BlockBackend, BlockError, open_backend
from pemu.block.locking import DEVICE, LOCKING_MODES, LockConflict
from pemu.cli.options import Options, split_keyvals

#: -drive keys pemu acts on, and keys it accepts with QEMU's values but ignores.
DRIVE_KEYS = {"file", "format", "driver", "if", "id", "index", "bus", "unit", "media",
              "readonly", "read-only", "snapshot", "cache", "aio", "discard",
              "detect-zeroes", "werror", "rerror", "cache.direct", "cache.no-flush",
              "copy-on-read", "auto-read-only", "node-name", "file.locking", "force-share"}
INTERFACES = ("virtio", "none")
#: Interfaces QEMU knows but the RISC-V virt board has no controller for.
OTHER_INTERFACES = ("ide", "scsi", "floppy", "pflash", "mtd", "sd", "xen")
CACHE_MODES = ("writeback", "writethrough", "none", "directsync", "unsafe")
ON_OFF = {"on": True, "off": False}
_ID = re.compile(r"[A-Za-z][A-Za-z0-9_.-]*\Z")
QCOW2_MAGIC = b"QFI\xfb"


class Drive:
    """A drive as devices and the monitor see it: a :class:`BlockBackend`
    plus the drive's cache policy and the facts ``query-block`` reports.

    cache=writethrough/directsync flushes after every write; cache=unsafe
    ignores flushes. A probed raw image refuses guest writes that would make
    sector 0 look like a qcow2 header (QEMU's protection against a guest
    turning its disk into an image that names host files as backing).
    """

    def __init__(self, drive_id: str, backend: BlockBackend, filename: str, fmt: str,
                 cache: str = "writeback", probed_raw: bool = False,
                 removable: bool = False, snapshot: bool = False) -> None:
        self.id = drive_id
        self.snapshot = snapshot
        self.backend = backend
        self.filename = filename
        self.format_name = fmt
        self.cache = cache
        self.probed_raw = probed_raw
        self.removable = removable
        self.in_use = False
        self.closed = False

    # --- the device-facing interface (see pemu.hw.virtio.virtio_blk) -----------
    @property
    def size(self) -> int:
        return self.backend.size

    @property
    def readonly(self) -> bool:
        return self.backend.readonly

    read_only = readonly

    @property
    def backing_file(self) -> str | None:
        backing = getattr(self.backend.node, "backing", None)
        return getattr(backing, "filename", None) if backing is not None else None

    def read(self, offset: int, length: int) -> bytes:
        return self.backend.read(offset, length)

    def write(self, offset: int, data: bytes) -> None:
        if self.probed_raw and offset == 0 and bytes(data[:4]) == QCOW2_MAGIC:
            raise BlockError("write to sector 0 of a probed raw image refused")
        self.backend.write(offset, data)
        self._written()

    def write_zeroes(self, offset: int, length: int) -> None:
        self.backend.write_zeroes(offset, length)
        self._written()

    def discard(self, offset: int, length: int) -> None:
        self.backend.discard(offset, length)
        self._written()

    def flush(self) -> None:
        if self.cache != "unsafe":
            self.backend.flush()

    def commit(self) -> None:
        """Write a -snapshot overlay's data into the image (the mux's Ctrl-A s and
        the monitor's ``commit``); for other drives, flush."""
        if not self.snapshot:
            self.flush()
            return
        from pemu.block.backend import writable_view
        from pemu.block.imgtool.ops import copy_allocated

        top = self.backend.node
        with writable_view(top.backing) as base:  # our own read lock becomes a write lock
            copy_allocated(top, top.backing, base, only_top=True)
            base.flush()

    def _written(self) -> None:
        if self.cache in ("writethrough", "directsync"):
            self.backend.flush()

    def close(self) -> None:
        if not self.closed:
            self.closed = True
            self.backend.close()


@dataclass
class DriveSpec:
    """One parsed -drive/-hda/-cdrom, before its image is opened."""

    where: str  # "-drive file=x,if=none", used to prefix errors
    keys: dict[str, str]
    file: str | None = None
    fmt: str | None = None
    interface: str = "virtio"
    index: int | None = None
    media: str = "disk"
    readonly: bool = False
    snapshot: bool = False
    cache: str = "writeback"
    locking: str = "auto"  # file.locking
    force_share: bool = False
    id: str = ""
    extra: list[str] = field(default_factory=list)  # keys nobody knows


def _bool(spec: DriveSpec, key: str, value: str) -> bool:
    if value not in ON_OFF:
        name = "read-only" if key == "readonly" else key
        raise ValueError(f"{spec.where}: Parameter '{name}' expects 'on' or 'off'")
    return ON_OFF[value]


def parse_drive(text: str, where: str | None = None) -> DriveSpec:
    """Parse the argument of -drive into a :class:`DriveSpec` (raises ValueError)."""
    keys, order = split_keyvals(text)
    spec = DriveSpec(where or f"-drive {text}", keys)
    for key in order:
        value = keys[key]
        if key not in DRIVE_KEYS:
            spec.extra.append(key)
        elif key == "file":
            spec.file = value
        elif key in ("format", "driver"):
            if spec.fmt is not None and spec.fmt != value:
                raise ValueError(f"{spec.where}: Cannot specify both 'driver' and 'format'")
            spec.fmt = value
        elif key == "if":
            if value in OTHER_INTERFACES:
                spec.interface = value
            elif value not in INTERFACES:
                raise ValueError(f"{spec.where}: unsupported bus type '{value}'")
            spec.interface = value
        elif key == "id":
            if not _ID.match(value):
                raise ValueError(f"{spec.where}: Parameter 'id' expects an identifier")
            spec.id = value
        elif key in ("index", "unit", "bus"):
            try:
                n = int(value, 0)
            except ValueError:
                n = -1
            if n < 0:
                raise ValueError(f"{spec.where}: Parameter '{key}' expects a number")
            if key == "bus" and n:
                raise ValueError(f"{spec.where}: bus={n} is out of range")
            if key != "bus":
                spec.index = n
        elif key == "media":
            if value not in ("disk", "cdrom"):
                raise ValueError(f"{spec.where}: '{value}' invalid media")
            spec.media = value
        elif key in ("readonly", "read-only"):
            spec.readonly = _bool(spec, "readonly", value)
        elif key == "snapshot":
            spec.snapshot = _bool(spec, key, value)
        elif key == "file.locking":
            if value not in LOCKING_MODES:
                raise ValueError(f"{spec.where}: invalid parameter value: {value}")
            spec.locking = value
        elif key == "force-share":
            spec.force_share = _bool(spec, key, value)
        elif key == "cache":
            if value not in CACHE_MODES:
                raise ValueError(f"{spec.where}: invalid cache option")
            spec.cache = value
        elif key in ("cache.direct", "cache.no-flush", "copy-on-read", "auto-read-only"):
            _bool(spec, key, value)
            if key == "cache.no-flush" and value == "on":
                spec.cache = "unsafe"
        elif key == "aio" and value not in ("threads", "native", "io_uring"):
            raise ValueError(f"{spec.where}: invalid aio option")
        elif key == "discard" and value not in ("ignore", "off", "unmap", "on"):
            raise ValueError(f"{spec.where}: Invalid discard option")
        elif key == "detect-zeroes" and value not in ("off", "on", "unmap"):
            raise ValueError(f"{spec.where}: Parameter 'detect-zeroes' does not accept "
                             f"value '{value}'")
        elif key == "werror" and value not in ("ignore", "report", "stop", "enospc"):
            raise ValueError(f"{spec.where}: '{value}' invalid write error action")
        elif key == "rerror" and value not in ("ignore", "report", "stop"):
            raise ValueError(f"{spec.where}: '{value}' invalid read error action")
    if spec.media == "cdrom":
        spec.readonly = True
    return spec


def _legacy_specs(opts: Options) -> list[DriveSpec]:
    """-drive, -hda, -hdb and -cdrom in command-line order."""
    specs = []
    for name, value in opts.items:
        if value is None:
            continue
        if name == "drive":
            specs.append(parse_drive(value))
        elif name in ("hda", "hdb"):
            specs.append(DriveSpec(f"-{name} {value}", {}, file=value,
                                   index=0 if name == "hda" else 1))
        elif name == "cdrom":
            specs.append(DriveSpec(f"-cdrom {value}", {}, file=value, fmt="raw",
                                   index=2, media="cdrom", readonly=True))
    return specs


def _assign_ids(specs: list[DriveSpec]) -> None:
    """Indexes and default ids as QEMU's drive_new: virtio0, virtio1, none0, ..."""
    taken: dict[str, set[int]] = {}
    for spec in specs:
        used = taken.setdefault(spec.interface, set())
        if spec.index is None:
            n = 0
            while n in used:
                n += 1
            spec.index = n
        elif spec.index in used:
            raise ValueError(f"{spec.where}: drive with bus=0, unit={spec.index} "
                             f"(index={spec.index}) exists")
        used.add(spec.index)
    ids: set[str] = set()
    for spec in specs:
        if not spec.id:
            spec.id = f"{spec.interface}{spec.index}"
        if spec.id in ids:
            raise ValueError(f"{spec.where}: Duplicate ID '{spec.id}' for drive")
        ids.add(spec.id)


def open_drive(spec: DriveSpec, global_snapshot: bool = False) -> Drive | None:
    """Open the image a spec names (None for an empty drive)."""
    if spec.interface in OTHER_INTERFACES:
        raise ValueError(f"{spec.where}: machine type does not support "
                         f"if={spec.interface},bus=0,unit={spec.index}")
    if not spec.file:
        if spec.extra:
            raise ValueError(f"{spec.where}: Invalid parameter '{spec.extra[0]}'")
        return None
    snapshot = (spec.snapshot or global_snapshot) and not spec.readonly
    if spec.force_share and not spec.readonly:
        raise ValueError(f"{spec.where}: force-share=on can only be used with read-only images")
    fmt = spec.fmt
    probed_raw = False
    try:
        os.stat(spec.file)
    except OSError as e:  # (open_image words this one twice when a format is given)
        raise ValueError(f"{spec.where}: Could not open '{spec.file}': {e.strerror}") from None
    try:
        if fmt is None:
            from pemu.block.open import probe_format
            fmt = probe_format(spec.file)
            probed_raw = fmt == "raw"
        lock = DEVICE.with_locking(spec.locking)
        if spec.force_share:
            lock = dataclasses.replace(lock, force_share=True)
        backend = open_backend(spec.file, fmt, readonly=spec.readonly, snapshot=snapshot,
                               lock=lock)
    except LockConflict as e:  # QEMU words these without "Could not open"
        raise ValueError(f"{spec.where}: {e.detail}") from None
    except BlockError as e:
        raise ValueError(f"{spec.where}: {e}") from None
    if spec.extra:
        backend.close()
        raise ValueError(f"{spec.where}: Block format '{fmt}' does not support the option "
                         f"'{spec.extra[0]}'")
    if probed_raw and not snapshot:
        sys.stderr.write(
            f"WARNING: Image format was not specified for '{spec.file}' and probing "
            "guessed raw.\n         Automatically detecting the format is dangerous for "
            "raw images, write operations on block 0 will be restricted.\n"
            "         Specify the 'raw' format explicitly to remove the restrictions.\n")
    return Drive(spec.id, backend, spec.file, fmt, cache=spec.cache, probed_raw=probed_raw,
                 removable=spec.media == "cdrom", snapshot=snapshot)


# --- devices -------------------------------------------------------------------------
def _plug(machine: Any, device: Any, bus: str | None, where: str) -> None:
    if bus is None:
        try:
            machine.plug_virtio(device)
        except ValueError:
            raise ValueError(f"{where}: No 'virtio-bus' bus found for device "
                             f"'{device.type_name}'") from None
        return
    m = re.fullmatch(r"virtio-mmio-bus\.(\d+)", bus)
    slots = getattr(machine, "virtio", [])
    if m is None or int(m.group(1)) >= len(slots):
        raise ValueError(f"{where}: Bus '{bus}' not found")
    slot = slots[int(m.group(1))]
    if slot.backend is not None:
        raise ValueError(f"{where}: Bus '{bus}' is full")
    slot.plug(device)


def _virtio_blk(machine: Any, props: dict[str, str], drives: dict[str, Drive | None],
                where: str) -> None:
    from pemu.hw.virtio.virtio_blk import VirtioBlk
    from pemu.qom import PropertyError

    name = props.pop("drive", None)
    bus = props.pop("bus", None)
    if name is None:
        raise ValueError(f"{where}: drive property not set")
    if name not in drives:
        raise ValueError(f"{where}: Property 'virtio-blk-device.drive' can't find value "
                         f"'{name}'")
    drive = drives[name]
    if drive is None:
        raise ValueError(f"{where}: Device needs media, but drive is empty")
    if drive.in_use:
        raise ValueError(f"{where}: Drive '{name}' is already in use by another device")
    try:
        device = VirtioBlk(drive, loop=machine.loop, **props)
    except PropertyError as e:
        raise ValueError(f"{where}: {e}") from None
    _plug(machine, device, bus, where)
    drive.in_use = True


def _virtio_rng(machine: Any, props: dict[str, str], drives: dict[str, Drive | None],
                where: str) -> None:
    from pemu.hw.virtio.virtio_rng import VirtioRng
    from pemu.qom import PropertyError

    bus = props.pop("bus", None)
    try:
        device = VirtioRng(**props)
    except PropertyError as e:
        raise ValueError(f"{where}: {e}") from None
    _plug(machine, device, bus, where)


#: -device types this module creates.
DEVICE_FACTORIES = {"virtio-blk-device": _virtio_blk, "virtio-rng-device": _virtio_rng}


def _device(machine: Any, text: str, drives: dict[str, Drive | None]) -> None:
    from pemu.qom import find_type

    where = f"-device {text}"
    props, _ = split_keyvals(text, "driver")
    driver = props.pop("driver", "")
    factory = DEVICE_FACTORIES.get(driver)
    if factory is None:
        cls = find_type(driver, "device")
        if cls is None:
            raise ValueError(f"{where}: '{driver}' is not a valid device model name")
        if not getattr(cls, "user_creatable", False):
            raise ValueError(f"{where}: Parameter 'driver' expects a pluggable device type")
        return  # a device another front end (e.g. -netdev's) creates
    if "help" in props:
        cls = find_type(driver, "device")
        sys.stdout.write(cls.help_text() + "\n")  # type: ignore[union-attr]
        raise SystemExit(0)
    factory(machine, props, drives, where)


def apply_drive_options(machine: Any, opts: Options) -> dict[str, Drive]:
    """Open every drive, create the devices, register backends on the machine.

    Returns the opened drives by id. On error everything opened so far is
    closed again and ValueError carries the one-line message.
    """
    import pemu.hw.virtio.virtio_blk  # noqa: F401  (registers the device types)
    import pemu.hw.virtio.virtio_rng  # noqa: F401

    specs = _legacy_specs(opts)
    _assign_ids(specs)
    drives: dict[str, Drive | None] = {}
    try:
        for spec in specs:
            drives[spec.id] = open_drive(spec, opts.has("snapshot"))
        for text in opts.all("device"):
            _device(machine, text, drives)
        for spec in specs:
            drive = drives[spec.id]
            if spec.interface != "virtio":
                continue
            if drive is None:
                raise ValueError(f"{spec.where}: Device needs media, but drive is empty")
            if drive.in_use:
                raise ValueError(
                    f"{spec.where}: Drive '{spec.id}' is already in use because it has been "
                    "automatically connected to another device (did you need 'if=none' in "
                    "the drive options?)")
            _virtio_blk(machine, {"drive": spec.id}, drives, spec.where)
    except BaseException:
        for drive in drives.values():
            if drive is not None:
                drive.close()
        raise
    opened = {k: d for k, d in drives.items() if d is not None}
    for drive_id, drive in opened.items():
        machine.block_backends[drive_id] = drive
    if opened:
        atexit.register(_close_all, list(opened.values()))
    return opened


def _close_all(drives: list[Drive]) -> None:
    for drive in drives:
        try:
            drive.close()
        except (BlockError, OSError) as e:
            sys.stderr.write(f"warning: closing drive '{drive.id}': {e}\n")


def close_drives(machine: Any) -> None:
    """Flush and close every drive of the machine (idempotent)."""
    _close_all([d for d in machine.block_backends.values() if isinstance(d, Drive)])


__all__ = ["Drive", "DriveSpec", "apply_drive_options", "close_drives", "open_drive",
           "parse_drive"]
