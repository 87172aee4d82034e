"""What each system front end accepts: one table per program, QEMU's option names.

Every option QEMU 7.2 lists in `qemu-system-<arch> -h` for the target is in
the table, as one of two kinds:

- honoured: it takes effect as QEMU's does; `subopts` names the sub-options
  the front end acts on (any other sub-option is refused where it is read);
- refused: this build cannot honour it yet (the feature belongs to another
  open issue: gdbstub, VNC, networking, migration, ...), so giving it is one
  line, `prog: -vnc: not supported by this build`, and exit status 1.

An option that is in no table is QEMU's "invalid option". The parser
(`pemu.cli.options.parse_argv`), `-h` and the test that walks QEMU's own
option list all read these tables, so the three cannot disagree.
"""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Opt:
    """One command-line option: its name, its argument's metavar (None for a
    flag), a help line, and the sub-options acted on."""

    name: str
    arg: str | None
    help: str = ""
    subopts: tuple[str, ...] = ()
    refused: bool = False
    aliases: tuple[str, ...] = ()


def _refused(arg_names: str, flag_names: str) -> list[Opt]:
    """QEMU options this build refuses: space-separated names taking an argument, then flags."""
    return ([Opt(n, "ARG", refused=True) for n in arg_names.split()]
            + [Opt(n, None, refused=True) for n in flag_names.split()])


class OptionTable:
    """The options of one front end, looked up by name or alias."""

    def __init__(self, prog: str, options: list[Opt], intro: str = "") -> None:
        self.prog = prog
        self.intro = intro
        self.options = options
        self.by_name: dict[str, Opt] = {}
        for o in options:
            for n in (o.name, *o.aliases):
                if n in self.by_name:
                    raise ValueError(f"option -{n} declared twice")
                self.by_name[n] = o

    def lookup(self, name: str) -> Opt | None:
        return self.by_name.get(name)

    def honoured(self) -> list[Opt]:
        return [o for o in self.options if not o.refused]

    def refused(self) -> list[Opt]:
        return [o for o in self.options if o.refused]

    def help_text(self) -> str:
        """What `-h` prints: every honoured option with its sub-options, then the refused ones."""
        lines = [f"usage: {self.prog} [options]", *self.intro.splitlines(), ""]
        for o in self.honoured():
            names = "/".join(f"-{n}" for n in (o.name, *o.aliases))
            head = f"{names} {o.arg}" if o.arg else names
            if len(head) > 26:  # two spaces always end the head: the help reads it back
                lines += [head, f"{'':<28}{o.help}"]
            else:
                lines.append(f"{head:<26}  {o.help}")
            if o.subopts:
                lines.append(f"{'':<28}sub-options: {','.join(o.subopts)}")
        lines.append("")
        lines.append("Refused by this build (exit status 1, one line naming the option):")
        words = [f"-{o.name}" for o in self.refused()]
        row = ""
        for w in words:
            if len(row) + len(w) + 1 > 78:
                lines.append(" " + row)
                row = ""
            row += " " + w
        if row:
            lines.append(" " + row)
        return "\n".join(lines) + "\n"


# Sub-options shared by the front ends that read them.
SMP_KEYS = ("cpus", "maxcpus", "sockets", "dies", "clusters", "cores", "threads")
M_KEYS = ("size", "slots", "maxmem")
ICOUNT_KEYS = ("shift", "sleep", "align", "rr", "rrfile", "rrsnapshot")
NAME_KEYS = ("guest", "process", "debug-threads")
RTC_KEYS = ("base", "clock", "driftfix")

# QEMU 7.2 options neither front end honours yet, with whether they take an argument
# (QEMU's own parser is the oracle: tests/unit/cli/test_option_table.py checks it).
_COMMON_REFUSED = _refused(
    "numa add-fd set global boot mem-path k audio audiodev fda fdb hdc hdd blockdev "
    "mtdblock sd fsdev virtfs iscsi usbdevice spice rotate tpmdev "
    "pflash compat fw_cfg parallel debugcon overcommit dfilter action loadvm "
    "option-rom watchdog-action echr incoming chroot runas sandbox readconfig trace "
    "plugin msg dump-vmstate",
    "mem-prealloc audio-help usb portrait full-screen preconfig only-migratable "
    "async-teardown enable-sync-profile")

RISCV64 = OptionTable("pemu-system-riscv64", [
    Opt("h", None, "display this help and exit", aliases=("help",)),
    Opt("version", None, "display version information and exit"),
    Opt("machine", "[type=]virt[,prop=value...]", "select the board (-machine help lists them)",
        ("type", "dumpdtb", "dtb", "kernel", "initrd", "append", "firmware", "accel",
         "aia", "aclint", "usb", "graphics"), aliases=("M",)),
    Opt("cpu", "rv64[,ext=on|off...]", "select the CPU (-cpu help lists them)"),
    Opt("accel", "tcg[,one-insn-per-tb=on|off][,native=on|off][,thread=single]",
        "select the accelerator (native=off: no host machine code, Python tier only)",
        ("accel", "one-insn-per-tb", "native", "thread")),
    Opt("smp", "[cpus=]n[,maxcpus=n][,sockets=1][,cores=n][,threads=n]",
        "number of harts and their topology (QEMU's topology checks)", SMP_KEYS),
    Opt("m", "[size=]megs[,slots=n,maxmem=size]", "guest RAM size (default 128M)", M_KEYS),
    Opt("name", "string1[,process=string2][,debug-threads=on|off]",
        "guest name (query-name) and host process name", NAME_KEYS),
    Opt("uuid", "%08x-%04x-%04x-%04x-%012x", "machine UUID (query-uuid)"),
    Opt("hda", "file", "use 'file' as hard disk 0 image"),
    Opt("hdb", "file", "use 'file' as hard disk 1 image"),
    Opt("cdrom", "file", "use 'file' as CD-ROM image"),
    Opt("drive", "[file=file][,if=virtio|none][,format=f][,id=n][,index=i]...",
        "define a drive (see pemu/cli/drive_options.py for its keys)"),
    Opt("snapshot", None, "write to temporary files instead of disk image files"),
    Opt("device", "driver[,prop=value...]", "add a device (-device help lists them)"),
    Opt("display", "none|vnc=ADDR", "display back end: none, or vnc=ADDR as -vnc ADDR"),
    Opt("nographic", None, "no graphical output; serial and monitor on the console"),
    Opt("vnc", ":N|HOST:N|unix:PATH|none",
        "VNC server on port 5900+N (RFB 3.8, no authentication, Raw encoding)"),
    Opt("vga", "none", "no VGA card (the virt board has none; other values warn, as QEMU)"),
    Opt("chardev", "backend,id=id[,...]", "character device back end"),
    Opt("serial", "dev", "redirect the serial port to char device 'dev'"),
    Opt("monitor", "dev", "redirect the monitor to char device 'dev'"),
    Opt("qmp", "dev", "like -monitor but opens in 'control' mode"),
    Opt("qmp-pretty", "dev", "like -qmp but uses pretty JSON formatting"),
    Opt("mon", "[chardev=]name[,mode=readline|control][,pretty[=on|off]]",
        "attach a monitor to a chardev", ("chardev", "mode", "pretty")),
    Opt("bios", "file", "firmware: default, none or a file (looked up in -L dirs)"),
    Opt("kernel", "file", "kernel image (Linux Image or ELF)"),
    Opt("append", "cmdline", "kernel command line"),
    Opt("initrd", "file", "initial ram disk"),
    Opt("dtb", "file", "device tree blob to hand the guest"),
    Opt("pidfile", "file", "write PID to 'file' (locked, removed at exit)"),
    Opt("daemonize", None, "daemonize after initializing (parent exits once ready)"),
    Opt("S", None, "freeze CPU at startup (use 'c' to start execution)"),
    Opt("gdb", "dev", "accept a gdb connection on 'dev' (tcp:[host]:port, unix:path,server=on,"
        " chardev:id)"),
    Opt("s", None, "shorthand for -gdb tcp::1234"),
    Opt("singlestep", None, "one instruction per translated block"),
    Opt("d", "item1,...", "log items (-d help lists them)"),
    Opt("D", "logfile", "output log to logfile (default stderr)"),
    Opt("seed", "number", "seed the guest-visible random numbers (device tree rng-seed)"),
    Opt("L", "path", "directory searched for -bios files"),
    Opt("enable-kvm", None, "KVM: not available for RISC-V (QEMU's error)"),
    Opt("no-reboot", None, "exit instead of rebooting"),
    Opt("no-shutdown", None, "stop before shutdown"),
    Opt("icount", "[shift=N][,sleep=on|off]", "instruction-counted virtual time",
        ICOUNT_KEYS),
    Opt("rtc", "[base=utc][,clock=host][,driftfix=none]",
        "RTC from the host's UTC clock (only QEMU's default values)", RTC_KEYS),
    Opt("nodefaults", None, "don't create default devices"),
    Opt("no-user-config", None, "do not load user configuration (pemu never does)"),
    Opt("netdev", "user|socket|tap|hubport,id=str[,...]",
        "network back end (see pemu/net/netdev_options.py for the sub-options)"),
    Opt("nic", "user|socket|tap[,model=virtio-net-device][,mac=addr][,...]",
        "a virtio-net card and its back end in one option"),
    Opt("net", "nic[,macaddr=][,model=][,netdev=]|user|socket[,...]",
        "legacy network option (cards and back ends on hub 0)"),
    Opt("object", "filter-dump,id=str,netdev=id,file=path[,maxlen=n][,queue=all|rx|tx]",
        "create an object: only filter-dump (a pcap of a netdev's packets)"),
    *_COMMON_REFUSED,
    *_refused("", "semihosting"),
    Opt("semihosting-config", "ARG", refused=True),
], intro="With no -kernel, boots the bundled Linux guest.")

X86_64 = OptionTable("pemu-system-x86_64", [
    Opt("h", None, "display this help and exit", aliases=("help",)),
    Opt("version", None, "display version information and exit"),
    Opt("machine", "microvm[,acpi=on|off][,host-decompress=on|off]",
        "select the board (-machine help lists them)", ("type",), aliases=("M",)),
    Opt("cpu", "MODEL[,+feat|-feat...]", "CPU model (-cpu help)"),
    Opt("accel", "kvm", "hardware virtualisation (-accel help)", ("accel",)),
    Opt("enable-kvm", None, "same as -accel kvm"),
    Opt("smp", "[cpus=]n", "number of vCPUs", ("cpus",)),
    Opt("m", "[size=]megs", "guest RAM (default 128M)", ("size",)),
    Opt("kernel", "file", "bzImage or ELF (vmlinux) to boot directly"),
    Opt("initrd", "file", "initial ramdisk"),
    Opt("append", "cmdline", "kernel command line"),
    Opt("nographic", None, "serial console on stdio"),
    Opt("display", "none", "no display (COM1 then goes nowhere unless -serial)"),
    Opt("serial", "dev", "serial back end (stdio, null, file:PATH, pty, ...)"),
    Opt("no-reboot", None, "exit instead of rebooting"),
    Opt("nodefaults", None, "don't create default devices"),
    Opt("no-user-config", None, "do not load user configuration (pemu never does)"),
    *_COMMON_REFUSED,
    *_refused("netdev nic net object "
              "name uuid hda hdb cdrom drive device vga chardev monitor qmp qmp-pretty mon "
              "bios dtb pidfile d D seed L icount rtc acpitable smbios xen-domid gdb vnc",
              "s snapshot daemonize S singlestep no-shutdown win2k-hack no-fd-bootchk "
              "no-acpi no-hpet xen-attach xen-domid-restrict"),
])

TABLES = {"riscv64": RISCV64, "x86_64": X86_64}


def refusal(name: str) -> str:
    """The one line for an option this build cannot honour."""
    return f"-{name}: not supported by this build"


__all__ = ["Opt", "OptionTable", "RISCV64", "X86_64", "TABLES", "refusal"]
