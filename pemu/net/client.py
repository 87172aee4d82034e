"""Net clients and the queue between two peers (QEMU's NetClientState idea).

Every NIC and every back end is a `NetClient`. Two clients are peers: what
one `send`s, the other `receive`s. A receiver that has no room (a NIC whose
guest has posted no receive buffers) answers False, and the packet waits in
the receiver's incoming queue, in order, until the receiver calls
`flush_queued` (the guest posted buffers). The sender learns that its
packets went through from `on_peer_drained` (a NIC then resumes its
transmit queue; a socket back end resumes reading its socket). So nothing is
lost inside pemu while the queue stays under QUEUE_LIMIT packets; past it
(a peer that never drains) packets are counted in `dropped`, which
`info network` shows, rather than eating the host's memory.

A packet whose sender has no peer, or whose link is down, is dropped as a
cable-less card would drop it (and counted too).
"""
from __future__ import annotations

import collections
from collections.abc import Callable

#: Packets a receiver may hold back before new ones are dropped (QEMU: 10000).
QUEUE_LIMIT = 10000

#: A packet observer: (client the packet crosses, data, direction "rx"/"tx" seen
#: from that client). filter-dump is one.
Tap = Callable[["NetClient", bytes, str], None]


class NetClient:
    """One end of a link. Subclasses implement `receive` (and `can_receive`)."""

    #: QEMU's client type as `info network` prints it: nic, user, socket, hubport, ...
    kind = "none"

    def __init__(self, name: str) -> None:
        self.name = name
        self.peer: NetClient | None = None
        self.link_up = True
        self.incoming: collections.deque[tuple[bytes, NetClient]] = collections.deque()
        self.taps: list[Tap] = []
        self.dropped = 0
        self.sent = 0
        self.received = 0

    # --- what subclasses provide ---------------------------------------------------
    def can_receive(self) -> bool:
        """Whether a packet offered now would be taken (no room: it will be queued)."""
        return True

    def receive(self, data: bytes) -> bool:
        """Take one packet; False if there was no room (the packet is queued)."""
        raise NotImplementedError

    def on_peer_drained(self) -> None:
        """Packets this client sent that had to wait were all delivered."""

    def info(self) -> str:
        """The `info network` description after the name (QEMU's info_str)."""
        return f"type={self.kind}"

    def cleanup(self) -> None:
        """Release host resources (sockets, files); the client is going away."""

    # --- links ---------------------------------------------------------------------
    def connect(self, peer: NetClient) -> None:
        if self.peer is not None or peer.peer is not None:
            raise ValueError(f"{self.name} or {peer.name} is already connected")
        self.peer = peer
        peer.peer = self

    def send(self, data: bytes) -> bool:
        """Send a packet to the peer. True: delivered (or dropped for good: no peer,
        link down, queue full); False: it waits in the peer's queue, and
        `on_peer_drained` will be called once the queue is empty again."""
        peer = self.peer
        if peer is None or not self.link_up or not peer.link_up:
            self.dropped += 1
            return True
        for tap in self.taps:
            tap(self, data, "tx")
        for tap in peer.taps:
            tap(peer, data, "rx")
        self.sent += 1
        if peer.incoming or not peer.can_receive():
            return peer._enqueue(data, self)
        if peer.receive(data):
            peer.received += 1
            return True
        return peer._enqueue(data, self)

    def _enqueue(self, data: bytes, sender: NetClient) -> bool:
        if len(self.incoming) >= QUEUE_LIMIT:
            self.dropped += 1
            return True
        self.incoming.append((data, sender))
        return False

    def flush_queued(self) -> bool:
        """Deliver waiting packets while this client can take them; True if none is left."""
        senders: set[NetClient] = set()
        while self.incoming and self.can_receive():
            data, sender = self.incoming[0]
            if not self.receive(data):
                break
            self.incoming.popleft()
            self.received += 1
            senders.add(sender)
        if not self.incoming:
            for sender in senders:
                sender.on_peer_drained()
        return not self.incoming

    def purge_queue(self) -> None:
        """Forget waiting packets (the receiver was reset); their senders may go on."""
        senders = {s for _, s in self.incoming}
        self.dropped += len(self.incoming)
        self.incoming.clear()
        for sender in senders:
            sender.on_peer_drained()


__all__ = ["NetClient", "QUEUE_LIMIT", "Tap"]
