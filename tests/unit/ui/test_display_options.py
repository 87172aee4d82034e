"""-vnc, -display vnc=, -device virtio-gpu-device and screendump through pemu-system-riscv64."""
from __future__ import annotations

import json
import os
import socket
import struct
import subprocess
import sys
import time

import pytest

from pemu.ui.display_options import VncAddress, parse_vnc

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(__file__))))


def pemu(*args: str, **kw) -> subprocess.Popen | subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": ROOT}
    cmd = [sys.executable, "-m", "pemu.cli.system", "-S", "-bios", "none", *args]
    if kw.pop("background", False):
        return subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    return subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=30)


@pytest.mark.parametrize("text,want", [
    (":0", VncAddress("", 5900)), ("127.0.0.1:3", VncAddress("127.0.0.1", 5903)),
    ("[::1]:1", VncAddress("::1", 5901)), ("unix:/tmp/s", VncAddress(unix_path="/tmp/s")),
    ("none", VncAddress(none=True)),
])
def test_vnc_addresses(text, want):
    assert parse_vnc(text, "-vnc " + text) == want


@pytest.mark.parametrize("args,message", [
    (["-vnc", ":0,password=on"], "-vnc :0,password=on: password: not supported by this build"),
    (["-vnc", ":1,websocket=5700"], "-vnc :1,websocket=5700: websocket: not supported"),
    (["-vnc", ":1,bogus=1"], "-vnc :1,bogus=1: Invalid parameter 'bogus'"),
    (["-vnc", "localhost"], "-vnc localhost: Failed to start VNC server: address 'localhost'"),
    (["-vnc", ":70000"], "out of range"),
    (["-display", "vnc=:1,share=ignore"], "-display vnc=:1,share=ignore: share: not supported"),
    (["-device", "virtio-gpu-device,xres=0"], "xres and yres must be between 1 and 16384"),
    (["-device", "virtio-gpu-device,max_hostmem=lots"], "'lots' is not a valid size"),
])
def test_refusals_are_one_line_and_status_1(args, message):
    r = pemu(*args)
    assert r.returncode == 1
    lines = r.stderr.splitlines()
    assert len(lines) == 1 and message in lines[0], r.stderr


def _connect(path: str) -> socket.socket:
    deadline = time.time() + 30
    while True:
        try:
            s = socket.socket(socket.AF_UNIX)
            s.settimeout(10)
            s.connect(path)
            return s
        except OSError:
            s.close()
            if time.time() > deadline:
                raise
            time.sleep(0.1)


def test_vnc_and_screendump_from_the_command_line(tmp_path):
    Image = pytest.importorskip("PIL.Image", reason="Pillow (pip) is not installed")
    vnc, qmp = str(tmp_path / "vnc.sock"), str(tmp_path / "qmp.sock")
    p = pemu("-display", f"vnc=unix:{vnc}", "-device", "virtio-gpu-device,xres=800,yres=600",
             "-device", "virtio-tablet-device", "-device", "virtio-keyboard-device",
             "-qmp", f"unix:{qmp},server,wait=off", background=True)
    try:
        s = _connect(vnc)
        assert s.recv(12) == b"RFB 003.008\n"
        s.sendall(b"RFB 003.008\n\x01\x01")
        data = b""
        while len(data) < 2 + 4 + 24 + 4:
            data += s.recv(100)
        assert struct.unpack(">HH", data[6:10]) == (640, 480)  # no mode set by a guest yet
        q = _connect(qmp).makefile("rw")
        q.readline()
        for cmd in ({"execute": "qmp_capabilities"},
                    {"execute": "screendump", "arguments": {"filename": str(tmp_path / "s.ppm")}}):
            q.write(json.dumps(cmd) + "\n")
            q.flush()
            assert json.loads(q.readline()) == {"return": {}}
        img = Image.open(tmp_path / "s.ppm")
        assert img.size == (640, 480) and img.getextrema() == ((0, 0), (0, 0), (0, 0))
        q.write('{"execute": "quit"}\n')
        q.flush()
        assert p.wait(20) == 0
        s.close()
    finally:
        if p.poll() is None:
            p.kill()
            p.wait()
    assert b"Traceback" not in p.stderr.read()
