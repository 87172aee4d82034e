"""ACPI fixed-hardware PM1a event and control blocks (ACPI 6.5, 4.8.3).

Just enough for a guest to power off: writing SLP_EN with SLP_TYP 0 (the
value the DSDT's \\_S5 package gives, as on QEMU's PIIX4/ICH9) to PM1a_CNT
asks the machine to shut down (ACPI 6.5, 7.4.2 "\\_S5 Soft Off").
"""
from __future__ import annotations

from collections.abc import Callable

from pemu.core.memory import MmioRegion
from pemu.qom import Device

PM1_EVT_LEN = 4  # PM1a_STS (2 bytes) + PM1a_EN (2 bytes)
PM1_CNT_LEN = 2
SCI_EN = 1 << 0
SLP_TYP_SHIFT = 10
SLP_EN = 1 << 13
SLP_TYP_S5 = 0


class AcpiPm(Device):
    type_name = "acpi-pm"
    description = "ACPI PM1a event/control registers (power-off)"
    vmstate_fields = ("sts", "en", "cnt")

    def __init__(self, poweroff: Callable[[], None], **props: object) -> None:
        super().__init__(**props)
        self._poweroff = poweroff
        self.evt_region = MmioRegion("acpi-pm1a-evt", PM1_EVT_LEN, self._evt_read,
                                     self._evt_write, (1, 2, 4))
        self.cnt_region = MmioRegion("acpi-pm1a-cnt", PM1_CNT_LEN, self._cnt_read,
                                     self._cnt_write, (1, 2))
        self.reset()

    def reset(self) -> None:
        self.sts = 0
        self.en = 0
        self.cnt = SCI_EN  # no SMI_CMD: the machine is always in ACPI mode

    def _evt_read(self, offset: int, size: int) -> int:
        raw = (self.sts | (self.en << 16)).to_bytes(4, "little")
        return int.from_bytes(raw[offset:offset + size], "little")

    def _evt_write(self, offset: int, size: int, value: int) -> None:
        raw = bytearray((self.sts | (self.en << 16)).to_bytes(4, "little"))
        new = value.to_bytes(size, "little")
        for i, b in enumerate(new):
            if offset + i < 2:
                raw[offset + i] &= ~b & 0xFF  # status bits are write-1-to-clear
            else:
                raw[offset + i] = b
        v = int.from_bytes(raw, "little")
        self.sts, self.en = v & 0xFFFF, v >> 16

    def _cnt_read(self, offset: int, size: int) -> int:
        return (self.cnt >> (8 * offset)) & ((1 << (8 * size)) - 1)

    def _cnt_write(self, offset: int, size: int, value: int) -> None:
        mask = ((1 << (8 * size)) - 1) << (8 * offset)
        self.cnt = (self.cnt & ~mask) | ((value << (8 * offset)) & mask) | SCI_EN
        if self.cnt & SLP_EN:
            self.cnt &= ~SLP_EN  # SLP_EN is write-only
            if (self.cnt >> SLP_TYP_SHIFT) & 7 == SLP_TYP_S5:
                self._poweroff()
