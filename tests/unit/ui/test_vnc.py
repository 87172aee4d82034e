"""The VNC server on the virt board's main loop, seen by real and by misbehaving clients.

The picture comes from virtio-gpu driven as a guest would (tests/unit/hw/gpu_driver.py);
the main loop runs in a thread, as pemu's does, while the clients run here.
"""
from __future__ import annotations

import os
import socket
import struct
import sys
import threading
import time

import pytest

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "hw"))
from gpu_driver import GpuDriver, show_pattern  # noqa: E402

from pemu.ui.display_options import VncAddress, listen  # noqa: E402
from pemu.ui.vnc import VncServer  # noqa: E402

W, H = 96, 64


class Board:
    """A virt board with virtio-gpu showing a pattern, a VNC server, the loop running."""

    def __init__(self) -> None:
        self.d = GpuDriver()
        self.pix = show_pattern(self.d, W, H)
        self.loop = self.d.machine.loop
        sock = listen(VncAddress(host="127.0.0.1", port=0))
        self.port = sock.getsockname()[1]
        self.server = VncServer(self.loop, self.d.console, sock)
        self.thread = threading.Thread(target=self.loop.run, daemon=True)
        self.thread.start()

    def rgb(self) -> bytes:
        out = bytearray(len(self.pix) // 4 * 3)
        out[0::3], out[1::3], out[2::3] = self.pix[2::4], self.pix[1::4], self.pix[0::4]
        return bytes(out)

    def on_loop(self, fn) -> None:
        """Run fn on the loop's thread (device work happens under the loop, as in pemu)."""
        done = threading.Event()

        def call() -> None:
            fn()
            done.set()
        self.loop.bh(call)
        assert done.wait(5)

    def stop(self) -> None:
        self.loop.quit(0)
        self.thread.join(5)
        self.server.close()


@pytest.fixture
def board():
    b = Board()
    yield b
    b.stop()


# --- a minimal RFB client for the protocol-level checks -------------------------------
def recv_exact(s: socket.socket, n: int) -> bytes:
    buf = b""
    while len(buf) < n:
        chunk = s.recv(n - len(buf))
        if not chunk:
            raise EOFError(f"closed after {len(buf)} of {n} bytes")
        buf += chunk
    return buf


def handshake(port: int, shared: int = 1) -> tuple[socket.socket, int, int]:
    s = socket.create_connection(("127.0.0.1", port), timeout=5)
    assert recv_exact(s, 12) == b"RFB 003.008\n"
    s.sendall(b"RFB 003.008\n")
    assert recv_exact(s, 2) == b"\x01\x01"  # one security type: None
    s.sendall(b"\x01")
    assert recv_exact(s, 4) == b"\0\0\0\0"  # SecurityResult OK
    s.sendall(bytes((shared,)))
    w, h = struct.unpack(">HH", recv_exact(s, 4))
    recv_exact(s, 16)
    (n,) = struct.unpack(">I", recv_exact(s, 4))
    assert recv_exact(s, n) == b"QEMU"
    return s, w, h


def read_update(s: socket.socket, bpp: int = 4) -> list[tuple[int, int, int, int, int, bytes]]:
    head = recv_exact(s, 4)
    assert head[0] == 0
    rects = []
    for _ in range(struct.unpack(">H", head[2:])[0]):
        x, y, w, h, enc = struct.unpack(">HHHHi", recv_exact(s, 12))
        data = recv_exact(s, w * h * bpp) if enc == 0 else b""
        rects.append((x, y, w, h, enc, data))
    return rects


def closed_by_server(s: socket.socket) -> bool:
    s.settimeout(5)
    try:
        while s.recv(4096):
            pass
    except ConnectionResetError:
        pass
    return True


# --- a real client ---------------------------------------------------------------------
def test_vncdotool_captures_the_guest_picture(board, tmp_path):
    api = pytest.importorskip("vncdotool.api", reason="vncdotool (pip) is not installed")
    from PIL import Image

    client = api.connect(f"127.0.0.1::{board.port}", timeout=10)
    try:
        client.captureScreen(str(tmp_path / "cap.png"))
    finally:
        client.disconnect()
    img = Image.open(tmp_path / "cap.png").convert("RGB")
    assert img.size == (W, H)
    assert img.tobytes() == board.rgb()


def test_raw_update_and_incremental_updates(board):
    s, w, h = handshake(board.port)
    assert (w, h) == (W, H)
    s.sendall(struct.pack(">BBHHHH", 3, 0, 0, 0, W, H))
    ((x, y, rw, rh, enc, data),) = read_update(s)
    assert (x, y, rw, rh, enc) == (0, 0, W, H, 0)
    assert data[0::4] == board.pix[0::4] and data[2::4] == board.pix[2::4]
    # Nothing changed: an incremental request waits. Then the guest redraws a corner.
    s.sendall(struct.pack(">BBHHHH", 3, 1, 0, 0, W, H))
    s.settimeout(0.3)
    with pytest.raises(socket.timeout):
        s.recv(1)
    s.settimeout(5)

    def redraw() -> None:
        board.d.mem.write_bytes(0x80100000, b"\xff\x00\x00\x00" * (W * 2))
        assert board.d.transfer(1, 0, 0, W, 2) == 0x1100
        assert board.d.flush(1, 0, 0, 4, 2) == 0x1100
    board.on_loop(redraw)
    ((x, y, rw, rh, enc, data),) = read_update(s)
    assert (x, y, rw, rh) == (0, 0, 4, 2)
    assert data == b"\xff\x00\x00\x00" * 8  # blue, in the default 32-bit format
    # A change outside an incremental request's area waits for a request that covers it.
    board.on_loop(lambda: board.d.flush(1, 90, 60, 2, 2))
    s.sendall(struct.pack(">BBHHHH", 3, 1, 0, 0, 10, 10))
    s.settimeout(0.3)
    with pytest.raises(socket.timeout):
        s.recv(1)
    s.settimeout(5)
    s.sendall(struct.pack(">BBHHHH", 3, 1, 0, 0, W, H))
    assert [r[:5] for r in read_update(s)] == [(90, 60, 2, 2, 0)]
    s.close()


def test_16bit_pixel_format(board):
    s, _, _ = handshake(board.port)
    # 16 bpp little-endian RGB565.
    s.sendall(bytes((0, 0, 0, 0)) + struct.pack(">BBBBHHHBBB3x", 16, 16, 0, 1, 31, 63, 31,
                                                 11, 5, 0))
    s.sendall(struct.pack(">BBHHHH", 3, 0, 0, 0, 2, 1))
    ((_, _, _, _, _, data),) = read_update(s, bpp=2)
    for i in range(2):
        b, g, r = board.pix[4 * i:4 * i + 3]
        want = ((r * 31 + 127) // 255) << 11 | ((g * 63 + 127) // 255) << 5 | (b * 31 + 127) // 255
        assert struct.unpack_from("<H", data, 2 * i)[0] == want
    s.close()


def test_desktop_size_on_mode_change(board):
    s, _, _ = handshake(board.port)
    s.sendall(struct.pack(">BxHi", 2, 1, -223))
    s.sendall(struct.pack(">BBHHHH", 3, 1, 0, 0, W, H))
    board.on_loop(lambda: board.d.set_scanout(0, 1, 0, 0, 32, 16))
    rects = read_update(s)
    assert rects[0][:5] == (0, 0, 32, 16, -223)
    assert rects[1][:5] == (0, 0, 32, 16, 0)
    s.close()


def test_two_clients_see_updates_and_exclusive_client_evicts_others(board):
    a, _, _ = handshake(board.port)
    b, _, _ = handshake(board.port)
    for s in (a, b):
        s.sendall(struct.pack(">BBHHHH", 3, 0, 0, 0, W, H))
        assert read_update(s)[0][:4] == (0, 0, W, H)
    c, _, _ = handshake(board.port, shared=0)
    assert closed_by_server(a) and closed_by_server(b)
    c.sendall(struct.pack(">BBHHHH", 3, 0, 0, 0, 1, 1))
    assert read_update(c)[0][:4] == (0, 0, 1, 1)
    c.close()


def test_key_and_pointer_events_reach_the_console_hooks(board):
    keys, pointers = [], []
    board.d.console.key_hooks.append(lambda k, d: keys.append((k, d)))
    board.d.console.pointer_hooks.append(lambda x, y, b: pointers.append((x, y, b)))
    s, _, _ = handshake(board.port)
    s.sendall(struct.pack(">BBxxI", 4, 1, 0x61) + struct.pack(">BBHH", 5, 1, 10, 20))
    s.sendall(struct.pack(">BxxxI", 6, 5) + b"hello")  # ClientCutText: dropped
    s.sendall(struct.pack(">BBHHHH", 3, 0, 0, 0, 1, 1))
    read_update(s)
    assert keys == [(0x61, True)] and pointers == [(10, 20, 1)]
    s.close()


# --- misbehaving clients -----------------------------------------------------------------
@pytest.mark.parametrize("after_handshake,payload", [
    (False, b"HELLO 003.008\n"),                       # not a version string
    (False, b"RFB 004.000\n"),                          # a major version that is not 3
    (True, b"\x09"),                                     # unknown message type
    (True, struct.pack(">BxxxI", 6, 0xFFFFFFFF)),        # ClientCutText of 4 GiB
    (True, bytes(4) + struct.pack(">BBBBHHHBBB3x", 24, 24, 0, 1, 255, 255, 255, 0, 8, 16)),
    (True, bytes(4) + struct.pack(">BBBBHHHBBB3x", 8, 8, 0, 0, 0, 0, 0, 0, 0, 0)),  # colour map
])
def test_malformed_input_closes_that_client_only(board, after_handshake, payload):
    good, _, _ = handshake(board.port)
    if after_handshake:
        bad, _, _ = handshake(board.port)
    else:
        bad = socket.create_connection(("127.0.0.1", board.port), timeout=5)
        recv_exact(bad, 12)
    bad.sendall(payload)
    assert closed_by_server(bad)
    # The other client and the machine's loop carry on.
    good.sendall(struct.pack(">BBHHHH", 3, 0, 0, 0, W, H))
    assert read_update(good)[0][:4] == (0, 0, W, H)
    assert board.thread.is_alive()
    good.close()


def test_truncated_messages_and_a_vanishing_client(board):
    s, _, _ = handshake(board.port)
    s.sendall(b"\x03\x00\x00")  # half a FramebufferUpdateRequest, then gone
    s.close()
    t = socket.create_connection(("127.0.0.1", board.port), timeout=5)
    t.close()  # before even reading the version
    time.sleep(0.1)
    good, _, _ = handshake(board.port)
    good.sendall(struct.pack(">BBHHHH", 3, 0, 0, 0, 1, 1))
    assert read_update(good)[0][:4] == (0, 0, 1, 1)
    good.close()
    deadline = time.time() + 5
    while len(board.server.clients) > 0 and time.time() < deadline:
        time.sleep(0.05)
    assert board.server.clients == []


def test_slow_client_does_not_stall_the_loop(board):
    s, _, _ = handshake(board.port)
    s.sendall(struct.pack(">BxHi", 2, 1, -223))  # DesktopSize: it follows the new mode
    board.on_loop(lambda: board.d.console.resize(2560, 1600))  # 16 MiB: more than sockets buffer
    frame = 2560 * 1600 * 4
    for _ in range(20):  # many full-screen requests, none read
        s.sendall(struct.pack(">BBHHHH", 3, 0, 0, 0, 2560, 1600))
    time.sleep(0.3)
    ticks = []
    for _ in range(3):
        board.on_loop(lambda: ticks.append(1))  # the loop still turns
    assert len(ticks) == 3
    client = board.server.clients[0]
    assert 0 < len(client.outbuf) <= frame + 64  # blocked, holding at most one frame
    other, _, _ = handshake(board.port)  # and another client is served meanwhile
    other.sendall(struct.pack(">BBHHHH", 3, 0, 0, 0, 2, 2))
    assert read_update(other)[0][:4] == (0, 0, 2, 2)
    # Once the slow client reads, it gets whole frames (requests that queued up while
    # it was busy are answered together, as RFC 6143 7.5.3 allows).
    s.settimeout(10)
    assert [r[:5] for r in read_update(s)] == [(0, 0, 2560, 1600, -223), (0, 0, 2560, 1600, 0)]
    s.sendall(struct.pack(">BBHHHH", 3, 0, 0, 0, 8, 8))
    assert [r[:5] for r in read_update(s)] == [(0, 0, 8, 8, 0)]
    s.close()
    other.close()


def test_rfb_33_client(board):
    s = socket.create_connection(("127.0.0.1", board.port), timeout=5)
    recv_exact(s, 12)
    s.sendall(b"RFB 003.003\n")
    assert recv_exact(s, 4) == b"\0\0\0\1"  # the server chose None
    s.sendall(b"\x01")
    assert struct.unpack(">HH", recv_exact(s, 4)) == (W, H)
    s.close()


def test_rfb_37_client_and_a_refused_security_type(board):
    s = socket.create_connection(("127.0.0.1", board.port), timeout=5)
    recv_exact(s, 12)
    s.sendall(b"RFB 003.007\n")
    assert recv_exact(s, 2) == b"\x01\x01"
    s.sendall(b"\x01\x01")  # None, then ClientInit: 3.7 has no SecurityResult for None
    assert struct.unpack(">HH", recv_exact(s, 4)) == (W, H)
    s.close()
    t = socket.create_connection(("127.0.0.1", board.port), timeout=5)
    recv_exact(t, 12)
    t.sendall(b"RFB 003.008\n")
    recv_exact(t, 2)
    t.sendall(b"\x02")  # VNC authentication: not offered
    status, n = struct.unpack(">II", recv_exact(t, 8))
    assert status == 1 and recv_exact(t, n) == b"security type not offered"
    assert closed_by_server(t)


def test_random_client_messages_never_break_the_server(board):
    """Protocol fuzzing: random bytes after a valid handshake close (at most) that client."""
    import random

    rng = random.Random(15)
    good, _, _ = handshake(board.port)
    for _ in range(40):
        bad, _, _ = handshake(board.port)
        mtype = rng.choice([0, 2, 3, 4, 5, 6, rng.randrange(256)])
        bad.sendall(bytes((mtype,)) + rng.randbytes(rng.randrange(40)))
        bad.close()
    time.sleep(0.2)
    assert board.thread.is_alive()
    good.sendall(struct.pack(">BBHHHH", 3, 0, 0, 0, W, H))
    assert read_update(good)[0][:4] == (0, 0, W, H)
    good.close()


def test_query_vnc(board):
    from pemu.monitor import commands

    machine = board.d.machine
    assert commands.execute(machine, "query-vnc") == {"enabled": False}
    machine.vnc = board.server
    s, _, _ = handshake(board.port)
    got: list[dict] = []
    board.on_loop(lambda: got.append(commands.execute(machine, "query-vnc")))
    info = got[0]
    assert info["enabled"] and info["auth"] == "none"
    assert (info["host"], info["service"], info["family"]) == ("127.0.0.1", str(board.port),
                                                               "ipv4")
    assert info["clients"] == [{"host": "127.0.0.1", "service": str(s.getsockname()[1]),
                                "family": "ipv4", "websocket": False}]
    s.close()


def test_vnc_keys_and_pointer_reach_virtio_input_devices(board):
    from pemu.hw.input.virtio_keyboard import VirtioKeyboard
    from pemu.hw.input.virtio_tablet import VirtioTablet

    kbd, tablet = VirtioKeyboard(board.d.console), VirtioTablet(board.d.console)
    board.on_loop(lambda: (board.d.machine.virtio[1].plug(kbd),
                           board.d.machine.virtio[2].plug(tablet)))
    s, _, _ = handshake(board.port)
    s.sendall(struct.pack(">BBxxI", 4, 1, ord("q")) + struct.pack(">BBHH", 5, 4, W - 1, 0))
    s.sendall(struct.pack(">BBHHHH", 3, 0, 0, 0, 1, 1))
    read_update(s)
    # No guest driver has set up the event queues: the events wait there, in order.
    assert [struct.unpack("<HHI", e) for e in kbd.pending] == [(1, 16, 1), (0, 0, 0)]
    assert [struct.unpack("<HHI", e) for e in tablet.pending] == [
        (3, 0, 0x7FFF), (3, 1, 0), (1, 0x111, 1), (0, 0, 0)]  # right button
    s.close()
