"""Parse chardev specs: QEMU's `-chardev` syntax and the -serial/-monitor shorthand.

`-chardev socket,id=x,path=/p,server=on,wait=off` and the compat forms
`stdio`, `mon:stdio`, `unix:/p,server,nowait`, `tcp:127.0.0.1:4444,server=on,
wait=off`, `null`, `file:path`, `pipe:path`, `pty`, `vc` all become one dict
{"backend": ..., "id": ..., option: value} with booleans already converted.
Errors are ValueErrors worded as QEMU words them.
"""
from __future__ import annotations

from pemu.cli.options import split_keyvals

COMMON = {"id", "mux"}
#: Per back end: accepted options and which of them are booleans.
BACKENDS: dict[str, tuple[set[str], set[str]]] = {
    "null": (set(), set()),
    "vc": ({"width", "height", "cols", "rows"}, set()),
    "stdio": ({"signal"}, {"signal"}),
    "file": ({"path", "append", "input-path"}, {"append"}),
    "pipe": ({"path"}, set()),
    "pty": ({"path"}, set()),
    "socket": ({"path", "host", "port", "server", "wait", "reconnect", "nodelay", "telnet",
                "ipv4", "ipv6", "to", "abstract", "tight"},
               {"server", "wait", "nodelay", "telnet", "ipv4", "ipv6", "abstract", "tight"}),
}
_BOOL_COMMON = {"mux"}
_SIMPLE = {"null", "stdio", "pty", "vc"}

_TRUE = {"on", "yes", "true", "y"}
_FALSE = {"off", "no", "false", "n"}


def _to_bool(key: str, value: str) -> bool:
    v = value.lower()
    if v in _TRUE:
        return True
    if v in _FALSE:
        return False
    raise ValueError(f"Parameter '{key}' expects 'on' or 'off'")


def _check(opts: dict[str, object]) -> dict[str, object]:
    """Validate keys for the back end, convert booleans and numbers."""
    backend = str(opts["backend"])
    keys, bools = BACKENDS[backend]
    out: dict[str, object] = {}
    for key, value in opts.items():
        if key == "backend":
            out[key] = value
            continue
        if key.startswith("no") and key[2:] in (bools | _BOOL_COMMON) and value == "on":
            key, value = key[2:], "off"
        if key not in keys and key not in COMMON:
            raise ValueError(f"Invalid parameter '{key}'")
        if key in bools or key in _BOOL_COMMON:
            value = value if isinstance(value, bool) else _to_bool(key, str(value))
        elif key == "reconnect":
            try:
                value = int(str(value))
            except ValueError:
                raise ValueError("Parameter 'reconnect' expects a number") from None
        out[key] = value
    if backend == "socket":
        if "path" not in out and "host" not in out:
            raise ValueError("chardev: socket: no host given")
        if "path" not in out and "port" not in out:
            raise ValueError("chardev: socket: no port given")
    elif backend in ("file", "pipe") and not out.get("path"):
        raise ValueError(f"chardev: {backend}: no filename given")
    return out


def parse_chardev(text: str) -> dict[str, object]:
    """The argument of -chardev: 'backend,id=x,key=value,...'."""
    kv, _ = split_keyvals(text, implied="backend")
    backend = kv.get("backend", "")
    if backend not in BACKENDS:
        raise ValueError(f"'{backend}' is not a valid char driver name")
    if not kv.get("id"):
        raise ValueError("chardev: no id specified")
    return _check(dict(kv))


def _host_port(rest: str) -> tuple[str, str]:
    host, sep, port = rest.rpartition(":")
    if not sep:
        raise ValueError(f"host and/or port not specified in '{rest}'")
    if host.startswith("[") and host.endswith("]"):
        host = host[1:-1]
    return host, port


def parse_compat(text: str, chr_id: str) -> dict[str, object]:
    """The shorthand of -serial/-monitor/-qmp/-mon: 'stdio', 'unix:/p,server', ..."""
    opts: dict[str, object] = {"id": chr_id}
    if text.startswith("mon:"):
        text = text[4:]
        opts["mux"] = "on"
        if text == "stdio":
            opts["signal"] = "off"  # Ctrl-C goes to the guest, as QEMU does for mon:stdio
    name, _, rest = text.partition(":")
    if text in _SIMPLE or (name == "vc" and rest):
        opts["backend"] = name
    elif name in ("file", "pipe") and rest:
        opts.update(backend=name, path=rest)
    elif name in ("unix", "tcp", "telnet"):
        first, _, extra = rest.partition(",")
        kv, _ = split_keyvals(extra) if extra else ({}, [])
        opts["backend"] = "socket"
        if name == "unix":
            if not first:
                raise ValueError("chardev: socket: no host given")
            opts["path"] = first
        else:
            opts["host"], opts["port"] = _host_port(first)
            if name == "telnet":
                opts["telnet"] = "on"
        opts.update(kv)
    else:
        raise ValueError(f"'{text}' is not a valid char driver")
    return _check(opts)


def looks_like_chardev_syntax(text: str) -> bool:
    """True for 'backend,id=x,...' (the -chardev form) rather than the shorthand."""
    kv, _ = split_keyvals(text, implied="backend")
    return "id" in kv and ":" not in str(kv.get("backend", ""))
