"""Hubs: every packet entering one port leaves by all the others (QEMU's net/hub.c idea).

`-net nic -net user` (the legacy syntax) puts the NIC and the back end on
hub 0, each through a `HubPort` as its peer; `-netdev hubport,id=,hubid=`
adds a port explicitly. A port accepts a packet and offers it to every
other port's peer; a peer with no room queues it (see client.py).
"""
from __future__ import annotations

from pemu.net.client import NetClient


class HubPort(NetClient):
    kind = "hubport"

    def __init__(self, name: str, hub: Hub) -> None:
        super().__init__(name)
        self.hub = hub

    def receive(self, data: bytes) -> bool:
        for port in self.hub.ports:
            if port is not self:
                port.send(data)
        return True

    def info(self) -> str:
        return ""


class Hub:
    def __init__(self, hub_id: int) -> None:
        self.id = hub_id
        self.ports: list[HubPort] = []

    def add_port(self, name: str | None = None) -> HubPort:
        port = HubPort(name or f"hub{self.id}port{len(self.ports)}", self)
        self.ports.append(port)
        return port


class Hubs:
    """The hubs of one machine, by number."""

    def __init__(self) -> None:
        self.by_id: dict[int, Hub] = {}

    def get(self, hub_id: int) -> Hub:
        if hub_id not in self.by_id:
            self.by_id[hub_id] = Hub(hub_id)
        return self.by_id[hub_id]


__all__ = ["Hub", "HubPort", "Hubs"]
