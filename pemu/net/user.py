"""`-netdev user`: NAT for the guest through libslirp (QEMU's net/slirp.c role).

pemu writes no TCP/IP stack: libslirp (Debian's libslirp0, through ctypes)
answers ARP, DHCP and DNS for the virtual network and turns the guest's
TCP/UDP connections into host sockets. QEMU's defaults: network
10.0.2.0/24, gateway/host 10.0.2.2, DNS 10.0.2.3, DHCP leases from
10.0.2.15; IPv6 prefix fec0::/64.

Main-loop integration: libslirp tells which sockets it wants watched
(slirp_pollfds_fill) and is told what is ready (slirp_pollfds_poll). pemu
registers those sockets with the main loop's selector, for writing only
when slirp asks (a level-triggered writable socket would spin the loop).
When one is ready, or the guest sent a frame, or slirp's timeout expires
(a timer on the machine clock, as QEMU's virtual clock), a bottom half
"services" slirp: a zero-timeout poll() of its sockets gives the exact
events, slirp_pollfds_poll handles them, and the watched set is updated.
Slirp's own timers (IPv6 router advertisements) are pemu timers. libslirp
calls unregister_poll_fd before it closes a socket, and pemu then drops it
from the selector, so a reused descriptor number never meets a stale entry.

Host forwards bind 127.0.0.1 unless the rule names another address
(safer than QEMU's all-interfaces default; give 0.0.0.0 for that).
`guestfwd=tcp:10.0.2.100:PORT-cmd:COMMAND` connects a guest connection to
that address with a command libslirp runs; QEMU's chardev form is refused.
"""
from __future__ import annotations

import ctypes
import ipaddress
import os
import select
import selectors
import socket
import sys
from dataclasses import dataclass, field
from typing import Any

from pemu.core.clock import Timer
from pemu.net import libslirp
from pemu.net.client import NetClient

_UINT32_MAX = 0xFFFFFFFF


class NetdevError(ValueError):
    """A netdev that cannot be set up (bad sub-option, host resource missing)."""


@dataclass
class HostFwd:
    udp: bool
    host_addr: str
    host_port: int
    guest_addr: str
    guest_port: int
    text: str

    @classmethod
    def parse(cls, text: str, default_guest: str) -> HostFwd:
        """'[tcp|udp]:[hostaddr]:hostport-[guestaddr]:guestport' (QEMU's hostfwd)."""
        bad = NetdevError(f"Invalid host forwarding rule '{text}' (Bad protocol name)")
        proto, sep, rest = text.partition(":")
        if not sep or proto not in ("", "tcp", "udp"):
            raise bad
        host, dash, guest = rest.partition("-")
        if not dash:
            raise NetdevError(f"Invalid host forwarding rule '{text}' (Missing - separator)")
        haddr, hport = _addr_port(host, "127.0.0.1", text, "host")
        gaddr, gport = _addr_port(guest, default_guest, text, "guest")
        if gport == 0:
            raise NetdevError(f"Invalid host forwarding rule '{text}' (Bad guest port)")
        return cls(proto == "udp", haddr, hport, gaddr, gport, text)


def _addr_port(text: str, default: str, rule: str, which: str) -> tuple[str, int]:
    addr, sep, port = text.rpartition(":")
    if not sep:
        raise NetdevError(f"Invalid host forwarding rule '{rule}' "
                          f"(Missing {which} port separator)")
    try:
        ipaddress.IPv4Address(addr or default)
    except ValueError:
        raise NetdevError(f"Invalid host forwarding rule '{rule}' "
                          f"(Bad {which} address)") from None
    if not port.isdigit() or int(port) > 65535:
        raise NetdevError(f"Invalid host forwarding rule '{rule}' (Bad {which} port)")
    return addr or default, int(port)


@dataclass
class UserConfig:
    """What `-netdev user,...` says; QEMU's defaults."""

    net: ipaddress.IPv4Network = field(
        default_factory=lambda: ipaddress.IPv4Network("10.0.2.0/24"))
    host: str | None = None
    dhcpstart: str | None = None
    dns: str | None = None
    restrict: bool = False
    ipv4: bool = True
    ipv6: bool = True
    hostname: str | None = None
    domainname: str | None = None
    tftp: str | None = None
    bootfile: str | None = None
    hostfwd: list[str] = field(default_factory=list)
    guestfwd: list[str] = field(default_factory=list)

    def address(self, value: str | None, offset: int, what: str) -> str:
        """An address of the network: given (checked to be inside it) or net + offset."""
        if value is None:
            return str(self.net.network_address + offset)
        try:
            addr = ipaddress.IPv4Address(value)
        except ValueError:
            raise NetdevError(f"Failed to parse {what} '{value}'") from None
        if addr not in self.net:
            raise NetdevError(f"The {what} address {value} is not in the network {self.net}")
        return value


class UserNetdev(NetClient):
    """One libslirp instance as a net client."""

    kind = "user"

    def __init__(self, name: str, loop: Any, cfg: UserConfig) -> None:
        super().__init__(name)
        lib = libslirp.load()
        if lib is None:
            raise NetdevError(f"-netdev user: {libslirp.load_error()}")
        self.lib = lib
        self.loop = loop
        self.cfg = cfg
        self.host = cfg.address(cfg.host, 2, "host")
        self.dhcpstart = cfg.address(cfg.dhcpstart, 15, "dhcpstart")
        self.dns = cfg.address(cfg.dns, 3, "dns")
        if not cfg.ipv4 and not cfg.ipv6:
            raise NetdevError("IPv4 and IPv6 cannot both be disabled")
        self._watched: dict[int, int] = {}  # fd -> selector events
        self._pollfds: list[tuple[int, int]] = []
        self._revents: list[int] = []
        self._timers: dict[int, Timer] = {}
        self._scheduled = False
        self._closed = False
        self.guest_errors = 0
        self._ping_checked = False
        #: slirp answers pings to these itself (the gateway, the DNS address)
        self._own = {socket.inet_aton(self.host), socket.inet_aton(self.dns)}
        self._service_timer = Timer(loop.clock, self._service)
        self._make_callbacks()
        self._keep = [c.encode() if c else None for c in (
            cfg.hostname, cfg.tftp, cfg.bootfile, cfg.domainname)]
        conf = libslirp.SlirpConfig()
        conf.version = libslirp.CONFIG_VERSION
        conf.restricted = int(cfg.restrict)
        conf.in_enabled = cfg.ipv4
        conf.vnetwork = libslirp.in_addr(str(cfg.net.network_address))
        conf.vnetmask = libslirp.in_addr(str(cfg.net.netmask))
        conf.vhost = libslirp.in_addr(self.host)
        conf.in6_enabled = cfg.ipv6
        conf.vprefix_addr6 = libslirp.in6_addr("fec0::")
        conf.vprefix_len = 64
        conf.vhost6 = libslirp.in6_addr("fec0::2")
        conf.vnameserver6 = libslirp.in6_addr("fec0::3")
        conf.vhostname, conf.tftp_path, conf.bootfile, conf.vdomainname = self._keep
        conf.vdhcp_start = libslirp.in_addr(self.dhcpstart)
        conf.vnameserver = libslirp.in_addr(self.dns)
        conf.if_mtu = 1500
        conf.if_mru = 1500
        self._conf = conf
        self.slirp = lib.slirp_new(ctypes.byref(conf), ctypes.byref(self._cb), None)
        if not self.slirp:
            raise NetdevError("-netdev user: libslirp refused the configuration")
        self.hostfwds: list[HostFwd] = []
        try:
            for rule in cfg.hostfwd:
                self.add_hostfwd(rule)
            for rule in cfg.guestfwd:
                self.add_guestfwd(rule)
        except NetdevError:
            self.cleanup()
            raise
        self._service()

    # --- callbacks from libslirp (kept referenced: C holds the pointers) ---------------
    def _make_callbacks(self) -> None:
        L = libslirp
        self._cb = L.SlirpCb(
            send_packet=L.WriteCb(self._send_packet),
            guest_error=L.GuestErrorCb(self._guest_error),
            clock_get_ns=L.ClockCb(lambda _opaque: self.loop.clock.now()),
            timer_new=L.TimerNewCb(self._timer_new),
            timer_free=L.TimerFreeCb(self._timer_free),
            timer_mod=L.TimerModCb(self._timer_mod),
            register_poll_fd=L.FdCb(lambda fd, _opaque: None),  # seen at the next fill
            unregister_poll_fd=L.FdCb(self._unregister_fd),
            notify=L.NotifyCb(lambda _opaque: self._schedule()),
            init_completed=L.InitCompletedCb(lambda _slirp, _opaque: None),
            timer_new_opaque=L.TimerNewOpaqueCb(self._timer_new_opaque),
        )
        self._add_poll = L.AddPollCb(self._add_poll_fd)
        self._get_revents = L.GetREventsCb(
            lambda idx, _opaque: self._revents[idx] if 0 <= idx < len(self._revents) else 0)
        self._c_timer_cbs: dict[int, Any] = {}

    def _send_packet(self, buf: int, length: int, _opaque: int) -> int:
        self.send(ctypes.string_at(buf, length))
        return length

    def _guest_error(self, msg: bytes, _opaque: int) -> None:
        self.guest_errors += 1  # slirp's note on a malformed guest packet (QEMU logs it
        # only under -d guest_errors, which pemu does not offer)

    def _new_timer(self, fire: Any) -> int:
        key = len(self._timers) + 1
        while key in self._timers:
            key += 1
        self._timers[key] = Timer(self.loop.clock, fire)
        return key

    def _timer_new(self, cb: Any, cb_opaque: int, _opaque: int) -> int:
        def fire() -> None:
            cb(cb_opaque)
            self._schedule()
        return self._new_timer(fire)

    def _timer_new_opaque(self, timer_id: int, cb_opaque: int, _opaque: int) -> int:
        def fire() -> None:
            if not self._closed:
                self.lib.slirp_handle_timer(self.slirp, timer_id, cb_opaque)
                self._schedule()
        return self._new_timer(fire)

    def _timer_free(self, key: int, _opaque: int) -> None:
        timer = self._timers.pop(key, None)
        if timer is not None:
            timer.delete()

    def _timer_mod(self, key: int, expire_ms: int, _opaque: int) -> None:
        timer = self._timers.get(key)
        if timer is not None:
            timer.mod(expire_ms * 1_000_000)

    def _add_poll_fd(self, fd: int, events: int, _opaque: int) -> int:
        self._pollfds.append((fd, events))
        return len(self._pollfds) - 1

    def _unregister_fd(self, fd: int, _opaque: int) -> None:
        if self._watched.pop(fd, None) is not None:
            self.loop.remove_fd(fd)

    # --- the guest's frames --------------------------------------------------------
    def receive(self, data: bytes) -> bool:
        if not self._ping_checked and _is_icmp_echo(data) and data[30:34] not in self._own:
            self._ping_checked = True
            if not ping_sockets_allowed():
                sys.stderr.write(
                    f"pemu: warning: -netdev user {self.name}: this host does not allow "
                    "unprivileged ICMP sockets (sysctl net.ipv4.ping_group_range), so the "
                    "guest's pings beyond its gateway get no answer\n")
        if not self._closed:
            self.lib.slirp_input(self.slirp, data, len(data))
            self._schedule()
        return True

    # --- servicing slirp from the main loop --------------------------------------------
    def _schedule(self) -> None:
        if not self._scheduled and not self._closed:
            self._scheduled = True
            self.loop.bh(self._service)

    def _fill(self) -> int:
        self._pollfds = []
        timeout = ctypes.c_uint32(_UINT32_MAX)
        self.lib.slirp_pollfds_fill(self.slirp, ctypes.byref(timeout), self._add_poll, None)
        return timeout.value

    def _service(self) -> None:
        self._scheduled = False
        if self._closed:
            return
        self._fill()
        self._revents = _poll_now(self._pollfds)
        self.lib.slirp_pollfds_poll(self.slirp, 0, self._get_revents, None)
        timeout_ms = self._fill()
        self._watch(self._pollfds)
        if timeout_ms != _UINT32_MAX:
            self._service_timer.mod(self.loop.clock.now() + timeout_ms * 1_000_000)
        else:
            self._service_timer.delete()

    def _watch(self, pollfds: list[tuple[int, int]]) -> None:
        """Make the main loop's selector watch exactly what slirp asked for."""
        want: dict[int, int] = {}
        for fd, ev in pollfds:
            sev = selectors.EVENT_READ if ev & (libslirp.SLIRP_POLL_IN | libslirp.SLIRP_POLL_PRI) \
                else 0
            if ev & libslirp.SLIRP_POLL_OUT:
                sev |= selectors.EVENT_WRITE
            want[fd] = want.get(fd, 0) | (sev or selectors.EVENT_READ)
        sel = self.loop.sel
        for fd in list(self._watched):
            if fd not in want:
                del self._watched[fd]
                self.loop.remove_fd(fd)
        for fd, sev in want.items():
            old = self._watched.get(fd)
            if old == sev:
                continue
            try:
                if old is None:
                    sel.register(fd, sev, self._schedule)
                else:
                    sel.modify(fd, sev, self._schedule)
            except (KeyError, ValueError, OSError):
                continue  # a socket slirp closes this very turn
            self._watched[fd] = sev

    # --- host forwarding -----------------------------------------------------------
    def add_hostfwd(self, text: str) -> HostFwd:
        fwd = HostFwd.parse(text, self.dhcpstart)
        rc = self.lib.slirp_add_hostfwd(
            self.slirp, int(fwd.udp), libslirp.in_addr(fwd.host_addr), fwd.host_port,
            libslirp.in_addr(fwd.guest_addr), fwd.guest_port)
        if rc < 0:
            raise NetdevError(f"could not set up host forwarding rule '{text}'")
        self.hostfwds.append(fwd)
        self._schedule()
        return fwd

    def add_guestfwd(self, text: str) -> None:
        """'[tcp]:server:port-cmd:command': a guest connection to server:port talks to
        the command's stdin/stdout (libslirp runs it). QEMU's chardev form is refused."""
        rule, dash, target = text.partition("-")
        proto, _, rest = rule.partition(":")
        server, _, port = rest.rpartition(":")
        if not dash or proto not in ("", "tcp") or not port.isdigit() or int(port) > 65535:
            raise NetdevError(f"Invalid guest forwarding rule '{text}'")
        if not target.startswith("cmd:"):
            raise NetdevError(f"guestfwd to a chardev ('{target}') is not supported by this "
                              "build (only -cmd:COMMAND)")
        addr = libslirp.in_addr(self.cfg.address(server or None, 0x64, "guestfwd server"))
        if self.lib.slirp_add_exec(self.slirp, target[4:].encode(), ctypes.byref(addr),
                                   int(port)) < 0:
            raise NetdevError(f"conflicting/invalid host:port in guest forwarding rule '{text}'")

    def remove_hostfwd(self, udp: bool, host_addr: str, host_port: int) -> bool:
        rc = self.lib.slirp_remove_hostfwd(self.slirp, int(udp), libslirp.in_addr(host_addr),
                                           host_port)
        self._schedule()
        return rc == 0

    def connection_info(self) -> str:
        """slirp's table of connections (HMP `info usernet`)."""
        return libslirp.take_string(self.lib.slirp_connection_info(self.slirp))

    def info(self) -> str:
        return (f"net={self.cfg.net.network_address},"
                f"restrict={'on' if self.cfg.restrict else 'off'}")

    def cleanup(self) -> None:
        if self._closed:
            return
        self._closed = True
        for fd in list(self._watched):
            self.loop.remove_fd(fd)
        self._watched.clear()
        for timer in self._timers.values():
            timer.delete()
        self._service_timer.delete()
        if self.slirp:
            self.lib.slirp_cleanup(self.slirp)
            self.slirp = None


def _is_icmp_echo(frame: bytes) -> bool:
    """An IPv4 ICMP echo request in an Ethernet frame."""
    if len(frame) < 34 or frame[12:14] != b"\x08\x00" or frame[23] != 1:
        return False
    ihl = (frame[14] & 0xF) * 4
    return len(frame) > 14 + ihl and frame[14 + ihl] == 8


def ping_sockets_allowed() -> bool:
    """Whether this process may open unprivileged ICMP sockets, which libslirp uses
    for the guest's pings (net.ipv4.ping_group_range holds one of our groups)."""
    try:
        with open("/proc/sys/net/ipv4/ping_group_range") as f:
            lo, hi = (int(x) for x in f.read().split())
    except (OSError, ValueError):
        return False
    return any(lo <= g <= hi for g in {os.getegid(), *os.getgroups()})


def _poll_now(pollfds: list[tuple[int, int]]) -> list[int]:
    """The SLIRP_POLL_* events each (fd, wanted) has right now (poll with no wait)."""
    if not pollfds:
        return []
    p = select.poll()
    for fd, ev in pollfds:
        mask = 0
        if ev & libslirp.SLIRP_POLL_IN:
            mask |= select.POLLIN
        if ev & libslirp.SLIRP_POLL_OUT:
            mask |= select.POLLOUT
        if ev & libslirp.SLIRP_POLL_PRI:
            mask |= select.POLLPRI
        p.register(fd, mask)
    try:
        ready = dict(p.poll(0))
    except OSError as e:
        sys.stderr.write(f"pemu: -netdev user: poll failed: {e}\n")
        return [0] * len(pollfds)
    out = []
    for fd, _ in pollfds:
        r = ready.get(fd, 0)
        ev = 0
        if r & select.POLLIN:
            ev |= libslirp.SLIRP_POLL_IN
        if r & select.POLLOUT:
            ev |= libslirp.SLIRP_POLL_OUT
        if r & select.POLLPRI:
            ev |= libslirp.SLIRP_POLL_PRI
        if r & (select.POLLERR | select.POLLNVAL):
            ev |= libslirp.SLIRP_POLL_ERR
        if r & select.POLLHUP:
            ev |= libslirp.SLIRP_POLL_HUP
        out.append(ev)
    return out


__all__ = ["UserNetdev", "UserConfig", "HostFwd", "NetdevError"]
