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
@pytest.mark.parametrize("ofmt,opts", [("qcow2", []), ("raw", []), ("qcow2", ["-c"]),
                                       ("qcow2", ["-S", "0"]), ("raw", ["-S", "0"]),
                                       ("qcow2", ["-B", "base.qcow2", "-F", "qcow2"])])
def test_convert_chain_same_guest_data(tmp_path, monkeypatch, seed, ofmt, opts):
    monkeypatch.chdir(tmp_path)  # -B names the backing file relative to the target
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
    pemu_img("convert", *opts, "-O", ofmt, top, out)
    assert qemu_img("compare", "-F", ofmt, top, out).returncode == 0
    if ofmt == "qcow2":
        assert_clean(out)


@pytest.mark.parametrize("opts", [[], ["-S", "0"], ["-c"]])
def test_convert_sparse_raw_same_guest_data(tmp_path, opts):
    """Holes, zero-filled data and unaligned pieces in a raw source."""
    rnd = random.Random(len(opts))
    src = str(tmp_path / "src.raw")
    with open(src, "wb") as f:
        f.truncate(12 << 20)
        for _ in range(40):
            f.seek(rnd.randrange(0, (12 << 20) - 300000))
            f.write(rnd.choice([bytes(70000), rnd.randbytes(rnd.randrange(1, 300000))]))
    out = str(tmp_path / "out.qcow2")
    pemu_img("convert", *opts, "-f", "raw", "-O", "qcow2", src, out)
    assert qemu_img("compare", "-f", "raw", src, out).returncode == 0
    assert_clean(out)
