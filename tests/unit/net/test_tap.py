"""-netdev tap with the host kernel as the peer, inside a network namespace the test
creates: pemu's tap netdev asks the kernel (ARP) for the address the test gave the
TAP interface, and the kernel's answer comes back through it. No guest needed.
Skipped where namespaces or TAP devices cannot be created (not root, no /dev/net/tun).
"""
from __future__ import annotations

import os
import shutil
import socket
import struct
import subprocess
import sys
import threading
import time
import uuid

import pytest

NS_ADDR, OUR_ADDR = "10.9.0.1", "10.9.0.2"
OUR_MAC = bytes.fromhex("525400123456")


def arp_request() -> bytes:
    return (b"\xff" * 6 + OUR_MAC + b"\x08\x06" + struct.pack(">HHBBH", 1, 0x0800, 6, 4, 1)
            + OUR_MAC + socket.inet_aton(OUR_ADDR) + bytes(6) + socket.inet_aton(NS_ADDR))


def child(ifname: str) -> int:
    """Runs inside the namespace: a tap netdev on a main loop, one ARP exchange."""
    sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", ".."))
    from pemu.core.clock import VirtualClock
    from pemu.core.main_loop import MainLoop
    from pemu.net.client import NetClient
    from pemu.net.tap import TapNetdev

    class Box(NetClient):
        got: list[bytes] = []

        def receive(self, data: bytes) -> bool:
            self.got.append(data)
            return True

    loop = MainLoop(VirtualClock(None))
    tap = TapNetdev("t0", loop, ifname=ifname, script="no", downscript="no")
    box = Box("box")
    box.connect(tap)
    subprocess.run(["ip", "addr", "add", f"{NS_ADDR}/24", "dev", ifname], check=True)
    subprocess.run(["ip", "link", "set", ifname, "up"], check=True)
    threading.Thread(target=loop.run, daemon=True).start()
    deadline = time.monotonic() + 10
    reply = None
    while reply is None and time.monotonic() < deadline:
        loop.bh(lambda: box.send(arp_request()))
        time.sleep(0.3)
        for f in list(box.got):
            if f[12:14] == b"\x08\x06" and f[20:22] == b"\x00\x02":
                reply = f
    if reply is None:
        print("no ARP reply from the kernel", file=sys.stderr)
        return 1
    sender_ip = socket.inet_ntoa(reply[28:32])
    print(f"reply {sender_ip} to {reply[0:6].hex()} info {tap.info()}")
    loop.bh(lambda: (tap.cleanup(), loop.quit(0)))
    return 0


def test_tap_in_a_network_namespace():
    if os.geteuid() != 0 or shutil.which("ip") is None:
        pytest.skip("needs root and iproute2 to create a network namespace and a TAP device")
    if not os.path.exists("/dev/net/tun"):
        pytest.skip("/dev/net/tun is missing (no TUN/TAP in this kernel or container)")
    ns = f"pemu-{uuid.uuid4().hex[:8]}"
    r = subprocess.run(["ip", "netns", "add", ns], capture_output=True, text=True)
    if r.returncode != 0:
        pytest.skip(f"cannot create a network namespace: {r.stderr.strip()}")
    try:
        r = subprocess.run(["ip", "netns", "exec", ns, sys.executable, __file__, "pemutap0"],
                           capture_output=True, text=True, timeout=60)
        if "could not configure /dev/net/tun" in r.stderr:
            pytest.skip(f"TAP devices cannot be created here: {r.stderr.strip()}")
        assert r.returncode == 0, r.stderr
        assert f"reply {NS_ADDR} to {OUR_MAC.hex()}" in r.stdout
        assert "info ifname=pemutap0,script=no,downscript=no" in r.stdout
    finally:
        subprocess.run(["ip", "netns", "del", ns], capture_output=True)


def test_tap_errors_are_one_line():
    from pemu.core.clock import VirtualClock
    from pemu.core.main_loop import MainLoop
    from pemu.net.tap import TapNetdev
    from pemu.net.user import NetdevError

    loop = MainLoop(VirtualClock(None))
    with pytest.raises(NetdevError, match="too long"):
        TapNetdev("t", loop, ifname="x" * 20)


if __name__ == "__main__":
    sys.exit(child(sys.argv[1]))
