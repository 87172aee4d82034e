"""C programs per syscall family, built static and dynamic, run under
qemu-riscv64 (the oracle) and pemu-riscv64: stdout, stderr and exit status
must match."""
from __future__ import annotations

import pytest
from lu_util import needs_qemu, run_pemu, run_qemu

# program -> arguments ("{dir}" is a fresh temporary directory per run)
CASES = {
    "hello": ["5", "two words"],
    "files": ["{dir}"],
    "mem": [],
    "unimp": [],
    "signals": [],
    "threads": [],
    "sockets": ["{dir}"],
    "sysmisc": [],
    "crash": [],
    "manythreads": [],
    "badargs": [],
}


def _args(args: list[str], d: str) -> list[str]:
    return [a.replace("{dir}", d) for a in args]


@needs_qemu
@pytest.mark.parametrize("mode", ["static", "dynamic"])
@pytest.mark.parametrize("prog", sorted(CASES))
def test_same_as_qemu(built, tmp_path, prog, mode):
    exe = built[(prog, mode)]
    qdir, pdir = tmp_path / "q", tmp_path / "p"
    qdir.mkdir()
    pdir.mkdir()
    q = run_qemu([exe, *_args(CASES[prog], str(qdir))], str(qdir))
    p = run_pemu([exe, *_args(CASES[prog], str(pdir))], str(pdir))
    assert p.status == q.status, p.err.decode(errors="replace")
    assert p.out == q.out
    assert p.err == q.err


@pytest.mark.parametrize("mode", ["static", "dynamic"])
def test_fork_exec_wait(built, tmp_path, mode):
    """fork + pipe + execve of a riscv64 program + wait4. (qemu-riscv64 without
    binfmt_misc cannot exec a riscv64 program, so the expected output is fixed.)"""
    p = run_pemu([built[("forkexec", mode)]], str(tmp_path))
    assert p.status == 0, p.err
    assert p.out.decode() == ("child got: via pipe\nexited=1 status=7\n"
                              "signaled=1 sig=6\nexit=3\n")
