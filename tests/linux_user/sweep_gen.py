"""Generates the syscall sweep: a riscv64 C program that calls every system
call pemu implements with invalid file descriptors, pointers, lengths and
flags, each in a forked child (so a call that blocks, exits or changes the
process harms only that child), and prints one line per call: the result
(-errno), or how the child ended.

The same program runs under qemu-riscv64 and pemu-riscv64; the test compares
the lines. No vector holds a valid pointer, so no call can name a real path;
calls that reach outside the child are left out (see SKIP).
"""
from __future__ import annotations

# Values that Linux must reject or treat as edge cases, by kind.
BAD = [0, (1 << 64) - 1, 1000, 0x7FFFFFFF, 0x1000, 0xFFFFFFC000000000, 1 << 62,
       0xFFFFFFFF, 0x80000000]
FD_FILE = 3      # a regular file the program opens in its (temporary) cwd
AT_FDCWD = (1 << 64) - 100
POINTERS = [0, 0x1000, 0xFFFFFFC000000000, (1 << 64) - 1]

# Not called, and why.
SKIP = {
    # signal other processes (pid 3, pid -1 = every process we may signal)
    "kill": "signals other host processes",
    "tkill": "signals other host threads",
    "tgkill": "signals other host threads",
    "setpriority": "may renice the test's process group or user",
    # make more processes that would print too
    "clone": "a second process would run the rest of the sweep",
    "clone3": "a second process would run the rest of the sweep",
    "rt_sigreturn": "restores a frame from the (valid) stack: undefined result",
    "sync": "flushes every disk of the host",
    "syncfs": "flushes a host file system",
}

# Successful results that differ from run to run or between emulators by
# design (pids, addresses, times): only success itself is compared.
NONDET = {"getpid", "getppid", "gettid", "getpgid", "getsid", "setsid", "times", "brk",
          "mmap", "mremap", "set_tid_address", "getcpu", "getrandom", "clock_gettime",
          "gettimeofday", "sysinfo", "getrusage", "socket", "socketpair", "memfd_create",
          "epoll_create1", "eventfd2", "dup", "dup3", "fcntl", "openat", "pipe2",
          "accept", "accept4", "getpriority", "prlimit64", "getrlimit", "umask"}


def vectors() -> list[tuple[int, ...]]:
    """Argument vectors a0..a5 tried for every call."""
    out = [(v,) * 6 for v in BAD]
    out += [(FD_FILE,) + (v,) * 5 for v in (0, (1 << 64) - 1, 0x1000, 0xFFFFFFC000000000,
                                             1 << 62)]
    out += [(AT_FDCWD,) + (p,) * 5 for p in POINTERS[1:]]
    return out


def c_source(calls: list[tuple[str, int]]) -> str:
    """The sweep program for (name, number) pairs."""
    rows = []
    for name, nr in calls:
        for i, vec in enumerate(vectors()):
            args = ", ".join(f"{v:#x}UL" for v in vec)
            rows.append(f'    {{"{name}", {nr}, {i}, {int(name in NONDET)}, {{{args}}}}},')
    return C_TEMPLATE.replace("@ROWS@", "\n".join(rows))


C_TEMPLATE = r"""
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

struct call { const char *name; long nr; int vec; int nondet; unsigned long a[6]; };
static const struct call calls[] = {
@ROWS@
};

int main(void) {
    int fd = open("sweep.file", O_RDWR | O_CREAT | O_TRUNC, 0600);
    if (fd != 3 || write(fd, "0123456789", 10) != 10)
        return 2;
    setvbuf(stdout, NULL, _IONBF, 0);
    for (unsigned i = 0; i < sizeof calls / sizeof calls[0]; i++) {
        const struct call *c = &calls[i];
        int pipefd[2];
        if (pipe2(pipefd, O_CLOEXEC) != 0)
            return 3;
        pid_t pid = fork();
        if (pid == 0) {
            close(pipefd[0]);
            alarm(2);
            long r = syscall(c->nr, c->a[0], c->a[1], c->a[2], c->a[3], c->a[4], c->a[5]);
            long e = r == -1 ? -errno : (c->nondet ? 0 : r);
            char buf[64];
            int n = snprintf(buf, sizeof buf, "%ld", e);
            if (write(pipefd[1], buf, n) != n)
                _exit(101);
            _exit(100);
        }
        close(pipefd[1]);
        int status = 0;
        for (int waited = 0; waitpid(pid, &status, WNOHANG) == 0; waited++) {
            if (waited == 400)
                kill(pid, SIGKILL);
            struct timespec ts = {0, 10 * 1000 * 1000};
            nanosleep(&ts, NULL);
        }
        char res[64] = {0};
        ssize_t got = read(pipefd[0], res, sizeof res - 1);
        close(pipefd[0]);
        if (got > 0)
            printf("%s/%d = %s\n", c->name, c->vec, res);
        else if (WIFSIGNALED(status))
            printf("%s/%d killed by signal %d\n", c->name, c->vec, WTERMSIG(status));
        else
            printf("%s/%d exit %d\n", c->name, c->vec, WEXITSTATUS(status));
    }
    return 0;
}
"""
