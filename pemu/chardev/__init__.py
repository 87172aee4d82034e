"""Character device back ends (stdio, null, file, pipe, pty, socket, mux).

`create_chardev(spec, loop)` builds one from QEMU's `-chardev` syntax
(`socket,id=mon0,path=/tmp/m.sock,server=on,wait=off`) or from the
-serial/-monitor/-qmp shorthand (`stdio`, `mon:stdio`, `unix:/p,server,nowait`,
`tcp:127.0.0.1:4444,server=on,wait=off`, `null`, `file:path`, `pipe:path`,
`pty`). `mux=on` (or the `mon:` prefix) wraps the back end in a mux whose id is
the given id; the back end itself is then "<id>-base", as in QEMU.
Bad specs raise ValueError worded as QEMU's messages.
"""
from __future__ import annotations

from pemu.chardev.base import Chardev
from pemu.chardev.file import FileChardev
from pemu.chardev.mux import MuxChardev
from pemu.chardev.null import NullChardev
from pemu.chardev.pipe import PipeChardev
from pemu.chardev.pty import PtyChardev
from pemu.chardev.socket import SocketChardev
from pemu.chardev.spec import looks_like_chardev_syntax, parse_chardev, parse_compat
from pemu.chardev.stdio import StdioChardev
from pemu.core.main_loop import MainLoop

__all__ = ["Chardev", "MuxChardev", "build_chardev", "create_chardev", "parse_spec"]


def parse_spec(spec: str, chr_id: str | None = None) -> dict[str, object]:
    """Options of a spec in either syntax; shorthand specs take `chr_id` (default 'chr0')."""
    if looks_like_chardev_syntax(spec):
        return parse_chardev(spec)
    return parse_compat(spec, chr_id or "chr0")


def _backend(opts: dict[str, object], chr_id: str, loop: MainLoop | None) -> Chardev:
    kind = opts["backend"]
    if kind == "null":
        return NullChardev(chr_id, loop)
    if kind == "vc":
        return NullChardev(chr_id, loop, label="vc")
    if kind == "stdio":
        return StdioChardev(chr_id, loop, signal_ok=bool(opts.get("signal", True)))
    if kind == "file":
        return FileChardev(chr_id, loop, str(opts["path"]), append=bool(opts.get("append")),
                           input_path=opts.get("input-path"))  # type: ignore[arg-type]
    if kind == "pipe":
        return PipeChardev(chr_id, loop, str(opts["path"]))
    if kind == "pty":
        return PtyChardev(chr_id, loop)
    if kind == "socket":
        server = bool(opts.get("server", False))
        return SocketChardev(
            chr_id, loop, path=opts.get("path"), host=opts.get("host"),  # type: ignore[arg-type]
            port=opts.get("port"), server=server,  # type: ignore[arg-type]
            wait=bool(opts.get("wait", True)) if server else False,
            reconnect=int(opts.get("reconnect", 0)),  # type: ignore[arg-type]
            nodelay=bool(opts.get("nodelay", False)))
    raise ValueError(f"'{kind}' is not a valid char driver name")


def build_chardev(opts: dict[str, object], loop: MainLoop | None) -> Chardev:
    """Create the back end (wrapped in a mux when opts['mux']) from parsed options."""
    chr_id = str(opts["id"])
    if opts.get("mux"):
        return MuxChardev(chr_id, loop, _backend(opts, chr_id + "-base", loop))
    return _backend(opts, chr_id, loop)


def create_chardev(spec: str, loop: MainLoop | None, chr_id: str | None = None) -> Chardev:
    """Parse `spec` (either syntax) and create the chardev; ValueError on a bad spec."""
    return build_chardev(parse_spec(spec, chr_id), loop)
