"""16550 UART poked through an AddressSpace, qtest style (no guest code)."""
from __future__ import annotations

import pytest

from pemu.chardev.base import Chardev
from pemu.core.memory import AddressSpace
from pemu.hw.char import uart16550 as u

BASE = 0x10000000


class RecordingChardev(Chardev):
    def __init__(self) -> None:
        super().__init__("test")
        self.out = bytearray()

    def write(self, data: bytes) -> None:
        self.out += data


@pytest.fixture
def rig():
    mem = AddressSpace()
    uart = u.Uart16550()
    mem.map(BASE, uart.region)
    chr = RecordingChardev()
    uart.attach_chardev(chr)
    levels: list[int] = []
    uart.irq.connect(levels.append)
    return mem, uart, chr, levels


def rd(mem, reg):
    return mem.read(BASE + reg, 1)


def wr(mem, reg, v):
    mem.write(BASE + reg, 1, v)


def test_reset_state(rig) -> None:
    mem, uart, _, _ = rig
    assert rd(mem, u.LSR) == u.LSR_THRE | u.LSR_TEMT
    assert rd(mem, u.IIR) == u.IIR_NO_INT
    assert rd(mem, u.IER) == 0
    assert uart.irq.level == 0


def test_thr_goes_to_chardev(rig) -> None:
    mem, _, chr, _ = rig
    for b in b"hi\n":
        wr(mem, u.THR, b)
    assert bytes(chr.out) == b"hi\n"
    assert rd(mem, u.LSR) & (u.LSR_THRE | u.LSR_TEMT) == u.LSR_THRE | u.LSR_TEMT


def test_wide_access_is_one_register(rig) -> None:
    mem, _, chr, _ = rig
    mem.write(BASE, 4, 0x41)
    assert bytes(chr.out) == b"A"
    assert mem.read(BASE + u.LSR, 4) == u.LSR_THRE | u.LSR_TEMT


def test_rx_sets_dr_and_interrupt(rig) -> None:
    mem, uart, chr, _ = rig
    wr(mem, u.IER, u.IER_ERBFI)
    assert uart.irq.level == 0
    chr.feed(b"x")
    assert rd(mem, u.LSR) & u.LSR_DR
    assert uart.irq.level == 1
    assert rd(mem, u.IIR) == u.IIR_RDA
    assert rd(mem, u.RBR) == ord("x")
    assert not rd(mem, u.LSR) & u.LSR_DR
    assert uart.irq.level == 0
    assert rd(mem, u.IIR) == u.IIR_NO_INT


def test_fifo_trigger_and_timeout_ids(rig) -> None:
    mem, uart, chr, _ = rig
    wr(mem, u.FCR, u.FCR_ENABLE | 0x80)  # trigger level 8
    wr(mem, u.IER, u.IER_ERBFI)
    chr.feed(b"abc")
    assert rd(mem, u.IIR) == u.IIR_CTI | u.IIR_FIFO_ENABLED
    chr.feed(b"defgh")
    assert rd(mem, u.IIR) == u.IIR_RDA | u.IIR_FIFO_ENABLED
    assert uart.irq.level == 1


def test_fifo_never_loses_input(rig) -> None:
    mem, uart, chr, _ = rig
    wr(mem, u.FCR, u.FCR_ENABLE)
    data = bytes(range(40)) + b"the quick brown fox"
    chr.feed(data)
    assert len(uart.rx_fifo) == u.FIFO_SIZE
    got = bytearray()
    while rd(mem, u.LSR) & u.LSR_DR:
        got.append(rd(mem, u.RBR))
    assert bytes(got) == data
    assert not rd(mem, u.LSR) & u.LSR_OE


def test_non_fifo_mode_holds_one_byte(rig) -> None:
    mem, uart, chr, _ = rig
    chr.feed(b"xyz")
    assert len(uart.rx_fifo) == 1
    assert bytes(rd(mem, u.RBR) for _ in range(3)) == b"xyz"


def test_thre_interrupt_semantics(rig) -> None:
    mem, uart, _, _ = rig
    # Enabling ETBEI with THR empty raises THRE at once.
    wr(mem, u.IER, u.IER_ETBEI)
    assert uart.irq.level == 1
    # Reading IIR with THRE as the source clears it.
    assert rd(mem, u.IIR) == u.IIR_THRE
    assert uart.irq.level == 0
    assert rd(mem, u.IIR) == u.IIR_NO_INT
    # Disable + re-enable raises it again (Linux's UART_BUG_THRE probe).
    wr(mem, u.IER, 0)
    wr(mem, u.IER, u.IER_ETBEI)
    assert uart.irq.level == 1
    # Writing THR clears it; THR empties at once and it becomes pending again.
    levels: list[int] = []
    uart.irq.connect(levels.append)
    wr(mem, u.THR, 0x41)
    assert levels == [0, 1]
    assert rd(mem, u.IIR) == u.IIR_THRE
    # Disabling ETBEI drops the line.
    wr(mem, u.THR, 0x42)
    wr(mem, u.IER, 0)
    assert uart.irq.level == 0


def test_priority_rx_over_thre(rig) -> None:
    mem, _, chr, _ = rig
    wr(mem, u.IER, u.IER_ETBEI | u.IER_ERBFI)
    chr.feed(b"q")
    assert rd(mem, u.IIR) == u.IIR_RDA
    rd(mem, u.RBR)
    assert rd(mem, u.IIR) == u.IIR_THRE
    assert rd(mem, u.IIR) == u.IIR_NO_INT


def test_dlab_divisor_latch(rig) -> None:
    mem, uart, chr, _ = rig
    wr(mem, u.IER, u.IER_ERBFI)
    wr(mem, u.LCR, u.LCR_DLAB | 0x03)
    wr(mem, u.DLL, 0x0C)
    wr(mem, u.DLM, 0x01)
    assert rd(mem, u.DLL) == 0x0C and rd(mem, u.DLM) == 0x01
    assert chr.out == b""  # DLL write did not transmit
    wr(mem, u.LCR, 0x03)
    assert uart.divisor == 0x10C
    assert rd(mem, u.IER) == u.IER_ERBFI  # IER untouched by the DLM write
    assert rd(mem, u.LCR) == 0x03


def test_scratch_and_loopback(rig) -> None:
    mem, _, chr, _ = rig
    wr(mem, u.SCR, 0x5A)
    assert rd(mem, u.SCR) == 0x5A
    # Linux's 8250 loopback probe: MCR = LOOP|OUT2|RTS gives MSR[7:4] = 0x9.
    wr(mem, u.MCR, u.MCR_LOOP | 0x0A)
    assert rd(mem, u.MSR) & 0xF0 == 0x90
    wr(mem, u.THR, 0x55)
    assert chr.out == b""
    assert rd(mem, u.RBR) == 0x55
    # Input waits while in loopback, then arrives.
    chr.feed(b"k")
    assert not rd(mem, u.LSR) & u.LSR_DR
    wr(mem, u.MCR, 0)
    assert rd(mem, u.RBR) == ord("k")


def test_regshift() -> None:
    mem = AddressSpace()
    uart = u.Uart16550(regshift=2)
    mem.map(BASE, uart.region)
    mem.write(BASE + (u.SCR << 2), 1, 0x77)
    assert mem.read(BASE + (u.SCR << 2), 1) == 0x77
    assert mem.read(BASE + (u.LSR << 2), 1) == u.LSR_THRE | u.LSR_TEMT


def test_port_io_style_access() -> None:
    uart = u.Uart16550()
    chr = RecordingChardev()
    uart.attach_chardev(chr)
    uart.write(0, 1, ord("z"))  # what a PIO bus at 0x3f8 would call
    assert chr.out == b"z"
    assert uart.read(5, 1) & u.LSR_THRE
