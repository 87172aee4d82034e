"""`pemu-system-x86_64`: x86-64 machines on KVM, QEMU's command line.

Thin: parse options, build the board (`-M microvm`), the accelerator
(`-accel kvm`) and the serial back end, then run the main loop. Every user
error is one line `pemu-system-x86_64: ...` and exit status 1.
"""
from __future__ import annotations

import os
import sys

from pemu.cli.machine_options import check_display, check_keys, unsupported
from pemu.cli.option_table import X86_64
from pemu.cli.options import OptionError, Options, die, parse_argv, split_keyvals

PROG = "pemu-system-x86_64"
VERSION = "QEMU emulator version 8.2.0 (pemu 0.1.0)"
ACCELS = ("kvm",)


def _read_file(path: str, what: str) -> bytes:
    try:
        with open(path, "rb") as f:
            return f.read()
    except OSError as e:
        die(PROG, f"could not load {what} '{path}': {e.strerror}")


def _ram_size(opts: Options, default: int) -> int:
    from pemu.qom import PropertyError
    from pemu.qom.object import parse_size
    text = opts.get("m")
    if text is None:
        return default
    kv, _ = split_keyvals(text, "size")
    _only(f"-m {text}", kv, ("size",), ("slots", "maxmem"))
    try:
        size = parse_size(kv.get("size", ""), "M")
    except PropertyError:
        die(PROG, f"Parameter 'size' expects a non-negative number below 2^64: '{text}'")
    if size < (16 << 20):
        die(PROG, f"-m {text}: RAM size too small (minimum 16M)")
    host = os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    if size > host:
        die(PROG, f"cannot set up guest memory 'pc.ram': Cannot allocate memory "
                  f"(-m {text} is more than the host's {host >> 20} MiB)")
    return size


def _smp(opts: Options) -> int:
    text = opts.get("smp")
    if text is None:
        return 1
    kv, _ = split_keyvals(text, "cpus")
    _only(f"-smp {text}", kv, ("cpus",),
          ("maxcpus", "sockets", "dies", "clusters", "cores", "threads"))
    try:
        n = int(kv.get("cpus", "1"), 0)
    except ValueError:
        die(PROG, f"Parameter 'cpus' expects a number: '{text}'")
    if n < 1:
        die(PROG, f"Invalid SMP CPUs {n}. The min CPUs supported by machine 'microvm' is 1")
    return n


def _accel(opts: Options) -> None:
    names = [v for v in opts.all("accel")]
    if opts.has("enable-kvm"):
        names.append("kvm")
    for text in names:
        kv, _ = split_keyvals(text, "accel")
        name = kv.get("accel", "")
        if name == "help":
            print("Accelerators supported in QEMU binary:\n" + "\n".join(ACCELS))
            raise SystemExit(0)
        if name == "tcg":
            die(PROG, "-accel tcg: x86-64 has no TCG in pemu yet; use -accel kvm")
        if name not in ACCELS:
            die(PROG, f"invalid accelerator {name}")
        for key, value in kv.items():
            if key != "accel":
                # kvm-accel properties (kernel-irqchip, dirty-ring-size, ...): none honoured
                die(PROG, str(unsupported(f"-accel {text}", key, value)))


def _machine_class(opts: Options) -> tuple[type, dict[str, str]]:
    import pemu.hw.i386.microvm  # noqa: F401  (registers the board)
    from pemu.qom import find_type, types_of_kind
    text = opts.get("M") or "microvm"
    kv, _ = split_keyvals(text, "type")
    name = kv.pop("type", "microvm")
    if name == "help":
        print("Supported machines are:")
        for cls in types_of_kind("machine"):
            if cls.__module__.startswith("pemu.hw.i386"):
                print(f"{cls.type_name:<20} {cls.description}")
        raise SystemExit(0)
    cls = find_type(name, "machine")
    if cls is None or not cls.__module__.startswith("pemu.hw.i386"):
        die(PROG, f"unsupported machine type '{name}' (use -machine help to list them)")
    return cls, kv


def _only(where: str, kv: dict[str, str], honoured: tuple[str, ...],
          refused: tuple[str, ...]) -> None:
    """Sub-options: QEMU's that this front end does not act on are refused by name."""
    for key, value in kv.items():
        if key in refused:
            die(PROG, str(unsupported(where, key, value)))
    try:
        check_keys(where, kv, honoured)
    except OptionError as e:
        die(PROG, str(e))


def _serial_spec(opts: Options) -> str:
    spec = opts.get("serial")
    if spec is not None:
        return spec
    if opts.has("nographic"):
        return "stdio"
    if (opts.get("display") or "").split(",")[0] == "none" or opts.has("nodefaults"):
        return "null"
    return "stdio"  # no graphical console exists: COM1 goes to the terminal


def _chardev(spec: str, loop: object) -> object:
    from pemu.chardev import create_chardev
    try:
        return create_chardev(spec, loop, "serial0")  # type: ignore[arg-type]
    except (ValueError, OSError) as e:
        die(PROG, f"-serial {spec}: {e}")


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    try:
        opts = parse_argv(argv, X86_64)
        for text in opts.all("display"):
            check_display(text)
    except OptionError as e:
        die(PROG, str(e))
    if opts.has("h"):
        print(X86_64.help_text(), end="")
        return 0
    if opts.has("version"):
        print(VERSION)
        return 0
    _accel(opts)

    from pemu.target.i386.cpuid import CpuOptionError, parse_cpu_option
    from pemu.target.i386.models import model_help
    cpu_text = opts.get("cpu") or "qemu64"
    if cpu_text.split(",")[0] == "help":
        print(model_help())
        return 0
    try:
        cpu = parse_cpu_option(cpu_text)
    except CpuOptionError as e:
        die(PROG, str(e))

    cls, mprops = _machine_class(opts)
    ram = _ram_size(opts, cls.default_ram)
    ncpus = _smp(opts)
    kernel_path = opts.get("kernel")
    if kernel_path is None:
        die(PROG, f"machine '{cls.type_name}' needs -kernel (there is no firmware to boot from)")
    kernel = _read_file(kernel_path, "kernel")
    initrd_path = opts.get("initrd")
    initrd = _read_file(initrd_path, "initrd") if initrd_path else None

    from pemu.accel.kvm import KvmError
    from pemu.accel.kvm.accel import KvmAccel
    from pemu.hw.i386.linux_boot import BootError
    from pemu.qom import PropertyError
    try:
        machine = cls(ram_size=ram, smp=ncpus, **mprops)
    except PropertyError as e:
        die(PROG, str(e))
    except OSError as e:
        die(PROG, f"cannot set up guest memory 'pc.ram': {e.strerror}")
    try:
        machine.build()
    except OSError as e:
        die(PROG, f"cannot set up guest memory 'pc.ram': {e.strerror}")
    machine.kernel, machine.initrd = kernel, initrd
    machine.cmdline = opts.get("append") or ""
    if "xsave" in cpu.minus:
        # PVM hosts show the guest their native XSAVE bit whatever KVM_SET_CPUID2 says
        # (only the bits KVM_GET_SUPPORTED_CPUID lists can be cleared), and CPL0 xrstor
        # is not emulated there: tell Linux too, as a kernel parameter.
        machine.cmdline = (machine.cmdline + " noxsave").strip()
    machine.no_reboot = opts.has("no-reboot")

    def warn(msg: str) -> None:
        sys.stderr.write(f"{PROG}: warning: {msg}\n")

    try:
        accel = KvmAccel(machine.loop, machine.memory, machine.io, ncpus, cpu, warn)
    except KvmError as e:
        die(PROG, str(e))
    machine.attach_accel(accel)
    chardev = _chardev(_serial_spec(opts), machine.loop)
    machine.serial.attach_chardev(chardev)
    machine.chardevs["serial0"] = chardev
    try:
        with machine.loop.bql:
            machine.loop.set_runstate("running")
            machine.start()
    except BootError as e:
        die(PROG, str(e))
    except KvmError as e:
        die(PROG, str(e))
    try:
        rc = machine.run()
    except KeyboardInterrupt:
        rc = 0
    finally:
        accel.shutdown()
        close = getattr(chardev, "close", None)
        if close is not None:
            close()
    return rc


if __name__ == "__main__":
    sys.exit(main())
