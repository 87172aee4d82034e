"""A machine's network: its NICs, back ends, hubs and filters, as the monitor sees
them (`machine.net`): HMP `info network`, QMP/HMP `set_link`, `hostfwd_add`.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from pemu.net.client import NetClient
from pemu.net.hub import Hubs


class MacAllocator:
    """QEMU's default MACs: 52:54:00:12:34:56 + the lowest unused index."""

    def __init__(self) -> None:
        self.used: set[str] = set()

    def take(self, mac: str | None) -> str:
        if mac is not None:
            self.used.add(mac.lower())
            return mac
        i = 0
        while True:
            cand = f"52:54:00:12:34:{0x56 + i:02x}"
            if cand not in self.used:
                self.used.add(cand)
                return cand
            i += 1


@dataclass
class Network:
    """The machine's net clients, as the monitor sees them (machine.net)."""

    netdevs: dict[str, NetClient] = field(default_factory=dict)
    nics: list[Any] = field(default_factory=list)  # VirtioNet devices
    hubs: Hubs = field(default_factory=Hubs)
    filters: dict[str, Any] = field(default_factory=dict)
    macs: MacAllocator = field(default_factory=MacAllocator)
    created: list[NetClient] = field(default_factory=list)
    nic_count: int = 0
    anon_count: int = 0

    def clients(self) -> list[NetClient]:
        return [*(d.nic for d in self.nics), *self.netdevs.values()]

    def info(self) -> str:
        """HMP `info network`, in QEMU's layout: hubs with their ports (newest
        first), then each NIC with its back end, then back ends without a peer."""
        lines = []
        for hub in self.hubs.by_id.values():
            lines.append(f"hub {hub.id}")
            for port in reversed(hub.ports):
                peer = port.peer
                lines.append(f" \\ {port.name}" + (f": {_describe(peer)}" if peer else ""))
        for c in self.created:
            peer = c.peer
            if c.kind == "hubport" or (peer is not None and peer.kind == "hubport"):
                continue  # shown with its hub
            if peer is None or c.kind == "nic":
                lines.append(_describe(c))
            if peer is not None and c.kind == "nic":
                lines.append(f" \\ {_describe(peer)}")
        return "".join(line + "\n" for line in lines)

    def add(self, client: NetClient) -> NetClient:
        """Record a client in creation order (the order `info network` lists them)."""
        self.created.append(client)
        return client

    def cleanup(self) -> None:
        for f in self.filters.values():
            f.close()
        for nd in self.netdevs.values():
            nd.cleanup()

    def find(self, name: str) -> NetClient | None:
        for c in self.clients():
            if c.name == name:
                return c
        return None

    def set_link(self, client: NetClient, up: bool) -> None:
        """QEMU's set_link: the client's link, and a NIC peer's too (the guest
        sees carrier loss when its back end is unplugged)."""
        for c in (client, client.peer):
            if c is None:
                continue
            dev = next((d for d in self.nics if d.nic is c), None)
            if dev is not None:
                dev.set_link(up)
            elif c is client:
                c.link_up = up


def _describe(c: NetClient) -> str:
    text = f"{c.name}: index=0,type={c.kind}"
    extra = c.info()
    if extra:
        text += "," + extra
    if not c.link_up:
        text += " [link=down]"
    if c.dropped:
        text += f" [{c.dropped} packets dropped]"
    return text


__all__ = ["Network", "MacAllocator"]
