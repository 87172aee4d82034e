"""virtio network card (VIRTIO 1.2 section 5.1) on a net client.

Queues (5.1.2): 0 receiveq1 (device-writable buffers the guest posts for
incoming frames), 1 transmitq1 (frames the guest sends), 2 controlq (rx
mode, MAC tables, MAC address: virtio_net_ctrl.py). No multiqueue, no
offloads: a frame is a plain Ethernet frame.

Features offered (5.1.3): MAC (5), MRG_RXBUF (15), STATUS (16), CTRL_VQ (17),
CTRL_RX (18), CTRL_MAC_ADDR (23).
Config layout (5.1.4), little-endian: mac[6] @0, status u16 @6 (bit 0
LINK_UP), max_virtqueue_pairs u16 @8 (1), mtu u16 @10 (1500, informative:
F_MTU is not offered). With VIRTIO_F_VERSION_1 the config is read-only.

Every buffer starts with the 12-byte `virtio_net_hdr` (5.1.6): flags u8,
gso_type u8, hdr_len u16, gso_size u16, csum_start u16, csum_offset u16,
num_buffers u16 (present whatever MRG_RXBUF, since VERSION_1). Received
frames get an all-zero header (no checksum or GSO information); with
MRG_RXBUF a frame may span several posted buffers and `num_buffers` says how
many (5.1.6.4.2).

Flow control: a frame arriving when the guest has posted no receive buffer
(or before DRIVER_OK) is refused, so it waits in the net client's queue;
posting buffers (a notify of queue 0) delivers the queue. A transmitted frame
the peer queues stops transmit processing until the peer has drained it.
A malformed ring or a transmit buffer shorter than the header puts the device
in DEVICE_NEEDS_RESET, never raising into the host.
"""
from __future__ import annotations

import re
import struct
from typing import Any

from pemu.hw.net.virtio_net_ctrl import RxFilter
from pemu.hw.virtio.virtio_mmio import STATUS_DEVICE_NEEDS_RESET, STATUS_DRIVER_OK, VirtioDevice
from pemu.hw.virtio.virtqueue import VirtqueueError
from pemu.net.client import NetClient
from pemu.qom import Property, PropertyError, register_type

VIRTIO_ID_NET = 1

# Feature bits (5.1.3).
VIRTIO_NET_F_MAC = 1 << 5
VIRTIO_NET_F_MRG_RXBUF = 1 << 15
VIRTIO_NET_F_STATUS = 1 << 16
VIRTIO_NET_F_CTRL_VQ = 1 << 17
VIRTIO_NET_F_CTRL_RX = 1 << 18
VIRTIO_NET_F_CTRL_MAC_ADDR = 1 << 23

VIRTIO_NET_S_LINK_UP = 1
HDR_LEN = 12
RXQ, TXQ, CTRLQ = 0, 1, 2
#: Largest control command accepted (a MAC table of 2 x 64 entries fits easily).
MAX_CTRL = 4096
#: Largest frame a transmit chain may carry (64 KiB, as QEMU's NET_BUFSIZE allows).
MAX_FRAME = 65536
DEFAULT_MAC = "52:54:00:12:34:56"
_MAC_RE = re.compile(r"[0-9a-fA-F]{2}(:[0-9a-fA-F]{2}){5}")


def parse_mac(text: str) -> bytes:
    """'52:54:00:12:34:56' -> 6 bytes; PropertyError in QEMU's words otherwise."""
    if not _MAC_RE.fullmatch(text):
        raise PropertyError(f"Property 'virtio-net-device.mac' doesn't take value '{text}'")
    return bytes(int(x, 16) for x in text.split(":"))


class NicClient(NetClient):
    """The card's end of the link: receives for the guest, sends what it transmits."""

    kind = "nic"

    def __init__(self, name: str, dev: VirtioNet) -> None:
        super().__init__(name)
        self.dev = dev

    def can_receive(self) -> bool:
        return self.dev.rx_ready()

    def receive(self, data: bytes) -> bool:
        return self.dev.rx_frame(data)

    def on_peer_drained(self) -> None:
        self.dev.tx_resume()

    def info(self) -> str:
        mac = ":".join(f"{b:02x}" for b in self.dev.rx_filter.mac)
        return f"model={self.dev.type_name},macaddr={mac}"


@register_type
class VirtioNet(VirtioDevice):
    type_name = "virtio-net-device"
    description = "virtio network card"
    user_creatable = True
    device_id = VIRTIO_ID_NET
    num_queues = 3
    queue_size = 256
    mac = Property(str, DEFAULT_MAC, "MAC address (52:54:00:12:34:56 + NIC index by default)")

    def __init__(self, loop: Any = None, name: str = "virtio-net-device.0",
                 **props: Any) -> None:
        props.pop("netdev", None)  # the link is made by whoever built the back end
        super().__init__(**props)
        self.mac_bytes = parse_mac(self.mac)
        self.loop = loop
        self.nic = NicClient(name, self)
        self.features = (VIRTIO_NET_F_MAC | VIRTIO_NET_F_STATUS | VIRTIO_NET_F_MRG_RXBUF
                         | VIRTIO_NET_F_CTRL_VQ | VIRTIO_NET_F_CTRL_RX
                         | VIRTIO_NET_F_CTRL_MAC_ADDR)
        self.rx_filter = RxFilter(self.mac_bytes)
        #: Frames the receive filter (the guest's rx mode) turned away.
        self.rx_filtered = 0
        self._tx_scheduled = False
        self._tx_blocked = False
        #: Frames the guest sent that were dropped as malformed (too long).
        self.tx_errors = 0
        self.rx_truncated = 0

    @property
    def config(self) -> bytes:
        status = VIRTIO_NET_S_LINK_UP if self.nic.link_up else 0
        return self.rx_filter.mac + struct.pack("<HHH", status, 1, 1500)

    def set_link(self, up: bool) -> None:
        """Cable plugged or pulled (QMP set_link): status bit and a config interrupt."""
        if self.nic.link_up != up:
            self.nic.link_up = up
            self.config_changed()

    def reset(self) -> None:
        self._tx_scheduled = False
        self._tx_blocked = False
        # frames waiting for the old driver's buffers are stale for the next one
        self.nic.purge_queue()
        self.rx_filter.reset()
        self.rx_filter.mac = self.mac_bytes

    # --- the transport calls ---------------------------------------------------------
    def handle(self, queue_index: int) -> None:
        if queue_index == RXQ:
            self.nic.flush_queued()  # buffers were posted: deliver what waited
        elif queue_index == TXQ:
            if self.loop is None:
                self._tx()
            elif not self._tx_scheduled:
                self._tx_scheduled = True
                self.loop.bh(self._tx)
        elif queue_index == CTRLQ and self.driver_features & VIRTIO_NET_F_CTRL_VQ:
            self._ctrl()

    def _ctrl(self) -> None:
        """Control commands (5.1.6.5): {class, command, data} then the ack byte."""
        vq = self.vqs[CTRLQ]
        feats = self.driver_features
        pushed = False
        while (elem := vq.pop()) is not None:
            if elem.in_len < 1 or not 2 <= elem.out_len <= MAX_CTRL:
                raise VirtqueueError("control command without header or ack byte")
            cmd = vq.read_out(elem)
            ack = self.rx_filter.command(cmd[0], cmd[1], cmd[2:],
                                         bool(feats & VIRTIO_NET_F_CTRL_RX),
                                         bool(feats & VIRTIO_NET_F_CTRL_MAC_ADDR))
            vq.write_in(elem, bytes((ack,)))
            vq.push(elem, 1)
            pushed = True
        if pushed:
            self.notify(CTRLQ)

    # --- receive -------------------------------------------------------------------
    def _working(self) -> bool:
        t = self.transport
        return (t is not None and t.status & STATUS_DRIVER_OK != 0
                and not t.status & STATUS_DEVICE_NEEDS_RESET)

    def rx_ready(self) -> bool:
        if not self._working() or not self.vqs[RXQ].ready:
            return False
        try:
            return self.vqs[RXQ].has_work()
        except VirtqueueError:
            return False

    def rx_frame(self, frame: bytes) -> bool:
        """Put one frame in the guest's receive buffers; False if they are too few."""
        if not self._working():
            return False
        if self.driver_features & VIRTIO_NET_F_CTRL_RX and not self.rx_filter.accepts(frame):
            self.rx_filtered += 1  # not for this card in the mode the guest chose
            return True
        vq = self.vqs[RXQ]
        try:
            placed = self._place(vq, frame)
        except VirtqueueError:
            assert self.transport is not None
            self.transport.needs_reset()
            return True  # the card is broken until reset: the frame is gone, as on hardware
        if placed:
            self.notify(RXQ)
        return placed

    def _place(self, vq: Any, frame: bytes) -> bool:
        mergeable = bool(self.driver_features & VIRTIO_NET_F_MRG_RXBUF)
        payload = bytes(HDR_LEN) + frame
        saved = vq.last_avail_idx
        used: list[tuple[Any, int]] = []
        offset = 0
        while offset < len(payload):
            elem = vq.pop()
            if elem is None:
                vq.last_avail_idx = saved  # not enough buffers: give them back, wait
                return False
            if elem.in_len < (HDR_LEN if not used else 1):
                raise VirtqueueError("receive buffer smaller than the virtio-net header")
            n = vq.write_in(elem, payload[offset:])
            used.append((elem, n))
            offset += n
            if not mergeable and offset < len(payload):
                self.rx_truncated += 1  # one buffer per frame: the rest does not fit
                break
        if mergeable:
            vq.write_in(used[0][0], struct.pack("<H", len(used)), offset=HDR_LEN - 2)
        for elem, n in used:
            vq.push(elem, n)
        return True

    # --- transmit ------------------------------------------------------------------
    def tx_resume(self) -> None:
        if self._tx_blocked:
            self._tx_blocked = False
            self.handle(TXQ)

    def _tx(self) -> None:
        self._tx_scheduled = False
        if not self._working() or self._tx_blocked:
            return
        vq = self.vqs[TXQ]
        pushed = False
        try:
            while (elem := vq.pop()) is not None:
                length = elem.out_len
                if length < HDR_LEN:
                    raise VirtqueueError("transmit buffer shorter than the virtio-net header")
                frame = vq.read_out(elem, HDR_LEN) if length <= HDR_LEN + MAX_FRAME else None
                vq.push(elem, 0)
                pushed = True
                if frame is None:
                    self.tx_errors += 1
                    continue
                if not self.nic.send(frame):
                    self._tx_blocked = True  # resumed by on_peer_drained
                    break
        except VirtqueueError:
            assert self.transport is not None
            self.transport.needs_reset()
            return
        if pushed:
            self.notify(TXQ)


__all__ = ["VirtioNet", "NicClient", "parse_mac", "DEFAULT_MAC"]
