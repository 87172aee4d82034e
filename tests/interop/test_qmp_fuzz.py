"""10^4 malformed or random QMP messages on one socket; the machine and a second monitor carry on.

Also: a huge line drops only its own connection, and a peer that hangs up in
the middle of a command leaves the monitor serving the next peer.
"""
from __future__ import annotations

import json
import random
import socket
import time

import pytest
from qmp_peers import Peer

N_MESSAGES = 10_000


def _fragments(rng: random.Random) -> bytes:
    kind = rng.randrange(10)
    if kind == 0:
        return bytes(rng.randrange(256) for _ in range(rng.randrange(1, 40)))
    if kind == 1:
        return b"{" * rng.randrange(1, 50) + b"}" * rng.randrange(0, 50)
    if kind == 2:
        return json.dumps({"execute": rng.choice(["query-status", "nope", "cont", 1, None]),
                           "arguments": rng.choice([{}, [], {"x": 1}, "s", 5])}).encode()
    if kind == 3:
        return json.dumps({"execute": "pmemsave",
                           "arguments": {"val": rng.choice([1.5, "x", -1, 2 ** 70]),
                                         "size": rng.choice([None, True, 1]),
                                         "filename": 3}}).encode()
    if kind == 4:
        return json.dumps([rng.random(), {"a": "b"}]).encode()
    if kind == 5:
        return b'"unterminated \\'
    if kind == 6:
        return json.dumps({rng.choice(["id", "exec-oob", "control", "foo"]): rng.random()}).encode()
    if kind == 7:
        return b"garbage true false null 123 ] } ,"
    if kind == 8:
        return json.dumps({"execute": "human-monitor-command",
                           "arguments": {"command-line": rng.choice(
                               [f"x /{rng.randrange(9)}xw 0", "xp /z", "info", "(", "p 1/0"])}}
                          ).encode()
    return json.dumps({"execute": "query-status", "id": rng.random()}).encode()


def _query_status(path: str) -> dict:
    s = socket.socket(socket.AF_UNIX)
    s.settimeout(20)
    s.connect(path)
    f = s.makefile("rwb")
    assert b"QMP" in f.readline()
    f.write(b'{"execute":"qmp_capabilities"}{"execute":"query-status"}')
    f.flush()
    replies = []
    while len(replies) < 2:
        msg = json.loads(f.readline())
        if "event" not in msg:
            replies.append(msg)
    s.close()
    return replies[1]["return"]


@pytest.mark.parametrize("target", ["fake", "pemu"])
def test_fuzz_then_other_monitor_answers(target):
    peer = Peer(target, sockets=2, stopped=False)
    try:
        rng = random.Random(1234)
        s = socket.socket(socket.AF_UNIX)
        s.connect(peer.sockets[0])
        s.settimeout(30)
        s.recv(4096)
        s.sendall(b'{"execute":"qmp_capabilities"}\n')
        for i in range(N_MESSAGES):
            s.sendall(_fragments(rng) + b"\n")
            if i % 500 == 0:  # drain replies so the peer never blocks on a full socket
                s.setblocking(False)
                try:
                    while s.recv(1 << 20):
                        pass
                except (BlockingIOError, ConnectionError):
                    pass
                s.setblocking(True)
                s.settimeout(30)
        s.close()
        status = _query_status(peer.sockets[1])
        assert status["status"] == "running" and status["running"] is True
        assert peer.proc.poll() is None
    finally:
        peer.stop()


@pytest.mark.parametrize("target", ["fake"])
def test_huge_line_drops_only_that_peer(target):
    peer = Peer(target, sockets=2)
    try:
        s = socket.socket(socket.AF_UNIX)
        s.connect(peer.sockets[0])
        s.recv(4096)
        s.settimeout(30)
        chunk = b'{"execute": "' + b"a" * (1 << 20)
        try:
            for _ in range(40):
                s.sendall(chunk)
        except (BrokenPipeError, ConnectionResetError):
            pass
        deadline = time.monotonic() + 20
        closed = False
        while time.monotonic() < deadline:
            try:
                if s.recv(4096) == b"":
                    closed = True
                    break
            except ConnectionResetError:
                closed = True
                break
        assert closed
        assert _query_status(peer.sockets[1])["status"] == "prelaunch"
        # The dropped monitor serves a new peer with a fresh greeting.
        assert _query_status(peer.sockets[0])["status"] == "prelaunch"
    finally:
        peer.stop()


@pytest.mark.parametrize("target", ["fake", "qemu"])
def test_disconnect_mid_command(target):
    peer = Peer(target)
    try:
        for _ in range(3):
            s = socket.socket(socket.AF_UNIX)
            s.connect(peer.sockets[0])
            s.recv(4096)
            s.sendall(b'{"execute":"qmp_capabilities"}{"execute":"query-st')
            s.close()
        assert _query_status(peer.sockets[0])["status"] == "prelaunch"
    finally:
        peer.stop()
