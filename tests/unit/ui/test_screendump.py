"""screendump (QMP and HMP) of the console virtio-gpu draws on, read back with Pillow."""
from __future__ import annotations

import os
import sys

import pytest

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "hw"))
from gpu_driver import GpuDriver, show_pattern  # noqa: E402

from pemu.monitor import commands  # noqa: E402
from pemu.monitor.errors import QmpError  # noqa: E402
from pemu.monitor.hmp import HmpSession  # noqa: E402

Image = pytest.importorskip("PIL.Image", reason="Pillow (pip) is not installed")


def board_showing_pattern(w: int = 40, h: int = 30):
    d = GpuDriver()
    pix = show_pattern(d, w, h)
    d.machine.console = d.console
    rgb = bytearray(w * h * 3)
    rgb[0::3], rgb[1::3], rgb[2::3] = pix[2::4], pix[1::4], pix[0::4]
    return d.machine, bytes(rgb)


def test_qmp_screendump_ppm_is_qemus_format(tmp_path):
    machine, rgb = board_showing_pattern()
    out = tmp_path / "s.ppm"
    assert commands.execute(machine, "screendump", {"filename": str(out)}) == {}
    data = out.read_bytes()
    assert data.startswith(b"P6\n40 30\n255\n")
    img = Image.open(out)
    assert img.mode == "RGB" and img.size == (40, 30)
    assert img.tobytes() == rgb


def test_qmp_screendump_png(tmp_path):
    machine, rgb = board_showing_pattern()
    out = tmp_path / "s.png"
    commands.execute(machine, "screendump", {"filename": str(out), "format": "png"})
    img = Image.open(out)
    assert img.format == "PNG" and img.size == (40, 30)
    assert img.convert("RGB").tobytes() == rgb


def test_hmp_screendump(tmp_path):
    machine, rgb = board_showing_pattern()
    hmp = HmpSession(machine)
    assert hmp.run(f"screendump {tmp_path}/a.png -f png") == ""
    assert Image.open(tmp_path / "a.png").convert("RGB").tobytes() == rgb
    assert hmp.run(f"screendump {tmp_path}/a.ppm") == ""
    assert Image.open(tmp_path / "a.ppm").tobytes() == rgb
    assert "not supported" in hmp.run(f"screendump {tmp_path}/b.ppm -f ppm gpu0 0")


def test_screendump_errors(tmp_path):
    machine, _ = board_showing_pattern()
    with pytest.raises(QmpError, match="format"):
        commands.execute(machine, "screendump", {"filename": str(tmp_path / "x"),
                                                 "format": "bmp"})
    with pytest.raises(QmpError, match="No such file"):
        commands.execute(machine, "screendump", {"filename": "/nonexistent/dir/x.ppm"})
    with pytest.raises(QmpError, match="device"):
        commands.execute(machine, "screendump", {"filename": str(tmp_path / "x"),
                                                 "device": "gpu0"})
    del machine.console
    with pytest.raises(QmpError, match="no console"):
        commands.execute(machine, "screendump", {"filename": str(tmp_path / "x")})
