"""A VNC server (the RFB protocol, RFC 6143) on pemu's main loop, showing one console.

Handshake (7.1, 7.2): the server offers "RFB 003.008"; a client answering
3.3, 3.7 or 3.8 is served in that version (any other well-formed version is
treated as 3.3, as 7.1.1 asks). Security type None (1) only. ClientInit's
shared flag 0 disconnects the other clients (7.3.1). ServerInit sends the
console's size, a 32-bit true-colour pixel format and the desktop name.

Client messages (7.5): SetPixelFormat (8/16/32-bit true colour), SetEncodings,
FramebufferUpdateRequest, KeyEvent and PointerEvent (delivered to the
console's input hooks), ClientCutText (read and dropped, as 7.5.6 allows).
Updates (7.6.1) use the Raw encoding (7.7.1); the DesktopSize pseudo-encoding
(7.8.2) announces mode changes to clients that asked for it, and clients that
did not have their updates clipped to the size they know.

Nothing blocks: sockets are non-blocking, and an update is produced only when
the client has asked for one and has read the previous one, so a slow client
holds at most one frame of host memory and never stalls the machine. An
idle screen sends nothing. A malformed message closes that client only.
"""
from __future__ import annotations

import os
import re
import selectors
import socket
import struct
from typing import Any

from pemu.ui.console import Console, ConsoleListener, Rect
from pemu.ui.rfb_pixels import PixelFormat, PixelFormatError, convert

SERVER_VERSION = b"RFB 003.008\n"
SEC_NONE = 1
ENC_RAW = 0
ENC_DESKTOP_SIZE = -223
#: A ClientCutText longer than this closes the client (the text is dropped anyway).
MAX_CUT_TEXT = 1 << 20
#: Bytes sent per send() call.
SEND_CHUNK = 1 << 18
#: Dirty rectangles kept per client before they are merged into one.
MAX_DIRTY = 16
_VERSION_RE = re.compile(rb"RFB (\d{3})\.(\d{3})\n")


def _address_info(addr: Any, family: int) -> dict[str, str]:
    """QMP's VncBasicInfo members (host, service, family) for a socket address."""
    if family == socket.AF_UNIX:
        return {"host": addr if isinstance(addr, str) else "", "service": "", "family": "unix"}
    return {"host": addr[0], "service": str(addr[1]),
            "family": "ipv6" if family == socket.AF_INET6 else "ipv4"}


class ProtocolError(Exception):
    """The client broke RFB; it is disconnected."""


class VncClient:
    """One connected viewer."""

    def __init__(self, server: VncServer, sock: socket.socket) -> None:
        self.server = server
        self.sock = sock
        self.fd = sock.fileno()
        self.inbuf = bytearray()
        self.outbuf = bytearray()
        self.state = "version"
        self.minor = 8
        self.pf = PixelFormat()
        self.encodings: set[int] = set()
        self.fb_w, self.fb_h = server.console.width, server.console.height
        self.request: tuple[bool, Rect] | None = None
        self.dirty: list[Rect] = []
        self.resized = False
        self.closed = False
        self.writing = False
        sock.setblocking(False)
        server.loop.add_fd(self.fd, self._on_event)
        self._send(SERVER_VERSION)

    def address_info(self) -> dict[str, str]:
        try:
            return _address_info(self.sock.getpeername(), self.sock.family)
        except OSError:
            return {"host": "", "service": "", "family": "unknown"}

    # --- socket I/O -----------------------------------------------------------------
    def _on_event(self) -> None:
        self._flush()
        if self.closed:
            return
        try:
            while True:
                data = self.sock.recv(65536)
                if not data:
                    self.close()
                    return
                self.inbuf += data
                self._parse()
                if self.closed or len(data) < 65536:
                    break
        except (BlockingIOError, InterruptedError):
            pass
        except OSError:
            self.close()
            return
        except (ProtocolError, PixelFormatError, struct.error):
            self.close()
            return
        self.try_update()

    def _send(self, data: bytes) -> None:
        self.outbuf += data
        self._flush()

    def _flush(self) -> None:
        while self.outbuf and not self.closed:
            try:
                n = self.sock.send(self.outbuf[:SEND_CHUNK])
            except (BlockingIOError, InterruptedError):
                break
            except OSError:
                self.close()
                return
            del self.outbuf[:n]
        if self.closed:
            return
        want_write = bool(self.outbuf)
        if want_write != self.writing:
            self.writing = want_write
            events = selectors.EVENT_READ | (selectors.EVENT_WRITE if want_write else 0)
            self.server.loop.sel.modify(self.fd, events, self._on_event)
        if not want_write:
            self.try_update()

    def close(self) -> None:
        if self.closed:
            return
        self.closed = True
        self.server.loop.remove_fd(self.fd)
        try:
            self.sock.close()
        except OSError:
            pass
        self.server.client_closed(self)

    # --- the protocol ---------------------------------------------------------------
    def _take(self, n: int) -> bytes | None:
        if len(self.inbuf) < n:
            return None
        data = bytes(self.inbuf[:n])
        del self.inbuf[:n]
        return data

    def _parse(self) -> None:
        while not self.closed:
            before = len(self.inbuf)
            handler = getattr(self, "_state_" + self.state)
            handler()
            if len(self.inbuf) == before:
                return

    def _state_version(self) -> None:
        data = self._take(12)
        if data is None:
            return
        m = _VERSION_RE.fullmatch(data)
        if m is None or int(m.group(1)) != 3:
            raise ProtocolError("bad ProtocolVersion")
        minor = int(m.group(2))
        self.minor = minor if minor in (3, 7, 8) else 3
        if self.minor == 3:
            self._send(struct.pack(">I", SEC_NONE))  # 3.3: the server decides (7.1.2)
            self.state = "init"
        else:
            self._send(bytes((1, SEC_NONE)))
            self.state = "security"

    def _state_security(self) -> None:
        data = self._take(1)
        if data is None:
            return
        if data[0] != SEC_NONE:
            if self.minor == 8:
                reason = b"security type not offered"
                self._send(struct.pack(">II", 1, len(reason)) + reason)
                self._flush()
            raise ProtocolError("bad security type")
        if self.minor == 8:
            self._send(struct.pack(">I", 0))  # SecurityResult OK (7.2.3)
        self.state = "init"

    def _state_init(self) -> None:
        data = self._take(1)
        if data is None:
            return
        if not data[0]:
            self.server.make_exclusive(self)
        con = self.server.console
        self.fb_w, self.fb_h = con.width, con.height
        name = self.server.name.encode()
        self._send(struct.pack(">HH", con.width, con.height) + PixelFormat().pack()
                   + struct.pack(">I", len(name)) + name)
        self.state = "normal"

    def _state_normal(self) -> None:
        if not self.inbuf:
            return
        mtype = self.inbuf[0]
        if mtype == 0:  # SetPixelFormat (7.5.1)
            data = self._take(20)
            if data is not None:
                self.pf = PixelFormat.unpack(data[4:20])
        elif mtype == 2:  # SetEncodings (7.5.2)
            if len(self.inbuf) < 4:
                return
            (count,) = struct.unpack_from(">H", self.inbuf, 2)
            data = self._take(4 + 4 * count)
            if data is not None:
                self.encodings = set(struct.unpack_from(f">{count}i", data, 4))
        elif mtype == 3:  # FramebufferUpdateRequest (7.5.3)
            data = self._take(10)
            if data is not None:
                incremental, x, y, w, h = struct.unpack_from(">BHHHH", data, 1)
                self.request = (bool(incremental), Rect(x, y, w, h))
        elif mtype == 4:  # KeyEvent (7.5.4)
            data = self._take(8)
            if data is not None:
                down, key = struct.unpack_from(">B2xI", data, 1)
                self.server.console.send_key(key, bool(down))
        elif mtype == 5:  # PointerEvent (7.5.5)
            data = self._take(6)
            if data is not None:
                buttons, x, y = struct.unpack_from(">BHH", data, 1)
                self.server.console.send_pointer(x, y, buttons)
        elif mtype == 6:  # ClientCutText (7.5.6)
            if len(self.inbuf) < 8:
                return
            (length,) = struct.unpack_from(">I", self.inbuf, 4)
            if length > MAX_CUT_TEXT:
                raise ProtocolError("ClientCutText too long")
            self._take(8 + length)
        else:
            raise ProtocolError(f"unknown message type {mtype}")

    # --- updates --------------------------------------------------------------------
    def add_dirty(self, rect: Rect) -> None:
        self.dirty.append(rect)
        if len(self.dirty) > MAX_DIRTY:
            box = self.dirty[0]
            for r in self.dirty[1:]:
                box = box.union(r)
            self.dirty = [box]

    def console_resized(self) -> None:
        self.resized = True
        self.dirty = []

    def try_update(self) -> None:
        """Send a FramebufferUpdate if one is asked for, due, and the last one has gone."""
        if self.closed or self.state != "normal" or self.request is None or self.outbuf:
            return
        con = self.server.console
        incremental, want = self.request
        rects: list[tuple[Rect, int]] = []
        if self.resized and ENC_DESKTOP_SIZE in self.encodings:
            self.fb_w, self.fb_h = con.width, con.height
            rects.append((Rect(0, 0, con.width, con.height), ENC_DESKTOP_SIZE))
            rects.append((Rect(0, 0, con.width, con.height), ENC_RAW))
            self.resized, self.dirty = False, []
        else:
            screen = Rect(0, 0, min(self.fb_w, con.width), min(self.fb_h, con.height))
            if self.resized:
                # A client without DesktopSize keeps its size: redraw what it can show.
                self.resized, self.dirty = False, [screen]
            if incremental:
                todo, keep = [], []
                for r in self.dirty:
                    part = r.intersect(want)
                    todo.append(part)
                    if part != r:
                        keep.append(r)  # changes outside the request wait for another one
                self.dirty = keep
            else:
                todo = [want]
            for r in todo:
                part = r.intersect(screen) if r is not None else None
                if part is not None:
                    rects.append((part, ENC_RAW))
        if not rects:
            return
        self.request = None
        msg = bytearray(struct.pack(">BxH", 0, len(rects)))
        for rect, enc in rects:
            msg += struct.pack(">HHHHi", rect.x, rect.y, rect.w, rect.h, enc)
            if enc == ENC_RAW:
                msg += convert(b"".join(con.rows(rect)), self.pf)
        self._send(bytes(msg))


class VncServer(ConsoleListener):
    """Listens on `sock` (bound and listening) and serves `console` to every client."""

    def __init__(self, loop: Any, console: Console, sock: socket.socket,
                 name: str = "QEMU", unix_path: str | None = None) -> None:
        self.loop = loop
        self.console = console
        self.sock = sock
        self.name = name
        self.unix_path = unix_path
        self.clients: list[VncClient] = []
        self._update_scheduled = False
        sock.setblocking(False)
        loop.add_fd(sock.fileno(), self._accept)
        console.add_listener(self)

    def address_info(self) -> dict[str, str]:
        """Where the server listens (QMP query-vnc's host, service, family)."""
        if self.unix_path is not None:
            return _address_info(self.unix_path, socket.AF_UNIX)
        return _address_info(self.sock.getsockname(), self.sock.family)

    def _accept(self) -> None:
        while True:
            try:
                conn, _ = self.sock.accept()
            except (BlockingIOError, InterruptedError):
                return
            except OSError:
                return
            if conn.family != socket.AF_UNIX:
                conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            self.clients.append(VncClient(self, conn))

    def client_closed(self, client: VncClient) -> None:
        if client in self.clients:
            self.clients.remove(client)

    def make_exclusive(self, keep: VncClient) -> None:
        """ClientInit with shared-flag 0 (7.3.1): the other clients are disconnected."""
        for c in list(self.clients):
            if c is not keep:
                c.close()

    # --- ConsoleListener -----------------------------------------------------------
    def console_updated(self, rect: Rect) -> None:
        for c in self.clients:
            c.add_dirty(rect)
        self._schedule()

    def console_resized(self, width: int, height: int) -> None:
        for c in self.clients:
            c.console_resized()
        self._schedule()

    def _schedule(self) -> None:
        # Many flushes in one guest slice become one update per client.
        if not self._update_scheduled:
            self._update_scheduled = True
            self.loop.bh(self._send_updates)

    def _send_updates(self) -> None:
        self._update_scheduled = False
        for c in list(self.clients):
            c.try_update()

    def close(self) -> None:
        for c in list(self.clients):
            c.close()
        self.console.remove_listener(self)
        self.loop.remove_fd(self.sock.fileno())
        self.sock.close()
        if self.unix_path is not None:
            try:
                os.unlink(self.unix_path)
            except OSError:
                pass
