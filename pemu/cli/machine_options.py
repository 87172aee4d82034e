"""Sub-options of the system front ends' machine-wide options, checked as QEMU 7.2 does.

Each function reads one option's "key=value,..." argument, applies QEMU's
validation (and its error wording), and returns what pemu acts on. A
sub-option QEMU has but pemu cannot honour, or a value other than the one
pemu implements, raises OptionError "-opt text: key=value: not supported by
this build"; a key QEMU does not know is QEMU's "Invalid parameter 'key'".
"""
from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from pemu.cli.options import OptionError, split_keyvals
from pemu.qom import PropertyError
from pemu.qom.object import parse_size

_BOOL = {"on": True, "yes": True, "true": True, "off": False, "no": False, "false": False}


def check_keys(where: str, kv: dict[str, str], allowed: Iterable[str]) -> None:
    """QEMU's QemuOpts check: every key must be one the option declares."""
    allowed = set(allowed)
    for key in kv:
        if key not in allowed:
            raise OptionError(f"{where}: Invalid parameter '{key}'")


def unsupported(where: str, key: str, value: str) -> OptionError:
    return OptionError(f"{where}: {key}={value}: not supported by this build")


def parse_bool(where: str, key: str, value: str) -> bool:
    b = _BOOL.get(value.lower())
    if b is None:
        raise OptionError(f"{where}: Parameter '{key}' expects 'on' or 'off'")
    return b


# --- -m -------------------------------------------------------------------------------
def parse_memory(text: str) -> int:
    """-m [size=]megs[,slots=n,maxmem=size]: the RAM size in bytes.

    slots/maxmem reserve room for memory hotplug; the RISC-V virt board of
    QEMU 7.2 has no memory hotplug, so, as there, they are validated and
    change nothing else.
    """
    where = f"-m {text}"
    kv, _ = split_keyvals(text, "size")
    check_keys(where, kv, ("size", "slots", "maxmem"))
    try:
        size = parse_size(kv.get("size", "128M"), "M")
    except PropertyError:
        raise OptionError(f"{where}: Invalid RAM size") from None
    if size < 1 << 20 or size > 1 << 40:
        raise OptionError(f"{where}: RAM size must be between 1M and 1T")
    try:
        slots = int(kv.get("slots", "0"), 0)
    except ValueError:
        raise OptionError(f"{where}: Parameter 'slots' expects a number") from None
    if "maxmem" in kv:
        try:
            maxmem = parse_size(kv["maxmem"], "M")
        except PropertyError:
            raise OptionError(f"{where}: Parameter 'maxmem' expects a size") from None
        if maxmem < size:
            raise OptionError(f"invalid value of maxmem: maximum memory size ({maxmem:#x}) "
                              f"must be at least the initial memory size ({size:#x})")
        if slots and maxmem == size:
            raise OptionError("invalid value of maxmem: memory slots were specified but "
                              f"maximum memory size ({maxmem:#x}) is equal to the initial "
                              f"memory size ({size:#x})")
    elif slots:
        raise OptionError("slots specified but no max-size")
    return size


# --- -smp -----------------------------------------------------------------------------
def parse_smp(text: str, machine: str, max_cpus: int,
              warn: Callable[[str], None] = lambda msg: None) -> int:
    """-smp: QEMU 7.2's machine_parse_smp_config for a board without dies or
    clusters, preferring cores over sockets (machine types since 6.2).
    Returns the number of harts. Topology with more than one socket changes
    QEMU's virt board (one CLINT/PLIC per socket), which pemu does not build.
    """
    where = f"-smp {text}"
    kv, _ = split_keyvals(text, "cpus")
    check_keys(where, kv, ("cpus", "maxcpus", "sockets", "dies", "clusters", "cores",
                           "threads"))
    vals: dict[str, int] = {}
    for key, value in kv.items():
        try:
            vals[key] = int(value, 0)
        except ValueError:
            raise OptionError(f"{where}: Parameter '{key}' expects a number") from None
        if vals[key] < 0:
            raise OptionError(f"{where}: Parameter '{key}' expects a number")
    if any(v == 0 for v in vals.values()):
        # QEMU 7.2 warns and then treats a zero as if it were not given
        warn("Deprecated CPU topology (considered invalid): "
             "CPU topology parameters must be greater than zero")
    cpus, maxcpus = vals.get("cpus", 0), vals.get("maxcpus", 0)
    sockets, cores, threads = vals.get("sockets", 0), vals.get("cores", 0), vals.get("threads", 0)
    if vals.get("dies", 1) > 1:
        raise OptionError("dies not supported by this machine's CPU topology")
    if vals.get("clusters", 1) > 1:
        raise OptionError("clusters not supported by this machine's CPU topology")
    if cpus == 0 and maxcpus == 0:
        sockets, cores, threads = sockets or 1, cores or 1, threads or 1
    else:
        maxcpus = maxcpus or cpus
        sockets = sockets or 1
        if cores == 0:
            threads = threads or 1
            cores = maxcpus // (sockets * threads)
    if threads == 0:
        threads = maxcpus // (sockets * cores) if sockets * cores else 0
    maxcpus = maxcpus or sockets * cores * threads
    cpus = cpus or maxcpus
    topo = f"sockets ({sockets}) * cores ({cores}) * threads ({threads})"
    if sockets * cores * threads != maxcpus:
        raise OptionError("Invalid CPU topology: product of the hierarchy must match "
                          f"maxcpus: {topo} != maxcpus ({maxcpus})")
    if maxcpus < cpus:
        raise OptionError("Invalid CPU topology: maxcpus must be equal to or greater than "
                          f"smp: {topo} == maxcpus ({maxcpus}) < smp_cpus ({cpus})")
    if maxcpus > max_cpus:
        raise OptionError(f"Invalid SMP CPUs {maxcpus}. The max CPUs supported by machine "
                          f"'{machine}' is {max_cpus}")
    if sockets > 1:
        raise unsupported(where, "sockets", str(sockets))
    return cpus


# --- -accel / -M accel= ----------------------------------------------------------------
#: -accel tcg properties pemu acts on: one-insn-per-tb (QEMU 8.1's name for
#: -singlestep) and thread=single (pemu runs every hart in one thread).
ACCEL_TCG_PROPS = ("one-insn-per-tb", "thread", "native")
#: tcg-accel properties QEMU 7.2 has that pemu cannot honour.
ACCEL_TCG_REFUSED = ("tb-size", "split-wx")


def check_accel_name(name: str, where: str = "") -> None:
    """kvm is not available to RISC-V guests here: QEMU's own error for it."""
    if name == "tcg":
        return
    prefix = f"{where}: " if where else ""
    raise OptionError(f"{prefix}invalid accelerator {name}")


def parse_accel(text: str) -> dict[str, object]:
    """-accel tcg[,one-insn-per-tb=on][,native=on|off][,thread=single]: machine properties."""
    where = f"-accel {text}"
    kv, _ = split_keyvals(text, "accel")
    name = kv.pop("accel", "tcg")
    check_accel_name(name, where)
    props: dict[str, object] = {}
    for key, value in kv.items():
        if key == "one-insn-per-tb":
            if parse_bool(where, key, value):
                props["tier"] = 0
        elif key == "native":  # pemu's own: hot blocks as host machine code
            props["native"] = parse_bool(where, key, value)
        elif key == "thread":
            if value == "multi":
                raise unsupported(where, key, value)
            if value != "single":
                raise OptionError(f"{where}: Invalid 'thread' setting {value}")
        elif key in ACCEL_TCG_REFUSED:
            raise unsupported(where, key, value)
        else:
            raise OptionError(f"{where}: Property 'tcg-accel.{key}' not found")
    return props


# --- -icount --------------------------------------------------------------------------
def parse_icount(text: str) -> dict[str, object]:
    """-icount [shift=N][,sleep=on|off]: instruction-counted time (machine properties).

    shift=auto, align=on and record/replay (rr=) are refused: pemu has no
    adaptive icount and no replay yet.
    """
    where = f"-icount {text}"
    kv, _ = split_keyvals(text, "shift")
    check_keys(where, kv, ("shift", "sleep", "align", "rr", "rrfile", "rrsnapshot"))
    if kv.get("align", "off") != "off" and "shift" not in kv:
        raise OptionError(f"{where}: Please specify shift option when using align")
    if "rr" in kv:
        if kv["rr"] not in ("record", "replay"):
            raise OptionError(f"{where}: Invalid icount rr option: {kv['rr']}")
        if "rrfile" not in kv:
            raise OptionError(f"{where}: File name not specified for replay")
        raise unsupported(where, "rr", kv["rr"])
    if "rrfile" in kv or "rrsnapshot" in kv:
        key = "rrfile" if "rrfile" in kv else "rrsnapshot"
        raise unsupported(where, key, kv[key])
    shift = kv.get("shift", "0")
    if shift == "auto":
        raise unsupported(where, "shift", "auto")
    try:
        n = int(shift, 0)
    except ValueError:
        raise OptionError(f"{where}: icount: Invalid shift value") from None
    if not 0 <= n <= 10:
        raise OptionError(f"{where}: icount: Invalid shift value")
    if kv.get("align", "off") != "off":
        parse_bool(where, "align", kv["align"])
        if _BOOL[kv["align"].lower()]:
            raise unsupported(where, "align", kv["align"])
    sleep = parse_bool(where, "sleep", kv.get("sleep", "on"))
    return {"icount_shift": n, "icount_sleep": sleep}


# --- -name, -uuid, -seed, -rtc, -vga, -display ----------------------------------------
@dataclass
class NameOption:
    guest: str
    process: str | None


def parse_name(text: str) -> NameOption:
    """-name [guest=]name[,process=pname][,debug-threads=off]."""
    where = f"-name {text}"
    kv, _ = split_keyvals(text, "guest")
    check_keys(where, kv, ("guest", "process", "debug-threads"))
    if parse_bool(where, "debug-threads", kv.get("debug-threads", "off")):
        raise unsupported(where, "debug-threads", kv["debug-threads"])
    return NameOption(kv.get("guest", ""), kv.get("process"))


_UUID = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-"
                   r"[0-9a-fA-F]{12}\Z")


def parse_uuid(text: str) -> str:
    """-uuid: QEMU's qemu_uuid_parse accepts exactly the 36-character form."""
    if not _UUID.match(text):
        raise OptionError(f"-uuid {text}: failed to parse UUID string: wrong format")
    return text.lower()


_C_UINT = re.compile(r"0[xX][0-9a-fA-F]+|0[0-7]*|[1-9][0-9]*")


def parse_seed(text: str) -> int:
    """-seed: an unsigned 64-bit number in C notation (QEMU's parse_uint_full, base 0)."""
    if not _C_UINT.fullmatch(text):
        raise OptionError(f"-seed {text}: Invalid seed number: {text}")
    if text[:2] in ("0x", "0X"):
        value = int(text, 16)
    else:
        value = int(text, 8) if text.startswith("0") else int(text)
    if value >= 1 << 64:
        raise OptionError(f"-seed {text}: Invalid seed number: {text}")
    return value


#: -rtc values pemu's RTC implements: the host's UTC wall clock (QEMU's defaults).
RTC_DEFAULTS = {"base": "utc", "clock": "host", "driftfix": "none"}


def parse_rtc(text: str) -> None:
    """-rtc: only QEMU's defaults, which are what the goldfish RTC does."""
    where = f"-rtc {text}"
    kv, _ = split_keyvals(text)
    check_keys(where, kv, RTC_DEFAULTS)
    for key, value in kv.items():
        if value != RTC_DEFAULTS[key]:
            raise unsupported(where, key, value)


VGA_TYPES = ("std", "cirrus", "vmware", "qxl", "xenfb", "tcx", "cg3", "virtio", "none")


def vga_warning(text: str) -> str | None:
    """-vga on a board without VGA: QEMU warns and creates none (None: say nothing)."""
    if text not in VGA_TYPES:
        raise OptionError(f"unknown vga type: {text}")
    if text == "none":
        return None
    return ("A -vga option was passed but this machine type does not use that option; "
            "No VGA device has been created")


def check_display(text: str) -> None:
    """-display none and vnc=... (read by pemu.ui.display_options); other back ends are refused."""
    kind = text.split(",", 1)[0]
    if kind.startswith("vnc="):
        return
    if kind != "none":
        raise OptionError(f"-display {text}: {kind}: not supported by this build")
    if "," in text:
        raise OptionError(f"-display {text}: Invalid parameter "
                          f"'{text.split(',', 1)[1].split('=')[0]}'")


__all__ = ["check_keys", "parse_memory", "parse_smp", "parse_accel", "parse_icount",
           "parse_name", "parse_uuid", "parse_seed", "parse_rtc", "vga_warning",
           "check_display", "check_accel_name", "NameOption", "unsupported"]
