"""The QMP schema: every command, event and type declared once.

Written the way QEMU's qapi/*.json are: a member name starting with '*' is
optional; a type is a builtin ('str', 'int', 'bool', 'number', 'any'), a
struct or enum declared below, or '[T]' for an array of T. From these
declarations come argument validation (with QEMU's error wording),
`query-commands` and `query-qmp-schema`.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from pemu.monitor.errors import QmpError

INT_MIN, UINT_MAX = -(1 << 63), (1 << 64) - 1


@dataclass(frozen=True)
class Command:
    name: str
    args: dict[str, str] = field(default_factory=dict)
    returns: str | None = None  # None: the command returns {}
    doc: str = ""
    allow_preconfig: bool = False


@dataclass(frozen=True)
class Event:
    name: str
    data: dict[str, str] = field(default_factory=dict)
    doc: str = ""


ENUMS: dict[str, list[str]] = {
    "ImageFormat": ["ppm", "png"],
    "NetworkAddressFamily": ["ipv4", "ipv6", "unix", "vsock", "unknown"],
    "RxState": ["normal", "none", "all"],
    "QMPCapability": ["oob"],
    "RunState": ["debug", "inmigrate", "internal-error", "io-error", "paused", "postmigrate",
                 "prelaunch", "finish-migrate", "restore-vm", "running", "save-vm", "shutdown",
                 "suspended", "watchdog", "guest-panicked", "colo"],
    "ShutdownCause": ["none", "host-error", "host-qmp-quit", "host-qmp-system-reset",
                      "host-signal", "host-ui", "guest-shutdown", "guest-reset", "guest-panic",
                      "subsystem-reset", "snapshot-load"],
    "SysEmuTarget": ["aarch64", "arm", "i386", "loongarch64", "mips", "mips64", "ppc",
                     "ppc64", "riscv32", "riscv64", "s390x", "sparc", "sparc64", "x86_64"],
}

STRUCTS: dict[str, dict[str, str]] = {
    "String": {"str": "str"},
    "RxFilterInfo": {"name": "str", "promiscuous": "bool", "multicast": "RxState",
                     "unicast": "RxState", "vlan": "RxState", "broadcast-allowed": "bool",
                     "multicast-overflow": "bool", "unicast-overflow": "bool",
                     "main-mac": "str", "vlan-table": "[int]", "unicast-table": "[str]",
                     "multicast-table": "[str]"},
    "VersionTriple": {"major": "int", "minor": "int", "micro": "int"},
    "VersionInfo": {"qemu": "VersionTriple", "package": "str"},
    "CommandInfo": {"name": "str"},
    "StatusInfo": {"running": "bool", "singlestep": "bool", "status": "RunState"},
    "NameInfo": {"*name": "str"},
    "VncClientInfo": {"host": "str", "service": "str", "family": "NetworkAddressFamily",
                      "websocket": "bool"},
    "VncInfo": {"enabled": "bool", "*host": "str", "*family": "NetworkAddressFamily",
                "*service": "str", "*auth": "str", "*clients": "[VncClientInfo]"},
    "CpuInstanceProperties": {"*node-id": "int", "*socket-id": "int", "*core-id": "int",
                              "*thread-id": "int"},
    "CpuInfoFast": {"cpu-index": "int", "qom-path": "str", "thread-id": "int",
                    "*props": "CpuInstanceProperties", "target": "SysEmuTarget"},
    "MachineInfo": {"name": "str", "*alias": "str", "*is-default": "bool", "cpu-max": "int",
                    "hotpluggable-cpus": "bool", "numa-mem-supported": "bool",
                    "deprecated": "bool", "*default-cpu-type": "str", "*default-ram-id": "str"},
    "ChardevInfo": {"label": "str", "filename": "str", "frontend-open": "bool"},
    "BlockDeviceInfo": {"file": "str", "ro": "bool", "drv": "str", "*backing_file": "str",
                        "encrypted": "bool"},
    "BlockInfo": {"device": "str", "*qdev": "str", "type": "str", "removable": "bool",
                  "locked": "bool", "*inserted": "BlockDeviceInfo"},
    "TargetInfo": {"arch": "SysEmuTarget"},
    "KvmInfo": {"enabled": "bool", "present": "bool"},
    "UuidInfo": {"UUID": "str"},
    "CurrentMachineParams": {"wakeup-suspend-support": "bool"},
    "SchemaInfo": {"name": "str", "meta-type": "str"},
}

COMMANDS: list[Command] = [
    Command("qmp_capabilities", {"*enable": "[QMPCapability]"}, None,
            "Leave capabilities negotiation mode, enabling the listed capabilities.",
            allow_preconfig=True),
    Command("query-version", {}, "VersionInfo", "The emulator's version.", True),
    Command("query-commands", {}, "[CommandInfo]", "The commands this monitor accepts.", True),
    Command("query-qmp-schema", {}, "[SchemaInfo]", "The QMP schema (introspection).", True),
    Command("query-status", {}, "StatusInfo", "The run state of the machine.", True),
    Command("query-name", {}, "NameInfo", "The guest name given with -name.", True),
    Command("query-cpus-fast", {}, "[CpuInfoFast]", "The virtual CPUs.", True),
    Command("query-machines", {}, "[MachineInfo]", "The machine types available.", True),
    Command("query-chardev", {}, "[ChardevInfo]", "The character devices.", True),
    Command("query-block", {}, "[BlockInfo]", "The block devices.", False),
    Command("query-target", {}, "TargetInfo", "The guest architecture.", True),
    Command("query-kvm", {}, "KvmInfo", "Whether KVM is present and used.", False),
    Command("query-uuid", {}, "UuidInfo", "The guest UUID.", False),
    Command("query-current-machine", {}, "CurrentMachineParams",
            "Parameters of the running machine.", False),
    Command("stop", {}, None, "Stop the guest's CPUs (runstate paused)."),
    Command("cont", {}, None, "Resume the guest's CPUs (from -S or stop)."),
    Command("system_reset", {}, None, "Reset the machine."),
    Command("system_powerdown", {}, None, "Ask the guest to power down (ACPI button)."),
    Command("quit", {}, None, "Exit the emulator (SHUTDOWN reason host-qmp-quit).", True),
    Command("human-monitor-command", {"command-line": "str", "*cpu-index": "int"}, "str",
            "Run an HMP command; returns its output.", True),
    Command("memsave", {"val": "int", "size": "int", "filename": "str", "*cpu-index": "int"},
            None, "Save `size` bytes of virtual memory at `val` to `filename`."),
    Command("pmemsave", {"val": "int", "size": "int", "filename": "str"}, None,
            "Save `size` bytes of physical memory at `val` to `filename`."),
    Command("set_link", {"name": "str", "up": "bool"}, None,
            "Plug (up) or pull the virtual cable of a NIC or netdev."),
    Command("netdev_add", {
        "type": "str", "id": "str",
        # user
        "*net": "str", "*host": "str", "*dhcpstart": "str", "*dns": "str", "*restrict": "bool",
        "*ipv4": "bool", "*ipv6": "bool", "*hostname": "str", "*domainname": "str",
        "*tftp": "str", "*bootfile": "str", "*hostfwd": "[String]",
        "*guestfwd": "[String]",
        # socket
        "*listen": "str", "*connect": "str", "*mcast": "str", "*udp": "str", "*localaddr": "str",
        # tap
        "*ifname": "str", "*script": "str", "*downscript": "str",
        # hubport
        "*hubid": "int"}, None,
        "Add a network back end (the members of its type, as -netdev takes them)."),
    Command("query-rx-filter", {"*name": "str"}, "[RxFilterInfo]",
            "The receive filter (rx mode, MAC tables) each NIC's guest driver set."),
    Command("query-vnc", {}, "VncInfo", "The VNC server's address and its clients."),
    Command("screendump", {"filename": "str", "*device": "str", "*head": "int",
                           "*format": "ImageFormat"}, None,
            "Write the display's picture to `filename` (PPM by default, or PNG)."),
    Command("netdev_del", {"id": "str"}, None,
            "Remove a network back end; a NIC it served loses its peer."),
]

EVENTS: list[Event] = [
    Event("STOP", {}, "The guest's CPUs stopped."),
    Event("RESUME", {}, "The guest's CPUs resumed."),
    Event("SHUTDOWN", {"guest": "bool", "reason": "ShutdownCause"}, "The machine shut down."),
    Event("RESET", {"guest": "bool", "reason": "ShutdownCause"}, "The machine was reset."),
    Event("POWERDOWN", {}, "A power-down was requested of the guest."),
    Event("SUSPEND", {}, "The guest suspended."),
    Event("WAKEUP", {}, "The guest woke up."),
    Event("GUEST_PANICKED", {"action": "str"}, "The guest panicked."),
]

BY_NAME: dict[str, Command] = {c.name: c for c in COMMANDS}
BUILTIN_JSON = {"str": "string", "int": "int", "bool": "boolean", "number": "number",
                "any": "value", "null": "null"}
_EXPECTED = {"str": "string", "int": "integer", "bool": "boolean", "number": "number"}


# --- validation ---------------------------------------------------------------
def _expected(typ: str) -> str:
    if typ.startswith("["):
        return "array"
    if typ in ENUMS:
        return "string"
    if typ in STRUCTS:
        return "object"
    return _EXPECTED.get(typ, "value")


def _check_value(path: str, typ: str, value: Any) -> None:
    ok: bool
    if typ == "any":
        return
    if typ.startswith("["):
        if not isinstance(value, list):
            raise QmpError(f"Invalid parameter type for '{path}', expected: array")
        for i, item in enumerate(value):
            _check_value(f"{path}[{i}]", typ[1:-1], item)
        return
    if typ in STRUCTS:
        if not isinstance(value, dict):
            raise QmpError(f"Invalid parameter type for '{path}', expected: object")
        check_members(STRUCTS[typ], value, prefix=path + ".")
        return
    if typ == "str" or typ in ENUMS:
        ok = isinstance(value, str)
    elif typ == "int":
        ok = isinstance(value, int) and not isinstance(value, bool) \
            and INT_MIN <= value <= UINT_MAX
    elif typ == "bool":
        ok = isinstance(value, bool)
    elif typ == "number":
        ok = isinstance(value, (int, float)) and not isinstance(value, bool)
    else:
        ok = True
    if not ok:
        raise QmpError(f"Invalid parameter type for '{path}', expected: {_expected(typ)}")
    if typ in ENUMS and value not in ENUMS[typ]:
        raise QmpError(f"Parameter '{path}' does not accept value '{value}'")


def check_members(members: dict[str, str], given: dict[str, Any], prefix: str = "") -> None:
    """Raise QmpError (QEMU's wording) if `given` does not fit `members`."""
    names = set()
    for decl, typ in members.items():
        name = decl.lstrip("*")
        names.add(name)
        if name not in given:
            if not decl.startswith("*"):
                raise QmpError(f"Parameter '{prefix}{name}' is missing")
            continue
        _check_value(prefix + name, typ, given[name])
    for name in given:
        if name not in names:
            raise QmpError(f"Parameter '{prefix}{name}' is unexpected")


def validate(cmd: Command, args: dict[str, Any]) -> None:
    check_members(cmd.args, args)


# --- introspection ------------------------------------------------------------
def _arg_type_name(cmd_name: str, kind: str) -> str:
    return f"q_obj_{cmd_name}-{kind}"


def introspect() -> list[dict[str, Any]]:
    """query-qmp-schema: SchemaInfo for every command, event and type used."""
    out: list[dict[str, Any]] = []
    used: set[str] = set()

    def ref(typ: str) -> str:
        used.add(typ)
        if typ.startswith("["):
            ref(typ[1:-1])
        elif typ in STRUCTS:
            for t in STRUCTS[typ].values():
                if t not in used:
                    ref(t)
        return typ

    def members(decl: dict[str, str]) -> list[dict[str, Any]]:
        res = []
        for name, typ in decl.items():
            m: dict[str, Any] = {"name": name.lstrip("*"), "type": ref(typ)}
            if name.startswith("*"):
                m["default"] = None
            res.append(m)
        return res

    empty = "q_empty"
    out.append({"name": empty, "meta-type": "object", "members": []})
    for c in COMMANDS:
        arg_type = empty
        if c.args:
            arg_type = _arg_type_name(c.name, "arg")
            out.append({"name": arg_type, "meta-type": "object", "members": members(c.args)})
        ret = ref(c.returns) if c.returns else empty
        out.append({"name": c.name, "meta-type": "command", "arg-type": arg_type,
                    "ret-type": ret})
    for e in EVENTS:
        arg_type = empty
        if e.data:
            arg_type = _arg_type_name(e.name, "data")
            out.append({"name": arg_type, "meta-type": "object", "members": members(e.data)})
        out.append({"name": e.name, "meta-type": "event", "arg-type": arg_type})
    for typ in sorted(used):
        if typ.startswith("["):
            out.append({"name": typ, "meta-type": "array", "element-type": typ[1:-1]})
        elif typ in STRUCTS:
            out.append({"name": typ, "meta-type": "object", "members": members(STRUCTS[typ])})
        elif typ in ENUMS:
            out.append({"name": typ, "meta-type": "enum", "values": list(ENUMS[typ]),
                        "members": [{"name": v} for v in ENUMS[typ]]})
        elif typ in BUILTIN_JSON:
            out.append({"name": typ, "meta-type": "builtin", "json-type": BUILTIN_JSON[typ]})
    return out
