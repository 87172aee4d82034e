"""Processes and threads: clone (threads as host threads, fork as a fork
of pemu), execve (pemu re-executes itself on a program of an ISA it runs; anything
else goes to the host kernel), wait, exit, ids, limits."""
from __future__ import annotations

import ctypes
import errno
import os
import struct
import sys

from pemu.linux_user import hostlibc as H
from pemu.linux_user.abi import for_elf
from pemu.linux_user.syscalls import s32, syscall
from pemu.linux_user.syscalls.fs import _wbuf, blocking, guest_path

CLONE_VM, CLONE_FS, CLONE_FILES, CLONE_SIGHAND = 0x100, 0x200, 0x400, 0x800
CLONE_VFORK, CLONE_THREAD, CLONE_SETTLS = 0x4000, 0x10000, 0x80000
CLONE_PARENT_SETTID, CLONE_CHILD_CLEARTID, CLONE_CHILD_SETTID = 0x100000, 0x200000, 0x1000000


@syscall
def sys_exit(t, status):
    from pemu.linux_user.thread import ThreadExit
    if t.clear_child_tid:
        from pemu.linux_user.syscalls.futex import futex_wake
        try:
            t.proc.mem.write_u32(t.clear_child_tid, 0)
            futex_wake(t.proc, t.clear_child_tid, 1)
        except Exception:
            pass
    raise ThreadExit(status & 0xFF)


@syscall
def sys_exit_group(t, status):
    if t.proc.strace:
        t.proc.strace.flush_exit(t)
    t.proc.exit_group(status & 0xFF)


@syscall
def sys_getpid(t):
    return t.proc.pid


@syscall
def sys_gettid(t):
    return t.tid


@syscall
def sys_getppid(t):
    return os.getppid()


@syscall
def sys_getuid(t):
    return os.getuid()


@syscall
def sys_geteuid(t):
    return os.geteuid()


@syscall
def sys_getgid(t):
    return os.getgid()


@syscall
def sys_getegid(t):
    return os.getegid()


@syscall
def sys_getresuid(t, r, e, s):
    ids = os.getresuid()
    for addr, v in zip((r, e, s), ids, strict=False):
        t.proc.mem.write_u32(addr, v)
    return 0


@syscall
def sys_getresgid(t, r, e, s):
    ids = os.getresgid()
    for addr, v in zip((r, e, s), ids, strict=False):
        t.proc.mem.write_u32(addr, v)
    return 0


@syscall
def sys_setuid(t, uid):
    os.setuid(uid & 0xFFFFFFFF)
    return 0


@syscall
def sys_setgid(t, gid):
    os.setgid(gid & 0xFFFFFFFF)
    return 0


@syscall
def sys_setresuid(t, r, e, s):
    os.setresuid(s32(r), s32(e), s32(s))
    return 0


@syscall
def sys_setresgid(t, r, e, s):
    os.setresgid(s32(r), s32(e), s32(s))
    return 0


@syscall
def sys_setreuid(t, r, e):
    os.setreuid(s32(r), s32(e))
    return 0


@syscall
def sys_setregid(t, r, e):
    os.setregid(s32(r), s32(e))
    return 0


@syscall
def sys_getgroups(t, size, lst):
    groups = os.getgroups()
    size = s32(size)
    if size == 0:
        return len(groups)
    if size < len(groups):
        return -errno.EINVAL
    t.proc.mem.write(lst, struct.pack(f"<{len(groups)}I", *groups))
    return len(groups)


@syscall
def sys_setgroups(t, size, lst):
    os.setgroups(list(struct.unpack(f"<{size}I", t.proc.mem.read(lst, 4 * size))))
    return 0


@syscall
def sys_getpgid(t, pid):
    return os.getpgid(s32(pid))


@syscall
def sys_setpgid(t, pid, pgid):
    os.setpgid(s32(pid), s32(pgid))
    return 0


@syscall
def sys_getsid(t, pid):
    return os.getsid(s32(pid))


@syscall
def sys_setsid(t):
    return os.setsid()


@syscall
def sys_set_tid_address(t, addr):
    t.clear_child_tid = addr
    return t.tid


@syscall
def sys_set_robust_list(t, head, ln):
    t.robust_list = head
    return 0


@syscall
def sys_prctl(t, op, a2, a3, a4, a5):
    op = s32(op)
    if op == 15:  # PR_SET_NAME
        t.name = guest_path(t, a2)[:15]
        return 0
    if op == 16:  # PR_GET_NAME
        t.proc.mem.write(a2, getattr(t, "name", b"pemu")[:15] + b"\0")
        return 0
    if op in (1, 2, 4, 3, 36, 37, 38, 39):  # PDEATHSIG, DUMPABLE, SUBREAPER, NO_NEW_PRIVS
        return 0
    return -errno.EINVAL


@syscall
def sys_personality(t, persona):
    return 0


@syscall
def sys_uname(t, buf):
    u = os.uname()
    fields = (u.sysname, u.nodename, u.release, u.version, t.proc.abi.machine, "(none)")
    data = b"".join(os.fsencode(f)[:64].ljust(65, b"\0") for f in fields)
    t.proc.mem.write(buf, data)
    return 0


@syscall
def sys_prlimit64(t, pid, res, new, old):
    pnew = t.proc.hptr(t.proc.mem.read(new, 16) and new) if new else None
    pold = _wbuf(t, old, 16) if old else None
    return H.call("prlimit", s32(pid), s32(res), pnew, pold)


@syscall
def sys_getrlimit(t, res, old):
    return H.call("prlimit", 0, s32(res), None, _wbuf(t, old, 16))


@syscall
def sys_setrlimit(t, res, new):
    t.proc.mem.read(new, 16)
    return H.call("prlimit", 0, s32(res), t.proc.hptr(new), None)


@syscall
def sys_getrusage(t, who, buf):
    return H.call("getrusage", s32(who), _wbuf(t, buf, 144))


@syscall
def sys_sched_getaffinity(t, pid, size, mask):
    cpus = sorted(os.sched_getaffinity(0))
    nbytes = max(8, ((max(cpus) // 64) + 1) * 8)
    if size < nbytes:
        return -errno.EINVAL
    bits = sum(1 << c for c in cpus)
    t.proc.mem.write(mask, bits.to_bytes(nbytes, "little"))
    return nbytes


@syscall
def sys_sched_setaffinity(t, pid, size, mask):
    return 0


@syscall
def sys_sched_yield(t):
    os.sched_yield()
    return 0


@syscall
def sys_sched_getscheduler(t, pid):
    return 0


@syscall
def sys_sched_getparam(t, pid, param):
    t.proc.mem.write_u32(param, 0)
    return 0


@syscall
def sys_sched_get_priority_max(t, policy):
    return 99 if s32(policy) in (1, 2) else 0


@syscall
def sys_sched_get_priority_min(t, policy):
    return 1 if s32(policy) in (1, 2) else 0


@syscall
def sys_getpriority(t, which, who):
    return 20 - os.getpriority(s32(which), s32(who))


@syscall
def sys_setpriority(t, which, who, prio):
    os.setpriority(s32(which), s32(who), s32(prio))
    return 0


@syscall
def sys_getcpu(t, cpu, node, cache):
    if cpu:
        t.proc.mem.write_u32(cpu, 0)
    if node:
        t.proc.mem.write_u32(node, 0)
    return 0


# --- clone ---------------------------------------------------------------------------
@syscall
def sys_clone(t, flags, newsp, ptid, tls, ctid):
    mem = t.proc.mem
    if flags & CLONE_VM and not flags & CLONE_VFORK:
        if not flags & CLONE_THREAD:
            return -errno.EINVAL
        return _new_thread(t, flags, newsp, ptid, tls, ctid)
    t.proc.flush()
    pid = os.fork()
    if pid == 0:  # the child pemu
        proc = t.proc
        if proc.gdbstub is not None:
            proc.gdbstub.forked()  # gdb follows the parent, as with QEMU
        proc.pid = os.getpid()
        t.tid = proc.pid
        proc.threads = {t.tid: t}
        proc.main_thread = t
        cpu = t.cpu
        if newsp:
            proc.abi.set_sp(cpu, newsp)
        if flags & CLONE_SETTLS:
            proc.abi.set_tls(cpu, tls)
        if flags & CLONE_CHILD_SETTID:
            mem.write_u32(ctid, t.tid)
        if flags & CLONE_CHILD_CLEARTID:
            t.clear_child_tid = ctid
        return 0
    if flags & CLONE_PARENT_SETTID:
        mem.write_u32(ptid, pid)
    if flags & CLONE_VFORK:
        _wait_vfork(pid)
    return pid


def _wait_vfork(pid: int) -> None:
    """vfork's parent waits until the child has exec'd or exited (best effort:
    the child is a fork, so it only shares memory up to the fork)."""
    return


def _new_thread(t, flags, newsp, ptid, tls, ctid) -> int:
    from pemu.linux_user.thread import GuestThread
    proc = t.proc
    nt = GuestThread(proc)
    cpu, src = nt.cpu, t.cpu
    abi = proc.abi
    abi.copy_cpu(cpu, src)
    abi.set_result(cpu, 0)
    if newsp:
        abi.set_sp(cpu, newsp)
    if flags & CLONE_SETTLS:
        abi.set_tls(cpu, tls)
    nt.sigmask = t.sigmask
    if flags & CLONE_CHILD_CLEARTID:
        nt.clear_child_tid = ctid
    started = nt.start_host_thread_paused()
    tid = nt.tid
    with proc.lock:
        proc.threads[tid] = nt
        proc.tbs.cpus.append(cpu)
        if proc.tbs.native is not None:
            proc.tbs.native.attach(cpu)
    if flags & CLONE_PARENT_SETTID:
        proc.mem.write_u32(ptid, tid)
    if flags & CLONE_CHILD_SETTID:
        proc.mem.write_u32(ctid, tid)
    started.set()
    return tid


@syscall
def sys_clone3(t, args, size):
    return -errno.ENOSYS


# --- execve ----------------------------------------------------------------------------
def _str_array(t, addr: int) -> list[bytes]:
    out: list[bytes] = []
    mem = t.proc.mem
    while addr:
        p = mem.read_u64(addr)
        if not p:
            break
        out.append(mem.read_cstr(p))
        addr += 8
        if len(out) > 100000:
            raise OSError(errno.E2BIG, "too many args")
    return out


@syscall
def sys_execve(t, path, argv, envp):
    gpath = guest_path(t, path)
    args = _str_array(t, argv)
    env = _str_array(t, envp)
    return do_execve(t, gpath, args, env)


@syscall
def sys_execveat(t, dfd, path, argv, envp, flags):
    gpath = guest_path(t, path)
    if not gpath.startswith(b"/") and s32(dfd) != -100:
        gpath = os.fsencode(os.readlink(f"/proc/self/fd/{s32(dfd)}")) + b"/" + gpath
    return do_execve(t, gpath, _str_array(t, argv), _str_array(t, envp))


# The new pemu must not depend on the guest's environment (PYTHONPATH...):
# it is started with -E and finds this very pemu by path.
_PEMU_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__)))))
_BOOT = (f"import sys; sys.path.insert(0, {_PEMU_ROOT!r}); "
         "from pemu.cli.user import main; sys.exit(main(sys.argv[2:], sys.argv[1]))")


def do_execve(t, gpath: bytes, args: list[bytes], env: list[bytes]) -> int:
    proc = t.proc
    hpath = proc.host_path(gpath)
    if not os.path.exists(hpath):
        return -errno.ENOENT
    if os.path.isdir(hpath):
        return -errno.EACCES
    if not os.access(hpath, os.X_OK):
        return -errno.EACCES
    envd = {}
    for e in env:
        k, sep, v = e.partition(b"=")
        if sep:
            envd[k] = v
    abi = for_elf(hpath)
    if abi is not None:
        argv0 = args[0] if args else gpath
        unset = [] if b"LC_CTYPE" in envd else ["-U", "LC_CTYPE"]  # Python's PEP 538
        cmd = [sys.executable, "-E", "-c", _BOOT, abi.name, *proc.opts.passthrough, *unset,
               "-0", os.fsdecode(argv0), os.fsdecode(hpath), *map(os.fsdecode, args[1:])]
        exe = sys.executable
    else:
        cmd = [os.fsdecode(a) for a in args] or [os.fsdecode(gpath)]
        exe = hpath
    proc.flush()
    if proc.strace:
        proc.strace.flush_exit(t)
    proc.prepare_exec()
    try:
        os.execve(exe, cmd, envd)
    except OSError as e:
        return -(e.errno or errno.ENOEXEC)
    return 0  # not reached


# --- wait ----------------------------------------------------------------------------
@syscall
def sys_wait4(t, pid, status, options, rusage):
    ps = _wbuf(t, status, 4) if status else None
    pr = _wbuf(t, rusage, 144) if rusage else None
    return blocking(t, "wait4", s32(pid), ps, s32(options), pr)


@syscall
def sys_waitid(t, idtype, id_, info, options, rusage):
    pi = _wbuf(t, info, 128) if info else None
    r = blocking(t, "waitid", s32(idtype), id_ & 0xFFFFFFFF, pi, s32(options))
    if r >= 0 and rusage:
        H.call("getrusage", -1, _wbuf(t, rusage, 144))
    return r


__all__ = ["ctypes"]
