"""The display on the command line: -vnc, -display vnc=..., -device virtio-gpu-device.

- ``-vnc :N`` listens on port 5900+N on every IPv4 address, ``-vnc HOST:N`` on
  HOST (``[ADDR]`` for IPv6), ``-vnc unix:PATH`` on a Unix socket (an old
  socket file at PATH is replaced, as QEMU does); ``-vnc none`` starts no
  server. ``-display vnc=ADDR[,...]`` is the same as ``-vnc ADDR[,...]``. The
  last one given wins. QEMU's VNC sub-options (password, share, websocket,
  to, ...) are not implemented and are refused by name.
- ``-device virtio-gpu-device[,xres=W][,yres=H][,max_hostmem=BYTES][,bus=...]``
  adds the virtio GPU; its pixels are the machine's console (``machine.console``),
  which the VNC server and ``screendump`` show. ``-device virtio-tablet-device``
  gives the guest the console's pointer events (a VNC client's mouse),
  ``-device virtio-keyboard-device`` its key events (keysyms mapped for en-us).
  Without a display device the console is a black 640x480 surface, as QEMU's
  before a guest sets a mode.
"""
from __future__ import annotations

import os
import re
import socket
import sys
from dataclasses import dataclass
from typing import Any

from pemu.ui.console import Console

VNC_PORT_BASE = 5900
#: Sub-options QEMU 7.2's -vnc takes; none is implemented here.
QEMU_VNC_SUBOPTS = ("reverse", "websocket", "password", "password-secret", "tls-creds",
                    "tls-authz", "sasl", "sasl-authz", "lossy", "non-adaptive", "share",
                    "key-delay-ms", "audiodev", "power-control", "to", "ipv4", "ipv6", "acl",
                    "connections", "display", "head", "id")


@dataclass(frozen=True)
class VncAddress:
    """Where the VNC server listens: `unix_path`, or `host` and `port`; neither for none."""

    host: str = ""
    port: int = 0
    unix_path: str | None = None
    none: bool = False


def parse_vnc(text: str, where: str) -> VncAddress:
    """Parse a -vnc argument; raises ValueError with a one-line message."""
    from pemu.cli.options import split_keyvals

    head, _, rest = text.partition(",")
    if rest:
        props, order = split_keyvals(rest)
        key = order[0] if order else rest.split("=", 1)[0]
        if key in QEMU_VNC_SUBOPTS:
            raise ValueError(f"{where}: {key}: not supported by this build")
        raise ValueError(f"{where}: Invalid parameter '{key}'")
    if head == "none":
        return VncAddress(none=True)
    if head.startswith("unix:"):
        path = head[5:]
        if not path:
            raise ValueError(f"{where}: Failed to start VNC server: no socket path given")
        return VncAddress(unix_path=path)
    m = re.fullmatch(r"(\[[^\]]*\]|[^:]*):(\d+)", head)
    if m is None:
        raise ValueError(f"{where}: Failed to start VNC server: address '{head}' "
                         "is not HOST:DISPLAY or unix:PATH")
    host = m.group(1).strip("[]")
    port = VNC_PORT_BASE + int(m.group(2))
    if port > 65535:
        raise ValueError(f"{where}: Failed to start VNC server: display number "
                         f"'{m.group(2)}' out of range")
    return VncAddress(host=host, port=port)


def listen(addr: VncAddress) -> socket.socket:
    """A listening socket for `addr`; raises OSError."""
    if addr.unix_path is not None:
        try:
            os.unlink(addr.unix_path)
        except FileNotFoundError:
            pass
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            sock.bind(addr.unix_path)
            sock.listen(16)
        except OSError:
            sock.close()
            raise
        return sock
    host = addr.host or "0.0.0.0"
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host, addr.port))
        sock.listen(16)
    except OSError:
        sock.close()
        raise
    return sock


def _vnc_option(opts: Any) -> tuple[str, str] | None:
    """The last -vnc or -display vnc=... given, as (argument, where)."""
    found = None
    for name, text in opts.items:
        if text is None:
            continue
        if name == "vnc":
            found = (text, f"-vnc {text}")
        elif name == "display" and text.startswith("vnc="):
            found = (text[4:], f"-display {text}")
    return found


def _console_devices(machine: Any, opts: Any) -> None:
    """-device virtio-gpu-device / virtio-tablet-device / virtio-keyboard-device: devices on
    the machine's console."""
    from pemu.cli.drive_options import _plug
    from pemu.cli.options import split_keyvals
    from pemu.hw.display.virtio_gpu import VirtioGpu
    from pemu.hw.input.virtio_keyboard import VirtioKeyboard
    from pemu.hw.input.virtio_tablet import VirtioTablet
    from pemu.qom import PropertyError

    kinds = {cls.type_name: cls for cls in (VirtioGpu, VirtioTablet, VirtioKeyboard)}
    for text in opts.all("device"):
        props, _ = split_keyvals(text, "driver")
        cls = kinds.get(props.pop("driver", ""))
        if cls is None:
            continue
        where = f"-device {text}"
        if "help" in props:
            sys.stdout.write(cls.help_text() + "\n")
            raise SystemExit(0)
        bus = props.pop("bus", None)
        try:
            device = cls(machine.console, **props)
        except PropertyError as e:
            raise ValueError(f"{where}: {e}") from None
        _plug(machine, device, bus, where)


def apply_display_options(machine: Any, opts: Any) -> None:
    """Create the console, the display devices and the VNC server the options ask for.

    Raises ValueError with a one-line message; sets `machine.console` and
    `machine.vnc` (None without a server).
    """
    import pemu.hw.display.virtio_gpu  # noqa: F401  (registers virtio-gpu-device)
    import pemu.hw.input.virtio_keyboard  # noqa: F401
    import pemu.hw.input.virtio_tablet  # noqa: F401

    machine.console = Console()
    machine.vnc = None
    _console_devices(machine, opts)
    found = _vnc_option(opts)
    if found is None:
        return
    addr = parse_vnc(*found)
    if addr.none:
        return
    try:
        sock = listen(addr)
    except OSError as e:
        raise ValueError(f"{found[1]}: Failed to start VNC server: {e.strerror or e}") from None
    from pemu.ui.vnc import VncServer
    machine.vnc = VncServer(machine.loop, machine.console, sock, unix_path=addr.unix_path)
