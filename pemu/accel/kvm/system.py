"""The /dev/kvm handle: API version, capabilities, supported CPUID.

Every ioctl goes through `ioctl()`, a direct libc call through ctypes: it
releases the GIL for the duration of the call (KVM_RUN blocks for as long as
the guest runs) and leaves EINTR to the caller, which a vCPU kick relies on.
"""
from __future__ import annotations

import ctypes
import errno
import os
from typing import Any

from pemu.accel.kvm import ioctls as K

KVM_DEVICE = "/dev/kvm"
KVM_API_VERSION = 12  # api.rst 4.1: "the return value ... is 12"

_libc = ctypes.CDLL(None, use_errno=True)
_libc_ioctl = _libc.ioctl
_libc_ioctl.argtypes = (ctypes.c_int, ctypes.c_ulong, ctypes.c_void_p)
_libc_ioctl.restype = ctypes.c_int


class KvmError(Exception):
    """A KVM set-up failure; its message is one line for the user."""


def ioctl(fd: int, request: int, arg: Any = None) -> int:
    """ioctl(fd, request, arg): arg is None, an int, or a ctypes object (passed by reference).

    Raises OSError with the errno on failure (including EINTR).
    """
    if arg is None:
        ptr = None
    elif isinstance(arg, int):
        ptr = arg
    else:
        ptr = ctypes.addressof(arg)
    ret = _libc_ioctl(fd, request, ptr)
    if ret < 0:
        err = ctypes.get_errno()
        raise OSError(err, os.strerror(err))
    return ret


class KvmSystem:
    """An open /dev/kvm."""

    def __init__(self, path: str = KVM_DEVICE) -> None:
        try:
            self.fd = os.open(path, os.O_RDWR | os.O_CLOEXEC)
        except FileNotFoundError:
            raise KvmError(f"Could not access KVM kernel module: {path} does not exist"
                           " (KVM is not available on this host)") from None
        except PermissionError:
            raise KvmError(f"Could not access KVM kernel module: Permission denied ({path};"
                           " add your user to the 'kvm' group)") from None
        except OSError as e:
            raise KvmError(f"Could not access KVM kernel module: {e.strerror}") from None
        version = ioctl(self.fd, K.KVM_GET_API_VERSION)
        if version != KVM_API_VERSION:
            raise KvmError(f"kvm version {version} not supported (need {KVM_API_VERSION})")
        self.vcpu_mmap_size = ioctl(self.fd, K.KVM_GET_VCPU_MMAP_SIZE)
        self._supported_cpuid: list[K.KvmCpuidEntry2] | None = None

    def check_extension(self, cap: int) -> int:
        """KVM_CHECK_EXTENSION (api.rst 4.4): 0 when absent, else a cap-specific value."""
        try:
            return ioctl(self.fd, K.KVM_CHECK_EXTENSION, cap)
        except OSError:
            return 0

    def max_vcpus(self) -> int:
        return self.check_extension(K.KVM_CAP_MAX_VCPUS) or self.check_extension(
            K.KVM_CAP_NR_VCPUS) or 4

    def supported_cpuid(self) -> list[K.KvmCpuidEntry2]:
        """KVM_GET_SUPPORTED_CPUID (api.rst 4.46): the leaves KVM can give a guest."""
        if self._supported_cpuid is None:
            buf = K.KvmCpuid2()
            buf.nent = K.CPUID_MAX_ENTRIES
            try:
                ioctl(self.fd, K.KVM_GET_SUPPORTED_CPUID, buf)
            except OSError as e:
                if e.errno == errno.E2BIG:
                    raise KvmError("KVM_GET_SUPPORTED_CPUID: too many entries") from None
                raise
            self._supported_cpuid = [K.KvmCpuidEntry2.from_buffer_copy(buf.entries[i])
                                     for i in range(buf.nent)]
        return self._supported_cpuid

    def close(self) -> None:
        if self.fd >= 0:
            os.close(self.fd)
            self.fd = -1
