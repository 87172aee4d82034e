"""The EDID virtio-gpu hands out, checked by Debian's edid-decode (the oracle)."""
from __future__ import annotations

import shutil
import struct
import subprocess

import pytest
from gpu_driver import GpuDriver

from pemu.hw.display import virtio_gpu as vg
from pemu.hw.display.edid import edid_supported, make_edid


def decode(edid: bytes, tmp_path) -> str:
    if shutil.which("edid-decode") is None:
        pytest.skip("edid-decode missing (Debian package edid-decode): no EDID oracle")
    path = tmp_path / "edid.bin"
    path.write_bytes(edid)
    r = subprocess.run(["edid-decode", "-c", str(path)], capture_output=True, text=True,
                       timeout=30)
    return r.stdout + r.stderr


@pytest.mark.parametrize("xres,yres", [(1280, 800), (640, 480), (1920, 1080), (1024, 768),
                                       (4095, 2000), (800, 333), (400, 300)])
def test_edid_conforms_and_names_the_mode(xres, yres, tmp_path):
    out = decode(make_edid(xres, yres), tmp_path)
    assert "EDID conformity: PASS" in out, out
    assert f"DTD 1: {xres:>5}x{yres:<5}" in out or f"{xres}x{yres}" in out, out
    assert "Display Product Name: 'pemu monitor'" in out


def test_sizes_an_edid_cannot_describe():
    assert not edid_supported(4096, 768) and not edid_supported(16, 16)
    assert not edid_supported(4095, 4095)  # 60 Hz needs more than a DTD's 655.35 MHz
    with pytest.raises(ValueError):
        make_edid(5000, 100)


def test_get_edid_through_the_device(tmp_path):
    d = GpuDriver(xres=1024, yres=768)
    assert d.features() & vg.VIRTIO_GPU_F_EDID
    code, body, _ = d.request(vg.CMD_GET_EDID, struct.pack("<II", 0, 0), resp_len=24 + 8 + 1024)
    assert code == vg.RESP_OK_EDID
    size = struct.unpack_from("<I", body)[0]
    assert size == 128 and body[8:8 + size] == make_edid(1024, 768)
    assert d.request(vg.CMD_GET_EDID, struct.pack("<II", 3, 0),
                     resp_len=24 + 8 + 1024)[0] == vg.RESP_ERR_INVALID_SCANOUT_ID


def test_no_edid_feature_for_modes_it_cannot_describe():
    d = GpuDriver(xres=8000, yres=600)
    assert not d.features() & vg.VIRTIO_GPU_F_EDID
    assert d.request(vg.CMD_GET_EDID, struct.pack("<II", 0, 0))[0] == vg.RESP_ERR_UNSPEC
