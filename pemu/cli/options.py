"""QEMU-style command-line parsing shared by the system emulators.

QEMU options are single-dash words, some taking one argument; many arguments
are "key=value,key=value" lists whose first item may be implied ("-m 512M",
"-M virt,dumpdtb=x", "-drive file=a,if=virtio"). Commas inside a value are
escaped by doubling them, as in QEMU.
"""
from __future__ import annotations

import sys
from dataclasses import dataclass, field
from typing import NoReturn

#: Options that take an argument (leading dash stripped; "--x" is accepted as "-x").
ARG_OPTIONS = {
    "M", "machine", "m", "smp", "cpu", "kernel", "initrd", "append", "dtb", "bios",
    "drive", "device", "netdev", "nic", "chardev", "serial", "monitor", "qmp", "mon",
    "display", "vnc", "gdb", "loadvm", "incoming", "accel", "d", "D", "icount", "name",
    "hda", "hdb", "cdrom", "boot", "global", "object", "L", "rtc", "trace", "pidfile",
    "k", "vga", "parallel", "smbios", "uuid", "qmp-pretty", "fw_cfg", "fsdev", "virtfs",
}
#: Options that are flags.
FLAG_OPTIONS = {
    "nographic", "S", "s", "no-reboot", "no-shutdown", "snapshot", "enable-kvm", "version",
    "h", "help", "daemonize", "nodefaults", "no-user-config", "nodefconfig", "full-screen",
    "preconfig",
}


class OptionError(Exception):
    """A bad command line; printed as one line, exit status 1."""


@dataclass
class Options:
    """Parsed options in order; `get` returns the last value of a repeated option."""

    items: list[tuple[str, str | None]] = field(default_factory=list)

    def get(self, name: str, default: str | None = None) -> str | None:
        for key, value in reversed(self.items):
            if key == name:
                return value
        return default

    def all(self, name: str) -> list[str]:
        return [v for k, v in self.items if k == name and v is not None]

    def has(self, name: str) -> bool:
        return any(k == name for k, _ in self.items)


_ALIASES = {"machine": "M", "enable-kvm": "enable-kvm", "help": "h"}


def parse_argv(argv: list[str], extra_arg: set[str] = frozenset(),
               extra_flag: set[str] = frozenset()) -> Options:
    opts = Options()
    i = 0
    while i < len(argv):
        a = argv[i]
        if not a.startswith("-") or a == "-":
            raise OptionError(f"'{a}': unexpected argument (options start with '-')")
        name = a.lstrip("-")
        if "=" in name and a.startswith("--"):
            name, _, inline = name.partition("=")
        else:
            inline = None
        if name in ARG_OPTIONS or name in extra_arg:
            if inline is None:
                if i + 1 >= len(argv):
                    raise OptionError(f"{a}: requires an argument")
                inline = argv[i + 1]
                i += 1
            opts.items.append((_ALIASES.get(name, name), inline))
        elif name in FLAG_OPTIONS or name in extra_flag:
            opts.items.append((_ALIASES.get(name, name), None))
        else:
            raise OptionError(f"{a}: invalid option")
        i += 1
    return opts


def split_keyvals(text: str, implied: str | None = None) -> tuple[dict[str, str], list[str]]:
    """Split 'a,b=1,c=x,,y' into ({'a'|implied: ..., 'b': '1', 'c': 'x,y'}, order).

    A first item without '=' is the implied key's value (e.g. the machine type).
    Bare later items mean key=on, as QEMU accepts for booleans.
    """
    parts: list[str] = []
    cur = []
    i = 0
    while i < len(text):
        ch = text[i]
        if ch == ",":
            if i + 1 < len(text) and text[i + 1] == ",":
                cur.append(",")
                i += 2
                continue
            parts.append("".join(cur))
            cur = []
        else:
            cur.append(ch)
        i += 1
    parts.append("".join(cur))
    out: dict[str, str] = {}
    order: list[str] = []
    for n, part in enumerate(parts):
        if part == "" and n == len(parts) - 1 and n > 0:
            continue
        if "=" in part:
            k, _, v = part.partition("=")
        elif n == 0 and implied is not None:
            k, v = implied, part
        else:
            k, v = part, "on"
        out[k] = v
        order.append(k)
    return out, order


def die(prog: str, msg: str) -> NoReturn:
    """QEMU's error format: 'prog: message', exit status 1."""
    sys.stderr.write(f"{prog}: {msg}\n")
    sys.stderr.flush()
    raise SystemExit(1)
