"""The socket back end: unix or TCP, server or client, one peer at a time.

Server: listens where the user says (a unix path, created owner-only; or a
TCP host:port, nothing by default); with wait=on start-up blocks until the
first peer connects. While a peer is connected further peers wait in the
listen backlog; when it leaves, the next one is accepted. Client: connects at
start-up; with reconnect=N a lost or refused connection is retried every N
seconds from a helper thread, and the new socket is handed to the main loop.

Front ends see "opened" when a peer connects and "closed" when it leaves;
output while nobody is connected is dropped, as QEMU does.
"""
from __future__ import annotations

import os
import socket
import stat
import sys
import threading

from pemu.chardev.fd import FdChardev
from pemu.core.main_loop import MainLoop


class SocketChardev(FdChardev):
    """-chardev socket,id=x,(path=P|host=H,port=N)[,server=on][,wait=off][,reconnect=N]"""

    type_name = "socket"

    def __init__(self, chr_id: str, loop: MainLoop | None, *, path: str | None = None,
                 host: str | None = None, port: str | None = None, server: bool = False,
                 wait: bool = True, reconnect: int = 0, nodelay: bool = False) -> None:
        super().__init__(chr_id, loop, None, None)
        self.path = path
        self.host = host or ""
        self.port = port
        self.server = server
        self.reconnect = reconnect
        self.nodelay = nodelay
        self.be_open = False
        self.peer = ""
        self._conn: socket.socket | None = None
        self._listener: socket.socket | None = None
        self._listening = False
        self._closed = False
        if server:
            self._listen()
            if wait:
                sys.stderr.write(f"info: pemu waiting for connection on: {self.describe()}\n")
                sys.stderr.flush()
                conn, addr = self._listener.accept()  # type: ignore[union-attr]
                self._connected(conn, addr)
            else:
                self._watch_listener(True)
        else:
            try:
                self._connected(self._connect(), None)
            except ValueError:
                if reconnect <= 0:
                    raise
                self._schedule_reconnect()

    # --- addresses ------------------------------------------------------------
    def _where(self) -> str:
        return self.path if self.path is not None else f"{self.host}:{self.port}"

    def _listen(self) -> None:
        if self.path is not None:
            try:
                if stat.S_ISSOCK(os.lstat(self.path).st_mode):
                    os.unlink(self.path)
            except FileNotFoundError:
                pass
            sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            old = os.umask(0o077)  # the socket file is created owner-only
            try:
                sock.bind(self.path)
            except OSError as e:
                sock.close()
                raise ValueError(f"Failed to bind socket to {self.path}: {e.strerror}") from None
            finally:
                os.umask(old)
        else:
            try:
                infos = socket.getaddrinfo(self.host or None, self.port, type=socket.SOCK_STREAM,
                                           flags=socket.AI_PASSIVE)
            except (socket.gaierror, UnicodeError) as e:
                raise ValueError(f"address resolution failed for {self._where()}: {e}") from None
            fam, typ, proto, _, addr = infos[0]
            sock = socket.socket(fam, typ, proto)
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                sock.bind(addr)
            except OSError as e:
                sock.close()
                raise ValueError(f"Failed to bind socket: {e.strerror}") from None
            self.port = str(sock.getsockname()[1])
        sock.listen(1)
        sock.set_inheritable(False)
        self._listener = sock

    def _connect(self) -> socket.socket:
        try:
            if self.path is not None:
                sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
                sock.connect(self.path)
            else:
                sock = socket.create_connection((self.host or "localhost", int(self.port or 0)),
                                                timeout=10)
                sock.settimeout(None)
        except OSError as e:
            reason = e.strerror or str(e)
            raise ValueError(f"Failed to connect to '{self._where()}': {reason}") from None
        return sock

    # --- connection life cycle ------------------------------------------------
    def _watch_listener(self, on: bool) -> None:
        if self.loop is None or self._listener is None or on == self._listening:
            return
        if on:
            self.loop.add_fd(self._listener.fileno(), self._on_accept)
        else:
            self.loop.remove_fd(self._listener.fileno())
        self._listening = on

    def _on_accept(self) -> None:
        try:
            conn, addr = self._listener.accept()  # type: ignore[union-attr]
        except (BlockingIOError, InterruptedError, OSError):
            return
        self._connected(conn, addr)

    def _connected(self, conn: socket.socket, addr: object) -> None:
        if self._closed:
            conn.close()
            return
        self._watch_listener(False)
        conn.setblocking(False)
        if self.nodelay and conn.family in (socket.AF_INET, socket.AF_INET6):
            conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self._conn = conn
        self.peer = f"{addr[0]}:{addr[1]}" if isinstance(addr, tuple) else ""
        self.in_fd = self.out_fd = conn.fileno()
        self._pending.clear()
        self._start_reading()
        self.send_event("opened")

    def _disconnect(self) -> None:
        if self._conn is None:
            return
        self._stop_reading()
        self._want_write(False)
        self._out.clear()
        self._pending.clear()
        self._paused = False
        self.in_fd = self.out_fd = None
        try:
            self._conn.close()
        except OSError:
            pass
        self._conn = None
        self.send_event("closed")
        if self._closed:
            return
        if self.server:
            self._watch_listener(True)
        elif self.reconnect > 0:
            self._schedule_reconnect()

    def disconnect(self) -> None:
        """Drop the current peer (a front end that gave up on it, e.g. a huge QMP line)."""
        if self.loop is not None:
            self.loop.bh(self._disconnect)
        else:
            self._disconnect()

    def _schedule_reconnect(self) -> None:
        def attempt() -> None:
            try:
                sock = self._connect()
            except ValueError:
                if not self._closed:
                    self._schedule_reconnect()
                return
            if self.loop is not None:
                self.loop.bh(lambda: self._connected(sock, None))

        t = threading.Timer(self.reconnect, attempt)
        t.daemon = True
        t.start()

    def on_eof(self) -> None:
        self._disconnect()

    def on_write_error(self) -> None:
        if self.loop is not None:
            self.loop.bh(self._disconnect)

    def write(self, data: bytes) -> None:
        if self._conn is not None:
            super().write(data)

    def close(self) -> None:
        self._closed = True
        self.flush()
        self._disconnect()
        self._watch_listener(False)
        if self._listener is not None:
            self._listener.close()
            self._listener = None
            if self.path is not None:
                try:
                    os.unlink(self.path)
                except OSError:
                    pass

    def describe(self) -> str:
        if self.path is not None:
            base = f"unix:{self.path}"
        else:
            base = f"tcp:{self.host}:{self.port}"
        if self.server:
            base += ",server=on"
            if self._conn is not None and self.peer:
                base += f" <-> {self.peer}"
        if self._conn is None:
            base = "disconnected:" + base
        return base
