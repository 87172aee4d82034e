"""`-netdev TYPE,id=ID,...` and QMP/HMP `netdev_add`: QEMU's back-end options -> a NetClient.

One parser for the command line and the monitor. Each type declares the
sub-options it honours; QEMU's others are refused by name (one line), never
accepted and ignored.
"""
from __future__ import annotations

import ipaddress
from typing import Any

from pemu.net.client import NetClient
from pemu.net.network import Network
from pemu.net.user import NetdevError

#: -netdev types QEMU 7.2 has that pemu refuses by name.
REFUSED_TYPES = ("bridge", "l2tpv3", "vde", "netmap", "vhost-user", "vhost-vdpa",
                 "stream", "dgram", "af-xdp", "vmnet-host", "vmnet-shared", "vmnet-bridged")
USER_KEYS = ("net", "host", "dhcpstart", "dns", "restrict", "ipv4", "ipv6", "hostname",
             "domainname", "tftp", "bootfile", "hostfwd", "guestfwd")
USER_REFUSED = ("ip", "dnssearch", "ipv6-net", "ipv6-prefix", "ipv6-prefixlen", "ipv6-host",
                "ipv6-dns", "smb", "smbserver", "tftp-server-name")
SOCKET_KEYS = ("listen", "connect", "mcast", "udp", "localaddr", "fd")
TAP_KEYS = ("ifname", "script", "downscript")
TAP_REFUSED = ("fd", "fds", "br", "helper", "sndbuf", "vnet_hdr", "vhost", "vhostfd",
               "vhostfds", "vhostforce", "queues", "poll-us")
_BOOL = {"on": True, "yes": True, "y": True, "true": True,
         "off": False, "no": False, "n": False, "false": False}


def parse_bool(where: str, key: str, value: str) -> bool:
    if value not in _BOOL:
        raise ValueError(f"{where}: Parameter '{key}' expects 'on' or 'off'")
    return _BOOL[value]


def split_pairs(text: str, implied: str) -> list[tuple[str, str]]:
    """'user,id=n0,hostfwd=a,hostfwd=b' -> [(implied, 'user'), ('id','n0'), ...]:
    like options.split_keyvals but keeping repeated keys (hostfwd), ',,' escapes a comma."""
    parts, cur, i = [], [], 0
    while i < len(text):
        if text[i] == ",":
            if text[i + 1:i + 2] == ",":
                cur.append(",")
                i += 2
                continue
            parts.append("".join(cur))
            cur = []
        else:
            cur.append(text[i])
        i += 1
    parts.append("".join(cur))
    out = []
    for n, part in enumerate(parts):
        if "=" in part:
            k, _, v = part.partition("=")
        elif n == 0:
            k, v = implied, part
        elif part:
            k, v = part, "on"
        else:
            continue
        out.append((k, v))
    return out


# --- back ends ---------------------------------------------------------------------
def _user(network: Network, loop: Any, name: str, pairs: list[tuple[str, str]],
          where: str) -> NetClient:
    from pemu.net.user import UserConfig, UserNetdev

    cfg = UserConfig()
    for key, value in pairs:
        if key in USER_REFUSED:
            raise ValueError(f"{where}: user netdev option '{key}' is not supported by this build")
        if key not in USER_KEYS:
            raise ValueError(f"{where}: Invalid parameter '{key}'")
        if key in ("hostfwd", "guestfwd"):
            getattr(cfg, key).append(value)
        elif key == "net":
            cfg.net = _parse_net(value, where)
        elif key in ("restrict", "ipv4", "ipv6"):
            setattr(cfg, key, parse_bool(where, key, value))
        else:
            setattr(cfg, key, value)
    return UserNetdev(name, loop, cfg)


def _parse_net(value: str, where: str) -> ipaddress.IPv4Network:
    text = value if "/" in value else value + "/24"
    try:
        return ipaddress.IPv4Network(text)
    except ValueError:
        raise ValueError(f"{where}: Invalid network '{value}' "
                         "(expected ADDR/PREFIX or ADDR/NETMASK, host bits zero)") from None


def _socket(network: Network, loop: Any, name: str, pairs: list[tuple[str, str]],
            where: str) -> NetClient:
    from pemu.net.socket_netdev import make_socket_netdev

    opts: dict[str, str] = {}
    for key, value in pairs:
        if key not in SOCKET_KEYS:
            raise ValueError(f"{where}: Invalid parameter '{key}'")
        opts[key] = value
    return make_socket_netdev(name, loop, opts)


def _tap(network: Network, loop: Any, name: str, pairs: list[tuple[str, str]],
         where: str) -> NetClient:
    from pemu.net.tap import TapNetdev

    opts: dict[str, str] = {}
    for key, value in pairs:
        if key in TAP_REFUSED:
            raise ValueError(f"{where}: tap netdev option '{key}' is not supported by this build")
        if key not in TAP_KEYS:
            raise ValueError(f"{where}: Invalid parameter '{key}'")
        opts[key] = value
    return TapNetdev(name, loop, **opts)


def _hubport(network: Network, loop: Any, name: str, pairs: list[tuple[str, str]],
             where: str) -> NetClient:
    opts = dict(pairs)
    for key in opts:
        if key not in ("hubid", "netdev"):
            raise ValueError(f"{where}: Invalid parameter '{key}'")
    if "netdev" in opts:
        raise ValueError(f"{where}: hubport option 'netdev' is not supported by this build")
    if "hubid" not in opts:
        raise ValueError(f"{where}: Parameter 'hubid' is missing")
    try:
        hub_id = int(opts["hubid"], 0)
    except ValueError:
        raise ValueError(f"{where}: Parameter 'hubid' expects an integer") from None
    return network.hubs.get(hub_id).add_port(name)


BACKENDS = {"user": _user, "socket": _socket, "tap": _tap, "hubport": _hubport}


def create_backend(network: Network, loop: Any, pairs: list[tuple[str, str]], name: str,
             where: str) -> NetClient:
    kind = pairs[0][1]
    if kind in REFUSED_TYPES:
        raise ValueError(f"{where}: netdev type '{kind}' is not supported by this build")
    maker = BACKENDS.get(kind)
    if maker is None:
        raise ValueError(f"{where}: Parameter 'type' expects a netdev backend type "
                         f"(user, socket, tap, hubport)")
    try:
        return maker(network, loop, name, pairs[1:], where)
    except NetdevError as e:
        raise ValueError(f"{where}: {e}") from None


def add_netdev(network: Network, loop: Any, text: str) -> NetClient:
    """-netdev TEXT / HMP netdev_add TEXT: create the back end and register it."""
    return add_netdev_pairs(network, loop, split_pairs(text, "type"), f"-netdev {text}")


def add_netdev_pairs(network: Network, loop: Any, pairs: list[tuple[str, str]],
                     where: str) -> NetClient:
    ids = [v for k, v in pairs if k == "id"]
    if not ids:
        raise ValueError(f"{where}: Parameter 'id' is missing")
    nid = ids[-1]
    if nid in network.netdevs:
        raise ValueError(f"{where}: Duplicate ID '{nid}' for netdev")
    rest = [(k, v) for k, v in pairs if k != "id"]
    if not rest or rest[0][0] != "type":
        raise ValueError(f"{where}: Parameter 'type' is missing")
    client = create_backend(network, loop, rest, nid, where)
    network.netdevs[nid] = network.add(client)
    return client


def qmp_pairs(args: dict[str, Any]) -> list[tuple[str, str]]:
    """QMP netdev_add arguments as command-line pairs: booleans on/off, numbers in
    decimal, hostfwd as a list of {"str": rule}; `type` first."""
    pairs = [("type", str(args.get("type", "")))]
    for key, value in args.items():
        if key == "type":
            continue
        if isinstance(value, bool):
            pairs.append((key, "on" if value else "off"))
        elif isinstance(value, list):
            pairs += [(key, str(v.get("str", "") if isinstance(v, dict) else v)) for v in value]
        else:
            pairs.append((key, str(value)))
    return pairs


def del_netdev(network: Network, nid: str) -> None:
    """netdev_del: unplug the back end from its NIC (the guest sees no frames, as with
    a pulled cable) and release its host resources."""
    client = network.netdevs.pop(nid, None)
    if client is None:
        raise KeyError(nid)
    for f in [f for f in network.filters.values() if f.netdev is client]:
        f.close()
    if client.peer is not None:
        client.peer.peer = None
        client.peer = None
    if client in network.created:
        network.created.remove(client)
    client.cleanup()

__all__ = ["add_netdev", "add_netdev_pairs", "create_backend", "del_netdev", "qmp_pairs",
           "split_pairs", "BACKENDS"]
