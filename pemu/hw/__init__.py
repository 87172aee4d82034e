"""Devices, one file each (char/, intc/, misc/, rtc/, virtio/ ...), and boards.

A device never imports a board, the CLI or another device: it sees the
machine through its properties, IRQ lines, memory regions and backends.
"""
