"""Random numbers the guest sees at boot (QEMU's util/guest-random.c).

Without a seed they come from the host's CSPRNG. With `-seed N` they are
QEMU's deterministic stream: GLib's GRand seeded with
g_rand_new_with_seed_array() over the 64-bit seed as two 32-bit words, i.e.
the Mersenne Twister MT19937 of Matsumoto and Nishimura initialised with
init_by_array(), each 4 bytes one genrand_int32() stored little-endian. So
`-seed N` gives a guest the same bytes under pemu as under QEMU.

A board must draw what QEMU draws, in the same order: QEMU takes 8 bytes per
vCPU (the vCPU thread's own seed) when it creates the CPUs, before the board
builds its device tree.
"""
from __future__ import annotations

import random
import secrets
import struct

_N = 624


def _mt19937_by_array(key: list[int]) -> list[int]:
    """MT19937 state after init_by_array(key) (mt19937ar.c, 2002/1/26)."""
    mt = [0] * _N
    mt[0] = 19650218
    for i in range(1, _N):
        mt[i] = (1812433253 * (mt[i - 1] ^ (mt[i - 1] >> 30)) + i) & 0xFFFFFFFF
    i, j = 1, 0
    for _ in range(max(_N, len(key))):
        mt[i] = ((mt[i] ^ ((mt[i - 1] ^ (mt[i - 1] >> 30)) * 1664525)) + key[j] + j) \
            & 0xFFFFFFFF
        i, j = i + 1, j + 1
        if i >= _N:
            mt[0], i = mt[_N - 1], 1
        if j >= len(key):
            j = 0
    for _ in range(_N - 1):
        mt[i] = ((mt[i] ^ ((mt[i - 1] ^ (mt[i - 1] >> 30)) * 1566083941)) - i) & 0xFFFFFFFF
        i += 1
        if i >= _N:
            mt[0], i = mt[_N - 1], 1
    mt[0] = 0x80000000
    return mt


class GuestRandom:
    """A byte source: host randomness, or QEMU's -seed stream when seeded."""

    def __init__(self, seed: int | None = None) -> None:
        self.seed = seed
        self._mt: random.Random | None = None
        if seed is not None:
            # CPython's Random is MT19937 too: hand it the state, its getrandbits(32)
            # is genrand_int32()
            self._mt = random.Random()
            state = _mt19937_by_array([seed & 0xFFFFFFFF, seed >> 32 & 0xFFFFFFFF])
            self._mt.setstate((3, (*state, _N), None))

    def bytes(self, n: int) -> bytes:
        if self._mt is None:
            return secrets.token_bytes(n)
        words = [self._mt.getrandbits(32) for _ in range((n + 3) // 4)]
        return struct.pack(f"<{len(words)}I", *words)[:n]


__all__ = ["GuestRandom"]
