"""The QMP server: QEMU's JSON monitor protocol on a character device.

Per QEMU's QMP specification (docs/interop/qmp-spec): on connection the
server sends the greeting `{"QMP": {"version": ..., "capabilities": ["oob"]}}`
and is in capabilities negotiation mode, where only `qmp_capabilities` is
accepted; then commands `{"execute": NAME, "arguments": {...}, "id": ANY}`
get `{"return": ...}` or `{"error": {"class", "desc"}}`, with the id echoed.
Asynchronous events (`{"event", "data", "timestamp"}`) go to every
negotiated session. Bad input gets an error reply and nothing else happens;
a message over the size limit drops the peer (socket back ends).

Commands that change the run state are answered at once; messages that
arrived after one of them in the same read wait until the main loop has
processed the state change, so a pipelined `stop` + `query-status` sees
"paused".
"""
from __future__ import annotations

import collections
import json
import time
from typing import Any

from pemu.chardev.base import Chardev
from pemu.core.clock import Timer
from pemu.monitor import commands
from pemu.monitor.errors import QmpError
from pemu.monitor.jsonstream import JsonStreamer
from pemu.monitor.schema import BY_NAME, validate
from pemu.monitor.version import version_info

#: Commands whose effect goes through loop.request(): later pipelined input waits.
STATE_CHANGING = {"stop", "cont", "system_reset", "system_powerdown", "quit"}
_KNOWN_MEMBERS = ("execute", "exec-oob", "arguments", "id")


def _timestamp() -> dict[str, int]:
    now = time.time()
    sec = int(now)
    return {"seconds": sec, "microseconds": int((now - sec) * 1_000_000)}


class QmpMonitor:
    """One QMP monitor on one chardev (one session per connected peer)."""

    def __init__(self, machine: Any, chardev: Chardev, pretty: bool = False) -> None:
        self.machine = machine
        self.chardev = chardev
        self.pretty = pretty
        self.streamer = JsonStreamer()
        self.negotiated = False
        self.oob = False
        self.connected = False
        self.hmp: Any = None  # HMP session for human-monitor-command, made on first use
        self._queue: collections.deque[tuple[Any, str | None]] = collections.deque()
        self._scheduled = False
        self._timer = Timer(machine.loop.clock, self._resume_soon)
        machine.loop.listeners.append(self._on_event)
        chardev.attach(self._receive, None, self._on_chr_event)

    # --- connection -----------------------------------------------------------
    def _on_chr_event(self, event: str) -> None:
        if event == "opened":
            self._reset_session()
            self.connected = True
            self._send({"QMP": {"version": version_info(), "capabilities": ["oob"]}})
        elif event == "closed":
            self.connected = False
            self._reset_session()

    def _reset_session(self) -> None:
        self.negotiated = False
        self.oob = False
        self.streamer.reset()
        self._queue.clear()

    def negotiate(self, enable: list[str]) -> None:
        """qmp_capabilities: leave negotiation mode with `enable` turned on."""
        self.oob = "oob" in enable
        self.negotiated = True

    # --- output -----------------------------------------------------------------
    def _send(self, obj: dict[str, Any]) -> None:
        if self.pretty:
            text = json.dumps(obj, indent=4) + "\n"
        else:
            text = json.dumps(obj) + "\r\n"
        self.chardev.write(text.encode())

    def _on_event(self, event: str, data: dict) -> None:
        if not (self.connected and self.negotiated):
            return
        msg: dict[str, Any] = {"timestamp": _timestamp(), "event": event}
        if data:
            msg["data"] = data
        self._send(msg)

    # --- input ------------------------------------------------------------------
    def _receive(self, data: bytes) -> None:
        self._queue.extend(self.streamer.feed(data))
        if self.streamer.overflow:
            self.streamer.overflow = False
            self._queue.clear()
            disconnect = getattr(self.chardev, "disconnect", None)
            if disconnect is not None:
                disconnect()
                return
            self._send({"error": {"class": "GenericError",
                                  "desc": "JSON token size limit exceeded"}})
        if not self._scheduled:
            self._process()

    def _process(self) -> None:
        self._scheduled = False
        while self._queue:
            value, error = self._queue.popleft()
            name = self._handle(value, error)
            if name in STATE_CHANGING and self._queue:
                # Let the loop apply the request first (timer -> bh -> after requests).
                self._scheduled = True
                self._timer.mod(self.machine.loop.clock.now())
                return

    def _resume_soon(self) -> None:
        self.machine.loop.bh(self._process)

    def _handle(self, msg: Any, error: str | None) -> str | None:
        """Answer one message; returns the command name it ran (if any)."""
        if error is not None:
            self._send({"error": {"class": "GenericError", "desc": error}})
            return None
        if not isinstance(msg, dict):
            self._send({"error": {"class": "GenericError",
                                  "desc": "QMP input must be a JSON object"}})
            return None
        has_id = "id" in msg
        reply: dict[str, Any]
        name = None
        try:
            name = self._check_envelope(msg)
            result = self._dispatch(name, msg.get("arguments", {}))
            reply = {"return": result}
        except QmpError as e:
            reply = {"error": {"class": e.cls, "desc": e.desc}}
        except Exception as e:  # noqa: BLE001 (a failing command must not stop the machine)
            reply = {"error": {"class": "GenericError", "desc": f"{type(e).__name__}: {e}"}}
        if has_id:
            reply["id"] = msg["id"]
        self._send(reply)
        return name

    def _check_envelope(self, msg: dict[str, Any]) -> str:
        for key, value in msg.items():
            if key not in _KNOWN_MEMBERS:
                raise QmpError(f"QMP input member '{key}' is unexpected")
            if key in ("execute", "exec-oob") and not isinstance(value, str):
                raise QmpError(f"QMP input member '{key}' must be a string")
            if key == "arguments" and not isinstance(value, dict):
                raise QmpError("QMP input member 'arguments' must be an object")
        if "execute" in msg and "exec-oob" in msg:
            raise QmpError("QMP input member 'execute' clashes with 'exec-oob'")
        if "exec-oob" in msg:
            if not self.oob:
                raise QmpError("QMP input member 'exec-oob' is unexpected")
            raise QmpError(f"The command {msg['exec-oob']} does not support OOB")
        if "execute" not in msg:
            raise QmpError("QMP input lacks member 'execute'")
        return msg["execute"]

    def _dispatch(self, name: str, args: dict[str, Any]) -> Any:
        if not self.negotiated:
            if name != "qmp_capabilities":
                raise QmpError("Expecting capabilities negotiation with 'qmp_capabilities'",
                               "CommandNotFound")
        elif name == "qmp_capabilities":
            raise QmpError("Capabilities negotiation is already complete, command ignored",
                           "CommandNotFound")
        cmd = BY_NAME.get(name)
        if cmd is None or name not in commands.IMPLS:
            raise QmpError(f"The command {name} has not been found", "CommandNotFound")
        validate(cmd, args)
        return commands.execute(self.machine, name, args, self)

    def close(self) -> None:
        if self._on_event in self.machine.loop.listeners:
            self.machine.loop.listeners.remove(self._on_event)
        self._timer.delete()
