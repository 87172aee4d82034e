"""-netdev user without a guest: libslirp answers ARP for the gateway, host forwards
are listening host sockets, and the one-time note about pings the host cannot send."""
from __future__ import annotations

import ipaddress
import socket
import struct

import pytest

from pemu.core.clock import VirtualClock
from pemu.core.main_loop import MainLoop
from pemu.net import libslirp, user
from pemu.net.client import NetClient
from pemu.net.user import HostFwd, NetdevError, UserConfig, UserNetdev

pytestmark = pytest.mark.skipif(libslirp.load() is None, reason=libslirp.load_error())
MAC = bytes.fromhex("525400123456")


class Box(NetClient):
    def __init__(self) -> None:
        super().__init__("guest")
        self.got: list[bytes] = []

    def receive(self, data: bytes) -> bool:
        self.got.append(data)
        return True


def ipv4_frame(dst: str, proto: int, payload: bytes) -> bytes:
    ip = struct.pack(">BBHHHBBH4s4s", 0x45, 0, 20 + len(payload), 1, 0, 64, proto, 0,
                     socket.inet_aton("10.0.2.15"), socket.inet_aton(dst))
    return bytes.fromhex("525500000002") + MAC + b"\x08\x00" + ip + payload


@pytest.fixture
def netdev():
    loop = MainLoop(VirtualClock(None))
    nd = UserNetdev("u0", loop, UserConfig(net=ipaddress.IPv4Network("192.168.76.0/24")))
    box = Box()
    box.connect(nd)
    yield nd, box
    nd.cleanup()


def test_gateway_answers_arp_at_the_configured_address(netdev):
    nd, box = netdev
    assert nd.host == "192.168.76.2" and nd.dhcpstart == "192.168.76.15"
    arp = (b"\xff" * 6 + MAC + b"\x08\x06" + struct.pack(">HHBBH", 1, 0x0800, 6, 4, 1) + MAC
           + socket.inet_aton("192.168.76.15") + bytes(6) + socket.inet_aton("192.168.76.2"))
    box.send(arp)
    (reply,) = box.got
    assert reply[:6] == MAC and reply[12:14] == b"\x08\x06" and reply[20:22] == b"\x00\x02"
    assert reply[28:32] == socket.inet_aton("192.168.76.2")


def test_hostfwd_listens_on_loopback_by_default(netdev):
    nd, _ = netdev
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    fwd = nd.add_hostfwd(f"tcp::{port}-:22")
    assert (fwd.host_addr, fwd.guest_addr, fwd.guest_port) == ("127.0.0.1", "192.168.76.15", 22)
    with socket.create_connection(("127.0.0.1", port), timeout=5):
        pass  # slirp accepted on the host side
    assert nd.remove_hostfwd(False, "127.0.0.1", port)


@pytest.mark.parametrize("rule, why", [
    ("icmp::1-:2", "Bad protocol name"), ("tcp::1:2", "Missing - separator"),
    ("tcp:1-:2", "Missing host port separator"), ("tcp::x-:2", "Bad host port"),
    ("tcp:300.1.1.1:1-:2", "Bad host address"), ("tcp::1-:0", "Bad guest port"),
])
def test_bad_hostfwd_rules(rule, why):
    with pytest.raises(NetdevError, match=why):
        HostFwd.parse(rule, "10.0.2.15")


@pytest.mark.parametrize("allowed", [True, False])
def test_pings_beyond_the_gateway_note_once_when_the_host_forbids(netdev, monkeypatch,
                                                                   capsys, allowed):
    nd, box = netdev
    monkeypatch.setattr(user, "ping_sockets_allowed", lambda: allowed)
    echo = b"\x08\x00\x00\x00\x00\x01\x00\x01" + b"ping"
    box.send(ipv4_frame("192.168.76.2", 1, echo))  # the gateway: slirp answers itself
    assert capsys.readouterr().err == ""
    box.send(ipv4_frame("198.51.100.7", 1, echo))
    box.send(ipv4_frame("198.51.100.8", 1, echo))
    err = capsys.readouterr().err
    assert err.count("ping_group_range") == (0 if allowed else 1)


def _ip_checksum(header: bytes) -> int:
    total = sum(struct.unpack(f">{len(header) // 2}H", header))
    while total >> 16:
        total = (total & 0xFFFF) + (total >> 16)
    return ~total & 0xFFFF


def test_tftp_serves_the_tftp_directory(tmp_path):
    (tmp_path / "boot.txt").write_bytes(b"served over tftp")
    loop = MainLoop(VirtualClock(None))
    nd = UserNetdev("u0", loop, UserConfig(tftp=str(tmp_path)))
    box = Box()
    box.connect(nd)
    try:
        guest, gw = socket.inet_aton("10.0.2.15"), socket.inet_aton("10.0.2.2")
        # an ARP request first: slirp learns the guest's MAC from it
        box.send(b"\xff" * 6 + MAC + b"\x08\x06" + struct.pack(">HHBBH", 1, 0x0800, 6, 4, 1)
                 + MAC + guest + bytes(6) + gw)
        slirp_mac = box.got[0][6:12]
        rrq = b"\x00\x01boot.txt\x00octet\x00"
        udp = struct.pack(">HHHH", 1234, 69, 8 + len(rrq), 0) + rrq
        ip = bytearray(struct.pack(">BBHHHBBH4s4s", 0x45, 0, 20 + len(udp), 7, 0, 64, 17, 0,
                                   guest, gw))
        ip[10:12] = struct.pack(">H", _ip_checksum(bytes(ip)))
        box.send(slirp_mac + MAC + b"\x08\x00" + bytes(ip) + udp)
        data = [f for f in box.got[1:] if f[12:14] == b"\x08\x00" and f[23] == 17]
        assert data, "no TFTP answer"
        payload = data[0][14 + 20 + 8:]
        assert payload[:4] == b"\x00\x03\x00\x01"  # DATA, block 1
        assert payload[4:] == b"served over tftp"
    finally:
        nd.cleanup()
