"""The HMP command table: names, argument types, help text and handlers.

Each handler is a thin layer over `commands.py` (the single implementation
of each command) plus, for the HMP-only ones (info registers/mtree/qtree,
x, xp), the text layout QEMU uses. Argument types follow QEMU's hmp-commands
args_type letters: '/' format, 'l' expression, 'i' 32-bit expression,
's' word or quoted string, 'S' rest of line, '-a' flag; '?' marks optional.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from pemu.monitor import commands
from pemu.monitor.errors import QmpError
from pemu.monitor.hmp_memdump import memory_dump
from pemu.monitor.version import version_info


@dataclass(frozen=True)
class HmpCommand:
    names: tuple[str, ...]
    args_type: str          # e.g. "fmt:/,addr:l"
    params: str
    help: str
    handler: Callable[[Any, dict[str, Any]], str | None]

    @property
    def name(self) -> str:
        return self.names[0]


def _qmp(name: str, **args: Any) -> Callable[[Any, dict[str, Any]], None]:
    def run(session: Any, given: dict[str, Any]) -> None:
        commands.execute(session.machine, name, {**args, **given})
    return run


# --- info subcommands ------------------------------------------------------------
def info_status(s: Any, a: dict) -> str:
    st = commands.query_status(s.machine, None)
    text = "VM status: " + ("running" if st["running"] else "paused")
    if not st["running"] and st["status"] != "paused":
        text += f" ({st['status']})"
    return text + "\n"


def info_registers(s: Any, a: dict) -> str:
    cpus = s.machine.cpus
    if a.get("cpustate_all"):
        chosen = list(cpus)
    elif a.get("vcpu") is not None:
        chosen = [c for c in cpus if c.index == a["vcpu"]]
        if not chosen:
            return f"CPU#{a['vcpu']} not available\n"
    else:
        chosen = [s.current_cpu()] if cpus else []
    out = []
    for cpu in chosen:
        state = cpu.dump_state()
        out.append(f"\nCPU#{cpu.index}\n{state}" + ("" if state.endswith("\n") else "\n"))
    return "".join(out) or "No CPU available\n"


def info_cpus(s: Any, a: dict) -> str:
    cur = s.current_cpu()
    lines = []
    for info in commands.query_cpus_fast(s.machine, None):
        mark = "*" if cur is not None and info["cpu-index"] == cur.index else " "
        lines.append(f"{mark} CPU #{info['cpu-index']}: thread_id={info['thread-id']}\n")
    return "".join(lines)


def info_version(s: Any, a: dict) -> str:
    v = version_info()
    q = v["qemu"]
    return f"{q['major']}.{q['minor']}.{q['micro']} ({v['package']})\n"


def info_name(s: Any, a: dict) -> str:
    name = commands.query_name(s.machine, None).get("name")
    return f"{name}\n" if name else ""


def info_chardev(s: Any, a: dict) -> str:
    return "".join(f"{c['label']}: filename={c['filename']}\n"
                   for c in commands.query_chardev(s.machine, None))


def info_block(s: Any, a: dict) -> str:
    out = []
    for b in commands.query_block(s.machine, None):
        ins = b.get("inserted")
        if ins is None:
            out.append(f"{b['device']}: [not inserted]\n")
        else:
            ro = ", read-only" if ins["ro"] else ""
            out.append(f"{b['device']}: {ins['file']} ({ins['drv']}{ro})\n")
            if ins.get("backing_file"):
                out.append(f"    Backing file:     {ins['backing_file']}\n")
    return "\n".join(out)


def info_mtree(s: Any, a: dict) -> str:
    return "\n".join(s.machine.memory.describe()) + "\n\n"


def _prop_text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return f"{value} (0x{value & (1 << 64) - 1:x})"
    if value is None:
        return '""'
    return f'"{value}"'


def info_qtree(s: Any, a: dict) -> str:
    out = ["bus: main-system-bus\n", "  type System\n"]
    regions = s.machine.memory.regions()
    for dev in s.machine.devices:
        out.append(f'  dev: {dev.type_name}, id "{dev.id or ""}"\n')
        for name, prop in sorted(dev.properties().items()):
            out.append(f"    {name} = {_prop_text(prop.__get__(dev))}\n")
        for r in regions:
            if getattr(r, "owner", None) is dev:
                out.append(f"    mmio {r.base:016x}/{r.size:016x}\n")
    return "".join(out)


def info_network(s: Any, a: dict) -> str:
    net = getattr(s.machine, "net", None)
    return net.info() if net is not None else ""


def info_usernet(s: Any, a: dict) -> str:
    net = getattr(s.machine, "net", None)
    out = []
    for nd in (net.netdevs.values() if net is not None else ()):
        if nd.kind == "user":
            hub = nd.peer.hub.id if nd.peer is not None and nd.peer.kind == "hubport" else -1
            out.append(f"Hub {hub} ({nd.name}):\n{nd.connection_info()}")
    return "".join(out)


def cmd_set_link(s: Any, a: dict) -> str | None:
    up = {"on": True, "off": False}.get(a["up"])
    if up is None:
        return "Parameter 'up' expects 'on' or 'off'\n"
    commands.execute(s.machine, "set_link", {"name": a["name"], "up": up})
    return None


def _user_netdev(s: Any, words: list[str]) -> tuple[Any, str] | str:
    """hostfwd_add/remove [netdev_id] RULE: the user netdev and the rule, or an error line."""
    net = getattr(s.machine, "net", None)
    users = {k: v for k, v in (net.netdevs.items() if net is not None else ()) if
             v.kind == "user"}
    if len(words) == 2:
        nd = users.get(words[0])
        if nd is None:
            return f"unknown netdev: '{words[0]}'\n"
        return nd, words[1]
    if not users:
        return "No usermode netdev found\n"
    return next(iter(users.values())), words[0]


def cmd_hostfwd_add(s: Any, a: dict) -> str | None:
    from pemu.net.user import NetdevError
    found = _user_netdev(s, [w for w in (a["arg1"], a.get("arg2")) if w])
    if isinstance(found, str):
        return found
    nd, rule = found
    try:
        nd.add_hostfwd(rule)
    except NetdevError as e:
        return f"{e}\n"
    return None


def cmd_hostfwd_remove(s: Any, a: dict) -> str:
    found = _user_netdev(s, [w for w in (a["arg1"], a.get("arg2")) if w])
    if isinstance(found, str):
        return found
    nd, rule = found
    proto, _, rest = rule.partition(":")
    addr, _, port = rest.rpartition(":")
    if proto not in ("", "tcp", "udp") or not port.isdigit():
        return "invalid format\n"
    if nd.remove_hostfwd(proto == "udp", addr or "127.0.0.1", int(port)):
        return f"host forwarding rule for {rule} removed\n"
    return f"could not remove host forwarding rule '{rule}'\n"


def cmd_netdev_add(s: Any, a: dict) -> str | None:
    from pemu.net.netdev_options import add_netdev_pairs, split_pairs
    try:
        add_netdev_pairs(commands._network(s.machine), s.machine.loop,
                         split_pairs(a["netdev"], "type"), "netdev_add")
    except ValueError as e:
        return str(e).removeprefix("netdev_add: ") + "\n"
    return None


def info_history(s: Any, a: dict) -> str:
    return "".join(f"{i}: '{line}'\n" for i, line in enumerate(s.history))


INFO_COMMANDS: list[HmpCommand] = [
    HmpCommand(("block",), "", "", "show info of one block device or all block devices",
               info_block),
    HmpCommand(("chardev",), "", "", "show the character devices", info_chardev),
    HmpCommand(("cpus",), "", "", "show infos for each CPU", info_cpus),
    HmpCommand(("history",), "", "", "show the command line history", info_history),
    HmpCommand(("mtree",), "", "", "show memory tree", info_mtree),
    HmpCommand(("name",), "", "", "show the current VM name", info_name),
    HmpCommand(("network",), "", "", "show the network state", info_network),
    HmpCommand(("qtree",), "", "", "show device tree", info_qtree),
    HmpCommand(("registers",), "cpustate_all:-a,vcpu:i?", "[-a|vcpu]",
               "show the cpu registers (-a: show register info for all cpus; vcpu: specific "
               "vCPU to query; show the current CPU's registers if no argument is specified)",
               info_registers),
    HmpCommand(("status",), "", "", "show the current VM status (running|paused)", info_status),
    HmpCommand(("usernet",), "", "", "show user network stack connection states",
               info_usernet),
    HmpCommand(("version",), "", "", "show the version of QEMU", info_version),
]


# --- top-level commands --------------------------------------------------------
def cmd_x(s: Any, a: dict) -> str:
    return memory_dump(s.machine, s.current_cpu(), a["fmt"], a["addr"], physical=False)


def cmd_xp(s: Any, a: dict) -> str:
    return memory_dump(s.machine, s.current_cpu(), a["fmt"], a["addr"], physical=True)


def cmd_print(s: Any, a: dict) -> str:
    fmt, val = a["fmt"], a["val"]
    f = fmt.format
    if f == "o":
        return f"{val:#o}\n".replace("0o", "0")
    if f == "x":
        return f"{val:#x}\n"
    if f == "u":
        return f"{val}\n"
    if f == "c":
        from pemu.monitor.hmp_memdump import _printc
        return _printc(val & 0xFF) + "\n"
    return f"{val - (1 << 64) if val >= 1 << 63 else val}\n"


def cmd_cpu(s: Any, a: dict) -> str | None:
    index = a["index"]
    if not any(c.index == index for c in s.machine.cpus):
        return "invalid CPU index\n"
    s.cpu_index = index
    return None


def cmd_memsave(s: Any, a: dict) -> None:
    commands.execute(s.machine, "memsave", {"val": a["val"], "size": a["size"],
                                             "filename": a["filename"],
                                             "cpu-index": s.current_cpu().index})


def cmd_screendump(s: Any, a: dict) -> None:
    """screendump FILE [-f ppm|png] (QEMU 7.2's HMP syntax; no device/head)."""
    words = (a.get("rest") or "").split()
    args: dict[str, Any] = {"filename": a["filename"]}
    if words[:1] == ["-f"] and len(words) >= 2:
        args["format"] = words[1]
        words = words[2:]
    if words:
        raise QmpError("screendump: 'device' and 'head' are not supported by this build")
    commands.execute(s.machine, "screendump", args)


def cmd_gdbserver(s: Any, a: dict) -> str:
    """gdbserver [device]: (re)start the gdbstub, QEMU's wording."""
    from pemu.gdbstub import DEFAULT_DEVICE, gdbserver_start
    device = a.get("device") or DEFAULT_DEVICE
    try:
        gdbserver_start(s.machine, device)
    except ValueError:
        return f"Could not open gdbserver on device '{device}'\n"
    if device == "none":
        return "Disabled gdbserver\n"
    return f"Waiting for gdb connection on device '{device}'\n"


def cmd_info(s: Any, a: dict) -> str:
    # HmpSession.run() dispatches "info X" itself; this only serves a bare "info".
    return s.help_text("info")


def cmd_help(s: Any, a: dict) -> str:
    return s.help_text(a.get("name"))


TOP_COMMANDS: list[HmpCommand] = [
    HmpCommand(("cont", "c"), "", "", "resume emulation", _qmp("cont")),
    HmpCommand(("cpu",), "index:i", "index", "set the default CPU", cmd_cpu),
    HmpCommand(("gdbserver",), "device:s?", "[device]",
               "start gdbserver on given device (default 'tcp::1234'), stop with 'none'",
               cmd_gdbserver),
    HmpCommand(("help", "?"), "name:S?", "[cmd]", "show the help", cmd_help),
    HmpCommand(("hostfwd_add",), "arg1:s,arg2:s?", "[netdev_id] [tcp|udp]:[hostaddr]:hostport-"
               "[guestaddr]:guestport", "redirect TCP or UDP connections from host to guest "
               "(requires -net user)", cmd_hostfwd_add),
    HmpCommand(("hostfwd_remove",), "arg1:s,arg2:s?", "[netdev_id] [tcp|udp]:[hostaddr]:hostport",
               "remove host-to-guest TCP or UDP redirection", cmd_hostfwd_remove),
    HmpCommand(("info",), "item:s?", "[subcommand]",
               "show various information about the system state", cmd_info),
    HmpCommand(("memsave",), "val:l,size:i,filename:s", "addr size file",
               "save to disk virtual memory dump starting at 'addr' of size 'size'",
               cmd_memsave),
    HmpCommand(("netdev_add",), "netdev:s", "[user|socket|tap|hubport],id=str[,prop=value][,...]",
               "add host network device", cmd_netdev_add),
    HmpCommand(("netdev_del",), "id:s", "id", "remove host network device",
               _qmp("netdev_del")),
    HmpCommand(("pmemsave",), "val:l,size:i,filename:s", "addr size file",
               "save to disk physical memory dump starting at 'addr' of size 'size'",
               _qmp("pmemsave")),
    HmpCommand(("print", "p"), "fmt:/,val:l", "/fmt expr",
               "print expression value (use $reg for CPU register access)", cmd_print),
    HmpCommand(("quit", "q"), "", "", "quit the emulator", _qmp("quit")),
    HmpCommand(("screendump",), "filename:s,rest:S?", "filename [-f format]",
               "save screen as image 'filename' in format 'format' (ppm or png)",
               cmd_screendump),
    HmpCommand(("set_link",), "name:s,up:s", "name on|off",
               "change the link status of a network adapter", cmd_set_link),
    HmpCommand(("stop", "s"), "", "", "stop emulation", _qmp("stop")),
    HmpCommand(("system_powerdown",), "", "", "send system power down event",
               _qmp("system_powerdown")),
    HmpCommand(("system_reset",), "", "", "reset the system", _qmp("system_reset")),
    HmpCommand(("x",), "fmt:/,addr:l", "/fmt addr", "virtual memory dump starting at 'addr'",
               cmd_x),
    HmpCommand(("xp",), "fmt:/,addr:l", "/fmt addr", "physical memory dump starting at 'addr'",
               cmd_xp),
]


def find(table: list[HmpCommand], name: str) -> HmpCommand | None:
    for cmd in table:
        if name in cmd.names:
            return cmd
    return None
