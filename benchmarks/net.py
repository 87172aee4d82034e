"""Benchmark: TCP through user networking (libslirp), pemu against qemu-system-riscv64,
on the bundled guest, in one run (not run by the tests).

For each emulator: boot with ``-netdev user -device virtio-net-device``, take a
DHCP lease, then time in the guest (busybox) a download of ``--mib`` MiB from an
HTTP server on the host (host -> guest) and an upload of the same size with
``nc`` to a TCP sink on the host (guest -> host). Prints MiB/s and pemu/QEMU
ratios. Usage: ``python benchmarks/net.py [--mib N]``.
"""
from __future__ import annotations

import argparse
import http.server
import os
import re
import socket
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tests", "functional"))
from guest import PEMU_RISCV, Console  # noqa: E402
from test_net import DHCP_SCRIPT, INITRD, KERNEL, PROMPT  # noqa: E402


def http_server(directory: str) -> int:
    class Quiet(http.server.SimpleHTTPRequestHandler):
        def __init__(self, *a, **kw):
            super().__init__(*a, directory=directory, **kw)

        def log_message(self, *args):
            pass

    srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Quiet)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    return srv.server_address[1]


def tcp_sink() -> tuple[int, list[tuple[int, float]]]:
    """A TCP server counting bytes per connection: [(bytes, seconds)]."""
    ls = socket.socket()
    ls.bind(("127.0.0.1", 0))
    ls.listen(4)
    results: list[tuple[int, float]] = []

    def serve() -> None:
        while True:
            conn, _ = ls.accept()
            n, t0 = 0, None
            while data := conn.recv(1 << 16):
                t0 = t0 or time.perf_counter()
                n += len(data)
            results.append((n, time.perf_counter() - (t0 or time.perf_counter())))
            conn.close()

    threading.Thread(target=serve, daemon=True).start()
    return ls.getsockname()[1], results


def measure(name: str, argv: list[str], mib: int, hport: int, sport: int,
            sink: list[tuple[int, float]]) -> dict[str, float]:
    t0 = time.perf_counter()
    con = Console(argv)
    try:
        try:
            con.expect(PROMPT, 1800)
        except AssertionError:
            raise SystemExit(f"{name}: no prompt (exit status {con.proc.poll()}): "
                             f"{con.out[-300:].decode(errors='replace')}") from None
        boot = time.perf_counter() - t0
        con.run(f"echo '{DHCP_SCRIPT}' > /tmp/dhcp.sh; chmod +x /tmp/dhcp.sh")
        t1 = time.perf_counter()
        out = con.run("ip link set eth0 up; udhcpc -i eth0 -n -q -f -s /tmp/dhcp.sh", timeout=300)
        dhcp = time.perf_counter() - t1
        assert "lease of 10.0.2.15" in out, out
        t2 = time.perf_counter()
        out = con.run(f"wget -q -O /dev/null http://10.0.2.2:{hport}/blob && echo fetched",
                      timeout=3600)
        down = time.perf_counter() - t2
        assert "fetched" in out, out
        t3 = time.perf_counter()
        con.run(f"dd if=/dev/zero bs=65536 count={mib * 16} 2>/dev/null | nc 10.0.2.2 {sport}",
                timeout=3600)
        up = time.perf_counter() - t3
        deadline = time.time() + 30
        while not sink and time.time() < deadline:
            time.sleep(0.1)
        got = sink.pop()[0] if sink else 0
        assert got == mib << 20, f"the sink got {got} bytes"
        con.send("poweroff -f\n")
        con.wait(60)
    finally:
        con.kill()
    r = {"boot s": boot, "dhcp s": dhcp, "down MiB/s": mib / down, "up MiB/s": mib / up}
    print(f"{name:5} " + "  ".join(f"{k} {v:8.2f}" for k, v in r.items()), flush=True)
    return r


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--mib", type=int, default=8)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as d:
        with open(os.path.join(d, "blob"), "wb") as f:
            f.write(os.urandom(args.mib << 20))
        hport = http_server(d)
        sport, sink = tcp_sink()
        net = ["-netdev", "user,id=n0", "-device", "virtio-net-device,netdev=n0"]
        q = measure("qemu", ["qemu-system-riscv64", "-M", "virt", "-nographic", "-kernel",
                             KERNEL, "-initrd", INITRD, "-append", "console=ttyS0", *net],
                    args.mib, hport, sport, sink)
        p = measure("pemu", PEMU_RISCV + ["-nographic", *net], args.mib, hport, sport, sink)
    print("pemu/qemu: " + "  ".join(
        f"{k.split()[0]} {p[k] / q[k]:.3f}" for k in p if re.search("MiB/s", k)))


if __name__ == "__main__":
    main()
