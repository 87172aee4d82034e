"""pemu-aarch64 against qemu-aarch64 (the oracle): C programs built with
aarch64-linux-gnu-gcc give the same stdout, stderr and exit status.

progs_aarch64/ holds A64-specific programs (integer instructions and flags,
every load/store form, control flow, an unimplemented instruction); the
shared progs/ (system call families) run too. Anything missing skips."""
from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import pytest

HERE = Path(__file__).parent
QEMU = shutil.which("qemu-aarch64")
CC = shutil.which("aarch64-linux-gnu-gcc")
SYSROOT = "/usr/aarch64-linux-gnu"
BOOT = "from pemu.cli.user import main_aarch64; main_aarch64()"

needs_qemu = pytest.mark.skipif(QEMU is None,
                                reason="qemu-aarch64 missing (apt-get install qemu-user)")

#: program -> (arguments, build modes); "{dir}" is a fresh directory per run
CASES = {
    "arith": ([], ("static",)),
    "ldst": ([], ("static", "dynamic")),
    "fp": ([], ("static",)),
    "fenv": ([], ("static",)),
    "libm": ([], ("static", "dynamic")),
    "control": (["7", "two words"], ("static", "dynamic")),
    "hello": (["5", "two words"], ("static", "dynamic")),
    "files": (["{dir}"], ("static",)),
    "mem": ([], ("static",)),
    "unimp": ([], ("static",)),
    "signals": ([], ("static",)),
    "threads": ([], ("static", "dynamic")),
    "sockets": (["{dir}"], ("static",)),
    "sysmisc": ([], ("static",)),
    "sigaction": ([], ("static",)),
    "ucontext": ([], ("static", "dynamic")),
    "strings": ([], ("static",)),
    "simd": ([], ("static", "dynamic")),
    "vecfp": ([], ("static",)),
    "matrix": ([], ("static",)),
    "reduce": ([], ("static",)),
    "crash": ([], ("static",)),
    "unaligned": ([], ("static",)),
    "lse": ([], ("static",)),
    "crc": ([], ("static",)),
    "badargs": ([], ("static",)),
}


#: programs built with -O3, so gcc's vectoriser adds its Advanced SIMD code
VECTORISED = {"simd", "strings", "vecfp", "libm", "matrix", "reduce"}
#: programs using instructions beyond ARMv8.0
MARCH = {"lse": "-march=armv8.1-a", "crc": "-march=armv8-a+crc"}


def _source(prog: str) -> Path:
    own = HERE / "progs_aarch64" / f"{prog}.c"
    return own if own.exists() else HERE / "progs" / f"{prog}.c"


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    """A function building progs_aarch64/ or progs/ programs on demand (cached)."""
    if CC is None or not os.path.isdir(SYSROOT):
        pytest.skip("aarch64 cross compiler missing "
                    "(apt-get install gcc-aarch64-linux-gnu libc6-dev-arm64-cross)")
    out = tmp_path_factory.mktemp("a64progs")
    cache: dict[tuple[str, str], str] = {}

    def build(prog: str, mode: str = "static") -> str:
        if (prog, mode) not in cache:
            exe = out / f"{prog}.{mode}"
            opt = "-O3" if prog in VECTORISED else "-O1"
            cmd = [CC, opt, "-o", str(exe), str(_source(prog)), "-lpthread", "-lm"]
            if prog in MARCH:
                cmd.insert(1, MARCH[prog])
            if mode == "static":
                cmd.insert(1, "-static")
            subprocess.run(cmd, check=True, capture_output=True)
            cache[(prog, mode)] = str(exe)
        return cache[(prog, mode)]
    return build


def run_pemu(args: list[str], cwd: str, env: dict | None = None, timeout: int = 300):
    return subprocess.run([sys.executable, "-c", BOOT, "-L", SYSROOT, *args], cwd=cwd,
                          env=env, capture_output=True, timeout=timeout, check=False)


def run_qemu(args: list[str], cwd: str, env: dict | None = None):
    return subprocess.run([QEMU, "-L", SYSROOT, *args], cwd=cwd, env=env,
                          capture_output=True, timeout=60, check=False)


@needs_qemu
@pytest.mark.parametrize("prog,mode", [(p, m) for p, (_, modes) in CASES.items()
                                       for m in modes])
def test_same_as_qemu(built, tmp_path, prog, mode):
    exe = built(prog, mode)
    results = []
    for who, run in (("q", run_qemu), ("p", run_pemu)):
        d = tmp_path / who
        d.mkdir()
        args = [a.replace("{dir}", str(d)) for a in CASES[prog][0]]
        results.append(run([exe, *args], str(d)))
    q, p = results
    assert p.returncode == q.returncode, p.stderr.decode(errors="replace")[-2000:]
    assert p.stdout == q.stdout
    assert p.stderr == q.stderr


@needs_qemu
def test_environment_and_exit_status(built, tmp_path):
    """The guest sees the environment; -E and -U change it; the status is the guest's."""
    exe = built("control")
    env = dict(os.environ, PEMU_TEST_VAR="from the host")
    for extra in ([], ["-E", "PEMU_TEST_VAR=set by -E"], ["-U", "PEMU_TEST_VAR"]):
        q = run_qemu([*extra, exe, "3"], str(tmp_path), env)
        p = run_pemu([*extra, exe, "3"], str(tmp_path), env)
        assert (p.returncode, p.stdout) == (q.returncode, q.stdout) == (3, q.stdout)


def test_unimplemented_instruction_is_sigill_named_once(built, tmp_path):
    """An encoding pemu lacks raises SIGILL in the guest (its handler runs) and
    is named once on stderr; UDF is SIGILL with no message. (qemu-aarch64 runs
    AESE, so the expected output is fixed here.)"""
    exe = built("sigill")
    p = run_pemu([exe], str(tmp_path))
    assert p.returncode == 0, p.stderr
    assert p.stdout.decode() == ("caught signal 4 code 1\nafter aese 0\n"
                                 "caught signal 4 code 1\nafter aese 1\n"
                                 "caught signal 4 code 1\nafter udf\n")
    lines = p.stderr.decode().splitlines()
    assert len(lines) == 1 and lines[0].startswith(
        "pemu-aarch64: unimplemented instruction 0x4e284800 at pc 0x"), lines
    p = run_pemu([exe, "uncaught"], str(tmp_path))
    assert p.returncode == -signal.SIGILL
    assert b"Traceback" not in p.stderr


def test_wrong_architecture_is_one_line(built, tmp_path):
    """A riscv64 (or any non-aarch64) ELF is refused with one line and status 1."""
    bad = tmp_path / "notarm"
    bad.write_bytes(b"\x7fELF\x02\x01\x01" + bytes(9) + b"\x02\x00\xf3\x00" + bytes(44))
    p = run_pemu([str(bad)], str(tmp_path))
    assert p.returncode == 1
    assert p.stderr.decode().count("\n") == 1
    assert "Invalid ELF image for this architecture" in p.stderr.decode()


def test_cpu_option(tmp_path):
    """-cpu names only models whose features pemu implements; others are refused."""
    p = run_pemu(["-cpu", "help"], str(tmp_path))
    assert p.returncode == 0 and b"max" in p.stdout
    p = run_pemu(["-cpu", "cortex-a710", "/bin/true"], str(tmp_path))
    assert p.returncode == 1
    assert p.stderr.decode() == "pemu-aarch64: unable to find CPU model 'cortex-a710'\n"


def test_log_items_it_cannot_honour_are_refused(built, tmp_path):
    """-d strace works; -d in_asm (no A64 disassembler yet) is refused, not ignored."""
    exe = built("hello")
    p = run_pemu(["-d", "strace", exe], str(tmp_path))
    assert p.returncode == 0 and b"exit_group(0)" in p.stderr
    p = run_pemu(["-d", "in_asm", exe], str(tmp_path))
    assert p.returncode == 1
    assert p.stderr.decode() == "pemu-aarch64: -d in_asm: not supported by pemu-aarch64 yet\n"


@needs_qemu
@pytest.mark.parametrize("prog", ["control", "ldst", "simd"])
def test_one_instruction_blocks(built, tmp_path, prog):
    """With one instruction per block (PEMU_TIER=0: no superblocks, no flag
    fusion across instructions) the output is still qemu-aarch64's."""
    exe = built(prog)
    env = dict(os.environ, PEMU_TIER="0")
    q = run_qemu([exe], str(tmp_path))
    p = run_pemu([exe], str(tmp_path), env)
    assert (p.returncode, p.stdout, p.stderr) == (q.returncode, q.stdout, q.stderr)
