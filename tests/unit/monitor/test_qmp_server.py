"""The QMP server in-process, on a recording chardev."""
from __future__ import annotations

from conftest import run_loop_once

from pemu.monitor import add_monitor


def start(machine, recorder):
    mon = add_monitor(machine, recorder, "control")
    greeting = recorder.messages()[0]
    return mon, greeting


def test_greeting_shape(machine, recorder):
    _, greeting = start(machine, recorder)
    v = greeting["QMP"]["version"]
    assert set(v) == {"qemu", "package"} and set(v["qemu"]) == {"major", "minor", "micro"}
    assert greeting["QMP"]["capabilities"] == ["oob"]


def test_negotiation_mode(machine, recorder):
    start(machine, recorder)
    recorder.feed(b'{"execute":"query-status","id":7}')
    assert recorder.messages() == [{"error": {
        "class": "CommandNotFound",
        "desc": "Expecting capabilities negotiation with 'qmp_capabilities'"}, "id": 7}]
    recorder.feed(b'{"execute":"qmp_capabilities","arguments":{"enable":["oob"]}}')
    assert recorder.messages() == [{"return": {}}]
    recorder.feed(b'{"execute":"qmp_capabilities"}')
    assert recorder.messages()[0]["error"]["desc"] == \
        "Capabilities negotiation is already complete, command ignored"


def test_envelope_errors(machine, recorder):
    start(machine, recorder)
    recorder.feed(b'{"execute":"qmp_capabilities"}')
    recorder.take()
    cases = {
        b"[1]": "QMP input must be a JSON object",
        b'{"foo":1}': "QMP input member 'foo' is unexpected",
        b'{"execute":1}': "QMP input member 'execute' must be a string",
        b'{"execute":"query-status","arguments":[]}':
            "QMP input member 'arguments' must be an object",
        b'{"id":1}': "QMP input lacks member 'execute'",
        b'{"execute":"a","exec-oob":"b"}': "QMP input member 'execute' clashes with 'exec-oob'",
    }
    for raw, desc in cases.items():
        recorder.feed(raw)
        assert recorder.messages()[0]["error"]["desc"] == desc, raw


def test_id_echoed_and_events(machine, recorder):
    start(machine, recorder)
    recorder.feed(b'{"execute":"qmp_capabilities"}{"execute":"cont","id":{"a":[1]}}')
    assert recorder.messages()[1] == {"return": {}, "id": {"a": [1]}}
    run_loop_once(machine)
    ev = recorder.messages()[0]
    assert ev["event"] == "RESUME" and "data" not in ev
    assert set(ev["timestamp"]) == {"seconds", "microseconds"}


def test_pipelined_stop_then_status_sees_paused(machine, recorder):
    machine.loop.set_runstate("running")
    start(machine, recorder)
    recorder.feed(b'{"execute":"qmp_capabilities"}{"execute":"stop"}{"execute":"query-status"}')
    run_loop_once(machine)
    replies = [m for m in recorder.messages() if "return" in m]
    assert replies[2]["return"]["status"] == "paused"


def test_events_only_after_negotiation(machine, recorder):
    start(machine, recorder)
    machine.loop.emit("STOP")
    assert recorder.take() == b""


def test_reconnect_gets_a_fresh_session(machine, recorder):
    start(machine, recorder)
    recorder.feed(b'{"execute":"qmp_capabilities"}')
    recorder.send_event("closed")
    recorder.send_event("opened")
    msgs = recorder.messages()
    assert "QMP" in msgs[-1]
    recorder.feed(b'{"execute":"query-status"}')
    assert recorder.messages()[0]["error"]["class"] == "CommandNotFound"


def test_cont_after_shutdown_needs_reset(machine, recorder):
    start(machine, recorder)
    machine.loop.runstate = "shutdown"
    recorder.feed(b'{"execute":"qmp_capabilities"}{"execute":"cont"}')
    assert recorder.messages()[1]["error"]["desc"] == "Resetting the Virtual Machine is required"


def test_quit_requests_shutdown(machine, recorder):
    start(machine, recorder)
    recorder.feed(b'{"execute":"qmp_capabilities"}{"execute":"quit"}')
    recorder.take()
    run_loop_once(machine)
    assert machine.loop.exit_code == 0
    ev = recorder.messages()[0]
    assert ev["event"] == "SHUTDOWN" and ev["data"] == {"guest": False, "reason": "host-qmp-quit"}
