"""One implementation of each monitor command; QMP and HMP both call these.

Each function takes the machine, the monitor session asking (or None) and
the command's arguments (already validated against `schema.py`, dashes
turned into underscores), and returns the QMP return value or raises
QmpError. Runstate changes go through `machine.loop.request()`, so a board's
handlers see them exactly as they see a signal or a guest request.
"""
from __future__ import annotations

import os
import threading
from collections.abc import Callable
from typing import Any

from pemu.monitor import memaccess
from pemu.monitor.errors import QmpError
from pemu.monitor.schema import BY_NAME, COMMANDS
from pemu.monitor.version import version_info

IMPLS: dict[str, Callable[..., Any]] = {}
#: Runstates from which 'cont' needs a system_reset first (QEMU runstate_needs_reset).
NEEDS_RESET = {"shutdown", "internal-error", "guest-panicked"}


def command(name: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    if name not in BY_NAME:
        raise KeyError(f"{name} is not declared in monitor/schema.py")

    def register(fn: Callable[..., Any]) -> Callable[..., Any]:
        IMPLS[name] = fn
        return fn
    return register


def execute(machine: Any, name: str, args: dict[str, Any] | None = None,
            session: Any = None) -> Any:
    """Run a declared command with already-validated arguments."""
    fn = IMPLS[name]
    kwargs = {k.replace("-", "_"): v for k, v in (args or {}).items()}
    return fn(machine, session, **kwargs)


def get_cpu(machine: Any, index: int | None) -> Any:
    cpus = machine.cpus
    if index is None:
        return cpus[0] if cpus else None
    for cpu in cpus:
        if getattr(cpu, "index", None) == index:
            return cpu
    raise QmpError("Parameter 'cpu-index' expects a CPU number")


# --- negotiation and introspection ---------------------------------------------
@command("qmp_capabilities")
def qmp_capabilities(machine: Any, session: Any, enable: list[str] | None = None) -> dict:
    if session is None:
        raise QmpError("Capabilities negotiation is already complete, command ignored",
                       "CommandNotFound")
    session.negotiate(enable or [])
    return {}


@command("query-version")
def query_version(machine: Any, session: Any) -> dict:
    return version_info()


@command("query-commands")
def query_commands(machine: Any, session: Any) -> list[dict]:
    return [{"name": c.name} for c in COMMANDS]


@command("query-qmp-schema")
def query_qmp_schema(machine: Any, session: Any) -> list[dict]:
    from pemu.monitor.schema import introspect
    return introspect()


# --- machine state ---------------------------------------------------------------
@command("query-status")
def query_status(machine: Any, session: Any) -> dict:
    state = machine.loop.runstate
    return {"status": state, "singlestep": False, "running": state == "running"}


@command("query-name")
def query_name(machine: Any, session: Any) -> dict:
    return {"name": machine.name} if machine.name else {}


def _arch(machine: Any) -> str:
    if machine.cpus:
        return machine.cpus[0].arch
    return getattr(machine, "arch", "riscv64")


@command("query-cpus-fast")
def query_cpus_fast(machine: Any, session: Any) -> list[dict]:
    out = []
    for n, cpu in enumerate(machine.cpus):
        out.append({
            "thread-id": getattr(cpu, "thread_id", None) or threading.get_native_id(),
            "props": {"core-id": cpu.index},
            "qom-path": getattr(cpu, "qom_path", f"/machine/unattached/device[{n}]"),
            "cpu-index": cpu.index,
            "target": cpu.arch,
        })
    return out


@command("query-machines")
def query_machines(machine: Any, session: Any) -> list[dict]:
    from pemu.qom import types_of_kind
    out = []
    for cls in types_of_kind("machine"):
        info: dict[str, Any] = {
            "hotpluggable-cpus": False, "name": cls.type_name, "numa-mem-supported": False,
            "cpu-max": getattr(cls, "max_cpus", 1), "deprecated": False,
        }
        if cls.aliases:
            info["alias"] = cls.aliases[0]
        if getattr(cls, "is_default", False):
            info["is-default"] = True
        for attr, key in (("default_cpu_type", "default-cpu-type"),
                          ("default_ram_id", "default-ram-id")):
            if getattr(cls, attr, None):
                info[key] = getattr(cls, attr)
        out.append(info)
    return out


@command("query-target")
def query_target(machine: Any, session: Any) -> dict:
    return {"arch": _arch(machine)}


@command("query-kvm")
def query_kvm(machine: Any, session: Any) -> dict:
    enabled = bool(getattr(machine, "kvm_enabled", False))
    return {"enabled": enabled, "present": os.path.exists("/dev/kvm")}


@command("query-uuid")
def query_uuid(machine: Any, session: Any) -> dict:
    return {"UUID": getattr(machine, "uuid", None) or "00000000-0000-0000-0000-000000000000"}


@command("query-current-machine")
def query_current_machine(machine: Any, session: Any) -> dict:
    return {"wakeup-suspend-support": False}


@command("query-chardev")
def query_chardev(machine: Any, session: Any) -> list[dict]:
    return [{"frontend-open": bool(getattr(chr_, "frontend_open", False)),
             "filename": chr_.describe(), "label": label}
            for label, chr_ in machine.chardevs.items()]


@command("query-block")
def query_block(machine: Any, session: Any) -> list[dict]:
    out = []
    for name, be in machine.block_backends.items():
        info: dict[str, Any] = {"device": name, "locked": False,
                                "removable": bool(getattr(be, "removable", False)),
                                "type": "unknown"}
        filename = getattr(be, "filename", None)
        if filename:
            info["inserted"] = {
                "file": filename, "ro": bool(getattr(be, "read_only", False)),
                "drv": getattr(be, "format_name", None) or getattr(be, "drv", "raw"),
                "encrypted": False,
            }
            backing = getattr(be, "backing_file", None)
            if backing:
                info["inserted"]["backing_file"] = backing
        out.append(info)
    return out


@command("set_link")
def set_link(machine: Any, session: Any, name: str, up: bool) -> dict:
    net = getattr(machine, "net", None)
    client = net.find(name) if net is not None else None
    if client is None:
        raise QmpError(f"Device '{name}' not found", "DeviceNotFound")
    net.set_link(client, up)
    return {}


def _network(machine: Any) -> Any:
    net = getattr(machine, "net", None)
    if net is None:
        from pemu.net.network import Network
        net = machine.net = Network()
    return net


@command("netdev_add")
def netdev_add(machine: Any, session: Any, **args: Any) -> dict:
    from pemu.net.netdev_options import add_netdev_pairs, qmp_pairs
    try:
        add_netdev_pairs(_network(machine), machine.loop, qmp_pairs(args), "netdev_add")
    except ValueError as e:
        raise QmpError(str(e).removeprefix("netdev_add: ")) from None
    return {}


@command("query-rx-filter")
def query_rx_filter(machine: Any, session: Any, name: str | None = None) -> list[dict]:
    net = _network(machine)
    if name is not None:
        client = net.find(name)
        if client is None:
            raise QmpError(f"invalid net client name: {name}")
        if client.kind != "nic":
            raise QmpError(f"net client({name}) isn't a NIC")
    return [{"name": d.nic.name, **d.rx_filter.info()} for d in net.nics
            if name is None or d.nic.name == name]


@command("netdev_del")
def netdev_del(machine: Any, session: Any, id: str) -> dict:
    from pemu.net.netdev_options import del_netdev
    try:
        del_netdev(_network(machine), id)
    except KeyError:
        raise QmpError(f"Device '{id}' not found", "DeviceNotFound") from None
    return {}


# --- run control -----------------------------------------------------------------
@command("stop")
def stop(machine: Any, session: Any) -> dict:
    if machine.loop.runstate == "running":
        machine.loop.request("stop", "host-qmp-stop")
    return {}


@command("cont")
def cont(machine: Any, session: Any) -> dict:
    state = machine.loop.runstate
    if state in NEEDS_RESET:
        raise QmpError("Resetting the Virtual Machine is required")
    if state != "running":
        machine.loop.request("cont", "host-qmp-cont")
    return {}


@command("system_reset")
def system_reset(machine: Any, session: Any) -> dict:
    machine.loop.request("reset", "host-qmp-system-reset")
    return {}


@command("system_powerdown")
def system_powerdown(machine: Any, session: Any) -> dict:
    machine.loop.emit("POWERDOWN")
    machine.loop.request("powerdown", "host-qmp-system-powerdown")
    return {}


@command("quit")
def quit_(machine: Any, session: Any) -> dict:
    machine.loop.request("shutdown", "host-qmp-quit")
    return {}


# --- memory and HMP ------------------------------------------------------------
def _open_for_dump(filename: str) -> Any:
    try:
        return open(filename, "wb")
    except OSError as e:
        raise QmpError(f"Could not open '{filename}': {e.strerror}") from None


@command("memsave")
def memsave(machine: Any, session: Any, val: int, size: int, filename: str,
            cpu_index: int | None = None) -> dict:
    cpu = get_cpu(machine, cpu_index)
    with _open_for_dump(filename) as f:
        data = memaccess.read_virt(cpu, machine.memory, val, size) if size >= 0 else None
        if data is None:
            raise QmpError(f"Invalid addr 0x{val & (1 << 64) - 1:016x}/size {size} specified")
        f.write(data)
    return {}


@command("pmemsave")
def pmemsave(machine: Any, session: Any, val: int, size: int, filename: str) -> dict:
    with _open_for_dump(filename) as f:
        f.write(memaccess.read_phys_zero_filled(machine.memory, val, max(0, size)))
    return {}


@command("query-vnc")
def query_vnc(machine: Any, session: Any) -> dict:
    server = getattr(machine, "vnc", None)
    if server is None:
        return {"enabled": False}
    return {"enabled": True, **server.address_info(), "auth": "none",
            "clients": [{**c.address_info(), "websocket": False} for c in server.clients]}


@command("screendump")
def screendump(machine: Any, session: Any, filename: str, device: str | None = None,
               head: int | None = None, format: str = "ppm") -> dict:
    """The console the display options made (pemu.ui); `device`/`head` are not supported."""
    from pemu.ui.screendump import ScreendumpError
    from pemu.ui.screendump import screendump as dump
    if device is not None or head is not None:
        raise QmpError("screendump: 'device' and 'head' are not supported by this build")
    console = getattr(machine, "console", None)
    if console is None:
        raise QmpError("There is no console to take a screendump from.")
    try:
        dump(console, filename, format)
    except ScreendumpError as e:
        raise QmpError(str(e)) from None
    return {}


@command("human-monitor-command")
def human_monitor_command(machine: Any, session: Any, command_line: str,
                          cpu_index: int | None = None) -> str:
    from pemu.monitor.hmp import HmpSession
    if cpu_index is not None:
        get_cpu(machine, cpu_index)
    hmp = getattr(session, "hmp", None)
    if hmp is None:
        hmp = HmpSession(machine)
        if session is not None:
            session.hmp = hmp
    return hmp.run_captured(command_line, cpu_index)
