"""`-netdev tap,id=,ifname=[,script=][,downscript=]`: a host TAP interface as the cable's end.

Linux TUN/TAP (Documentation/networking/tuntap.rst): open /dev/net/tun, then
ioctl TUNSETIFF with a struct ifreq {char name[16]; short flags} asking for
IFF_TAP | IFF_NO_PI; each read() then returns one Ethernet frame, each
write() sends one. The fd is non-blocking and watched by the main loop.
As QEMU, the interface is handed to `script` (default /etc/qemu-ifup) with
its name as argument once created, and to `downscript` (/etc/qemu-ifdown)
when pemu lets go of it; `script=no` / `downscript=no` run nothing.
Creating a TAP needs CAP_NET_ADMIN (root, or a persistent tap owned by the user).
"""
from __future__ import annotations

import fcntl
import os
import struct
import subprocess
from typing import Any

from pemu.net.client import NetClient
from pemu.net.user import NetdevError

TUNSETIFF = 0x400454CA
IFF_TAP = 0x0002
IFF_NO_PI = 0x1000
IFNAMSIZ = 16
DEFAULT_SCRIPT = "/etc/qemu-ifup"
DEFAULT_DOWNSCRIPT = "/etc/qemu-ifdown"
MAX_FRAME = 69632


def _run_script(script: str, ifname: str) -> None:
    try:
        r = subprocess.run([script, ifname], stdin=subprocess.DEVNULL, timeout=60)
    except (OSError, subprocess.TimeoutExpired) as e:
        raise NetdevError(f"could not launch network script {script}: {e}") from None
    if r.returncode != 0:
        raise NetdevError(f"network script {script} failed with status {r.returncode}")


class TapNetdev(NetClient):
    kind = "tap"

    def __init__(self, name: str, loop: Any, ifname: str = "", script: str = DEFAULT_SCRIPT,
                 downscript: str = DEFAULT_DOWNSCRIPT) -> None:
        super().__init__(name)
        self.loop = loop
        if len(ifname.encode()) >= IFNAMSIZ:
            raise NetdevError(f"interface name '{ifname}' is too long")
        try:
            fd = os.open("/dev/net/tun", os.O_RDWR | os.O_NONBLOCK | os.O_CLOEXEC)
        except OSError as e:
            raise NetdevError(f"could not open /dev/net/tun: {e.strerror}") from None
        ifr = struct.pack(f"{IFNAMSIZ}sH22x", (ifname or "tap%d").encode(), IFF_TAP | IFF_NO_PI)
        try:
            ifr = fcntl.ioctl(fd, TUNSETIFF, ifr)
        except OSError as e:
            os.close(fd)
            raise NetdevError(f"could not configure /dev/net/tun ({ifname or 'tap%d'}): "
                              f"{e.strerror}") from None
        self.fd: int | None = fd
        self.ifname = ifr[:IFNAMSIZ].rstrip(b"\0").decode()
        self.script = script
        self.downscript = downscript
        self._reading = True
        if script not in ("no", ""):
            try:
                _run_script(script, self.ifname)
            except NetdevError:
                os.close(fd)
                self.fd = None
                raise
        loop.add_fd(fd, self._ready)

    def _ready(self) -> None:
        while self._reading and self.fd is not None:
            try:
                frame = os.read(self.fd, MAX_FRAME)
            except (BlockingIOError, InterruptedError):
                return
            except OSError:
                return  # the interface went down: nothing to read until it is up again
            if not frame:
                return
            if not self.send(frame):
                self._reading = False  # the NIC is full: resume when it drained
                self.loop.remove_fd(self.fd)

    def on_peer_drained(self) -> None:
        if not self._reading and self.fd is not None:
            self._reading = True
            self.loop.add_fd(self.fd, self._ready)

    def receive(self, data: bytes) -> bool:
        if self.fd is None:
            return True
        try:
            os.write(self.fd, data)
        except OSError:
            self.dropped += 1  # host interface down or its queue full: lost, as on a wire
        return True

    def info(self) -> str:
        return f"ifname={self.ifname},script={self.script},downscript={self.downscript}"

    def cleanup(self) -> None:
        if self.fd is None:
            return
        self.loop.remove_fd(self.fd)
        if self.downscript not in ("no", ""):
            try:
                _run_script(self.downscript, self.ifname)
            except NetdevError:
                pass  # leaving anyway; QEMU only warns too
        os.close(self.fd)
        self.fd = None


__all__ = ["TapNetdev"]
