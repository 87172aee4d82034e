"""pemu-riscv64, pemu-aarch64: run a Linux program of another ISA, with
qemu-user's command line.

    pemu-<arch> [options] program [arguments...]

Options stop at the first non-option (the program). Each has the QEMU_*
environment variable qemu-user reads: -L QEMU_LD_PREFIX, -s
QEMU_STACK_SIZE, -cpu QEMU_CPU, -E QEMU_SET_ENV, -U QEMU_UNSET_ENV, -0
QEMU_ARGV0, -strace QEMU_STRACE, -d QEMU_LOG, -D QEMU_LOG_FILENAME.
The guest's exit status is pemu's; a guest killed by a signal kills pemu
with the same signal. Bad input is one line on stderr and status 1.
"""
from __future__ import annotations

import os
import sys

VERSION = "0.1.0"
USAGE = """\
usage: {prog} [options] program [arguments...]
Linux CPU emulator (compiled for {arch} emulation)

Options and associated environment variables:

Argument             Env-variable      Description
-h                                     print this help
-help
-g port              QEMU_GDB          wait gdb connection to 'port'
-L path              QEMU_LD_PREFIX    set the elf interpreter prefix to 'path'
-s size              QEMU_STACK_SIZE   set the stack size to 'size' bytes
-cpu model           QEMU_CPU          select CPU (-cpu help for list)
-E var=value         QEMU_SET_ENV      sets targets environment variable (see below)
-U var               QEMU_UNSET_ENV    unsets targets environment variable (see below)
-0 argv0             QEMU_ARGV0        forces target process argv[0] to be 'argv0'
-d item[,...]        QEMU_LOG          enable logging of specified items (use '-d help' for a list)
-D logfile           QEMU_LOG_FILENAME write logs to 'logfile' (default stderr)
-strace              QEMU_STRACE       log system calls
-version             QEMU_VERSION      display version information and exit
"""
ARG_OPTS = {"L", "s", "cpu", "E", "U", "0", "d", "D", "g", "B", "R", "p", "seed", "r",
            "trace", "plugin"}
FLAG_OPTS = {"h", "help", "strace", "version", "singlestep", "one-insn-per-tb", "nx"}
LOG_ITEMS = {
    "strace": "log every user-mode syscall, its input, and its result",
    "unimp": "log unimplemented functionality",
    "int": "show interrupts/exceptions in short format",
    "guest_errors": "log when the guest OS does something invalid",
    "page": "dump pages at beginning of user mode emulation",
}
#: the -d items pemu-aarch64 acts on (the others it refuses rather than ignore)
AARCH64_LOG_ITEMS = {"strace", "unimp", "int"}
#: -cpu models each pemu-<arch> accepts (the ones whose features it implements)
CPUS = {"riscv64": ("rv64", "any", "max", "sifive-u54", "rv64gc"),
        "aarch64": ("max", "any")}


class UsageError(Exception):
    pass


def _parse_size(text: str) -> int:
    mult = {"k": 1 << 10, "m": 1 << 20, "g": 1 << 30}
    t = text.strip().lower()
    try:
        if t and t[-1] in mult:
            return int(t[:-1], 0) * mult[t[-1]]
        return int(t, 0)
    except ValueError:
        raise UsageError(f"invalid stack size: {text}") from None


def parse(argv: list[str], environ: dict[str, str], arch: str = "riscv64"):
    """(UserOptions, env changes, argv0, program, args) from argv and QEMU_*."""
    prog_name = f"pemu-{arch}"
    from pemu.linux_user.process import UserOptions
    opts = UserOptions()
    set_env: list[str] = []
    unset_env: list[str] = []
    argv0 = environ.get("QEMU_ARGV0")
    if environ.get("QEMU_LD_PREFIX"):
        opts.sysroot = environ["QEMU_LD_PREFIX"]
    if environ.get("QEMU_STACK_SIZE"):
        opts.stack_size = _parse_size(environ["QEMU_STACK_SIZE"])
    if environ.get("QEMU_CPU"):
        opts.cpu = environ["QEMU_CPU"]
    if environ.get("QEMU_GDB"):
        opts.gdb = environ["QEMU_GDB"]
    if environ.get("QEMU_STRACE") is not None:
        opts.strace = True
    if environ.get("QEMU_LOG"):
        opts.log_items |= set(environ["QEMU_LOG"].split(","))
    if environ.get("QEMU_LOG_FILENAME"):
        opts.log_file = environ["QEMU_LOG_FILENAME"]
    if environ.get("QEMU_SET_ENV"):
        set_env += environ["QEMU_SET_ENV"].split(",")
    if environ.get("QEMU_UNSET_ENV"):
        unset_env += environ["QEMU_UNSET_ENV"].split(",")
    i = 0
    while i < len(argv):
        a = argv[i]
        if not a.startswith("-") or a == "-":
            break
        i += 1
        if a == "--":
            break
        name = a.lstrip("-")
        if name in FLAG_OPTS:
            if name in ("h", "help"):
                sys.stdout.write(USAGE.format(prog=prog_name, arch=arch))
                raise SystemExit(0)
            if name == "version":
                sys.stdout.write(f"{prog_name} version {VERSION}\n")
                raise SystemExit(0)
            if name == "strace":
                opts.strace = True
            elif name in ("singlestep", "one-insn-per-tb"):
                opts.one_insn = True
            continue
        if name not in ARG_OPTS:
            raise UsageError(f"unknown option '{a}'")
        if i >= len(argv):
            raise UsageError(f"option '{a}' needs an argument")
        val = argv[i]
        i += 1
        if name == "L":
            opts.sysroot = val
        elif name == "s":
            opts.stack_size = _parse_size(val)
        elif name == "cpu":
            if val == "help":
                sys.stdout.write("Available CPUs:\n" + "".join(f"  {c}\n" for c in CPUS[arch]))
                raise SystemExit(0)
            if val.split(",")[0] not in CPUS[arch]:
                raise UsageError(f"unable to find CPU model '{val}'")
            opts.cpu = val
        elif name == "E":
            set_env += val.split(",")
        elif name == "U":
            unset_env += val.split(",")
        elif name == "0":
            argv0 = val
        elif name == "d":
            if val == "help":
                sys.stdout.write("Log items (comma separated):\n" + "".join(
                    f"{k:<15}{v}\n" for k, v in LOG_ITEMS.items()))
                raise SystemExit(0)
            items = set(val.split(","))
            bad = [x for x in items if x not in LOG_ITEMS and x not in (
                "in_asm", "exec", "cpu", "op", "out_asm", "nochain", "plugin")]
            if bad:
                raise UsageError(f"unknown logging item '{bad[0]}'")
            unhonoured = sorted(items - AARCH64_LOG_ITEMS) if arch == "aarch64" else []
            if unhonoured:
                raise UsageError(f"-d {unhonoured[0]}: not supported by {prog_name} yet")
            opts.log_items |= items
        elif name == "D":
            opts.log_file = val
        elif name == "g":
            if arch != "riscv64":
                raise UsageError(f"-g: the gdbstub is not available in {prog_name} yet")
            opts.gdb = val
    if "strace" in opts.log_items:
        opts.strace = True
    if i >= len(argv):
        raise UsageError("no user program specified")
    prog, args = argv[i], argv[i + 1:]
    opts.argv0 = argv0
    pass_opts: list[str] = []
    if opts.sysroot:
        pass_opts += ["-L", opts.sysroot]
    if opts.stack_size != UserOptions().stack_size:
        pass_opts += ["-s", str(opts.stack_size)]
    if opts.cpu:
        pass_opts += ["-cpu", opts.cpu]
    if opts.strace:
        pass_opts += ["-strace"]
    if opts.one_insn:
        pass_opts += ["-one-insn-per-tb"]
    if opts.log_items - {"strace"}:
        pass_opts += ["-d", ",".join(sorted(opts.log_items - {"strace"}))]
    if opts.log_file:
        pass_opts += ["-D", opts.log_file]
    opts.passthrough = pass_opts
    return opts, set_env, unset_env, prog, args


def guest_environment(set_env: list[str], unset_env: list[str]) -> list[bytes]:
    env = dict(os.environb)
    if env.get(b"LC_CTYPE") == b"C.UTF-8" and b"LC_ALL" not in env \
            and env.get(b"LANG", b"C") in (b"C", b"POSIX"):
        del env[b"LC_CTYPE"]  # set by Python's C-locale coercion (PEP 538), not the user
    for item in set_env:
        k, _, v = item.partition("=")
        env[os.fsencode(k)] = os.fsencode(v)
    for k in unset_env:
        env.pop(os.fsencode(k), None)
    return [k + b"=" + v for k, v in env.items()]


def main(argv: list[str] | None = None, arch: str = "riscv64") -> int:
    argv = sys.argv[1:] if argv is None else argv
    name = f"pemu-{arch}"
    try:
        opts, set_env, unset_env, prog, args = parse(argv, dict(os.environ), arch)
    except UsageError as e:
        sys.stderr.write(f"{name}: {e}\n")
        return 1
    from pemu.linux_user.abi import by_name
    from pemu.linux_user.elfload import LoadError
    from pemu.linux_user.process import Process, setup_host_signals
    try:
        proc = Process(opts, by_name(arch))
        gargv = [os.fsencode(opts.argv0 if opts.argv0 is not None else prog)]
        gargv += [os.fsencode(a) for a in args]
        main_thread = proc.load(prog, gargv, guest_environment(set_env, unset_env))
    except LoadError as e:
        sys.stderr.write(f"{name}: {e}\n")
        return 1
    except OSError as e:
        sys.stderr.write(f"{name}: {prog}: {e.strerror}\n")
        return 1
    sys.stdout.flush()
    if opts.gdb:
        from pemu.gdbstub.user import UserGdbStub
        try:
            stub = UserGdbStub(proc, opts.gdb)  # waits for gdb, as qemu-user -g does
        except ValueError:
            sys.stderr.write(f"{name}: could not open gdbserver on {opts.gdb}\n")
            return 1
        stub.serve(main_thread.cpu, report=False)  # gdb asks '?'; runs when it resumes
    setup_host_signals()
    proc.run(main_thread)
    return 0  # not reached: run() ends the process


def main_riscv64() -> None:
    raise SystemExit(main())


def main_aarch64() -> None:
    raise SystemExit(main(arch="aarch64"))


if __name__ == "__main__":
    main_riscv64()
