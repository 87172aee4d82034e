"""ctypes declarations for libslirp (Debian's libslirp0), from its public header.

Only what `user.py` calls: slirp_new with a version-4 SlirpConfig and the
SlirpCb callback table, slirp_input, slirp_pollfds_fill/poll,
slirp_add_hostfwd/remove_hostfwd, slirp_add_exec (guestfwd to a command),
slirp_handle_timer, slirp_connection_info,
slirp_cleanup, slirp_version_string. Struct layouts follow libslirp.h
(SLIRP_CONFIG_VERSION_MAX 4). `load()` returns None where the library is
absent, and `-netdev user` is then refused with one line.
"""
from __future__ import annotations

import ctypes
import ctypes.util
import socket
import struct

SLIRP_POLL_IN = 1
SLIRP_POLL_OUT = 2
SLIRP_POLL_PRI = 4
SLIRP_POLL_ERR = 8
SLIRP_POLL_HUP = 16
CONFIG_VERSION = 4


class InAddr(ctypes.Structure):
    _fields_ = [("s_addr", ctypes.c_uint32)]  # network byte order


class In6Addr(ctypes.Structure):
    _fields_ = [("s6_addr", ctypes.c_uint8 * 16)]


def in_addr(dotted: str) -> InAddr:
    return InAddr(struct.unpack("=I", socket.inet_aton(dotted))[0])


def in6_addr(text: str) -> In6Addr:
    out = In6Addr()
    ctypes.memmove(out.s6_addr, socket.inet_pton(socket.AF_INET6, text), 16)
    return out


WriteCb = ctypes.CFUNCTYPE(ctypes.c_ssize_t, ctypes.c_void_p, ctypes.c_size_t, ctypes.c_void_p)
GuestErrorCb = ctypes.CFUNCTYPE(None, ctypes.c_char_p, ctypes.c_void_p)
ClockCb = ctypes.CFUNCTYPE(ctypes.c_int64, ctypes.c_void_p)
TimerCb = ctypes.CFUNCTYPE(None, ctypes.c_void_p)
TimerNewCb = ctypes.CFUNCTYPE(ctypes.c_void_p, TimerCb, ctypes.c_void_p, ctypes.c_void_p)
TimerFreeCb = ctypes.CFUNCTYPE(None, ctypes.c_void_p, ctypes.c_void_p)
TimerModCb = ctypes.CFUNCTYPE(None, ctypes.c_void_p, ctypes.c_int64, ctypes.c_void_p)
FdCb = ctypes.CFUNCTYPE(None, ctypes.c_int, ctypes.c_void_p)
NotifyCb = ctypes.CFUNCTYPE(None, ctypes.c_void_p)
InitCompletedCb = ctypes.CFUNCTYPE(None, ctypes.c_void_p, ctypes.c_void_p)
TimerNewOpaqueCb = ctypes.CFUNCTYPE(ctypes.c_void_p, ctypes.c_int, ctypes.c_void_p,
                                    ctypes.c_void_p)
AddPollCb = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.c_int, ctypes.c_int, ctypes.c_void_p)
GetREventsCb = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.c_int, ctypes.c_void_p)


class SlirpCb(ctypes.Structure):
    _fields_ = [
        ("send_packet", WriteCb),
        ("guest_error", GuestErrorCb),
        ("clock_get_ns", ClockCb),
        ("timer_new", TimerNewCb),
        ("timer_free", TimerFreeCb),
        ("timer_mod", TimerModCb),
        ("register_poll_fd", FdCb),
        ("unregister_poll_fd", FdCb),
        ("notify", NotifyCb),
        ("init_completed", InitCompletedCb),
        ("timer_new_opaque", TimerNewOpaqueCb),
    ]


class SlirpConfig(ctypes.Structure):
    _fields_ = [
        ("version", ctypes.c_uint32),
        ("restricted", ctypes.c_int),
        ("in_enabled", ctypes.c_bool),
        ("vnetwork", InAddr),
        ("vnetmask", InAddr),
        ("vhost", InAddr),
        ("in6_enabled", ctypes.c_bool),
        ("vprefix_addr6", In6Addr),
        ("vprefix_len", ctypes.c_uint8),
        ("vhost6", In6Addr),
        ("vhostname", ctypes.c_char_p),
        ("tftp_server_name", ctypes.c_char_p),
        ("tftp_path", ctypes.c_char_p),
        ("bootfile", ctypes.c_char_p),
        ("vdhcp_start", InAddr),
        ("vnameserver", InAddr),
        ("vnameserver6", In6Addr),
        ("vdnssearch", ctypes.POINTER(ctypes.c_char_p)),
        ("vdomainname", ctypes.c_char_p),
        ("if_mtu", ctypes.c_size_t),
        ("if_mru", ctypes.c_size_t),
        ("disable_host_loopback", ctypes.c_bool),
        ("enable_emu", ctypes.c_bool),
        ("outbound_addr", ctypes.c_void_p),
        ("outbound_addr6", ctypes.c_void_p),
        ("disable_dns", ctypes.c_bool),
        ("disable_dhcp", ctypes.c_bool),
    ]


_lib: ctypes.CDLL | None = None
_load_error = ""


def load() -> ctypes.CDLL | None:
    """The library with its prototypes declared, or None (see `load_error()`)."""
    global _lib, _load_error
    if _lib is not None or _load_error:
        return _lib
    name = ctypes.util.find_library("slirp") or "libslirp.so.0"
    try:
        lib = ctypes.CDLL(name)
    except OSError as e:
        _load_error = f"libslirp could not be loaded ({e}); install Debian's libslirp0"
        return None
    vp, ci = ctypes.c_void_p, ctypes.c_int
    lib.slirp_new.restype = vp
    lib.slirp_new.argtypes = [ctypes.POINTER(SlirpConfig), ctypes.POINTER(SlirpCb), vp]
    lib.slirp_cleanup.argtypes = [vp]
    lib.slirp_input.argtypes = [vp, ctypes.c_char_p, ci]
    lib.slirp_pollfds_fill.argtypes = [vp, ctypes.POINTER(ctypes.c_uint32), AddPollCb, vp]
    lib.slirp_pollfds_poll.argtypes = [vp, ci, GetREventsCb, vp]
    lib.slirp_handle_timer.argtypes = [vp, ci, vp]
    lib.slirp_add_hostfwd.argtypes = [vp, ci, InAddr, ci, InAddr, ci]
    lib.slirp_add_hostfwd.restype = ci
    lib.slirp_remove_hostfwd.argtypes = [vp, ci, InAddr, ci]
    lib.slirp_remove_hostfwd.restype = ci
    lib.slirp_add_exec.argtypes = [vp, ctypes.c_char_p, ctypes.POINTER(InAddr), ci]
    lib.slirp_add_exec.restype = ci
    lib.slirp_connection_info.argtypes = [vp]
    lib.slirp_connection_info.restype = vp  # a malloc'ed string: freed with libc free()
    lib.slirp_version_string.restype = ctypes.c_char_p
    _lib = lib
    return lib


def load_error() -> str:
    load()
    return _load_error


def take_string(ptr: int | None) -> str:
    """Read and free a string libslirp allocated with malloc (g_malloc is malloc)."""
    if not ptr:
        return ""
    text = ctypes.string_at(ptr).decode(errors="replace")
    libc = ctypes.CDLL(None)
    libc.free.argtypes = [ctypes.c_void_p]
    libc.free(ptr)
    return text


__all__ = ["load", "load_error", "SlirpCb", "SlirpConfig", "in_addr", "in6_addr", "take_string"]
