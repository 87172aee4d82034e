"""virtio entropy device (VIRTIO 1.2 section 5.4): one request queue, no config.

The driver posts device-writable buffers; the device fills them with random
bytes from the host (os.urandom, i.e. getrandom(2)) and returns them.
"""
from __future__ import annotations

import os

from pemu.hw.virtio.virtio_mmio import VirtioDevice
from pemu.qom import register_type

VIRTIO_ID_RNG = 4
MAX_CHUNK = 64 * 1024


@register_type
class VirtioRng(VirtioDevice):
    type_name = "virtio-rng-device"
    description = "virtio entropy source"
    user_creatable = True
    device_id = VIRTIO_ID_RNG
    num_queues = 1

    def handle(self, queue_index: int) -> None:
        vq = self.vqs[queue_index]
        while (elem := vq.pop()) is not None:
            written = vq.write_in(elem, os.urandom(min(elem.in_len, MAX_CHUNK)))
            vq.push(elem, written)
        self.notify(queue_index)
