"""The virtio-mmio transport, version 2 (VIRTIO 1.2 section 4.2.2), and the device base.

Register layout (4.2.2, table "MMIO Device Register Layout"), 32-bit
registers; the device-specific configuration space starts at 0x100:

    0x000 MagicValue 0x74726976 ('virt')   0x004 Version 2
    0x008 DeviceID (0: no device)          0x00c VendorID 0x554d4551 ('QEMU')
    0x010 DeviceFeatures                   0x014 DeviceFeaturesSel
    0x020 DriverFeatures                   0x024 DriverFeaturesSel
    0x030 QueueSel   0x034 QueueNumMax     0x038 QueueNum   0x044 QueueReady
    0x050 QueueNotify                      0x060 InterruptStatus 0x064 InterruptACK
    0x070 Status
    0x080/0x084 QueueDescLow/High          0x090/0x094 QueueDriverLow/High
    0x0a0/0x0a4 QueueDeviceLow/High
    0x0ac SHMSel 0x0b0/0x0b4 SHMLen 0x0b8/0x0bc SHMBase (no regions: all ones)
    0x0fc ConfigGeneration

The transport owns registers, feature negotiation (2.2) and queues; a device
(`VirtioDevice`) only declares its ID, feature bits, config bytes and a
`handle(queue_index)` that pops chains and pushes them back. An empty slot
(no device) reads DeviceID 0, as QEMU's does. A malformed queue sets
DEVICE_NEEDS_RESET (2.1.2) and raises a configuration-change interrupt.
"""
from __future__ import annotations

from typing import ClassVar

from pemu.core.irq import IrqLine
from pemu.core.memory import AddressSpace, MmioRegion
from pemu.hw.virtio.virtqueue import VirtQueue, VirtqueueError
from pemu.qom import Device

MAGIC = 0x74726976
VERSION = 2
VENDOR_ID = 0x554D4551
VIRTIO_MMIO_SIZE = 0x200
CONFIG_OFFSET = 0x100

# Device status bits (2.1).
STATUS_ACKNOWLEDGE = 1
STATUS_DRIVER = 2
STATUS_DRIVER_OK = 4
STATUS_FEATURES_OK = 8
STATUS_DEVICE_NEEDS_RESET = 64
STATUS_FAILED = 128

# Reserved feature bits (6).
VIRTIO_F_INDIRECT_DESC = 1 << 28
VIRTIO_F_EVENT_IDX = 1 << 29
VIRTIO_F_VERSION_1 = 1 << 32

# InterruptStatus bits (4.2.2).
INT_USED_BUFFER = 1
INT_CONFIG_CHANGE = 2


class VirtioDevice(Device):
    """A virtio device behind a transport: ID, features, config space, request handler."""

    device_id: ClassVar[int] = 0
    num_queues: ClassVar[int] = 1
    queue_size: ClassVar[int] = 256
    #: Device-specific feature bits offered (the transport adds the reserved ones).
    features: int = 0

    def __init__(self, **props: object) -> None:
        super().__init__(**props)
        self.vqs: list[VirtQueue] = []
        self.transport: VirtioMmio | None = None
        self.driver_features = 0

    @property
    def config(self) -> bytes:
        """The device-specific configuration space (little-endian fields)."""
        return b""

    def config_write(self, offset: int, data: bytes) -> None:
        """The driver wrote config space; read-only by default."""

    def handle(self, queue_index: int) -> None:
        """The driver notified queue `queue_index`: pop, process, push, `notify`."""

    def notify(self, queue_index: int) -> None:
        """Tell the driver that used buffers are ready (unless it suppressed that)."""
        if self.transport is not None:
            self.transport.used_buffer(queue_index)

    def config_changed(self) -> None:
        if self.transport is not None:
            self.transport.config_change()

    def reset(self) -> None:
        """Device reset (status 0): drop per-request state; queues are reset by the transport."""


class VirtioMmio(Device):
    """One virtio-mmio slot: `region` (0x200 bytes), `irq`, optional `backend`."""

    type_name = "virtio-mmio"
    description = "virtio MMIO transport (version 2)"
    vmstate_fields = ("status", "int_status", "driver_features", "queue_sel",
                      "config_generation")

    def __init__(self, dma: AddressSpace, backend: VirtioDevice | None = None,
                 name: str = "virtio-mmio", **props: object) -> None:
        super().__init__(**props)
        self.dma = dma
        self.region = MmioRegion(name, VIRTIO_MMIO_SIZE, self.read, self.write,
                                 sizes=(1, 2, 4, 8))
        self.irq = IrqLine(name=name)
        self.backend: VirtioDevice | None = None
        self.queues: list[VirtQueue] = []
        self.config_generation = 0
        self.reset()
        if backend is not None:
            self.plug(backend)

    def plug(self, backend: VirtioDevice) -> None:
        """Put a device in this slot (before the guest probes it)."""
        self.backend = backend
        backend.transport = self
        self.queues = [VirtQueue(self.dma, backend.queue_size) for _ in range(backend.num_queues)]
        backend.vqs = self.queues
        self.reset()

    # --- state ------------------------------------------------------------
    def device_features(self) -> int:
        if self.backend is None:
            return 0
        return (self.backend.features | VIRTIO_F_VERSION_1 | VIRTIO_F_INDIRECT_DESC
                | VIRTIO_F_EVENT_IDX)

    def reset(self) -> None:
        self.status = 0
        self.int_status = 0
        self.driver_features = 0
        self.device_features_sel = 0
        self.driver_features_sel = 0
        self.queue_sel = 0
        self.shm_sel = 0
        for q in self.queues:
            q.reset()
        if self.backend is not None:
            self.backend.driver_features = 0
            self.backend.reset()
        self.irq.lower()

    def _update_irq(self) -> None:
        self.irq.set(self.int_status != 0)

    def used_buffer(self, queue_index: int) -> None:
        q = self.queues[queue_index]
        try:
            wanted = q.should_notify()
        except VirtqueueError:
            self.needs_reset()
            return
        if wanted:
            self.int_status |= INT_USED_BUFFER
            self._update_irq()

    def config_change(self) -> None:
        self.config_generation = (self.config_generation + 1) & 0xFFFFFFFF
        self.int_status |= INT_CONFIG_CHANGE
        self._update_irq()

    def needs_reset(self) -> None:
        """The device hit a driver error: DEVICE_NEEDS_RESET, config interrupt (2.1.2)."""
        for q in self.queues:
            q.ready = False  # process nothing more until the driver resets us
        if self.status & STATUS_DRIVER_OK:
            self.status |= STATUS_DEVICE_NEEDS_RESET
            self.int_status |= INT_CONFIG_CHANGE
            self._update_irq()
        else:
            self.status |= STATUS_DEVICE_NEEDS_RESET

    def _notify(self, index: int) -> None:
        if self.backend is None or index >= len(self.queues) or not self.queues[index].ready:
            return
        if self.status & STATUS_DEVICE_NEEDS_RESET:
            return
        try:
            self.backend.handle(index)
        except VirtqueueError:
            self.needs_reset()

    # --- registers ---------------------------------------------------------
    def _q(self) -> VirtQueue | None:
        return self.queues[self.queue_sel] if self.queue_sel < len(self.queues) else None

    def read(self, offset: int, size: int) -> int:
        if offset >= CONFIG_OFFSET:
            cfg = self.backend.config if self.backend is not None else b""
            rel = offset - CONFIG_OFFSET
            return int.from_bytes(cfg[rel:rel + size].ljust(size, b"\0"), "little")
        if size != 4:
            return 0
        q = self._q()
        match offset:
            case 0x000:
                return MAGIC
            case 0x004:
                return VERSION
            case 0x008:
                return self.backend.device_id if self.backend is not None else 0
            case 0x00C:
                return VENDOR_ID
            case 0x010:
                return (self.device_features() >> (32 * self.device_features_sel)) & 0xFFFFFFFF \
                    if self.device_features_sel < 2 else 0
            case 0x034:
                return q.num_max if q is not None else 0
            case 0x038:
                return q.num if q is not None else 0
            case 0x044:
                return int(q.ready) if q is not None else 0
            case 0x060:
                return self.int_status
            case 0x070:
                return self.status
            case 0x080 | 0x084 | 0x090 | 0x094 | 0x0A0 | 0x0A4:
                if q is None:
                    return 0
                attr = {0x80: "desc", 0x90: "driver", 0xA0: "device"}[offset & ~7]
                return (getattr(q, attr) >> (32 * ((offset >> 2) & 1))) & 0xFFFFFFFF
            case 0x0B0 | 0x0B4 | 0x0B8 | 0x0BC:
                return 0xFFFFFFFF  # no shared memory regions (4.2.2: SHMLen/Base of -1)
            case 0x0FC:
                return self.config_generation
        return 0

    def write(self, offset: int, size: int, value: int) -> None:
        if offset >= CONFIG_OFFSET:
            if self.backend is not None:
                self.backend.config_write(offset - CONFIG_OFFSET,
                                          (value & ((1 << 8 * size) - 1)).to_bytes(size, "little"))
            return
        if size != 4:
            return
        value &= 0xFFFFFFFF
        q = self._q()
        match offset:
            case 0x014:
                self.device_features_sel = value
            case 0x020:
                if self.driver_features_sel < 2 and not self.status & STATUS_FEATURES_OK:
                    shift = 32 * self.driver_features_sel
                    self.driver_features = ((self.driver_features & ~(0xFFFFFFFF << shift))
                                            | (value << shift))
            case 0x024:
                self.driver_features_sel = value
            case 0x030:
                self.queue_sel = value
            case 0x038:
                if q is not None and 0 < value <= q.num_max:
                    q.num = value
            case 0x044:
                if q is not None:
                    q.ready = bool(value & 1)
            case 0x050:
                self._notify(value & 0xFFFF)
            case 0x064:
                self.int_status &= ~value
                self._update_irq()
            case 0x070:
                self._write_status(value & 0xFF)
            case 0x080 | 0x084 | 0x090 | 0x094 | 0x0A0 | 0x0A4:
                if q is not None and not q.ready:
                    attr = {0x80: "desc", 0x90: "driver", 0xA0: "device"}[offset & ~7]
                    shift = 32 * ((offset >> 2) & 1)
                    old = getattr(q, attr)
                    setattr(q, attr, (old & ~(0xFFFFFFFF << shift)) | (value << shift))
            case 0x0AC:
                self.shm_sel = value

    def _write_status(self, value: int) -> None:
        if value == 0:
            self.reset()  # 4.2.3.1: writing 0 resets the device
            return
        if value & STATUS_FEATURES_OK and not self.status & STATUS_FEATURES_OK:
            # 3.1.1: accept only a subset of what we offered, and version 1.
            feats = self.driver_features
            if feats & ~self.device_features() or not feats & VIRTIO_F_VERSION_1:
                value &= ~STATUS_FEATURES_OK
            else:
                event_idx = bool(feats & VIRTIO_F_EVENT_IDX)
                for q in self.queues:
                    q.event_idx = event_idx
                if self.backend is not None:
                    self.backend.driver_features = feats
        self.status = value | (self.status & STATUS_DEVICE_NEEDS_RESET)
