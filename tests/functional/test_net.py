"""User networking on the bundled guest, one boot per emulator, many checks.

The same test runs on pemu and on Debian's qemu-system-riscv64 booting the
same kernel and initramfs (the peer proves the test). pemu uses the
``-nic user,hostfwd=...`` shorthand; QEMU 7.2 creates no NIC for -nic on
riscv virt, so it gets the equivalent ``-netdev user -device virtio-net-device``.
From one boot: DHCP gives 10.0.2.15 (busybox udhcpc with a small script
that applies the lease), the guest fetches a file from an HTTP server the
test runs on the host's 127.0.0.1 through the gateway 10.0.2.2, `ping`
of the gateway answers, a connection
to 10.0.2.100 reaches a command through guestfwd, the host
fetches a page from busybox httpd in the guest through the host forward,
a second NIC on `-netdev socket,listen=` is the LAN cable to a QEMU guest
(`-netdev socket,connect=`) and the two guests ping each other, and the
filter-dump pcap holds the DHCP exchange and the guest's HTTP GET
(read by tshark when installed, and by a small pcap reader always).
"""
from __future__ import annotations

import http.server
import os
import re
import shutil
import socket
import struct
import subprocess
import threading
import urllib.request

import pytest
from guest import PEMU_RISCV, Console, qemu_available

PROMPT = r"pemu:[^\n]*# "
FIRMWARE = os.path.join(os.path.dirname(__file__), "..", "..", "pemu", "firmware")
KERNEL = os.path.join(FIRMWARE, "linux-riscv64-Image")
INITRD = os.path.join(FIRMWARE, "initramfs-riscv64.cpio")
TOKEN = "pemu-net-host-token-4711"
GUEST_TOKEN = "served-by-the-guest-0815"
# udhcpc runs this with the lease in its environment; it applies it.
LAN_MAC = "52:54:00:00:00:99"
CMD_TOKEN = "from-a-guestfwd-command"
QEMU_GUEST = ["qemu-system-riscv64", "-M", "virt", "-nographic", "-kernel", KERNEL, "-initrd",
              INITRD, "-append", "console=ttyS0"]
DHCP_SCRIPT = ('[ "$1" = bound ] && ip addr add $ip/$mask dev $interface '
               '&& ip route add default via $router; true')


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _slirp_missing() -> str | None:
    from pemu.net import libslirp
    return None if libslirp.load() is not None else libslirp.load_error()


@pytest.fixture
def http_server(tmp_path):
    (tmp_path / "hello.txt").write_text(TOKEN + "\n")

    class Handler(http.server.SimpleHTTPRequestHandler):
        def __init__(self, *a, **kw):
            super().__init__(*a, directory=str(tmp_path), **kw)

        def log_message(self, *args):
            pass

    srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=srv.serve_forever, daemon=True)
    thread.start()
    yield srv.server_address[1]
    srv.shutdown()
    srv.server_close()


def pcap_packets(path: str) -> list[bytes]:
    """The packets of a classic little-endian pcap file."""
    data = open(path, "rb").read()
    magic, major, minor, _, _, snaplen, linktype = struct.unpack_from("<IHHiIII", data)
    assert (magic, major, minor, linktype) == (0xA1B2C3D4, 2, 4, 1)
    out, pos = [], 24
    while pos + 16 <= len(data):
        _, _, incl, orig = struct.unpack_from("<IIII", data, pos)
        assert incl <= orig and incl <= snaplen
        out.append(data[pos + 16:pos + 16 + incl])
        pos += 16 + incl
    assert pos == len(data)
    return out


@pytest.mark.parametrize("emulator", ["pemu", "qemu"])
def test_user_networking(emulator, http_server, tmp_path):
    missing = _slirp_missing()
    if missing:
        pytest.skip(missing)
    if emulator == "qemu" and not qemu_available():
        pytest.skip("qemu-system-riscv64 (Debian qemu-system-misc) is not installed")
    hport, sport = _free_port(), _free_port()
    pcap = str(tmp_path / "net.pcap")
    fwd = f"hostfwd=tcp:127.0.0.1:{hport}-:8080,guestfwd=tcp:10.0.2.100:4321-cmd:echo {CMD_TOKEN}"
    lan = f"socket,listen=127.0.0.1:{sport}"
    if emulator == "pemu":
        argv = PEMU_RISCV + ["-nographic", "-nic", f"user,{fwd}", "-nic", f"{lan},mac={LAN_MAC}",
                             "-object", f"filter-dump,id=f0,netdev=__org.qemu.nic0,file={pcap}"]
    else:
        argv = QEMU_GUEST + ["-netdev", f"user,id=n0,{fwd}",
                             "-device", "virtio-net-device,netdev=n0", "-netdev", f"{lan},id=s0",
                             "-device", f"virtio-net-device,netdev=s0,mac={LAN_MAC}",
                             "-object", f"filter-dump,id=f0,netdev=n0,file={pcap}"]
    con = Console(argv)
    peer = None
    try:
        con.expect(PROMPT, 600)
        assert "52:54:00:12:34:56" in con.run("ip link show eth0")
        # the driver took MAC, MRG_RXBUF, STATUS, CTRL_VQ, CTRL_RX, CTRL_MAC_ADDR (5.1.3)
        feats = con.run("cat /sys/class/net/eth0/device/features")
        assert all(feats[bit] == "1" for bit in (5, 15, 16, 17, 18, 23)), feats
        con.run(f"echo '{DHCP_SCRIPT}' > /tmp/dhcp.sh; chmod +x /tmp/dhcp.sh")
        out = con.run("ip link set eth0 up; udhcpc -i eth0 -n -q -f -t 5 -T 3 -s /tmp/dhcp.sh",
                      timeout=120)
        assert "lease of 10.0.2.15 obtained from 10.0.2.2" in out
        assert "inet 10.0.2.15/24" in con.run("ip addr show eth0")
        assert "default via 10.0.2.2" in con.run("ip route")
        # slirp answers pings to its own gateway address itself (no host ICMP socket)
        assert "1 packets received" in con.run("ping -c 1 -W 10 10.0.2.2", timeout=60)
        # guest -> host through NAT: the gateway 10.0.2.2 is the host's loopback
        out = con.run(f"wget -q -O - http://10.0.2.2:{http_server}/hello.txt", timeout=120)
        assert TOKEN in out
        # guest -> a command on the host through guestfwd (libslirp runs it)
        assert CMD_TOKEN in con.run("sleep 5 | nc 10.0.2.100 4321", timeout=120)
        # host -> guest through the host forward to busybox httpd
        con.run(f"mkdir -p /tmp/www; echo {GUEST_TOKEN} > /tmp/www/index.html; "
                "httpd -p 8080 -h /tmp/www")
        with urllib.request.urlopen(f"http://127.0.0.1:{hport}/index.html", timeout=120) as r:
            assert r.read().decode().strip() == GUEST_TOKEN
        # a LAN cable (-netdev socket, QEMU's framing) to a QEMU guest: they ping each other
        assert LAN_MAC in con.run("ip link show eth1")
        con.run("ip link set eth1 up; ip addr add 10.9.0.1/24 dev eth1")
        if qemu_available():
            peer = Console(QEMU_GUEST + [
                "-netdev", f"socket,id=s0,connect=127.0.0.1:{sport}",
                "-device", "virtio-net-device,netdev=s0"])
            peer.expect(PROMPT, 300)
            peer.run("ip link set eth0 up; ip addr add 10.9.0.2/24 dev eth0")
            assert re.search(r"[1-3] packets received",
                             peer.run("ping -c 3 -W 20 10.9.0.1", timeout=120))
            assert re.search(r"[1-3] packets received",
                             con.run("ping -c 3 -W 20 10.9.0.2", timeout=120))
            peer.send("poweroff -f\n")
            assert peer.wait(60) == 0
        con.send("poweroff -f\n")
        assert con.wait(120) == 0
    finally:
        con.kill()
        if peer is not None:
            peer.kill()
    packets = pcap_packets(pcap)
    get = b"GET /hello.txt HTTP/1.1"
    assert any(get in p for p in packets), "the guest's HTTP GET is not in the pcap"
    assert any(GUEST_TOKEN.encode() in p for p in packets), "the guest's reply is not in the pcap"
    if shutil.which("tshark") is None:
        return  # the pcap reader above checked the file; tshark would add the dissection
    r = subprocess.run(["tshark", "-r", pcap, "-Y", "http.request or dhcp", "-T", "fields",
                        "-e", "http.request.uri", "-e", "dhcp.option.dhcp"],
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    fields = r.stdout.split()
    assert "/hello.txt" in fields and "/index.html" in fields
    assert {"1", "2", "3", "5"} <= set(fields), fields  # DISCOVER OFFER REQUEST ACK
