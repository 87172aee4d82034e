"""pemu-system-riscv64: QEMU's system-emulator command line over pemu.Machine.

Thin by design: parse options, build the board, wire chardevs and
monitors, load images, run the main loop, exit with its status.
"""
from __future__ import annotations

import os
import signal
import sys
from typing import Any

from pemu.cli.char_options import apply_char_options
from pemu.cli.daemon import Daemon, PidFile
from pemu.cli.drive_options import apply_drive_options, close_drives
from pemu.cli.machine_options import (
    check_accel_name,
    check_display,
    parse_accel,
    parse_bool,
    parse_icount,
    parse_memory,
    parse_name,
    parse_rtc,
    parse_seed,
    parse_smp,
    parse_uuid,
    unsupported,
    vga_warning,
)
from pemu.cli.option_table import RISCV64
from pemu.cli.options import OptionError, Options, die, parse_argv, split_keyvals
from pemu.qom import PropertyError, find_type, types_of_kind

PROG = "pemu-system-riscv64"
VERSION = "0.1.0"
#: -d items: honoured ones with QEMU's help text; QEMU's others are refused by name.
LOG_ITEMS = {
    "in_asm": "show target assembly code for each compiled TB",
    "int": "show interrupts/exceptions in short format",
    "exec": "show trace before each executed TB (lots of logs)",
    "cpu": "show CPU registers before entering a TB",
    "op": "show the IR of each compiled TB, after optimisation",
    "out_asm": "show the host code the native tier generates for each compiled TB",
}
QEMU_LOG_ITEMS = ("op_opt", "op_ind", "pcall", "cpu_reset", "unimp",
                  "guest_errors", "mmu", "nochain", "page", "trace", "plugin", "strace",
                  "tid", "fpu", "op_opt")


def _firmware(name: str) -> str:
    return os.path.join(os.path.dirname(os.path.dirname(__file__)), "firmware", name)


BUNDLED_KERNEL = _firmware("linux-riscv64-Image")
BUNDLED_INITRD = _firmware("initramfs-riscv64.cpio")


def _list(kind: str, title: str) -> str:
    lines = [title]
    for cls in types_of_kind(kind):
        lines.append(f"{cls.type_name:<20} {cls.description}")
    return "\n".join(lines) + "\n"



_BOOL = {"on": True, "yes": True, "true": True, "off": False, "no": False, "false": False}
# QEMU rv64 properties pemu lacks: accepted when switched off, so QEMU command
# lines that trim the CPU still work
_ABSENT_EXTS = ("zbc", "h", "v", "zfh", "zfhmin", "zicbom", "zicboz", "zihintpause",
                "zawrs", "zbkb", "zbkc", "zbkx",
                "zk", "zkn", "zks", "zicond", "zfinx", "zdinx", "zhinx", "zhinxmin")


def _cpu_switches(model: str, spec: str) -> set[str]:
    """Optional extensions switched off by -cpu rv64,zba=off,zbb=on,...."""
    from pemu.target.riscv.translator import DEFAULT_OFF, OPTIONAL
    disabled: set[str] = set(DEFAULT_OFF)
    for item in spec.split(",")[1:]:
        key, eq, val = item.partition("=")
        on = _BOOL.get(val.lower() if eq else "on")
        if key in OPTIONAL and on is not None:
            (disabled.discard if on else disabled.add)(key)
        elif key in _ABSENT_EXTS and on is False:
            continue
        elif key in _ABSENT_EXTS or key in OPTIONAL:
            raise OptionError(f"can't apply global {model}-riscv-cpu.{key}={val}: "
                              f"Property '{key}' is not supported by pemu" if on else
                              f"Parameter '{key}' expects 'on' or 'off'")
        else:
            raise OptionError(f"can't apply global {model}-riscv-cpu.{key}={val}: "
                              f"Property '{model}-riscv-cpu.{key}' not found")
    return disabled


#: virt-machine properties (QEMU 7.2) and what pemu does with each value.
_MACHINE_PROPS = ("aclint", "aia", "aia-guests", "append", "boot", "confidential-guest-support",
                  "dt-compatible", "dtb", "dump-guest-core", "dumpdtb", "firmware",
                  "graphics", "initrd", "kernel", "mem-merge", "memory-backend",
                  "memory-encryption", "memory", "phandle-start", "smp", "suppress-vmdesc",
                  "usb", "accel")
#: Values that are what pemu's virt board is (QEMU's defaults for them).
_MACHINE_DEFAULTS = {"aclint": "off", "aia": "none", "aia-guests": "0"}
#: Boolean properties whose QEMU effect on this board is none (no USB
#: controller, no display on virt): accepted with either value.
_MACHINE_NOOP_BOOLS = ("usb", "graphics")


def _machine_props(mtype: str, mprops: dict[str, str], where: str) -> dict[str, Any]:
    props: dict[str, Any] = {}
    for key, value in mprops.items():
        if key in ("dumpdtb", "dtb", "kernel", "initrd", "append"):
            props[key] = value
        elif key == "firmware":
            props["bios"] = value
        elif key == "accel":
            check_accel_name(value)
        elif key == "aia" and value not in ("none", "aplic", "aplic-imsic"):
            raise OptionError("Invalid AIA interrupt controller type")
        elif key in _MACHINE_DEFAULTS:
            if key == "aclint":
                value = "on" if parse_bool(where, key, value) else "off"
            if value != _MACHINE_DEFAULTS[key]:
                raise unsupported(where, key, value)
        elif key in _MACHINE_NOOP_BOOLS:
            parse_bool(where, key, value)
        elif key in _MACHINE_PROPS:
            raise unsupported(where, key, value)
        else:
            raise OptionError(f"Property '{mtype}-machine.{key}' not found")
    return props


def _find_bios(name: str, dirs: list[str]) -> str:
    """QEMU's qemu_find_file: the name as given if readable, else in each -L directory."""
    if os.access(name, os.R_OK):
        return name
    for d in dirs:
        path = os.path.join(d, name)
        if os.access(path, os.R_OK):
            return path
    return name


def _warn(msg: str) -> None:
    sys.stderr.write(f"{PROG}: warning: {msg}\n")


def build_machine(opts: Options, prog: str = PROG) -> Any:
    """Create, wire and load the machine the options describe (raises on bad input)."""
    import pemu.hw.riscv.virt  # noqa: F401  (registers the board)
    from pemu.hw.riscv.virt import DEFAULT_BIOS

    mtext = opts.get("M") or "virt"
    mprops, _ = split_keyvals(mtext, "type")
    mtype = mprops.pop("type", "virt")
    if mtype in ("help", "?"):
        sys.stdout.write(_list("machine", "Supported machines are:"))
        raise SystemExit(0)
    cls = find_type(mtype, "machine")
    if cls is None:
        raise OptionError(f"unsupported machine type '{mtype}' (-machine help lists them)")
    props = _machine_props(mtype, mprops, f"-machine {mtext}")
    uuid = parse_uuid(opts.get("uuid") or "") if opts.get("uuid") is not None else None
    if opts.has("enable-kvm"):
        check_accel_name("kvm")
    if opts.get("m") is not None:
        props["ram_size"] = parse_memory(opts.get("m") or "")
    if opts.get("smp") is not None:
        props["smp"] = parse_smp(opts.get("smp") or "", mtype, cls.max_cpus, _warn)
    cpu = opts.get("cpu")
    if cpu is not None:
        model = cpu.split(",", 1)[0]
        if model in ("help", "?"):
            sys.stdout.write("Available CPUs:\n  rv64\n  any\n  max\n")
            raise SystemExit(0)
        if model not in cls.cpu_types:  # type: ignore[attr-defined]
            raise OptionError(f"unable to find CPU model '{model}'")
        props["cpu_disabled"] = ",".join(sorted(_cpu_switches(model, cpu)))
    for accel in opts.all("accel"):
        if split_keyvals(accel, "accel")[0].get("accel") == "help":
            sys.stdout.write("Accelerators supported in QEMU binary:\ntcg\n")
            raise SystemExit(0)
        props.update(parse_accel(accel))
    if opts.has("singlestep"):
        props["tier"] = 0  # QEMU 7.2's -singlestep: one instruction per TB
    icount = opts.get("icount")
    if icount is not None:
        props.update(parse_icount(icount))
    if opts.get("seed") is not None:
        props["seed"] = parse_seed(opts.get("seed") or "")
    elif icount is not None and not props["icount_sleep"]:
        # A deterministic run (-icount shift=N,sleep=off) must not differ in what the
        # guest is handed at boot: without -seed, pemu seeds with 0 (QEMU would not;
        # `-seed N` picks another stream, the same as QEMU's -seed N)
        props["seed"] = 0
    name = opts.get("name")
    if name is not None:
        props["name"] = parse_name(name).guest
    if opts.get("rtc") is not None:
        parse_rtc(opts.get("rtc") or "")
    for opt, prop in (("kernel", "kernel"), ("initrd", "initrd"), ("append", "append"),
                      ("bios", "bios"), ("dtb", "dtb")):
        if opts.get(opt) is not None:
            props[prop] = opts.get(opt)
    dirs = opts.all("L")
    if props.get("bios", "default") == "default" and dirs:
        found = _find_bios(os.path.basename(DEFAULT_BIOS), dirs)
        if found != os.path.basename(DEFAULT_BIOS):
            props["bios"] = found
    elif props.get("bios", "default") not in ("default", "none"):
        props["bios"] = _find_bios(props["bios"], dirs)
    if "kernel" not in props and props.get("bios", "default") == "default" \
            and "dumpdtb" not in props:
        props["kernel"] = BUNDLED_KERNEL
        props.setdefault("initrd", BUNDLED_INITRD)
        props.setdefault("append", "console=ttyS0")
    if props.get("kernel") and not os.path.exists(props["kernel"]):
        raise OptionError(f"could not load kernel '{props['kernel']}': "
                          "No such file or directory")
    try:
        machine = cls(**props)
    except (PropertyError, ValueError) as e:
        raise OptionError(str(e)) from None
    except (OSError, OverflowError, MemoryError) as e:
        raise OptionError(f"cannot set up guest memory: {e}") from None
    machine.uuid = uuid
    return machine


def main_riscv64(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    try:
        return _main(argv)
    except OptionError as e:
        die(PROG, str(e))
    except KeyboardInterrupt:
        return 1


def _log_items(text: str) -> set[str] | None:
    """-d ITEMS: the honoured items, or None after printing -d help."""
    items: set[str] = set()
    for item in text.split(","):
        if item == "help":
            sys.stdout.write("Log items (comma separated):\n" + "".join(
                f"{k:<13} {v}\n" for k, v in LOG_ITEMS.items()))
            return None
        if item in QEMU_LOG_ITEMS:
            raise OptionError(f"-d {text}: {item}: not supported by this build")
        if item not in LOG_ITEMS:
            raise OptionError(f"-d {text}: unknown log item '{item}'")
        items.add(item)
    return items


_STDIO_OPTIONS = ("serial", "monitor", "qmp", "qmp-pretty")


def _check_daemonize(opts: Options) -> None:
    """What QEMU refuses together with -daemonize (nothing may use the terminal)."""
    if opts.has("nographic"):
        raise OptionError("-nographic cannot be used with -daemonize")
    for name, text in opts.items:
        if text is None:
            continue
        if name in _STDIO_OPTIONS and text in ("stdio", "mon:stdio"):
            raise OptionError(f"-{name} {text}: cannot use stdio with -daemonize")
        if name == "chardev" and text.split(",", 1)[0] == "stdio":
            raise OptionError(f"-chardev {text}: cannot use stdio with -daemonize")


def _set_process_name(name: str) -> None:
    """-name ...,process=NAME: the host thread name, as QEMU's prctl(PR_SET_NAME)."""
    import ctypes
    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(15, name.encode()[:15], 0, 0, 0)  # PR_SET_NAME, 15 bytes + NUL


def _main(argv: list[str]) -> int:
    from pemu.hw.riscv.boot import BootError

    opts = parse_argv(argv, RISCV64)
    if opts.has("h"):
        sys.stdout.write(RISCV64.help_text())
        return 0
    if opts.has("version"):
        sys.stdout.write(f"{PROG} version {VERSION} (pemu)\n")
        return 0
    for dev in opts.all("device"):
        if dev.split(",", 1)[0] in ("help", "?"):
            import pemu.hw.display.virtio_gpu  # noqa: F401
            import pemu.hw.input.virtio_keyboard  # noqa: F401
            import pemu.hw.input.virtio_tablet  # noqa: F401
            import pemu.hw.net.virtio_net  # noqa: F401
            import pemu.hw.virtio.virtio_blk  # noqa: F401
            import pemu.hw.virtio.virtio_rng  # noqa: F401
            sys.stdout.write(_list("device", "Devices:"))
            return 0
    log_items: set[str] = set()
    if opts.get("d"):
        parsed = _log_items(opts.get("d") or "")
        if parsed is None:
            return 0
        log_items = parsed
    for text in opts.all("display"):
        check_display(text)
    for text in opts.all("vga"):
        warning = vga_warning(text)
        if warning:
            _warn(warning)
    name = parse_name(opts.get("name") or "") if opts.has("name") else None
    daemon = None
    if opts.has("daemonize"):
        _check_daemonize(opts)
        daemon = Daemon()
    if opts.get("pidfile") is not None:
        PidFile(opts.get("pidfile") or "")
    if name is not None and name.process:
        _set_process_name(name.process)
    machine = build_machine(opts)
    if machine.dumpdtb:
        try:
            machine.load()
            with open(machine.dumpdtb, "wb") as f:
                f.write(machine.fdt_bytes)
        except (BootError, OSError) as e:
            raise OptionError(str(e)) from None
        sys.stderr.write(f"{PROG}: info: dtb dumped to {machine.dumpdtb}. Exiting.\n")
        return 0
    try:
        machine.load()
    except BootError as e:
        raise OptionError(str(e)) from None
    if log_items:
        logfile = opts.get("D")
        try:
            out = open(logfile, "w") if logfile else sys.stderr
        except OSError as e:
            raise OptionError(f"-D {logfile}: {e.strerror}") from None
        machine.accel.log = out.write
        machine.accel.log_flags = log_items
        if "op" in log_items:
            for cpu in machine.cpus:
                cpu.translator.keep_ir = True
    serial = _setup_chardevs(machine, opts)
    if serial is not None:
        machine.attach_serial(serial)
    _setup_display(machine, opts)
    _setup_drives(machine, opts)
    _setup_gdb(machine, opts)
    _setup_network(machine, opts)
    if opts.has("no-shutdown"):
        def _no_shutdown(reason: str) -> None:
            # QEMU -no-shutdown: a guest power-off stops the machine instead of
            # ending the process; quit from the monitor still exits.
            machine.loop.emit("SHUTDOWN", {"guest": reason.startswith("guest"), "reason": reason})
            if reason.startswith("guest"):
                machine.accel.kick()
                machine.loop.set_runstate("shutdown")
            else:
                machine.loop.quit(0)
        machine.loop.handlers["shutdown"] = _no_shutdown
    if opts.has("no-reboot"):
        machine.loop.handlers["reset"] = lambda reason: (
            machine.loop.emit("SHUTDOWN", {"guest": True, "reason": "guest-reset"}),
            machine.loop.quit(0))
    signal.signal(signal.SIGTERM, lambda s, f: machine.loop.request("shutdown", "host-signal"))
    signal.signal(signal.SIGINT, lambda s, f: machine.loop.request("shutdown", "host-signal"))
    if signal.getsignal(signal.SIGHUP) is not signal.SIG_IGN:
        signal.signal(signal.SIGHUP, lambda s, f: machine.loop.request("shutdown", "host-signal"))
    if machine.kernel == BUNDLED_KERNEL and daemon is None:
        sys.stderr.write(f"{PROG}: no -kernel given: booting the bundled guest "
                         "(Linux 6.1 + busybox; 'poweroff -f' ends it, Ctrl-A x quits)\n")
    if not opts.has("S"):
        machine.loop.set_runstate("running")
    if daemon is not None:
        daemon.ready(keep_stderr=bool(log_items and opts.get("D")))
    try:
        code = machine.run()
        if os.environ.get("PEMU_STATS"):
            total = sum(c.icount for c in machine.cpus)
            nt = machine.store.native
            native = (f", {nt.compiled} compiled to native code ({nt.cached} from the"
                      f" cache, {nt.refused} refused)"
                      if nt is not None else "")
            cc = machine.cpus[0].translator.code_cache
            sys.stderr.write(f"{PROG}: {total} guest instructions, "
                             f"{machine.store.translated} blocks translated{native}, "
                             f"code cache {cc.hits} hits, {cc.misses} misses\n")
    finally:
        for chardev in list(machine.chardevs.values()):
            try:
                chardev.close()
            except Exception:
                pass
        close_drives(machine)
        if getattr(machine, "net", None) is not None:
            machine.net.cleanup()
    return code


def _setup_chardevs(machine: Any, opts: Options) -> Any:
    """-nographic/-serial/-monitor/-qmp/-chardev/-mon, as QEMU wires them."""
    try:
        return apply_char_options(machine, opts, opts.has("nographic"))
    except ValueError as e:
        raise OptionError(str(e)) from None


def _setup_gdb(machine: Any, opts: Options) -> None:
    """-gdb DEV / -s: the last one given wins, as in QEMU."""
    from pemu.gdbstub import DEFAULT_DEVICE, gdbserver_start
    device = None
    for name, text in opts.items:
        if name == "gdb":
            device = text
        elif name == "s":
            device = DEFAULT_DEVICE
    if device is not None:
        try:
            gdbserver_start(machine, device)
        except ValueError as e:
            raise OptionError(f"could not open gdbserver on device '{device}': {e}") from None


def _setup_display(machine: Any, opts: Options) -> None:
    """-vnc/-display vnc=/-device virtio-gpu-device (pemu/ui)."""
    from pemu.ui.display_options import apply_display_options
    try:
        apply_display_options(machine, opts)
    except ValueError as e:
        raise OptionError(str(e)) from None


def _setup_drives(machine: Any, opts: Options) -> None:
    """-drive/-hda/-cdrom/-device virtio-*-device (the block layer's front end)."""
    import pemu.hw.net.virtio_net  # noqa: F401  (a known -device type, created by -netdev's code)
    try:
        apply_drive_options(machine, opts)
    except ValueError as e:
        raise OptionError(str(e)) from None


def _setup_network(machine: Any, opts: Options) -> None:
    """-netdev/-nic/-net/-device virtio-net-device/-object filter-dump (pemu/net)."""
    from pemu.cli.net_options import apply_net_options
    try:
        apply_net_options(machine, opts, _warn)
    except ValueError as e:
        raise OptionError(str(e)) from None


if __name__ == "__main__":
    sys.exit(main_riscv64())
