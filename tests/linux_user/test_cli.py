"""pemu-riscv64's command line: bad input, -E/-U/-0, QEMU_* variables, -strace."""
from __future__ import annotations

import os
import subprocess
import sys

import pytest


def pemu(args, cwd, env=None):
    return subprocess.run([sys.executable, "-m", "pemu.cli.user", *args], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=120, check=False)


@pytest.mark.parametrize("content,why", [
    (b"#include <stdio.h>\n", "Exec format error"),
    (b"\x7fELF\x02\x01\x01" + bytes(9) + b"\x02\x00\x3e\x00", "Invalid ELF image"),
    (b"\x7fELF\x02\x01\x01", "Invalid ELF image"),
])
def test_bad_binary_one_line_status_1(tmp_path, content, why):
    f = tmp_path / "bad"
    f.write_bytes(content)
    r = pemu([str(f)], str(tmp_path))
    assert r.returncode == 1
    assert r.stderr.count("\n") == 1 and r.stderr.startswith("pemu-riscv64: ")
    assert why in r.stderr


def test_truncated_elf(built, tmp_path):
    data = open(built[("hello", "static")], "rb").read()
    f = tmp_path / "trunc"
    f.write_bytes(data[:3000])
    r = pemu([str(f)], str(tmp_path))
    assert r.returncode == 1 and r.stderr.count("\n") == 1


def test_missing_and_unknown_option(tmp_path):
    r = pemu(["/nonexistent"], str(tmp_path))
    assert r.returncode == 1 and "No such file" in r.stderr
    r = pemu(["-bogus", "x"], str(tmp_path))
    assert r.returncode == 1 and r.stderr.startswith("pemu-riscv64: ")


def test_env_and_argv0_options(built, tmp_path):
    exe = built[("hello", "static")]
    r = pemu(["-E", "PEMU_TEST_VAR=set", "-0", "renamed", exe, "0"], str(tmp_path))
    assert "env=set" in r.stdout and r.returncode == 0
    env = dict(os.environ, PEMU_TEST_VAR="x", QEMU_UNSET_ENV="PEMU_TEST_VAR")
    r = pemu([exe], str(tmp_path), env)
    assert "env=(unset)" in r.stdout


def test_strace_format(built, tmp_path):
    r = pemu(["-strace", built[("hello", "static")], "2"], str(tmp_path))
    assert r.returncode == 2
    lines = r.stderr.splitlines()
    pid = lines[0].split()[0]
    assert pid.isdigit()
    assert any(ln.startswith(f"{pid} brk(NULL) = 0x") for ln in lines)
    assert any(f"{pid} exit_group(2)" in ln for ln in lines)
    assert any(" = -1 errno=" in ln or " = 0" in ln for ln in lines)


def test_unimplemented_syscall_named(tmp_path, built):
    exe = built[("unimp", "static")]
    r = pemu(["-d", "unimp", exe], str(tmp_path))
    assert r.returncode == 0 and "r=-1 enosys=1" in r.stdout
    assert "Unsupported syscall: 244" in r.stderr
    assert "io_setup" in r.stderr
    r = pemu(["-strace", exe], str(tmp_path))
    assert "Unknown syscall 244" in r.stderr


def test_pemu_bug_in_a_syscall_is_logged_once_and_fails_the_call(built, tmp_path):
    """A handler raising a Python exception is pemu's bug, not the guest's:
    it is reported once (with the traceback) and the call returns ENOSYS."""
    from lu_util import SYSROOT
    code = (
        "import sys\n"
        "from pemu.linux_user import syscalls as S\n"
        "S.load_all()\n"
        "def sys_flock(t, fd, op):\n"
        "    raise ZeroDivisionError('injected')\n"
        "sys_flock.nargs = 2\n"
        "S.SYSCALLS['flock'] = sys_flock\n"
        "from pemu.cli.user import main\n"
        "sys.exit(main(sys.argv[1:]))\n")
    r = subprocess.run([sys.executable, "-c", code, "-L", SYSROOT, built[("badargs", "static")]],
                       cwd=str(tmp_path), capture_output=True, text=True, timeout=120,
                       check=False)
    assert r.returncode == 0, r.stderr
    assert r.stdout.startswith("flock(-1, LOCK_EX) = -1 errno=38\n"
                               "flock(-1, -1) = -1 errno=38\n"
                               "flock(0x7fffffff) = -1 errno=38\n")
    assert r.stderr.count("pemu bug: syscall flock raised ZeroDivisionError") == 1
    assert "munmap(0, -1) = -1 errno=22" in r.stdout
