"""Where the gdbstub listens: -gdb's device forms (tcp:, unix:, chardev:, none),
HMP gdbserver, and -gdb/-s on the command line, over real sockets."""
from __future__ import annotations

import os
import socket
import subprocess
import sys
import time

import pytest

from pemu.chardev import create_chardev
from pemu.gdbstub import gdbserver_start
from pemu.gdbstub.packet import frame
from pemu.hw.riscv.virt import VirtMachine
from pemu.monitor.hmp import HmpSession

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(
    __file__)))))


@pytest.fixture
def machine():
    m = VirtMachine(ram_size=16 << 20, bios="none")
    yield m
    for chr_ in m.chardevs.values():
        chr_.close()


def pump(m: VirtMachine, done, timeout: float = 5.0) -> None:
    """Turn the main loop's fd handling until done() (no CPU runs)."""
    end = time.monotonic() + timeout
    while not done() and time.monotonic() < end:
        for key, _ in m.loop.sel.select(0.02):
            key.data()


def exchange(m: VirtMachine, sock: socket.socket, payload: bytes) -> bytes:
    sock.sendall(frame(payload))
    sock.setblocking(False)
    got = bytearray()

    def done() -> bool:
        try:
            got.extend(sock.recv(4096))
        except BlockingIOError:
            pass
        return b"#" in got[2:] and len(got) >= got.rindex(b"#") + 3
    pump(m, done)
    sock.setblocking(True)
    return bytes(got)


def test_tcp_server_stops_the_machine_when_gdb_attaches(machine) -> None:
    stub = gdbserver_start(machine, "tcp:127.0.0.1:0")
    chr_ = machine.chardevs["gdb"]
    assert stub is not None and chr_.describe().startswith("disconnected:tcp:127.0.0.1:")
    machine.loop.set_runstate("running")
    with socket.create_connection(("127.0.0.1", int(chr_.port))) as s:
        pump(machine, lambda: stub.connected)
        assert machine.loop.runstate == "paused"
        assert exchange(machine, s, b"?") == b"+" + frame(b"T05thread:1;")


def test_unix_and_chardev_devices(machine, tmp_path) -> None:
    path = str(tmp_path / "gdb.sock")
    stub = gdbserver_start(machine, f"unix:{path},server=on,wait=off")
    with socket.socket(socket.AF_UNIX) as s:
        s.connect(path)
        pump(machine, lambda: stub.connected)
        assert exchange(machine, s, b"qAttached").startswith(b"+$1#")
    machine.chardevs["g0"] = create_chardev(
        "socket,id=g0,host=127.0.0.1,port=0,server=on,wait=off", machine.loop)
    stub2 = gdbserver_start(machine, "chardev:g0")
    assert machine.gdbstub is stub2 and "gdb" not in machine.chardevs  # the old one is gone
    assert not os.path.exists(path)
    with socket.create_connection(("127.0.0.1", int(machine.chardevs["g0"].port))) as s:
        pump(machine, lambda: stub2.connected)
        assert exchange(machine, s, b"qC") == b"+" + frame(b"QC1")


def test_none_stops_serving_and_bad_devices_are_errors(machine) -> None:
    gdbserver_start(machine, "tcp:127.0.0.1:0")
    port = int(machine.chardevs["gdb"].port)
    assert gdbserver_start(machine, "none") is None
    assert machine.gdbstub is None and "gdb" not in machine.chardevs
    with pytest.raises(ConnectionRefusedError):
        socket.create_connection(("127.0.0.1", port), timeout=2)
    for bad in ("bogus", "chardev:nope", "tcp:127.0.0.1:notaport"):
        with pytest.raises(ValueError):
            gdbserver_start(machine, bad)


def test_hmp_gdbserver(machine) -> None:
    hmp = HmpSession(machine)
    assert hmp.run("gdbserver tcp:127.0.0.1:0") == \
        "Waiting for gdb connection on device 'tcp:127.0.0.1:0'\n"
    assert machine.gdbstub is not None
    assert hmp.run("gdbserver bogus") == "Could not open gdbserver on device 'bogus'\n"
    assert hmp.run("gdbserver none") == "Disabled gdbserver\n"
    assert machine.gdbstub is None


def _pemu(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "pemu.cli.system", "-bios", "none",
                           "-display", "none", "-serial", "null", "-monitor", "none", *args],
                          capture_output=True, text=True, timeout=60,
                          env=dict(os.environ, PYTHONPATH=ROOT))


def test_cli_refuses_a_device_it_cannot_open() -> None:
    r = _pemu("-gdb", "bogus")
    assert r.returncode == 1 and "Traceback" not in r.stderr
    assert r.stderr.splitlines() == [
        "pemu-system-riscv64: could not open gdbserver on device 'bogus': "
        "'bogus' is not a valid char driver"]
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen(1)
        r = _pemu("-gdb", f"tcp:127.0.0.1:{busy.getsockname()[1]}")
    assert r.returncode == 1 and len(r.stderr.splitlines()) == 1
