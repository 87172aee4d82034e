"""Every QEMU option of each system front end is honoured or refused by name.

QEMU's own `-h` gives the option list, and QEMU's parser tells which options
take an argument (`qemu -machine help -OPT` fails with "requires an argument"
for those, and prints the machine list for flags). For every option pemu's
table must agree on the argument, and running pemu with it either works (a
full run of a tiny guest that powers off, with the option in effect) or
exits 1 with exactly one line naming it. `-h` prints the table.
"""
from __future__ import annotations

import functools
import os
import re
import shutil
import socket
import subprocess
import sys

import pytest

from pemu.cli.option_table import RISCV64, X86_64, OptionTable, refusal

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "riscv"))
from rvasm import AS, assemble  # noqa: E402

PEERS = {"riscv64": "qemu-system-riscv64", "x86_64": "qemu-system-x86_64"}
MODULES = {"riscv64": "pemu.cli.system", "x86_64": "pemu.cli.system_x86"}
TABLES: dict[str, OptionTable] = {"riscv64": RISCV64, "x86_64": X86_64}


def pemu(arch: str, args: list[str], timeout: float = 60, cwd: str | None = None):
    return subprocess.run([sys.executable, "-m", MODULES[arch], *args], capture_output=True,
                          text=True, timeout=timeout, stdin=subprocess.DEVNULL, cwd=cwd)


@functools.cache
def qemu_options(arch: str) -> tuple[str, ...]:
    """Option names from `qemu-system-<arch> -h` ("-fda/-fdb file" gives two)."""
    out = subprocess.run([PEERS[arch], "-h"], capture_output=True, text=True).stdout
    names: list[str] = []
    for line in out.splitlines():
        if line.startswith("-"):
            for word in line.split()[0].split("/"):
                name = word.lstrip("-")
                if name not in names:
                    names.append(name)
    return tuple(names)


@functools.cache
def qemu_takes_arg(arch: str, name: str) -> bool:
    r = subprocess.run([PEERS[arch], "-machine", "help", f"-{name}"], capture_output=True,
                       text=True, timeout=30, stdin=subprocess.DEVNULL)
    return f"-{name}: requires an argument" in r.stderr


def need_peer(arch: str) -> None:
    if shutil.which(PEERS[arch]) is None:
        pytest.skip(f"{PEERS[arch]} not installed (Debian qemu-system-"
                    f"{'misc' if arch == 'riscv64' else 'x86'}): QEMU's option list is the oracle")


def peer_option_params():
    """(arch, option) for every option of each peer; a missing peer is one skipped case."""
    params = []
    for arch in PEERS:
        if shutil.which(PEERS[arch]) is None:
            params.append(pytest.param(arch, None, id=f"{arch}-no-peer"))
            continue
        params += [pytest.param(arch, n, id=f"{arch}-{n}") for n in qemu_options(arch)]
    return params


@pytest.mark.parametrize("arch,name", peer_option_params())
def test_table_knows_every_qemu_option_and_its_argument(arch, name):
    need_peer(arch)
    spec = TABLES[arch].lookup(name)
    assert spec is not None, f"-{name} of {PEERS[arch]} -h is missing from pemu's table"
    assert (spec.arg is not None) == qemu_takes_arg(arch, name), name


def test_table_has_no_option_qemu_lacks():
    for arch, table in TABLES.items():
        if shutil.which(PEERS[arch]) is None:
            continue
        known = set(qemu_options(arch)) | {"M", "help"}
        extra = [o.name for o in table.options if o.name not in known]
        assert extra == [], f"{arch}: options QEMU does not have: {extra}"


# --- running each option ------------------------------------------------------------------
POWEROFF = """
    li t0, 0x10000000
    li t1, 'k'
    sb t1, 0(t0)
    li t0, 0x100000
    li t1, 0x5555
    sw t1, 0(t0)
1:  j 1b
"""


@pytest.fixture(scope="module")
def guest(tmp_path_factory):
    """A raw bare-metal guest that prints 'k' and powers off, plus files options name."""
    if shutil.which(AS) is None:
        pytest.skip(f"{AS} missing (Debian binutils-riscv64-linux-gnu): no test guest")
    d = tmp_path_factory.mktemp("optguest")
    (d / "poweroff.bin").write_bytes(assemble(POWEROFF))
    (d / "disk.raw").write_bytes(bytes(1 << 20))
    (d / "initrd").write_bytes(b"initrd")
    dtb = d / "given.dtb"
    assert pemu("riscv64", ["-M", f"virt,dumpdtb={dtb}"]).returncode == 0
    return d


def _port_free(port: int) -> bool:
    with socket.socket() as s:
        try:
            s.bind(("", port))
        except OSError:
            return False
    return True


def riscv_sample(name: str, d) -> list[str] | None:
    """Arguments making a working riscv64 run with -NAME (None: exits before a run)."""
    files = {
        "machine": "virt,accel=tcg,aia=none,usb=off", "cpu": "rv64,zba=on", "accel": "tcg",
        "smp": "2,cores=2,maxcpus=2", "m": "256M,slots=2,maxmem=1G", "name": "g,process=p",
        "uuid": "12345678-1234-1234-1234-123456789abc", "hda": f"{d}/disk.raw",
        "hdb": f"{d}/disk.raw", "cdrom": f"{d}/disk.raw",
        "drive": f"file={d}/disk.raw,format=raw,if=none,id=d0,readonly=on",
        "device": "virtio-rng-device", "display": "none", "vga": "none",
        "chardev": "null,id=c0", "serial": "null", "monitor": "none", "qmp": "none",
        "qmp-pretty": "none", "mon": "c0", "bios": "none", "kernel": f"{d}/poweroff.bin",
        "append": "x", "initrd": f"{d}/initrd", "dtb": f"{d}/given.dtb",
        "pidfile": f"{d}/pemu.pid", "d": "in_asm", "D": f"{d}/log", "seed": "5",
        "L": str(d), "icount": "shift=3,sleep=off", "rtc": "base=utc,clock=host",
        "gdb": "tcp:127.0.0.1:0",  # port 0: any free port
        "vnc": f"unix:{d}/vnc.sock",
        "netdev": "hubport,id=n0,hubid=0", "nic": "hubport,hubid=3,model=virtio-net-device",
        "net": "nic",
        "object": f"filter-dump,id=f0,netdev=n0,file={d}/dump.pcap",
    }
    if name in ("h", "version", "enable-kvm", "daemonize"):
        return None
    if name == "s" and not _port_free(1234):
        pytest.skip("-s listens on the fixed port 1234, which is busy on this host")
    base = ["-bios", "none", "-kernel", f"{d}/poweroff.bin", "-serial", "stdio",
            "-monitor", "none"]
    extra = {"mon": ["-chardev", "null,id=c0"], "nographic": ["-monitor", "none"],
             "object": ["-netdev", "hubport,id=n0,hubid=0"]}
    if name in ("serial", "monitor"):
        base = base[:4]
    if name == "nographic":
        base = base[:4]
    args = [*base, *extra.get(name, [])]
    return args + ([f"-{name}", files[name]] if name in files else [f"-{name}"])


@pytest.mark.parametrize("spec", [pytest.param(o, id=o.name) for o in RISCV64.options])
def test_riscv64_option_is_honoured_or_refused(spec, guest):
    if spec.refused:
        r = pemu("riscv64", [f"-{spec.name}"] + (["x"] if spec.arg else []))
        assert r.returncode == 1
        assert r.stderr.splitlines() == [f"pemu-system-riscv64: {refusal(spec.name)}"]
        return
    args = riscv_sample(spec.name, guest)
    if args is None:
        pytest.skip(f"-{spec.name} exits before a run: test_front_end_exits_* covers it")
    if spec.name in ("S", "no-shutdown"):
        # the machine stays: paused before the guest runs, or stopped after its power-off
        try:
            r = pemu("riscv64", args, cwd=str(guest), timeout=8)
        except subprocess.TimeoutExpired as e:
            out = (e.stdout or b"").decode()
            assert out == ("" if spec.name == "S" else "k"), out
            return
        pytest.fail(f"-{spec.name}: pemu exited ({r.returncode}): {r.stderr}")
    r = pemu("riscv64", args, cwd=str(guest))
    assert r.returncode == 0, (args, r.stderr)
    assert "Traceback" not in r.stderr
    if spec.name not in ("serial", "monitor", "qmp", "qmp-pretty", "mon", "chardev",
                         "kernel", "bios"):
        assert r.stdout == "k", (args, r.stdout, r.stderr)


def test_front_end_exits_for_help_version_and_kvm(guest):
    for arch in ("riscv64", "x86_64"):
        prog = f"pemu-system-{arch}"
        r = pemu(arch, ["-h"])
        assert r.returncode == 0 and r.stdout.startswith(f"usage: {prog}")
        r = pemu(arch, ["-version"])
        assert r.returncode == 0 and "version" in r.stdout
    # RISC-V has no KVM here: QEMU's own error (it checks the same way)
    r = pemu("riscv64", ["-enable-kvm", "-bios", "none", "-kernel", f"{guest}/poweroff.bin"])
    assert (r.returncode, r.stderr) == (1, "pemu-system-riscv64: invalid accelerator kvm\n")


@pytest.mark.parametrize("spec", [pytest.param(o, id=o.name) for o in X86_64.options])
def test_x86_64_option_is_honoured_or_refused(spec, tmp_path):
    """Refused: one line. Honoured: parsing and checking pass, up to loading the kernel
    (a run needs /dev/kvm; tests/kvm boots with these options)."""
    if spec.refused:
        r = pemu("x86_64", [f"-{spec.name}"] + (["x"] if spec.arg else []))
        assert r.returncode == 1
        assert r.stderr.splitlines() == [f"pemu-system-x86_64: {refusal(spec.name)}"]
        return
    if spec.name in ("h", "version"):
        pytest.skip("exits before a run: test_front_end_exits_* covers it")
    samples = {"machine": "microvm", "cpu": "qemu64", "accel": "kvm", "smp": "2",
               "m": "256M", "kernel": str(tmp_path / "nokernel"), "initrd": str(tmp_path / "i"),
               "append": "x", "display": "none", "serial": "null"}
    args = [f"-{spec.name}"] + ([samples[spec.name]] if spec.arg else [])
    if spec.name != "kernel":
        args += ["-kernel", str(tmp_path / "nokernel")]
    r = pemu("x86_64", args)
    assert r.returncode == 1
    assert r.stderr == f"pemu-system-x86_64: could not load kernel '{tmp_path}/nokernel': " \
                       "No such file or directory\n", r.stderr


@pytest.mark.parametrize("arch", list(TABLES))
def test_help_prints_the_table(arch):
    table = TABLES[arch]
    out = pemu(arch, ["-h"]).stdout
    body, _, refused = out.partition("Refused by this build")
    shown: dict[str, str | None] = {}
    for line in body.splitlines():
        if line.startswith("-"):
            head = re.split(r"\s{2,}", line.rstrip())[0]
            names, _, arg = head.partition(" ")
            shown[names.split("/")[0][1:]] = arg or None
    assert shown == {o.name: o.arg for o in table.honoured()}
    assert [w for w in refused.split() if w.startswith("-")] == \
        [f"-{o.name}" for o in table.refused()]
    for o in table.honoured():
        if o.subopts:
            assert f"sub-options: {','.join(o.subopts)}" in body


# --- sub-options: QEMU's errors, QEMU's acceptance ------------------------------------------
QEMU_ERRORS = [
    "-smp 2,sockets=7,maxcpus=64", "-smp 2,sockets=7", "-smp 2,maxcpus=1",
    "-smp 4,sockets=2,cores=3", "-smp cpus=2,dies=2", "-smp cpus=2,clusters=2",
    "-m 256M,maxmem=128M", "-m 256M,slots=4", "-m 256M,bogus=1",
    "-icount shift=3,rr=record", "-icount shift=11", "-icount align=on",
    "-icount shift=3,bogus=1", "-name foo,bogus=1", "-uuid bad", "-seed x", "-seed -1",
    "-M virt,acpi=on", "-M virt,bogus=1", "-M virt,accel=kvm", "-enable-kvm", "-accel kvm",
    "-accel tcg,bogus=on", "-daemonize -nographic", "-daemonize -monitor stdio",
    "-daemonize -serial stdio", "-vga bogus", "-pidfile /nonexistent/dir/x.pid",
    "-M virt,aia=bogus",
]


@pytest.mark.parametrize("args", QEMU_ERRORS)
def test_sub_option_errors_are_qemus(args, tmp_path):
    need_peer("riscv64")
    argv = args.split() + ["-display", "none"]
    if not args.startswith("-M"):
        argv = ["-M", "virt"] + argv
    q = subprocess.run([PEERS["riscv64"], *argv], capture_output=True, text=True, timeout=30,
                       stdin=subprocess.DEVNULL)
    assert q.returncode == 1, q.stderr
    r = pemu("riscv64", argv)
    assert r.returncode == 1
    lines = r.stderr.splitlines()
    assert len(lines) == 1, r.stderr
    assert lines[0] == q.stderr.splitlines()[0].replace("qemu-system-riscv64",
                                                         "pemu-system-riscv64")


REFUSED_SUB_OPTIONS = [
    ("-M virt,aia=aplic-imsic", "aia=aplic-imsic"), ("-M virt,aclint=on", "aclint=on"),
    ("-M virt,dump-guest-core=off", "dump-guest-core=off"),
    ("-icount shift=3,rr=record,rrfile=F", "rr=record"), ("-icount shift=auto", "shift=auto"),
    ("-icount shift=3,align=on", "align=on"), ("-smp 2,sockets=2", "sockets=2"),
    ("-d cpu,guest_errors", "guest_errors"), ("-d unimp", "unimp"),
    ("-name a,debug-threads=on", "debug-threads=on"), ("-rtc base=localtime", "base=localtime"),
    ("-rtc clock=vm", "clock=vm"), ("-accel tcg,thread=multi", "thread=multi"),
    ("-accel tcg,tb-size=64", "tb-size=64"),
]


@pytest.mark.parametrize("args,named", REFUSED_SUB_OPTIONS)
def test_sub_options_qemu_accepts_but_pemu_cannot_are_refused_by_name(args, named, tmp_path):
    need_peer("riscv64")
    # QEMU accepts each of them (so pemu may not just ignore them)
    dump = f"dumpdtb={tmp_path}/q.dtb"
    words = args.split()
    qargs = ["-M", f"{words[1]},{dump}"] if words[0] == "-M" else ["-M", f"virt,{dump}", *words]
    q = subprocess.run([PEERS["riscv64"], *qargs], capture_output=True, text=True, timeout=30,
                       stdin=subprocess.DEVNULL, cwd=tmp_path)  # rr=record writes its file
    assert q.returncode == 0, q.stderr
    r = pemu("riscv64", words if words[0] == "-M" else ["-M", "virt", *words])
    assert r.returncode == 1
    assert r.stderr.count("\n") == 1 and named in r.stderr and "not supported by this build" \
        in r.stderr, r.stderr
