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
from pemu.cli.drive_options import apply_drive_options, close_drives
from pemu.cli.options import OptionError, Options, die, parse_argv, split_keyvals
from pemu.qom import PropertyError, find_type, types_of_kind
from pemu.qom.object import parse_size

PROG = "pemu-system-riscv64"
VERSION = "0.1.0"
LOG_ITEMS = {
    "in_asm": "show target assembly code for each compiled TB",
    "int": "show interrupts/exceptions in short format",
    "exec": "show trace before each executed TB (lots of logs)",
    "cpu": "show CPU registers before entering a TB",
    "guest_errors": "log when the guest OS does something invalid",
    "unimp": "log unimplemented functionality",
}
USAGE = f"""\
usage: {PROG} [options]
  -M virt[,dumpdtb=FILE]  machine (-M help lists them)
  -m SIZE            RAM size (default 128M)
  -smp N             number of harts
  -cpu rv64          CPU model (-cpu help lists them)
  -bios default|none|FILE, -kernel FILE, -initrd FILE, -append CMDLINE, -dtb FILE
  -nographic, -serial DEV, -monitor DEV, -qmp DEV, -chardev ..., -mon ...
  -S, -no-reboot, -icount shift=N, -accel tcg[,one-insn-per-tb=on]
  -d ITEMS, -D FILE, -device help, -drive ..., -snapshot
With no -kernel, boots the bundled Linux guest.
"""


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


def build_machine(opts: Options, prog: str = PROG) -> Any:
    """Create, wire and load the machine the options describe (raises on bad input)."""
    import pemu.hw.riscv.virt  # noqa: F401  (registers the board)

    mtext = opts.get("M") or "virt"
    mprops, _ = split_keyvals(mtext, "type")
    mtype = mprops.pop("type", "virt")
    if mtype in ("help", "?"):
        sys.stdout.write(_list("machine", "Supported machines are:"))
        raise SystemExit(0)
    cls = find_type(mtype, "machine")
    if cls is None:
        raise OptionError(f"unsupported machine type '{mtype}' (-machine help lists them)")
    props: dict[str, Any] = {}
    for key, value in mprops.items():
        if key in ("dumpdtb", "dtb"):
            props[key] = value
        elif key in ("accel", "usb", "aia", "acpi"):
            continue
        else:
            raise OptionError(f"Property '{mtype}-machine.{key}' not found")
    if opts.get("m") is not None:
        mv, _ = split_keyvals(opts.get("m") or "", "size")
        try:
            size = parse_size(mv.get("size", ""), "M")
        except PropertyError:
            raise OptionError(f"-m {opts.get('m')}: Invalid RAM size") from None
        if size < 1 << 20 or size > 1 << 40:
            raise OptionError(f"-m {opts.get('m')}: RAM size must be between 1M and 1T")
        props["ram_size"] = size
    if opts.get("smp") is not None:
        sv, _ = split_keyvals(opts.get("smp") or "", "cpus")
        try:
            props["smp"] = int(sv.get("cpus", "1"))
        except ValueError:
            raise OptionError(f"-smp {opts.get('smp')}: Invalid number of CPUs") from None
    cpu = opts.get("cpu")
    if cpu is not None:
        model = cpu.split(",", 1)[0]
        if model in ("help", "?"):
            sys.stdout.write("Available CPUs:\n  rv64\n  any\n  max\n")
            raise SystemExit(0)
        if model not in cls.cpu_types:  # type: ignore[attr-defined]
            raise OptionError(f"unable to find CPU model '{model}'")
        props["cpu_disabled"] = ",".join(sorted(_cpu_switches(model, cpu)))
    accel = opts.get("accel")
    if accel is not None:
        av, _ = split_keyvals(accel, "accel")
        kind = av.get("accel", "tcg")
        if kind == "help":
            sys.stdout.write("Accelerators supported in QEMU binary:\ntcg\n")
            raise SystemExit(0)
        if kind != "tcg":
            raise OptionError(f"invalid accelerator {kind}")
        if av.get("one-insn-per-tb") == "on":
            props["tier"] = 0
    icount = opts.get("icount")
    if icount is not None:
        iv, _ = split_keyvals(icount, "shift")
        try:
            props["icount_shift"] = int(iv.get("shift", "0"))
        except ValueError:
            raise OptionError(f"-icount {icount}: shift must be an integer") from None
        if not 0 <= props["icount_shift"] <= 10:
            raise OptionError(f"-icount {icount}: shift must be between 0 and 10")
        if iv.get("sleep", "on") not in ("on", "off"):
            raise OptionError(f"-icount {icount}: sleep must be on or off")
        props["icount_sleep"] = iv.get("sleep", "on") == "on"
    for opt, prop in (("kernel", "kernel"), ("initrd", "initrd"), ("append", "append"),
                      ("bios", "bios"), ("dtb", "dtb"), ("name", "name")):
        if opts.get(opt) is not None:
            props[prop] = opts.get(opt)
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
    return machine


def main_riscv64(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    try:
        return _main(argv)
    except OptionError as e:
        die(PROG, str(e))
    except KeyboardInterrupt:
        return 1


def _main(argv: list[str]) -> int:
    from pemu.hw.riscv.boot import BootError

    opts = parse_argv(argv)
    if opts.has("h"):
        sys.stdout.write(USAGE)
        return 0
    if opts.has("version"):
        sys.stdout.write(f"{PROG} version {VERSION} (pemu)\n")
        return 0
    for dev in opts.all("device"):
        if dev.split(",", 1)[0] in ("help", "?"):
            import pemu.hw.virtio.virtio_blk  # noqa: F401
            import pemu.hw.virtio.virtio_rng  # noqa: F401
            sys.stdout.write(_list("device", "Devices:"))
            return 0
    log_items: set[str] = set()
    if opts.get("d"):
        for item in opts.get("d", "").split(","):
            if item == "help":
                sys.stdout.write("Log items (comma separated):\n" + "".join(
                    f"{k:<13} {v}\n" for k, v in LOG_ITEMS.items()))
                return 0
            if item not in LOG_ITEMS:
                raise OptionError(f"-d {opts.get('d')}: unknown log item '{item}'")
            log_items.add(item)
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
    serial = _setup_chardevs(machine, opts)
    if serial is not None:
        machine.attach_serial(serial)
    _setup_drives(machine, opts)
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
    if machine.kernel == BUNDLED_KERNEL:
        sys.stderr.write(f"{PROG}: no -kernel given: booting the bundled guest "
                         "(Linux 6.1 + busybox; 'poweroff -f' ends it, Ctrl-A x quits)\n")
    if not opts.has("S"):
        machine.loop.set_runstate("running")
    try:
        code = machine.run()
        if os.environ.get("PEMU_STATS"):
            total = sum(c.icount for c in machine.cpus)
            sys.stderr.write(f"{PROG}: {total} guest instructions, "
                             f"{machine.store.translated} blocks translated\n")
    finally:
        for chardev in list(machine.chardevs.values()):
            try:
                chardev.close()
            except Exception:
                pass
        close_drives(machine)
    return code


def _setup_chardevs(machine: Any, opts: Options) -> Any:
    """-nographic/-serial/-monitor/-qmp/-chardev/-mon, as QEMU wires them."""
    try:
        return apply_char_options(machine, opts, opts.has("nographic"))
    except ValueError as e:
        raise OptionError(str(e)) from None


def _setup_drives(machine: Any, opts: Options) -> None:
    """-drive/-hda/-cdrom/-device virtio-*-device (the block layer's front end)."""
    try:
        apply_drive_options(machine, opts)
    except ValueError as e:
        raise OptionError(str(e)) from None


if __name__ == "__main__":
    sys.exit(main_riscv64())
