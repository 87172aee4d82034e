"""QEMU-style command-line parsing shared by the system emulators.

QEMU options are single-dash words, some taking one argument; many arguments
are "key=value,key=value" lists whose first item may be implied ("-m 512M",
"-M virt,dumpdtb=x", "-drive file=a,if=virtio"). Commas inside a value are
escaped by doubling them, as in QEMU.
"""
from __future__ import annotations

import sys
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, NoReturn

if TYPE_CHECKING:
    from pemu.cli.option_table import OptionTable

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


def parse_argv(argv: list[str], table: OptionTable | None = None) -> Options:
    """Parse argv against a front end's option table (default: pemu-system-riscv64's).

    An option missing from the table is QEMU's "invalid option"; one the table
    marks refused is "not supported by this build": both raise OptionError.
    An option is stored under its table name (-help as "h"), -machine as "M".
    """
    from pemu.cli.option_table import RISCV64, refusal
    table = table or RISCV64
    opts = Options()
    i = 0
    while i < len(argv):
        a = argv[i]
        if not a.startswith("-") or a == "-":
            raise OptionError(f"'{a}': unexpected argument (options start with '-')")
        name = a[2:] if a.startswith("--") else a[1:]
        inline = None
        if "=" in name and a.startswith("--"):
            name, _, inline = name.partition("=")
        spec = table.lookup(name)
        if spec is None:
            raise OptionError(f"{a}: invalid option")
        if spec.arg is not None:
            if inline is None:
                if i + 1 >= len(argv):
                    raise OptionError(f"{a}: requires an argument")
                inline = argv[i + 1]
                i += 1
        if spec.refused:
            raise OptionError(refusal(spec.name))
        opts.items.append((_KEY.get(spec.name, spec.name), inline))
        i += 1
    return opts


#: Where the rest of the CLI reads an option under another name than the table's.
_KEY = {"machine": "M"}


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
