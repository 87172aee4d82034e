"""A QEMU guest on a pemu network: QEMU is the peer that proves the socket wire format.

pemu runs an idle machine (a two-instruction WFI loop, no guest OS) whose
legacy hub 0 joins `-net socket,listen=` and `-net user` (libslirp NAT with a
host forward). Debian's qemu-system-riscv64 boots the bundled guest with
`-netdev socket,connect=` to it. Every frame of the QEMU guest therefore
crosses QEMU's socket framing into pemu, pemu's hub and pemu's slirp: the
guest's DHCP lease, its HTTP fetch from the host through 10.0.2.2 and the
host's fetch from the guest through pemu's host forward all depend on it.
A filter-dump on pemu's user netdev records the exchange.
"""
from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request

import pytest
from guest import PEMU_RISCV, Console, qemu_available
from test_net import (
    DHCP_SCRIPT,
    GUEST_TOKEN,
    INITRD,
    KERNEL,
    PROMPT,
    TOKEN,
    _free_port,
    _slirp_missing,
    http_server,  # noqa: F401  (fixture)
    pcap_packets,
)

WFI_LOOP = bytes.fromhex("73005010" "6ff0dfff")  # wfi; j .-4


def _wait_listening(port: int, proc: subprocess.Popen, timeout: float = 60) -> None:
    """Wait until a socket listens on 127.0.0.1:port, without connecting to it (pemu's
    socket netdev takes one connection; QEMU's connect does not retry)."""
    want = f"0100007F:{port:04X}"
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        with open("/proc/net/tcp") as f:
            if any(line.split()[1] == want and line.split()[3] == "0A" for line in f):
                return
        if proc.poll() is not None:
            raise AssertionError(f"pemu exited: {proc.communicate()[1].decode()}")
        time.sleep(0.1)
    raise AssertionError(f"pemu never listened on port {port}")


@pytest.mark.skipif(not qemu_available(), reason="qemu-system-riscv64 (Debian "
                    "qemu-system-misc) is not installed")
def test_qemu_guest_on_pemu_socket_hub_and_user_nat(http_server, tmp_path):  # noqa: F811
    missing = _slirp_missing()
    if missing:
        pytest.skip(missing)
    idle = tmp_path / "idle.bin"
    idle.write_bytes(WFI_LOOP)
    sport, hport = _free_port(), _free_port()
    pcap = str(tmp_path / "hub.pcap")
    pemu = subprocess.Popen(
        PEMU_RISCV + ["-M", "virt", "-bios", "none", "-kernel", str(idle), "-display", "none",
                      "-monitor", "none", "-serial", "none",
                      "-net", f"socket,listen=127.0.0.1:{sport}",
                      "-net", f"user,name=u0,hostfwd=tcp:127.0.0.1:{hport}-:8080",
                      "-object", f"filter-dump,id=f0,netdev=u0,file={pcap}"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)})
    con = None
    try:
        _wait_listening(sport, pemu)
        con = Console(["qemu-system-riscv64", "-M", "virt", "-nographic", "-kernel", KERNEL,
                           "-initrd", INITRD, "-append", "console=ttyS0",
                           "-netdev", f"socket,id=s0,connect=127.0.0.1:{sport}",
                           "-device", "virtio-net-device,netdev=s0"])
        con.expect(PROMPT, 300)
        con.run(f"echo '{DHCP_SCRIPT}' > /tmp/dhcp.sh; chmod +x /tmp/dhcp.sh")
        out = con.run("ip link set eth0 up; udhcpc -i eth0 -n -q -f -t 5 -T 3 -s /tmp/dhcp.sh",
                      timeout=120)
        assert "lease of 10.0.2.15 obtained from 10.0.2.2" in out
        out = con.run(f"wget -q -O - http://10.0.2.2:{http_server}/hello.txt", timeout=120)
        assert TOKEN in out
        con.run(f"mkdir -p /tmp/www; echo {GUEST_TOKEN} > /tmp/www/index.html; "
                "httpd -p 8080 -h /tmp/www")
        with urllib.request.urlopen(f"http://127.0.0.1:{hport}/index.html", timeout=60) as r:
            assert r.read().decode().strip() == GUEST_TOKEN
        con.send("poweroff -f\n")
        assert con.wait(60) == 0
    finally:
        if con is not None:
            con.kill()
        pemu.terminate()
        _, err = pemu.communicate(timeout=30)
    assert b"Traceback" not in err, err.decode(errors="replace")
    assert b"hub 0 with no nics" in err  # QEMU's warning for the same hub
    packets = pcap_packets(pcap)
    assert any(b"GET /hello.txt HTTP/1.1" in p for p in packets)
    assert any(GUEST_TOKEN.encode() in p for p in packets)
    with socket.socket() as s:  # pemu released its listening port
        s.bind(("127.0.0.1", sport))
