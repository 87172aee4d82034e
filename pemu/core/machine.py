"""What every board has, and what the monitor, migration and the Python API see.

A board subclasses `Machine`, creates its RAM, devices and CPUs in `build()`,
loads firmware/kernel in `load()`, and implements `reset()`.
"""
from __future__ import annotations

from typing import Any, ClassVar

from pemu.core.clock import VirtualClock
from pemu.core.main_loop import MainLoop
from pemu.core.memory import AddressSpace
from pemu.qom import Device, Object, Property
from pemu.qom.object import parse_size


class Machine(Object):
    kind = "machine"
    default_ram: ClassVar[int] = 128 << 20
    #: None: guest time follows the host (KVM). A number: time counts
    #: instructions at 2**shift ns each (TCG; see core/clock.py for why).
    default_icount_shift: ClassVar[int | None] = None
    max_cpus: ClassVar[int] = 1

    ram_size = Property(int, None, "guest RAM in bytes (-m)")
    smp = Property(int, 1, "number of CPUs (-smp)")
    name = Property(str, "", "guest name (-name)")

    def __init__(self, **props: Any) -> None:
        icount = props.pop("icount_shift", None)
        if icount is None:
            icount = self.default_icount_shift
        icount_sleep = props.pop("icount_sleep", True)
        if "ram_size" in props and props["ram_size"] is not None:
            props["ram_size"] = parse_size(props["ram_size"], "M")
        super().__init__(**props)
        if self.ram_size is None:
            self.ram_size = self.default_ram
        self.clock = VirtualClock(icount, icount_sleep)
        self.loop = MainLoop(self.clock)
        self.memory = AddressSpace("memory")
        self.cpus: list[Any] = []
        self.devices: list[Device] = []
        self.chardevs: dict[str, Any] = {}
        self.block_backends: dict[str, Any] = {}
        self.loop.handlers["reset"] = self._on_reset_request

    def add_device(self, dev: Device, name: str | None = None) -> Device:
        if name is not None:
            dev.id = dev.id or name
        self.devices.append(dev)
        return dev

    def reset(self) -> None:
        for dev in self.devices:
            dev.reset()

    def _on_reset_request(self, reason: str) -> None:
        self.loop.emit("RESET", {"guest": reason.startswith("guest"), "reason": reason})
        self.reset()

    def run(self) -> int:
        """Run the main loop until the machine ends; returns the exit status."""
        return self.loop.run()
