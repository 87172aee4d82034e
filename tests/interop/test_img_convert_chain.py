"""pemu-img convert of backing chains, checked by qemu-img compare and check.

Overlay writes land inside, across and beside the backing file's data runs,
so the converter's fast paths (runs merged across layers, bytes copied file
to file from one layer) meet every boundary.
"""

from __future__ import annotations

import random

import pytest
from test_img_util import assert_clean, needs_qemu, pemu_img, qemu_img, qemu_io

pytestmark = needs_qemu


@pytest.mark.parametrize("seed", range(3))
@pytest.mark.parametrize("ofmt", ["qcow2", "raw"])
def test_convert_chain_same_guest_data(tmp_path, seed, ofmt):
    rnd = random.Random(seed)
    base, top = str(tmp_path / "base.qcow2"), str(tmp_path / "top.qcow2")
    qemu_img("create", "-q", "-f", "qcow2", base, "16M")
    qemu_io(base, *[f"write -P {i + 1} {rnd.randrange(0, 14) << 20} "
                    f"{rnd.choice(['1M', '2M', '192k'])}" for i in range(6)])
    qemu_img("create", "-q", "-f", "qcow2", "-b", "base.qcow2", "-F", "qcow2", top)
    qemu_io(top, *[f"write -P {0x80 + i} {rnd.randrange(0, 255) * 65536} "
                   f"{rnd.choice(['64k', '128k', '4k'])}" for i in range(12)],
            "write -z 3M 64k")
    out = str(tmp_path / f"out.{ofmt}")
    pemu_img("convert", "-O", ofmt, top, out)
    assert qemu_img("compare", "-F", ofmt, top, out).returncode == 0
    if ofmt == "qcow2":
        assert_clean(out)
