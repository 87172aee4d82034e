"""-chardev, -serial, -monitor, -qmp, -qmp-pretty, -mon and the -nographic defaults.

The same order and defaults as QEMU's vl.c: every -chardev first; then the
monitors (-monitor/-qmp make a chardev "compat_monitorN" each, -mon names an
existing one), then the serial ports ("serialN"; "mon:" muxes a monitor onto
the port). With no -serial a default serial is made, and with no
-monitor/-qmp/-mon a default monitor: with -nographic they share stdio
through a mux ("mon:stdio", Ctrl-A c switches), otherwise they go to a "vc"
that discards (pemu has no graphical console). -nodefaults drops both.
"""
from __future__ import annotations

from typing import Any

from pemu.chardev import build_chardev
from pemu.chardev.base import Chardev
from pemu.chardev.mux import MuxChardev
from pemu.chardev.spec import parse_chardev, parse_compat
from pemu.cli.options import OptionError, Options, split_keyvals
from pemu.monitor import add_monitor

MONITOR_OPTIONS = ("monitor", "qmp", "qmp-pretty", "mon")


def _error(where: str, e: Exception) -> OptionError:
    return OptionError(f"{where}: {e}" if where else str(e))


class _Builder:
    def __init__(self, machine: Any) -> None:
        self.machine = machine
        self.loop = machine.loop
        self.compat_count = 0

    def register(self, chr_: Chardev) -> Chardev:
        if isinstance(chr_, MuxChardev):
            self.machine.chardevs[chr_.id] = chr_
            self.machine.chardevs[chr_.backend.id] = chr_.backend
            chr_.on_save = self._save_disks
        else:
            self.machine.chardevs[chr_.id] = chr_
        return chr_

    def _save_disks(self) -> None:
        for be in self.machine.block_backends.values():
            for name in ("commit", "flush"):
                fn = getattr(be, name, None)
                if callable(fn):
                    fn()
                    break

    def chardev(self, where: str, text: str) -> None:
        try:
            opts = parse_chardev(text)
            if opts["id"] in self.machine.chardevs:
                raise ValueError(f"Duplicate ID '{opts['id']}' for chardev")
            self.register(build_chardev(opts, self.loop))
        except ValueError as e:
            raise _error(where, e) from None

    def existing(self, where: str, chr_id: str) -> Chardev:
        chr_ = self.machine.chardevs.get(chr_id)
        if chr_ is None:
            raise OptionError(f'{where}: chardev "{chr_id}" not found')
        return chr_

    def compat(self, where: str, text: str, label: str) -> tuple[Chardev, bool]:
        """A chardev from shorthand; (chardev, True if 'mon:' asked for a monitor on it)."""
        try:
            opts = parse_compat(text, label)
            return self.register(build_chardev(opts, self.loop)), text.startswith("mon:")
        except ValueError as e:
            raise _error(where, e) from None

    def monitor(self, where: str, text: str, mode: str, pretty: bool = False) -> None:
        if text == "none":
            return
        if text.startswith("chardev:"):
            add_monitor(self.machine, self.existing(where, text[8:]), mode, pretty)
            return
        label = f"compat_monitor{self.compat_count}"
        self.compat_count += 1
        chr_, _ = self.compat(where, text, label)
        add_monitor(self.machine, chr_, mode, pretty)

    def mon(self, where: str, text: str) -> None:
        kv, _ = split_keyvals(text, implied="chardev")
        for key in kv:
            if key not in ("chardev", "mode", "pretty"):
                raise OptionError(f"{where}: Invalid parameter '{key}'")
        mode = kv.get("mode", "readline")
        if mode not in ("control", "readline"):
            raise OptionError(f"{where}: Parameter 'mode' does not accept value '{mode}'")
        pretty = kv.get("pretty", "off").lower() in ("on", "yes", "true")
        chr_ = self.existing(where, kv.get("chardev", ""))
        add_monitor(self.machine, chr_, mode, pretty)

    def serial(self, where: str, text: str, index: int) -> Chardev | None:
        if text == "none":
            return None
        if text.startswith("chardev:"):
            return self.existing(where, text[8:])
        chr_, with_monitor = self.compat(where, text, f"serial{index}")
        if with_monitor:
            add_monitor(self.machine, chr_, "readline")
        return chr_


def apply_char_options(machine: Any, opts: Options, nographic: bool) -> Chardev | None:
    """Create chardevs and monitors from the command line, as QEMU does.

    Returns the chardev for the board's first serial port (None for
    "-serial none"); every chardev is also in `machine.chardevs` under its
    label (serial0, serial1, compat_monitor0, ...). Raises OptionError with
    QEMU's wording ("-serial bogus: 'bogus' is not a valid char driver").
    """
    b = _Builder(machine)
    nodefaults = opts.has("nodefaults")
    serials = opts.all("serial")
    default_serial = not serials and not nodefaults
    default_monitor = not nodefaults and not any(opts.has(o) for o in MONITOR_OPTIONS)

    for text in opts.all("chardev"):
        b.chardev(f"-chardev {text}", text)

    if nographic and default_serial and default_monitor:
        serials, default_monitor = ["mon:stdio"], False
    elif nographic and default_serial:
        serials = ["stdio"]
    elif default_serial:
        serials = ["vc"]
    if default_monitor:
        b.monitor("", "stdio" if nographic else "vc", "readline")

    for name, text in opts.items:
        if text is None:
            continue
        where = f"-{name} {text}"
        if name == "monitor":
            b.monitor(where, text, "readline")
        elif name == "qmp":
            b.monitor(where, text, "control")
        elif name == "qmp-pretty":
            b.monitor(where, text, "control", pretty=True)
        elif name == "mon":
            b.mon(where, text)

    first: Chardev | None = None
    extra: list[Chardev | None] = []
    for i, text in enumerate(serials):
        where = f"-serial {text}" if opts.all("serial") else ""
        chr_ = b.serial(where, text, i)
        if i == 0:
            first = chr_
        else:
            extra.append(chr_)
    machine.serial_chardevs = [first, *extra]
    return first
