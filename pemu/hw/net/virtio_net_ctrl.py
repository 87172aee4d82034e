"""virtio-net's control queue and receive filter (VIRTIO 1.2 section 5.1.6.5).

A control command is {u8 class; u8 command; command data} in device-readable
buffers, then one device-writable ack byte (VIRTIO_NET_OK 0, VIRTIO_NET_ERR 1).
Classes handled:

- VIRTIO_NET_CTRL_RX (0), with VIRTIO_NET_F_CTRL_RX: PROMISC (0) and
  ALLMULTI (1), each one data byte (0 off, else on).
- VIRTIO_NET_CTRL_MAC (1): MAC_TABLE_SET (0), with CTRL_RX: two tables, each
  {le32 entries; entries x 6-byte MAC}, unicast then multicast;
  MAC_ADDR_SET (1), with VIRTIO_NET_F_CTRL_MAC_ADDR: the 6-byte MAC.

The filter (5.1.6.5.1/2): promiscuous accepts everything; otherwise a frame
passes if it is broadcast, multicast with all-multicast on or its address in
the multicast table, or unicast to the card's MAC or an address in the
unicast table. After a reset the card is promiscuous (QEMU's choice: drivers
that never send CTRL_RX still receive everything); Linux switches that off
when it brings the interface up.
"""
from __future__ import annotations

import struct

VIRTIO_NET_OK = 0
VIRTIO_NET_ERR = 1
CTRL_RX = 0
CTRL_RX_PROMISC = 0
CTRL_RX_ALLMULTI = 1
CTRL_MAC = 1
CTRL_MAC_TABLE_SET = 0
CTRL_MAC_ADDR_SET = 1
#: Table entries kept per kind; a longer table turns the kind's overflow on (QEMU: 64).
MAC_TABLE_ENTRIES = 64
BROADCAST = b"\xff" * 6


class RxFilter:
    def __init__(self, mac: bytes) -> None:
        self.mac = mac
        self.reset()

    def reset(self) -> None:
        self.promisc = True
        self.allmulti = False
        self.unicast: list[bytes] = []
        self.multicast: list[bytes] = []
        self.uni_overflow = False
        self.multi_overflow = False

    def accepts(self, frame: bytes) -> bool:
        if self.promisc or len(frame) < 6:
            return True
        dst = frame[:6]
        if dst == BROADCAST:
            return True
        if dst[0] & 1:
            return self.allmulti or self.multi_overflow or dst in self.multicast
        return dst == self.mac or self.uni_overflow or dst in self.unicast

    def command(self, cls: int, cmd: int, data: bytes, rx: bool, mac_addr: bool) -> int:
        """Execute one control command; returns the ack byte."""
        if cls == CTRL_RX and rx and cmd in (CTRL_RX_PROMISC, CTRL_RX_ALLMULTI) and len(data) == 1:
            if cmd == CTRL_RX_PROMISC:
                self.promisc = bool(data[0])
            else:
                self.allmulti = bool(data[0])
            return VIRTIO_NET_OK
        if cls == CTRL_MAC and cmd == CTRL_MAC_ADDR_SET and mac_addr and len(data) == 6:
            self.mac = data
            return VIRTIO_NET_OK
        if cls == CTRL_MAC and cmd == CTRL_MAC_TABLE_SET and rx:
            tables = _mac_tables(data)
            if tables is None:
                return VIRTIO_NET_ERR
            (self.unicast, self.uni_overflow), (self.multicast, self.multi_overflow) = tables
            return VIRTIO_NET_OK
        return VIRTIO_NET_ERR

    def info(self) -> dict:
        """The QMP RxFilterInfo fields this filter has."""
        return {
            "promiscuous": self.promisc,
            "multicast": "all" if self.allmulti else "normal",
            "unicast": "normal",
            "vlan": "all",  # no VLAN filtering: every VLAN passes (QEMU says so too)
            "broadcast-allowed": True,
            "multicast-overflow": self.multi_overflow,
            "unicast-overflow": self.uni_overflow,
            "main-mac": _fmt(self.mac),
            "vlan-table": [],
            "unicast-table": [_fmt(m) for m in self.unicast],
            "multicast-table": [_fmt(m) for m in self.multicast],
        }


def _fmt(mac: bytes) -> str:
    return ":".join(f"{b:02x}" for b in mac)


def _mac_tables(data: bytes) -> tuple[tuple[list[bytes], bool], tuple[list[bytes], bool]] | None:
    """Parse the unicast then multicast tables; None if malformed."""
    out = []
    pos = 0
    for _ in range(2):
        if pos + 4 > len(data):
            return None
        (n,) = struct.unpack_from("<I", data, pos)
        pos += 4
        if pos + 6 * n > len(data):
            return None
        macs = [data[pos + 6 * i:pos + 6 * i + 6] for i in range(n)]
        pos += 6 * n
        out.append((macs[:MAC_TABLE_ENTRIES], n > MAC_TABLE_ENTRIES))
    if pos != len(data):
        return None
    return out[0], out[1]


__all__ = ["RxFilter", "VIRTIO_NET_OK", "VIRTIO_NET_ERR"]
