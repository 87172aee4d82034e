"""`-object filter-dump,id=,netdev=,file=[,maxlen=][,queue=]`: a pcap of a netdev's traffic.

The classic libpcap file format: a 24-byte global header {magic 0xa1b2c3d4,
version 2.4, thiszone 0, sigfigs 0, snaplen, linktype 1 (Ethernet)}, then
per packet a 16-byte record header {ts_sec, ts_usec, incl_len, orig_len} and
incl_len bytes (at most snaplen). Timestamps are host wall-clock time, as
QEMU's. Each packet is written through at once, so the file is complete
whenever the emulator stops, even if killed.

queue=all (default) records both directions; rx only what is sent to the
netdev (the guest's frames, for a back end), tx only what the netdev sends.
"""
from __future__ import annotations

import struct
import time
from typing import BinaryIO

from pemu.net.client import NetClient

PCAP_MAGIC = 0xA1B2C3D4
LINKTYPE_ETHERNET = 1
DEFAULT_MAXLEN = 65536


class FilterDump:
    def __init__(self, fid: str, netdev: NetClient, path: str,
                 maxlen: int = DEFAULT_MAXLEN, queue: str = "all") -> None:
        if queue not in ("all", "rx", "tx"):
            raise ValueError(f"Parameter 'queue' does not accept value '{queue}'")
        if maxlen <= 0:
            raise ValueError("Parameter 'maxlen' expects a positive number")
        self.id = fid
        self.netdev = netdev
        self.path = path
        self.maxlen = maxlen
        self.queue = queue
        try:
            self.file: BinaryIO | None = open(path, "wb")
        except OSError as e:
            raise ValueError(f"can't open file '{path}': {e.strerror}") from None
        self.file.write(struct.pack("<IHHiIII", PCAP_MAGIC, 2, 4, 0, 0, maxlen,
                                    LINKTYPE_ETHERNET))
        self.file.flush()
        self.packets = 0
        netdev.taps.append(self.record)

    def record(self, client: NetClient, data: bytes, direction: str) -> None:
        if self.file is None or (self.queue != "all" and direction != self.queue):
            return
        now = time.time_ns() // 1000
        caplen = min(len(data), self.maxlen)
        try:
            self.file.write(struct.pack("<IIII", now // 1_000_000, now % 1_000_000, caplen,
                                        len(data)) + data[:caplen])
            self.file.flush()
        except OSError:
            self.close()  # a full disk ends the capture, not the machine
            return
        self.packets += 1

    def close(self) -> None:
        if self.record in self.netdev.taps:
            self.netdev.taps.remove(self.record)
        if self.file is not None:
            try:
                self.file.close()
            except OSError:
                pass
            self.file = None


__all__ = ["FilterDump"]
