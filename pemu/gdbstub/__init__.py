"""The GDB remote serial protocol for pemu's machines (system mode).

`gdbserver_start(machine, device)` is what `-gdb DEVICE`, `-s` (= `-gdb
tcp::1234`) and HMP `gdbserver` do, with QEMU's device syntax:
`tcp:[HOST]:PORT` (a server that does not wait, TCP_NODELAY on, as QEMU
forces), `unix:PATH,server=on[,...]` or any other chardev shorthand,
`chardev:ID` (an existing -chardev), `none` (stop serving).
"""
from __future__ import annotations

from typing import Any

from pemu.gdbstub.commands import TARGETS
from pemu.gdbstub.stub import GdbStub

DEFAULT_DEVICE = "tcp::1234"
CHARDEV_LABEL = "gdb"


def gdbserver_start(machine: Any, device: str) -> GdbStub | None:
    """Serve gdb on `device`; replaces a previous stub. ValueError if it cannot be opened."""
    from pemu.chardev import create_chardev

    if not machine.cpus or getattr(machine.cpus[0], "arch", None) not in TARGETS:
        raise ValueError("gdbstub: this machine's CPUs cannot be debugged")
    old = getattr(machine, "gdbstub", None)
    new_chr = None
    if device != "none":
        if device.startswith("chardev:"):
            new_chr = machine.chardevs.get(device[8:])
            if new_chr is None:
                raise ValueError(f"chardev '{device[8:]}' not found")
        else:
            spec = device
            if device.startswith("tcp:"):
                spec = f"{device},wait=off,nodelay=on,server=on"  # QEMU enforces these
            new_chr = create_chardev(spec, machine.loop, CHARDEV_LABEL)
    if old is not None:
        old.close()
        if machine.chardevs.get(CHARDEV_LABEL) is old.chardev:
            del machine.chardevs[CHARDEV_LABEL]
            old.chardev.close()
        machine.gdbstub = None
    if new_chr is None:
        return None
    if not device.startswith("chardev:"):
        machine.chardevs[CHARDEV_LABEL] = new_chr
    machine.gdbstub = GdbStub(machine, new_chr)
    return machine.gdbstub


__all__ = ["GdbStub", "gdbserver_start", "DEFAULT_DEVICE"]
