"""gdb-multiarch against pemu-riscv64 -g PORT and qemu-riscv64 -g PORT (the
oracle): the same gdb script on the same C programs (built with -g) gives
the same transcript, once thread ids and stack addresses (which depend on
each emulator's memory layout, not on the gdbstub) are normalised, and so is
the frame of a thread that was running when gdb looked.
"""
from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
import sys

import pytest

GCC = "riscv64-linux-gnu-gcc"
GDB = "gdb-multiarch"
QEMU = "qemu-riscv64"
PEMU = [sys.executable, "-m", "pemu.cli.user"]
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

PROGRAMS = {
    "add": """\
#include <stdio.h>

int total;

int add(int a, int b)
{
    int s = a + b;
    total += s;
    return s;
}

int main(void)
{
    int r = 0;
    for (int i = 0; i < 3; i++)
        r = add(r, i);
    printf("%d %d\\n", r, total);
    return 0;
}
""",
    "signals": """\
#include <signal.h>
#include <unistd.h>

static void handler(int s)
{
    write(1, "handled\\n", 8);
}

int main(void)
{
    signal(SIGUSR1, handler);
    raise(SIGUSR1);
    *(volatile int *)0 = 1;
    return 3;
}
""",
    "threads": """\
#include <pthread.h>
#include <stdio.h>

int shared;

void *worker(void *arg)
{
    shared = *(int *)arg;
    return NULL;
}

int main(void)
{
    pthread_t t;
    int v = 7;
    pthread_create(&t, NULL, worker, &v);
    pthread_join(t, NULL);
    printf("%d\\n", shared);
    return 0;
}
""",
    "fork": """\
#include <stdio.h>
#include <sys/wait.h>
#include <unistd.h>

int main(void)
{
    if (fork() == 0) {
        printf("child\\n");
        return 0;
    }
    wait(NULL);
    printf("parent\\n");
    return 0;
}
""",
}

SCRIPTS = {
    # break add, continue, bt, finish, watch, continue to exit (QEMU's user mode has
    # no hardware watchpoints: gdb watches in software, by single steps)
    "add": ["break add", "continue", "bt", "finish", "delete 1", "p total",
            "set can-use-hw-watchpoints 0", "watch total", "continue", "delete", "continue"],
    # a caught signal, a fatal one, the process killed by it
    "signals": ["continue", "p $_siginfo.si_signo", "continue", "p/x $pc", "continue"],
    # the child runs on without the debugger (its breakpoints go), gdb stays with the parent
    "fork": ["break main", "continue", "next", "p 1", "continue"],
    "threads": ["break worker", "continue", "info threads", "p *(int *)arg", "delete",
                "continue"],
}


@pytest.fixture(scope="module")
def programs(tmp_path_factory) -> dict[str, str]:
    for tool, pkg in ((GCC, "gcc-riscv64-linux-gnu"), (GDB, "gdb-multiarch"),
                      (QEMU, "qemu-user")):
        if shutil.which(tool) is None:
            pytest.skip(f"{tool} missing (Debian package {pkg})")
    d = tmp_path_factory.mktemp("gdbuser")
    out = {}
    for name, src in PROGRAMS.items():
        (d / f"{name}.c").write_text(src)
        exe = d / name
        subprocess.run([GCC, "-g", "-O0", "-static", "-pthread", "-o", str(exe),
                        str(d / f"{name}.c")], check=True, capture_output=True)
        out[name] = str(exe)
    return out


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("", 0))
        return s.getsockname()[1]


def normalise(text: str) -> str:
    tids: dict[str, str] = {}
    text = re.sub(r"Thread 1\.(\d+)",
                  lambda m: "Thread 1." + tids.setdefault(m.group(1), f"TID{len(tids)}"), text)
    text = re.sub(r"arg=0x[0-9a-f]+", "arg=ADDR", text)
    # other threads run on while one is stopped (as in qemu-user): where they are is chance
    return re.sub(r"(?m)^(  \d+ +Thread [^)]*\)) .*$", r"\1 FRAME", text)


def session(emulator: list[str], exe: str, commands: list[str]) -> tuple[str, str, int]:
    """(gdb's transcript, the program's stdout, its exit status)."""
    port = free_port()
    env = dict(os.environ, PYTHONPATH=ROOT)
    emu = subprocess.Popen([*emulator, "-g", str(port), exe], stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, env=env)
    script = ["set pagination off", "set confirm off", "set tcp connect-timeout 30",
              f"target remote 127.0.0.1:{port}", *commands]
    args = [GDB, "-batch", "-nx"] + [a for c in script for a in ("-ex", c)] + [exe]
    try:
        gdb = subprocess.run(args, capture_output=True, text=True, timeout=90)
        out, _ = emu.communicate(timeout=30)
    finally:
        if emu.poll() is None:
            emu.kill()
            emu.wait()
    transcript = normalise(gdb.stdout + gdb.stderr).replace(str(port), "PORT")
    return transcript, out.decode(errors="replace"), emu.returncode


@pytest.mark.parametrize("name", sorted(SCRIPTS))
def test_same_transcript_as_qemu_user(programs, name) -> None:
    pemu = session(PEMU, programs[name], SCRIPTS[name])
    qemu = session([QEMU], programs[name], SCRIPTS[name])
    assert pemu == qemu


def test_what_gdb_shows(programs) -> None:
    text, out, status = session(PEMU, programs["add"], SCRIPTS["add"])
    assert "Breakpoint 1, add (a=0, b=0) at" in text
    assert "#1  0x" in text and "in main () at" in text          # bt
    assert "Value returned is $1 = 0" in text                      # finish
    assert "Old value = 0\nNew value = 1" in text                  # the software watchpoint
    assert "[Inferior 1 (process 1) exited normally]" in text
    assert (out, status) == ("3 4\n", 0)
    text, out, status = session(PEMU, programs["signals"], SCRIPTS["signals"])
    assert "Program received signal SIGUSR1" in text
    assert "Program received signal SIGSEGV" in text
    assert "Program terminated with signal SIGSEGV" in text
    assert out == "handled\n" and status == -11


def test_a_place_gdb_cannot_reach_is_one_line(programs, tmp_path) -> None:
    where = str(tmp_path / "no" / "such" / "dir" / "gdb.sock")
    r = subprocess.run([*PEMU, "-g", where, programs["add"]], capture_output=True, text=True,
                       timeout=60, env=dict(os.environ, PYTHONPATH=ROOT))
    assert r.returncode == 1
    assert r.stderr.splitlines() == [f"pemu-riscv64: could not open gdbserver on {where}"]
    r = subprocess.run([*PEMU, programs["add"]], capture_output=True, text=True, timeout=60,
                       env=dict(os.environ, PYTHONPATH=ROOT, QEMU_GDB=where))
    assert r.returncode == 1 and "could not open gdbserver" in r.stderr
