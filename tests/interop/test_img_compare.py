"""pemu-img compare against qemu-img compare on the same pairs: same status, same words."""

from __future__ import annotations

import random

import pytest
from test_img_util import needs_qemu, pemu_img, qemu_img, qemu_io

pytestmark = needs_qemu


def _pair(tmp_path, seed: int) -> tuple[str, str]:
    rnd = random.Random(seed)
    base, top = str(tmp_path / "base.qcow2"), str(tmp_path / "top.qcow2")
    qemu_img("create", "-q", "-f", "qcow2", base, "24M")
    cmds = [f"write -P {rnd.randrange(1, 255)} {rnd.randrange(0, 23 << 20) // 512 * 512} "
            f"{rnd.choice(['512', '64k', '1M'])}" for _ in range(12)]
    qemu_io(base, *cmds)
    qemu_img("create", "-q", "-f", "qcow2", "-b", base, "-F", "qcow2", top)
    raw = str(tmp_path / "flat.raw")
    qemu_img("convert", "-O", "raw", base, raw)
    return top, raw


@pytest.mark.parametrize("seed", range(4))
def test_compare_agrees_with_qemu(tmp_path, seed):
    top, raw = _pair(tmp_path, seed)
    rnd = random.Random(100 + seed)
    cases = [([top, raw], "raw")]
    # one change in the overlay: data, zeros over data, or a byte in a hole
    off = rnd.randrange(0, 24 << 20)
    change = rnd.choice([f"write -P 0x77 {off} 1", f"write -z {off // 65536 * 65536} 64k",
                         f"write -P 0 {off} 4k"])
    qemu_io(top, change)
    cases.append(([top, raw], "raw"))
    flat = str(tmp_path / "flat.qcow2")
    qemu_img("convert", "-O", "qcow2", top, flat)
    cases.append(([top, flat], "qcow2"))
    bigger = str(tmp_path / "bigger.raw")
    qemu_img("convert", "-O", "raw", top, bigger)
    qemu_img("resize", "-f", "raw", bigger, "32M")
    cases.append(([top, bigger], "raw"))
    qemu_io(bigger, f"write -P 9 {(24 << 20) + rnd.randrange(0, 8 << 20) // 512 * 512} 512",
            fmt="raw")
    cases.append(([top, bigger], "raw"))
    for files, fmt2 in cases:
        for strict in ([], ["-s"]):
            q = qemu_img("compare", *strict, "-F", fmt2, *files, check=False)
            p = pemu_img("compare", *strict, "-F", fmt2, *files, check=False)
            assert (p.returncode, p.stdout) == (q.returncode, q.stdout), (change, files, strict)
