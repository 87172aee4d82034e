"""`-netdev socket`: a virtual LAN cable over host sockets, in QEMU's wire format.

- ``listen=[host]:port`` / ``connect=host:port``: one TCP stream; each frame
  is sent as a 4-byte big-endian length then the frame (QEMU's framing for
  stream sockets), so a pemu machine and a QEMU machine can share the cable.
  A listener takes one connection at a time and listens again when it ends.
- ``mcast=group:port[,localaddr=addr]``: every machine joined to the UDP
  multicast group sees every frame; one datagram per frame. Multicast
  loopback is on, so machines on the same host meet (they see their own
  frames too, as with QEMU).
- ``udp=host:port,localaddr=host:port``: unicast UDP, one datagram per frame.

Sockets are non-blocking and watched by the main loop. Flow control: when
the peer (a NIC) cannot take a frame, reading stops until it has drained;
when the host socket cannot take more (TCP send buffer full) frames wait in
an output buffer, and past OUT_LIMIT the NIC's frames wait in this client's
queue. A frame offered while no connection exists is dropped, as a cable
plugged into nothing would drop it (counted in `dropped`).
"""
from __future__ import annotations

import selectors
import socket
import struct
from typing import Any

from pemu.net.client import NetClient
from pemu.net.user import NetdevError

OUT_LIMIT = 1 << 20
#: A stream frame longer than this is a corrupt stream (QEMU's NET_BUFSIZE is 68 KiB).
MAX_FRAME = 69632


def _hostport(text: str, where: str, default_host: str | None = None) -> tuple[str, int]:
    host, sep, port = text.rpartition(":")
    if not sep or not port.isdigit() or int(port) > 65535:
        raise NetdevError(f"{where}: host:port expected, not '{text}'")
    if not host:
        if default_host is None:
            raise NetdevError(f"{where}: host missing in '{text}'")
        host = default_host
    return host, int(port)


class SocketNetdev(NetClient):
    """Common watching of one socket; subclasses read and write frames."""

    kind = "socket"

    def __init__(self, name: str, loop: Any) -> None:
        super().__init__(name)
        self.loop = loop
        self.sock: socket.socket | None = None
        self._watching: int = 0
        self._reading = True
        self.description = ""

    def _watch(self) -> None:
        """Watch the socket for what is wanted now: reading unless the peer is full,
        writing while output waits."""
        sock = self.sock
        want = 0
        if sock is not None:
            if self._reading:
                want |= selectors.EVENT_READ
            if self._pending_output():
                want |= selectors.EVENT_WRITE
        if want == self._watching:
            return
        if self._watching:
            self.loop.remove_fd(self._fd)
        self._watching = 0
        if want and sock is not None:
            self._fd = sock.fileno()
            self.loop.sel.register(self._fd, want, self._ready)
            self._watching = want

    def _pending_output(self) -> bool:
        return False

    def _ready(self) -> None:
        raise NotImplementedError

    def _deliver(self, frame: bytes) -> None:
        if not self.send(frame):
            self._reading = False  # resumed by on_peer_drained
            self._watch()

    def on_peer_drained(self) -> None:
        if not self._reading:
            self._reading = True
            self._watch()

    def info(self) -> str:
        return self.description

    def cleanup(self) -> None:
        self._reading = False
        if self._watching:
            self.loop.remove_fd(self._fd)
            self._watching = 0
        if self.sock is not None:
            self.sock.close()
            self.sock = None


class StreamNetdev(SocketNetdev):
    """listen= or connect=: frames with a 4-byte big-endian length on a TCP stream."""

    def __init__(self, name: str, loop: Any, listen: str | None, connect: str | None) -> None:
        super().__init__(name, loop)
        self._in = bytearray()
        self._out = bytearray()
        self.listener: socket.socket | None = None
        if listen is not None:
            host, port = _hostport(listen, "listen", "0.0.0.0")
            ls = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                ls.bind((host, port))
            except OSError as e:
                ls.close()
                raise NetdevError(f"can't bind ip={host} to socket: {e.strerror}") from None
            ls.listen(1)
            ls.setblocking(False)
            self.listener = ls
            self.description = f"socket: wait connection on {host}:{port}"
            loop.add_fd(ls.fileno(), self._accept)
        else:
            assert connect is not None
            host, port = _hostport(connect, "connect")
            try:
                sock = socket.create_connection((host, port), timeout=10)
            except OSError as e:
                raise NetdevError(f"can't connect socket: {e.strerror or e}") from None
            self._attach(sock, f"socket: connect to {host}:{port}")

    def _attach(self, sock: socket.socket, description: str) -> None:
        sock.setblocking(False)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.sock = sock
        self.description = description
        self._in.clear()
        self._out.clear()
        self._reading = True
        self._watch()

    def _accept(self) -> None:
        assert self.listener is not None
        try:
            sock, addr = self.listener.accept()
        except (BlockingIOError, InterruptedError):
            return
        if self.sock is not None:
            sock.close()  # one cable, one connection
            return
        self.loop.remove_fd(self.listener.fileno())
        self._attach(sock, f"socket: connection from {addr[0]}:{addr[1]}")

    def _disconnect(self) -> None:
        if self._watching:
            self.loop.remove_fd(self._fd)
            self._watching = 0
        if self.sock is not None:
            self.sock.close()
            self.sock = None
        if self.listener is not None:
            self.description = "socket: wait connection"
            self.loop.add_fd(self.listener.fileno(), self._accept)

    def _pending_output(self) -> bool:
        return bool(self._out)

    def _ready(self) -> None:
        if self.sock is None:
            return
        if self._out:
            self._flush_out()
        if self._reading and self.sock is not None:
            self._read()

    def _read(self) -> None:
        assert self.sock is not None
        try:
            data = self.sock.recv(65536)
        except (BlockingIOError, InterruptedError):
            return
        except OSError:
            data = b""
        if not data:
            self._disconnect()
            return
        self._in += data
        while self._reading and len(self._in) >= 4:
            (length,) = struct.unpack_from(">I", self._in)
            if length > MAX_FRAME:
                self._disconnect()  # not QEMU's framing: drop the connection, as QEMU does
                return
            if len(self._in) < 4 + length:
                break
            frame = bytes(self._in[4:4 + length])
            del self._in[:4 + length]
            self._deliver(frame)

    def _flush_out(self) -> None:
        assert self.sock is not None
        try:
            n = self.sock.send(self._out)
        except (BlockingIOError, InterruptedError):
            n = 0
        except OSError:
            self._disconnect()  # the peer reset the connection: the cable is unplugged
            return
        del self._out[:n]
        self._watch()
        if len(self._out) < OUT_LIMIT and self.incoming:
            self.flush_queued()

    def can_receive(self) -> bool:
        return len(self._out) < OUT_LIMIT

    def receive(self, data: bytes) -> bool:
        if self.sock is None:
            self.dropped += 1
            return True
        if len(self._out) >= OUT_LIMIT:
            return False
        self._out += struct.pack(">I", len(data)) + data
        self._flush_out()
        return True

    def cleanup(self) -> None:
        super().cleanup()
        if self.listener is not None:
            self.loop.remove_fd(self.listener.fileno())
            self.listener.close()
            self.listener = None


class DgramNetdev(SocketNetdev):
    """mcast= or udp=: one UDP datagram per frame."""

    def __init__(self, name: str, loop: Any, sock: socket.socket, dest: tuple[str, int],
                 description: str) -> None:
        super().__init__(name, loop)
        sock.setblocking(False)
        self.sock = sock
        self.dest = dest
        self.description = description
        self._watch()

    def _ready(self) -> None:
        while self._reading and self.sock is not None:
            try:
                frame = self.sock.recv(MAX_FRAME)
            except (BlockingIOError, InterruptedError):
                return
            except OSError:
                return  # e.g. ICMP port unreachable reported on a unicast socket
            self._deliver(frame)

    def receive(self, data: bytes) -> bool:
        assert self.sock is not None
        try:
            self.sock.sendto(data, self.dest)
        except OSError:
            self.dropped += 1  # UDP: a frame the host cannot send is lost, as on a wire
        return True


def _mcast(name: str, loop: Any, group_text: str, localaddr: str | None) -> DgramNetdev:
    group, port = _hostport(group_text, "mcast")
    try:
        if not socket.inet_aton(group)[0] & 0xF0 == 0xE0:
            raise NetdevError(f"mcast address {group} is not a multicast (224.0.0.0/4) address")
    except OSError:
        raise NetdevError(f"mcast: bad address '{group}'") from None
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((group, port))
        local = socket.inet_aton(localaddr) if localaddr else struct.pack("=I", 0)
        sock.setsockopt(socket.IPPROTO_IP, socket.IP_ADD_MEMBERSHIP,
                        socket.inet_aton(group) + local)
        sock.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_LOOP, 1)
        if localaddr:
            sock.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_IF, socket.inet_aton(localaddr))
    except OSError as e:
        sock.close()
        raise NetdevError(f"mcast={group_text}: {e.strerror or e}") from None
    return DgramNetdev(name, loop, sock, (group, port), f"socket: mcast={group}:{port}")


def _udp(name: str, loop: Any, dest_text: str, localaddr: str | None) -> DgramNetdev:
    if localaddr is None:
        raise NetdevError("localaddr= is mandatory with udp=")
    dest = _hostport(dest_text, "udp")
    local = _hostport(localaddr, "localaddr", "0.0.0.0")
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(local)
    except OSError as e:
        sock.close()
        raise NetdevError(f"can't bind ip={local[0]} to socket: {e.strerror}") from None
    return DgramNetdev(name, loop, sock, dest, f"socket: udp={dest[0]}:{dest[1]}")


def make_socket_netdev(name: str, loop: Any, opts: dict[str, str]) -> SocketNetdev:
    """The socket netdev `opts` (listen/connect/mcast/udp, localaddr) describe."""
    if "fd" in opts:
        raise NetdevError("socket option 'fd' is not supported by this build")
    modes = [k for k in ("listen", "connect", "mcast", "udp") if k in opts]
    if len(modes) != 1:
        raise NetdevError("exactly one of listen= connect= mcast= or udp= is required")
    mode = modes[0]
    if "localaddr" in opts and mode in ("listen", "connect"):
        raise NetdevError("localaddr= is only valid with mcast= or udp=")
    if mode == "listen":
        return StreamNetdev(name, loop, opts["listen"], None)
    if mode == "connect":
        return StreamNetdev(name, loop, None, opts["connect"])
    if mode == "mcast":
        return _mcast(name, loop, opts["mcast"], opts.get("localaddr"))
    return _udp(name, loop, opts["udp"], opts.get("localaddr"))


__all__ = ["make_socket_netdev", "StreamNetdev", "DgramNetdev", "SocketNetdev"]
