"""-netdev socket on a real main loop: QEMU's stream framing on the wire, mcast, udp."""
from __future__ import annotations

import socket
import struct
import threading
import time

import pytest

from pemu.core.clock import VirtualClock
from pemu.core.main_loop import MainLoop
from pemu.net.client import NetClient
from pemu.net.socket_netdev import make_socket_netdev
from pemu.net.user import NetdevError


class Box(NetClient):
    def __init__(self) -> None:
        super().__init__("box")
        self.got: list[bytes] = []

    def receive(self, data: bytes) -> bool:
        self.got.append(data)
        return True


class Running:
    """A main loop in a thread; `call` runs a function in it (as a bottom half)."""

    def __init__(self) -> None:
        self.loop = MainLoop(VirtualClock(None))
        self.thread = threading.Thread(target=self.loop.run, daemon=True)
        self.thread.start()

    def call(self, fn):
        done = threading.Event()
        box = []
        self.loop.bh(lambda: (box.append(fn()), done.set()))
        assert done.wait(5)
        return box[0]

    def stop(self) -> None:
        self.loop.bh(lambda: self.loop.quit(0))
        self.thread.join(5)


def wait_for(cond, timeout: float = 5.0) -> None:
    end = time.monotonic() + timeout
    while not cond():
        assert time.monotonic() < end, "timed out"
        time.sleep(0.01)


def free_port(kind: int = socket.SOCK_STREAM) -> int:
    with socket.socket(socket.AF_INET, kind) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def running():
    r = Running()
    yield r
    r.stop()


def test_stream_listen_uses_qemu_length_framing(running):
    port = free_port()
    nd = running.call(lambda: make_socket_netdev("s0", running.loop,
                                                 {"listen": f"127.0.0.1:{port}"}))
    box = Box()
    running.call(lambda: box.connect(nd))
    with socket.create_connection(("127.0.0.1", port)) as peer:
        # a QEMU peer sends each frame as a big-endian length then the bytes,
        # split anywhere by TCP
        wire = b"".join(struct.pack(">I", len(f)) + f for f in (b"frame-one", b"f2" * 100))
        peer.sendall(wire[:3])
        time.sleep(0.05)
        peer.sendall(wire[3:])
        wait_for(lambda: len(box.got) == 2)
        assert box.got == [b"frame-one", b"f2" * 100]
        running.call(lambda: box.send(b"to-peer"))
        peer.settimeout(5)
        data = b""
        while len(data) < 11:
            data += peer.recv(100)
        assert data == struct.pack(">I", 7) + b"to-peer"
        assert "connection from 127.0.0.1" in nd.info()
    # the peer went away: the netdev listens again and takes the next connection
    wait_for(lambda: "wait connection" in nd.info())
    with socket.create_connection(("127.0.0.1", port)) as again:
        again.sendall(struct.pack(">I", 3) + b"abc")
        wait_for(lambda: box.got[-1:] == [b"abc"])
    running.call(nd.cleanup)


def test_listen_and_connect_netdevs_are_one_cable(running):
    port = free_port()
    a = running.call(lambda: make_socket_netdev("a", running.loop,
                                                {"listen": f"127.0.0.1:{port}"}))
    b = running.call(lambda: make_socket_netdev("b", running.loop,
                                                {"connect": f"127.0.0.1:{port}"}))
    ba, bb = Box(), Box()
    running.call(lambda: (ba.connect(a), bb.connect(b)))
    wait_for(lambda: a.sock is not None)
    big = bytes(range(256)) * 6
    running.call(lambda: [ba.send(big) for _ in range(50)])
    running.call(lambda: bb.send(b"back"))
    wait_for(lambda: len(bb.got) == 50 and ba.got == [b"back"])
    assert all(f == big for f in bb.got)
    running.call(lambda: (a.cleanup(), b.cleanup()))


def test_udp_pair_and_mcast_group(running):
    p1, p2 = free_port(socket.SOCK_DGRAM), free_port(socket.SOCK_DGRAM)
    u1 = running.call(lambda: make_socket_netdev(
        "u1", running.loop, {"udp": f"127.0.0.1:{p2}", "localaddr": f"127.0.0.1:{p1}"}))
    u2 = running.call(lambda: make_socket_netdev(
        "u2", running.loop, {"udp": f"127.0.0.1:{p1}", "localaddr": f"127.0.0.1:{p2}"}))
    b1, b2 = Box(), Box()
    running.call(lambda: (b1.connect(u1), b2.connect(u2)))
    running.call(lambda: b1.send(b"over-udp"))
    wait_for(lambda: b2.got == [b"over-udp"])
    running.call(lambda: (u1.cleanup(), u2.cleanup()))
    group = f"230.0.0.1:{free_port(socket.SOCK_DGRAM)}"
    try:
        m1 = running.call(lambda: make_socket_netdev("m1", running.loop, {"mcast": group}))
        m2 = running.call(lambda: make_socket_netdev("m2", running.loop, {"mcast": group}))
    except NetdevError as e:
        pytest.skip(f"this host cannot join multicast groups: {e}")
    c1, c2 = Box(), Box()
    running.call(lambda: (c1.connect(m1), c2.connect(m2)))
    running.call(lambda: c1.send(b"to-the-group"))
    try:
        wait_for(lambda: b"to-the-group" in c2.got, 3)
    except AssertionError:
        pytest.skip("multicast loopback does not reach this host's other sockets")
    running.call(lambda: (m1.cleanup(), m2.cleanup()))


@pytest.mark.parametrize("opts, message", [
    ({}, "exactly one of"),
    ({"listen": ":1", "connect": "a:2"}, "exactly one of"),
    ({"connect": "127.0.0.1:1"}, "can't connect socket"),
    ({"udp": "127.0.0.1:5"}, "localaddr= is mandatory"),
    ({"mcast": "10.0.0.1:5"}, "not a multicast"),
    ({"listen": "127.0.0.1:x"}, "host:port expected"),
    ({"fd": "3"}, "not supported by this build"),
])
def test_bad_socket_options_are_one_line_errors(opts, message):
    loop = MainLoop(VirtualClock(None))
    with pytest.raises(NetdevError, match=message):
        make_socket_netdev("s", loop, opts)
