"""The part of the i8042 keyboard controller a PC guest uses to reset itself.

Writing command 0xFE (pulse output line 0: CPU reset) to port 0x64 resets the
machine: Linux's `reboot=k`, its default fallback after ACPI (arch/x86/kernel/
reboot.c, BOOT_KBD). Status reads report empty buffers so `kb_wait()` ends.
There is no keyboard or mouse behind it.
"""
from __future__ import annotations

from collections.abc import Callable

from pemu.core.memory import MmioRegion
from pemu.qom import Device

STATUS_SYSFLAG = 0x04
CMD_RESET = 0xFE


class I8042(Device):
    type_name = "i8042"
    description = "PS/2 controller (reset line only), ports 0x60 and 0x64"

    def __init__(self, reset: Callable[[], None], **props: object) -> None:
        super().__init__(**props)
        self._reset_request = reset
        self.data_region = MmioRegion("i8042-data", 1, self._read_data, self._write_data, (1,))
        self.cmd_region = MmioRegion("i8042-cmd", 1, self._read_status, self._write_cmd, (1,))

    def _read_data(self, offset: int, size: int) -> int:
        return 0

    def _write_data(self, offset: int, size: int, value: int) -> None:
        pass

    def _read_status(self, offset: int, size: int) -> int:
        return STATUS_SYSFLAG  # output and input buffers empty

    def _write_cmd(self, offset: int, size: int, value: int) -> None:
        if value & 0xFF == CMD_RESET:
            self._reset_request()
