"""Networks on the command line: -netdev, -nic, -net, -device virtio-net-device,
-object filter-dump (QEMU's syntax; the parts live in pemu/net and pemu/hw/net).

- ``-netdev TYPE,id=ID[,...]``: a back end (user, socket, tap, hubport); QEMU's
  other types (bridge, vde, ...) are refused by name, as are the sub-options of
  a type that pemu does not implement.
- ``-device virtio-net-device,netdev=ID[,mac=][,id=][,bus=virtio-mmio-bus.N]``.
- ``-nic TYPE[,model=virtio-net-device][,mac=][,...]``: a back end and a NIC
  together. QEMU 7.2's riscv ``virt`` creates no NIC for -nic (it warns);
  pemu creates a virtio-net-device, the only NIC model it has.
- ``-net nic[,model=][,macaddr=][,netdev=][,name=]`` and ``-net TYPE[,...]``:
  the legacy form; without netdev= everything joins hub 0.
- ``-object filter-dump,id=,netdev=,file=[,maxlen=][,queue=]``.

MACs: as QEMU, a NIC without mac= gets 52:54:00:12:34:56 plus the lowest
index no other NIC uses. NICs are plugged into virtio-mmio slots after the
disks (QEMU interleaves them in -device order: the slot addresses may differ
on command lines mixing both, the guest's names do not).
"""
from __future__ import annotations

import sys
from typing import Any

from pemu.cli.options import Options
from pemu.net.client import NetClient
from pemu.net.netdev_options import add_netdev, create_backend, split_pairs
from pemu.net.network import Network

NIC_MODEL = "virtio-net-device"
FILTER_DUMP_KEYS = ("id", "netdev", "file", "maxlen", "queue")


# --- NICs --------------------------------------------------------------------------
def _nic(machine: Any, network: Network, mac: str | None, dev_id: str | None,
         peer: NetClient | None, bus: str | None, where: str) -> Any:
    from pemu.cli.drive_options import _plug as plug_device  # the -device slot rules
    from pemu.hw.net.virtio_net import VirtioNet
    from pemu.qom import PropertyError

    name = dev_id or f"{NIC_MODEL}.{network.nic_count}"
    network.nic_count += 1
    try:
        dev = VirtioNet(loop=machine.loop, name=name, mac=network.macs.take(mac),
                        **({"id": dev_id} if dev_id else {}))
    except PropertyError as e:
        raise ValueError(f"{where}: {e}") from None
    plug_device(machine, dev, bus, where)
    network.add(dev.nic)
    if peer is not None:
        dev.nic.connect(peer)
    network.nics.append(dev)
    return dev


def _device(machine: Any, network: Network, text: str, used: set[str]) -> None:
    where = f"-device {text}"
    props = dict(split_pairs(text, "driver"))
    props.pop("driver")
    if "help" in props:
        from pemu.hw.net.virtio_net import VirtioNet
        sys.stdout.write(VirtioNet.help_text() + "\n  netdev=<str> - the back end's id\n")
        raise SystemExit(0)
    nid = props.pop("netdev", None)
    mac = props.pop("mac", None)
    dev_id = props.pop("id", None)
    bus = props.pop("bus", None)
    for key in props:
        raise ValueError(f"{where}: Property '{NIC_MODEL}.{key}' not found")
    peer = None
    if nid is not None:
        peer = network.netdevs.get(nid)
        if peer is None:
            raise ValueError(f"{where}: Property '{NIC_MODEL}.netdev' can't find value '{nid}'")
        if peer.peer is not None or nid in used:
            raise ValueError(f"{where}: Property '{NIC_MODEL}.netdev' can't use value '{nid}', "
                             "it's in use")
        used.add(nid)
    _nic(machine, network, mac, dev_id, peer, bus, where)


def _nic_option(machine: Any, network: Network, text: str, n: int) -> None:
    """-nic TYPE[,model=][,mac=][,backend options]."""
    where = f"-nic {text}"
    pairs = split_pairs(text, "type")
    if pairs[0] == ("type", "none"):
        return
    model = mac = None
    rest = []
    for k, v in pairs:
        if k == "model":
            model = v
        elif k == "mac":
            mac = v
        else:
            rest.append((k, v))
    if model in ("help", "?"):
        sys.stdout.write(f"Available NIC models:\n{NIC_MODEL}\n")
        raise SystemExit(0)
    if model not in (None, NIC_MODEL, "virtio"):
        raise ValueError(f"{where}: NIC model '{model}' is not supported by this build "
                         f"(model=help lists them)")
    if any(k == "id" for k, _ in rest):
        raise ValueError(f"{where}: Invalid parameter 'id'")
    backend = create_backend(network, machine.loop, rest, f"__org.qemu.nic{n}", where)
    network.netdevs[backend.name] = network.add(backend)
    _nic(machine, network, mac, None, backend, None, where)


def _net_option(machine: Any, network: Network, text: str) -> None:
    """-net nic[,...] / -net TYPE[,...]: legacy, everything on hub 0 unless netdev=."""
    where = f"-net {text}"
    pairs = split_pairs(text, "type")
    kind = pairs[0][1]
    if kind == "none":
        return
    if kind == "hubport":
        raise ValueError(f"{where}: network backend 'hubport' is only supported with "
                         "-netdev/-nic")
    opts = pairs[1:]
    name = next((v for k, v in opts if k == "name"), None)
    opts = [(k, v) for k, v in opts if k != "name"]
    if kind == "nic":
        keys = dict(opts)
        for key in keys:
            if key not in ("model", "macaddr", "netdev"):
                raise ValueError(f"{where}: Invalid parameter '{key}'")
        model = keys.get("model")
        if model in ("help", "?"):
            sys.stdout.write(f"Available NIC models:\n{NIC_MODEL}\n")
            raise SystemExit(0)
        if model not in (None, NIC_MODEL, "virtio"):
            raise ValueError(f"{where}: NIC model '{model}' is not supported by this build")
        if "netdev" in keys:
            peer = network.netdevs.get(keys["netdev"])
            if peer is None:
                raise ValueError(f"{where}: netdev '{keys['netdev']}' not found")
        else:
            peer = network.hubs.get(0).add_port()
        _nic(machine, network, keys.get("macaddr"), name, peer, None, where)
        return
    if name is None:
        name = f"#net{network.anon_count}"
        network.anon_count += 1
    backend = create_backend(network, machine.loop, pairs[:1] + opts, name, where)
    network.netdevs[name] = network.add(backend)
    backend.connect(network.hubs.get(0).add_port())


def _filter(network: Network, text: str) -> None:
    from pemu.net.filter_dump import DEFAULT_MAXLEN, FilterDump

    where = f"-object {text}"
    props = dict(split_pairs(text, "qom-type"))
    qtype = props.pop("qom-type")
    if qtype != "filter-dump":
        raise ValueError(f"{where}: object type '{qtype}' is not supported by this build "
                         "(only filter-dump)")
    for key in props:
        if key not in FILTER_DUMP_KEYS:
            raise ValueError(f"{where}: Property 'filter-dump.{key}' not found")
    for key in ("id", "netdev", "file"):
        if key not in props:
            raise ValueError(f"{where}: Parameter '{key}' is missing")
    if props["id"] in network.filters:
        raise ValueError(f"{where}: attempt to add duplicate property '{props['id']}'")
    netdev = network.netdevs.get(props["netdev"])
    if netdev is None:
        raise ValueError(f"{where}: Property 'netdev' can't find value '{props['netdev']}'")
    try:
        maxlen = int(props.get("maxlen", DEFAULT_MAXLEN))
        network.filters[props["id"]] = FilterDump(props["id"], netdev, props["file"], maxlen,
                                                  props.get("queue", "all"))
    except ValueError as e:
        raise ValueError(f"{where}: {e}") from None


def apply_net_options(machine: Any, opts: Options, warn: Any = None) -> Network:
    """Create back ends, NICs and filters; the result is also `machine.net`.

    On error what was created is released and ValueError carries the one line."""
    network = Network()
    machine.net = network
    try:
        for text in opts.all("netdev"):
            add_netdev(network, machine.loop, text)
        # QEMU's order: -nic and -net cards are the board's (created with it),
        # -device cards come after
        for n, text in enumerate(opts.all("nic")):
            _nic_option(machine, network, text, n)
        for text in opts.all("net"):
            _net_option(machine, network, text)
        used: set[str] = set()
        for text in opts.all("device"):
            if split_pairs(text, "driver")[0][1] == NIC_MODEL:
                _device(machine, network, text, used)
        for text in opts.all("object"):
            _filter(network, text)
    except BaseException:
        network.cleanup()
        raise
    if warn is not None:
        for nid, nd in network.netdevs.items():
            if nd.peer is None:
                warn(f"netdev {nid} has no peer")
        for hub in network.hubs.by_id.values():
            if not any(p.peer is not None and p.peer.kind == "nic" for p in hub.ports):
                warn(f"hub {hub.id} with no nics")
    return network


__all__ = ["apply_net_options", "split_pairs"]
