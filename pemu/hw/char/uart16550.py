"""NS16550A UART (the "ns16550a" of the RISC-V virt board, the PC's COM1).

Register layout and interrupt priorities follow the National Semiconductor /
TI PC16550D datasheet, section 8 "Registers" (table 2 register summary,
table 4 interrupt control functions). Offsets are register index << regshift.

    0  RBR (read) / THR (write) / DLL when LCR.DLAB
    1  IER                      / DLM when LCR.DLAB
    2  IIR (read) / FCR (write)
    3  LCR   4 MCR   5 LSR   6 MSR   7 SCR

Transmission is instantaneous: a THR write goes to the chardev at once, so
LSR.THRE and LSR.TEMT read back set. The THRE interrupt follows the
datasheet and what Linux's 8250 driver relies on: it becomes pending when
THR empties (after each write) or when IER.ETBEI is turned on while THR is
empty, and is cleared by reading IIR when THRE is the reported source or by
writing THR. The receive side is a 16-byte FIFO (1 byte when FIFOs are
disabled) filled from the chardev only as far as it has room, so input is
never dropped; the character-timeout indication is reported as soon as data
sits below the trigger level (no timer). Register accesses go through
`read`/`write` so a port-I/O bus can call them too.
"""
from __future__ import annotations

from collections import deque

from pemu.chardev.base import Chardev
from pemu.core.irq import IrqLine
from pemu.core.memory import MmioRegion
from pemu.qom import Device, Property

# Register indexes (PC16550D table 2).
RBR = THR = DLL = 0
IER = DLM = 1
IIR = FCR = 2
LCR = 3
MCR = 4
LSR = 5
MSR = 6
SCR = 7

# IER bits.
IER_ERBFI = 0x01  # received data available
IER_ETBEI = 0x02  # transmitter holding register empty
IER_ELSI = 0x04  # receiver line status
IER_EDSSI = 0x08  # modem status

# IIR values (table 4), highest priority first.
IIR_NO_INT = 0x01
IIR_RLS = 0x06
IIR_RDA = 0x04
IIR_CTI = 0x0C
IIR_THRE = 0x02
IIR_MSR = 0x00
IIR_FIFO_ENABLED = 0xC0

# FCR bits.
FCR_ENABLE = 0x01
FCR_CLEAR_RX = 0x02
FCR_CLEAR_TX = 0x04
FCR_TRIGGER = (1, 4, 8, 14)  # by FCR bits 7:6

# LCR / MCR bits.
LCR_DLAB = 0x80
MCR_DTR, MCR_RTS, MCR_OUT1, MCR_OUT2, MCR_LOOP = 0x01, 0x02, 0x04, 0x08, 0x10

# LSR bits.
LSR_DR = 0x01
LSR_OE = 0x02
LSR_PE = 0x04
LSR_FE = 0x08
LSR_BI = 0x10
LSR_THRE = 0x20
LSR_TEMT = 0x40
LSR_ERRORS = LSR_OE | LSR_PE | LSR_FE | LSR_BI

# MSR bits.
MSR_DELTAS = 0x0F
MSR_CTS, MSR_DSR, MSR_RI, MSR_DCD = 0x10, 0x20, 0x40, 0x80

FIFO_SIZE = 16


class Uart16550(Device):
    """A 16550A with a 16-byte receive FIFO, on MMIO (`region`) or port I/O (`read`/`write`)."""

    type_name = "ns16550a"
    description = "NS16550A-compatible UART"
    regshift = Property(int, 0, "register index shift (offset = index << regshift)")
    vmstate_fields = ("divisor", "ier", "lcr", "mcr", "lsr", "msr", "scr", "fcr",
                      "thr_ipending", "rx_fifo")

    def __init__(self, name: str = "serial", **props: object) -> None:
        super().__init__(**props)
        self.region = MmioRegion(name, 0x100, self.read, self.write, sizes=(1, 2, 4, 8))
        self.irq = IrqLine(name=name)
        self.chardev: Chardev | None = None
        self.rx_fifo: deque[int] = deque()
        self.reset()

    # --- wiring -------------------------------------------------------------
    def attach_chardev(self, chr: Chardev) -> None:
        """Connect the back end: output goes to chr.write, input comes via chr.attach."""
        self.chardev = chr
        chr.attach(self._receive, self._can_receive)

    def reset(self) -> None:
        self.divisor = 0
        self.ier = 0
        self.lcr = 0
        self.mcr = 0
        self.lsr = LSR_THRE | LSR_TEMT
        self.msr = MSR_DCD | MSR_DSR | MSR_CTS
        self.scr = 0
        self.fcr = 0
        self.thr_ipending = False
        self.rx_fifo.clear()
        self._update_irq()
        if self.chardev is not None:
            self.chardev.accept_input()

    # --- receive path ---------------------------------------------------------
    def _rx_capacity(self) -> int:
        return FIFO_SIZE if self.fcr & FCR_ENABLE else 1

    def _can_receive(self) -> int:
        if self.mcr & MCR_LOOP:
            return 0  # in loopback the serial input is disconnected (PC16550D MCR bit 4)
        return max(0, self._rx_capacity() - len(self.rx_fifo))

    def _receive(self, data: bytes) -> None:
        for b in data:
            self._push_rx(b)
        self._update_irq()

    def _push_rx(self, b: int) -> None:
        if len(self.rx_fifo) >= self._rx_capacity():
            self.lsr |= LSR_OE  # overrun: the new character is lost (only if fed unasked)
            return
        self.rx_fifo.append(b)
        self.lsr |= LSR_DR

    def _pop_rx(self) -> int:
        if not self.rx_fifo:
            return 0
        b = self.rx_fifo.popleft()
        if not self.rx_fifo:
            self.lsr &= ~LSR_DR
        self._update_irq()
        if self.chardev is not None and self._can_receive() > 0:
            self.chardev.accept_input()
        return b

    # --- interrupt identification (PC16550D table 4) --------------------------
    def _iir_id(self) -> int:
        if self.ier & IER_ELSI and self.lsr & LSR_ERRORS:
            return IIR_RLS
        if self.ier & IER_ERBFI and self.rx_fifo:
            if not self.fcr & FCR_ENABLE:
                return IIR_RDA
            if len(self.rx_fifo) >= FCR_TRIGGER[self.fcr >> 6]:
                return IIR_RDA
            return IIR_CTI
        if self.ier & IER_ETBEI and self.thr_ipending:
            return IIR_THRE
        if self.ier & IER_EDSSI and self._msr_value() & MSR_DELTAS:
            return IIR_MSR
        return IIR_NO_INT

    def _update_irq(self) -> None:
        self.irq.set(self._iir_id() != IIR_NO_INT)

    def _msr_value(self) -> int:
        if self.mcr & MCR_LOOP:
            # Loopback: CTS<-RTS, DSR<-DTR, RI<-OUT1, DCD<-OUT2 (PC16550D MCR bit 4).
            m = self.mcr
            return (self.msr & MSR_DELTAS) | ((m & MCR_RTS) << 3) | ((m & MCR_DTR) << 5) \
                | ((m & MCR_OUT1) << 4) | ((m & MCR_OUT2) << 4)
        return self.msr

    # --- register access ------------------------------------------------------
    def read(self, offset: int, size: int = 1) -> int:
        reg = (offset >> self.regshift) & 7
        if reg == RBR:
            if self.lcr & LCR_DLAB:
                return self.divisor & 0xFF
            return self._pop_rx()
        if reg == IER:
            if self.lcr & LCR_DLAB:
                return (self.divisor >> 8) & 0xFF
            return self.ier
        if reg == IIR:
            iid = self._iir_id()
            if iid == IIR_THRE:
                self.thr_ipending = False
                self._update_irq()
            return iid | (IIR_FIFO_ENABLED if self.fcr & FCR_ENABLE else 0)
        if reg == LCR:
            return self.lcr
        if reg == MCR:
            return self.mcr
        if reg == LSR:
            v = self.lsr
            if v & LSR_ERRORS:
                self.lsr &= ~LSR_ERRORS
                self._update_irq()
            return v
        if reg == MSR:
            v = self._msr_value()
            if self.msr & MSR_DELTAS:
                self.msr &= ~MSR_DELTAS
                self._update_irq()
            return v
        return self.scr

    def write(self, offset: int, size: int, value: int) -> None:
        reg = (offset >> self.regshift) & 7
        value &= 0xFF
        if reg == THR:
            if self.lcr & LCR_DLAB:
                self.divisor = (self.divisor & 0xFF00) | value
                return
            self._transmit(value)
        elif reg == IER:
            if self.lcr & LCR_DLAB:
                self.divisor = (self.divisor & 0xFF) | (value << 8)
                return
            old = self.ier
            self.ier = value & 0x0F
            if (old ^ self.ier) & IER_ETBEI:
                # Turning ETBEI on with THR empty raises THRE; turning it off drops it.
                self.thr_ipending = bool(self.ier & IER_ETBEI and self.lsr & LSR_THRE)
            self._update_irq()
        elif reg == FCR:
            if (value ^ self.fcr) & FCR_ENABLE:
                value |= FCR_CLEAR_RX | FCR_CLEAR_TX  # toggling the FIFOs resets them
            if value & FCR_CLEAR_RX:
                self.rx_fifo.clear()
                self.lsr &= ~LSR_DR
            self.fcr = value & 0xC9 if value & FCR_ENABLE else 0
            self._update_irq()
            if self.chardev is not None and self._can_receive() > 0:
                self.chardev.accept_input()
        elif reg == LCR:
            self.lcr = value
        elif reg == MCR:
            old = self.mcr
            self.mcr = value & 0x1F
            self._update_irq()
            if old & MCR_LOOP and not self.mcr & MCR_LOOP and self.chardev is not None:
                self.chardev.accept_input()
        elif reg == LSR:
            pass  # LSR is read-only on the 16550 (factory test only)
        elif reg == MSR:
            pass
        else:
            self.scr = value

    def _transmit(self, value: int) -> None:
        # Writing THR clears a pending THRE interrupt; the byte then leaves at
        # once, THR is empty again and THRE becomes pending anew.
        self.thr_ipending = False
        self.lsr &= ~(LSR_THRE | LSR_TEMT)
        self._update_irq()
        if self.mcr & MCR_LOOP:
            self._push_rx(value)
        elif self.chardev is not None:
            self.chardev.write(bytes((value,)))
        self.lsr |= LSR_THRE | LSR_TEMT
        self.thr_ipending = True
        self._update_irq()
