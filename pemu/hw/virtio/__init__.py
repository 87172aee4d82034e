"""The virtio-mmio transport, split virtqueues and virtio devices."""
