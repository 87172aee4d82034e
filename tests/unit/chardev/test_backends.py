"""Socket, file, pipe, null and pty back ends driven by a real main loop."""
from __future__ import annotations

import os
import socket
import stat
import threading
import time

from pemu.chardev import create_chardev
from pemu.core.clock import VirtualClock
from pemu.core.main_loop import MainLoop


def pump(loop: MainLoop, cond, timeout: float = 5.0) -> None:
    """Turn the loop by hand until cond() holds."""
    deadline = time.monotonic() + timeout
    while not cond():
        assert time.monotonic() < deadline, "timed out"
        while loop._bhs:
            loop._bhs.popleft()()
        for key, _ in loop.sel.select(0.05):
            key.data()


def test_unix_server_owner_only_and_one_peer_at_a_time(tmp_path):
    loop = MainLoop(VirtualClock())
    path = str(tmp_path / "s.sock")
    chr_ = create_chardev(f"unix:{path},server=on,wait=off", loop, "m")
    assert stat.S_IMODE(os.stat(path).st_mode) & 0o077 == 0
    got, events = bytearray(), []
    chr_.attach(got.extend, None, events.append)
    assert chr_.describe() == f"disconnected:unix:{path},server=on"
    a = socket.socket(socket.AF_UNIX)
    a.connect(path)
    pump(loop, lambda: events == ["opened"])
    a.sendall(b"hello")
    pump(loop, lambda: bytes(got) == b"hello")
    chr_.write(b"back")
    assert a.recv(10) == b"back"
    b = socket.socket(socket.AF_UNIX)
    b.connect(path)  # waits in the backlog
    a.close()
    pump(loop, lambda: events == ["opened", "closed", "opened"])
    b.sendall(b"2")
    pump(loop, lambda: bytes(got) == b"hello2")
    chr_.close()
    assert not os.path.exists(path)


def test_tcp_client_with_reconnect():
    loop = MainLoop(VirtualClock())
    server = socket.create_server(("127.0.0.1", 0))
    port = server.getsockname()[1]
    server.close()  # nobody listens yet: reconnect keeps trying
    chr_ = create_chardev(f"socket,id=c,host=127.0.0.1,port={port},reconnect=1", loop)
    events = []
    chr_.attach(lambda d: None, None, events.append)
    server = socket.create_server(("127.0.0.1", port))
    accepted = []
    threading.Thread(target=lambda: accepted.append(server.accept()[0]), daemon=True).start()
    pump(loop, lambda: "opened" in events, timeout=10)
    chr_.write(b"hi")
    for _ in range(50):
        if accepted:
            break
        time.sleep(0.05)
    assert accepted[0].recv(10) == b"hi"
    chr_.close()
    server.close()


def test_client_without_reconnect_fails_like_qemu(tmp_path):
    loop = MainLoop(VirtualClock())
    try:
        create_chardev(f"socket,id=c,path={tmp_path}/none", loop)
    except ValueError as e:
        assert str(e) == f"Failed to connect to '{tmp_path}/none': No such file or directory"
    else:
        raise AssertionError("no error")


def test_file_backend(tmp_path):
    loop = MainLoop(VirtualClock())
    out = tmp_path / "out.txt"
    chr_ = create_chardev(f"file:{out}", loop, "f")
    chr_.write(b"console text\n")
    chr_.close()
    assert out.read_bytes() == b"console text\n"
    try:
        create_chardev("file:/nonexistent/dir/x", loop, "f")
    except ValueError as e:
        assert str(e) == "Could not open '/nonexistent/dir/x': No such file or directory"


def test_pipe_backend(tmp_path):
    loop = MainLoop(VirtualClock())
    base = str(tmp_path / "p")
    os.mkfifo(base + ".in")
    os.mkfifo(base + ".out")
    chr_ = create_chardev(f"pipe:{base}", loop, "p")
    got = bytearray()
    chr_.attach(got.extend)
    fd_in = os.open(base + ".in", os.O_WRONLY)
    os.write(fd_in, b"abc")
    pump(loop, lambda: bytes(got) == b"abc")
    fd_out = os.open(base + ".out", os.O_RDONLY | os.O_NONBLOCK)
    chr_.write(b"xyz")
    assert os.read(fd_out, 10) == b"xyz"
    for fd in (fd_in, fd_out):
        os.close(fd)
    chr_.close()


def test_pty_backend(capsys):
    loop = MainLoop(VirtualClock())
    chr_ = create_chardev("pty", loop, "serial0")
    assert "char device redirected to /dev/pts/" in capsys.readouterr().err
    name = chr_.describe().removeprefix("pty:")
    fd = os.open(name, os.O_RDWR | os.O_NOCTTY)
    got = bytearray()
    chr_.attach(got.extend)
    os.write(fd, b"typed")
    pump(loop, lambda: bytes(got) == b"typed")
    chr_.write(b"shown")
    time.sleep(0.1)
    assert os.read(fd, 10) == b"shown"
    os.close(fd)
    chr_.close()
