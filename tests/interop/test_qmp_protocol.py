"""QMP through the qemu.qmp client, against pemu and, as the oracle, QEMU itself."""
from __future__ import annotations

import asyncio
import os

import pytest

qmp = pytest.importorskip("qemu.qmp")
from qemu.qmp import ExecuteError, QMPClient  # noqa: E402
from qmp_peers import Peer, supported_targets  # noqa: E402

pytestmark = pytest.mark.parametrize("target", supported_targets())


def run(coro):
    return asyncio.run(asyncio.wait_for(coro, 60))


async def connect(path: str) -> QMPClient:
    client = QMPClient("test")
    await client.connect(path)
    return client


async def close(client: QMPClient) -> None:
    try:
        await client.disconnect()
    except (EOFError, ConnectionError):
        pass


@pytest.fixture
def peer(target):
    p = Peer(target)
    yield p
    p.stop()


def test_greeting_and_negotiation(peer):
    async def body():
        client = await connect(peer.sockets[0])
        greeting = client.greeting
        version = greeting.QMP.version
        assert set(version["qemu"]) == {"major", "minor", "micro"}
        assert isinstance(version["package"], str)
        assert "oob" in greeting.QMP.capabilities
        v = await client.execute("query-version")
        assert v == version
        await close(client)
    run(body())


def test_runstates_under_S(peer):
    async def body():
        client = await connect(peer.sockets[0])
        st = await client.execute("query-status")
        assert st == {"status": "prelaunch", "singlestep": False, "running": False}
        await client.execute("stop")  # no effect in prelaunch
        assert (await client.execute("query-status"))["status"] == "prelaunch"
        await client.execute("cont")
        st = await client.execute("query-status")
        assert st == {"status": "running", "singlestep": False, "running": True}
        await client.execute("stop")
        st = await client.execute("query-status")
        assert st == {"status": "paused", "singlestep": False, "running": False}
        await client.execute("cont")
        assert (await client.execute("query-status"))["running"] is True
        await close(client)
    run(body())


def test_events_stop_resume_reset(peer):
    async def body():
        client = await connect(peer.sockets[0])
        seen = []
        with client.listener() as listener:
            await client.execute("cont")
            await client.execute("stop")
            await client.execute("system_reset")
            while len(seen) < 3:
                ev = await asyncio.wait_for(listener.get(), 10)
                seen.append(ev)
        names = [e["event"] for e in seen]
        assert names == ["RESUME", "STOP", "RESET"]
        assert seen[2]["data"] == {"guest": False, "reason": "host-qmp-system-reset"}
        for ev in seen:
            assert set(ev["timestamp"]) == {"seconds", "microseconds"}
        await close(client)
    run(body())


def test_human_monitor_command(peer):
    async def body():
        client = await connect(peer.sockets[0])
        out = await client.execute("human-monitor-command", {"command-line": "info status"})
        assert out == "VM status: paused (prelaunch)\r\n"
        out = await client.execute("human-monitor-command", {"command-line": "nosuch"})
        assert out == "unknown command: 'nosuch'\r\n"
        out = await client.execute("human-monitor-command", {"command-line": "xp /2z 0"})
        assert out == "invalid char in format: 'z'\r\nTry \"help xp\" for more information\r\n"
        await close(client)
    run(body())


def test_errors(peer):
    async def body():
        client = await connect(peer.sockets[0])
        with pytest.raises(ExecuteError) as e:
            await client.execute("no-such-command")
        assert e.value.error_class == "CommandNotFound"
        assert e.value.error.error.desc == "The command no-such-command has not been found"
        with pytest.raises(ExecuteError) as e:
            await client.execute("query-status", {"bogus": 1})
        assert e.value.error.error.desc == "Parameter 'bogus' is unexpected"
        with pytest.raises(ExecuteError) as e:
            await client.execute("pmemsave", {"val": "x", "size": 1, "filename": "f"})
        assert e.value.error.error.desc == "Invalid parameter type for 'val', expected: integer"
        with pytest.raises(ExecuteError) as e:
            await client.execute("memsave", {})
        assert e.value.error.error.desc == "Parameter 'val' is missing"
        assert (await client.execute("query-status"))["status"] == "prelaunch"
        await close(client)
    run(body())


def test_queries(peer):
    async def body():
        client = await connect(peer.sockets[0])
        cpus = await client.execute("query-cpus-fast")
        assert cpus and cpus[0]["cpu-index"] == 0 and cpus[0]["target"] == "riscv64"
        chardevs = await client.execute("query-chardev")
        labels = {c["label"] for c in chardevs}
        assert "compat_monitor0" in labels and "serial0" in labels
        names = {c["name"] for c in await client.execute("query-commands")}
        for needed in ("qmp_capabilities", "query-status", "cont", "stop", "quit",
                       "human-monitor-command", "pmemsave", "memsave", "query-qmp-schema"):
            assert needed in names
        schema = await client.execute("query-qmp-schema")
        cmds = {s["name"]: s for s in schema if s["meta-type"] == "command"}
        assert "query-status" in cmds
        assert await client.execute("query-name") == {}
        await close(client)
    run(body())


def test_pmemsave(peer, tmp_path):
    async def body():
        client = await connect(peer.sockets[0])
        out = tmp_path / "mem.bin"
        # The boot ROM at 0x1000 exists on both boards and in the fake machine.
        await client.execute("pmemsave", {"val": 0x1000, "size": 16, "filename": str(out)})
        assert out.stat().st_size == 16
        with pytest.raises(ExecuteError) as e:
            await client.execute("pmemsave", {"val": 0, "size": 4,
                                              "filename": "/nonexistent/dir/f"})
        assert e.value.error.error.desc == \
            "Could not open '/nonexistent/dir/f': No such file or directory"
        await close(client)
    run(body())


def test_quit_exits_zero(peer):
    async def body():
        client = await connect(peer.sockets[0])
        with client.listener() as listener:
            assert await client.execute("quit") == {}
            ev = await asyncio.wait_for(listener.get(), 10)
        assert ev["event"] == "SHUTDOWN"
        assert ev["data"] == {"guest": False, "reason": "host-qmp-quit"}
        await close(client)
    run(body())
    assert peer.proc.wait(20) == 0


def test_two_monitors_see_events(target):
    p = Peer(target, sockets=2)
    try:
        async def body():
            a = await connect(p.sockets[0])
            b = await connect(p.sockets[1])
            with b.listener() as listener:
                await a.execute("cont")
                ev = await asyncio.wait_for(listener.get(), 10)
            assert ev["event"] == "RESUME"
            assert (await b.execute("query-status"))["status"] == "running"
            await close(a)
            await close(b)
        run(body())
    finally:
        p.stop()


def test_socket_is_owner_only(peer):
    if peer.target == "qemu":
        pytest.skip("QEMU leaves the socket mode to the umask")
    assert os.stat(peer.sockets[0]).st_mode & 0o077 == 0
