"""-drive/-hda/-cdrom/-snapshot/-device wiring on the virt board, without running a guest."""
from __future__ import annotations

import os
import subprocess
import sys

import pytest

from pemu.block import BlockError
from pemu.cli.drive_options import Drive, apply_drive_options, close_drives, parse_drive
from pemu.cli.options import parse_argv
from pemu.cli.system import build_machine
from pemu.hw.virtio.virtio_blk import VirtioBlk
from pemu.hw.virtio.virtio_rng import VirtioRng

QEMU_IMG = "qemu-img"


@pytest.fixture
def images(tmp_path):
    raw = tmp_path / "disk.raw"
    raw.write_bytes(b"RAWDISK!" + bytes(1 << 20))
    qcow = tmp_path / "disk.qcow2"
    from pemu.block import create_image
    create_image(str(qcow), "qcow2", 4 << 20, {})
    iso = tmp_path / "cd.iso"
    iso.write_bytes(b"CD001" + bytes(64 * 1024))
    return tmp_path


def machine_for(args: str, cwd: str):
    """Build a virt machine and apply the drive options of `args` (paths relative to cwd)."""
    argv = ["-m", "16M", "-bios", "none", "-kernel", os.devnull]
    for a in args.split():
        argv.append(a.replace("@", cwd + "/"))
    opts = parse_argv(argv)
    m = build_machine(opts)
    apply_drive_options(m, opts)
    return m


def slots(m) -> dict[int, tuple[str, str | None]]:
    """Occupied virtio-mmio slots: index -> (device type, drive id)."""
    out = {}
    for i, s in enumerate(m.virtio):
        if s.backend is not None:
            drive = getattr(s.backend, "backend", None)
            out[i] = (s.backend.type_name, getattr(drive, "id", None))
    return out


def test_parse_drive_keys() -> None:
    s = parse_drive("file=a,,b.img,format=qcow2,if=none,id=d0,readonly=on,cache=unsafe,aio=native")
    assert (s.file, s.fmt, s.interface, s.id, s.readonly, s.cache) == \
        ("a,b.img", "qcow2", "none", "d0", True, "unsafe")
    assert parse_drive("file=x,media=cdrom").readonly
    assert parse_drive("file=x,snapshot=on").snapshot
    assert parse_drive("file=x,bogus=1").extra == ["bogus"]


def test_hda_is_virtio0_in_the_top_slot(images) -> None:
    m = machine_for("-hda @disk.raw", str(images))
    assert slots(m) == {7: ("virtio-blk-device", "virtio0")}
    d = m.block_backends["virtio0"]
    assert isinstance(d, Drive) and d.format_name == "raw" and not d.readonly
    assert d.probed_raw
    dev = m.virtio[7].backend
    assert isinstance(dev, VirtioBlk) and dev.loop is m.loop
    close_drives(m)
    assert d.closed
    close_drives(m)  # idempotent


def test_qemu_device_order(images) -> None:
    """Explicit -device first, then if=virtio drives in command-line order, top slot down."""
    m = machine_for("-hda @disk.raw -cdrom @cd.iso "
                    "-drive file=@disk.qcow2,format=qcow2,if=none,id=q "
                    "-device virtio-blk-device,drive=q,serial=SER1 -device virtio-rng-device "
                    "-drive file=@cd.iso,format=raw,snapshot=on", str(images))
    assert slots(m) == {7: ("virtio-blk-device", "q"), 6: ("virtio-rng-device", None),
                        5: ("virtio-blk-device", "virtio0"),
                        4: ("virtio-blk-device", "virtio2"),
                        3: ("virtio-blk-device", "virtio1")}
    assert m.virtio[7].backend.serial == "SER1"
    assert isinstance(m.virtio[6].backend, VirtioRng)
    cd = m.block_backends["virtio2"]
    assert cd.readonly and cd.format_name == "raw" and cd.removable
    assert m.virtio[4].backend.features & (1 << 5)  # VIRTIO_BLK_F_RO
    assert set(m.block_backends) == {"virtio0", "virtio1", "virtio2", "q"}
    close_drives(m)


def test_one_file_shared_by_readers(images) -> None:
    m = machine_for("-drive file=@disk.qcow2,readonly=on -drive file=@disk.qcow2,snapshot=on "
                    "-cdrom @disk.raw -snapshot -drive file=@disk.raw,format=raw", str(images))
    assert len(m.block_backends) == 4
    close_drives(m)


def test_bus_option_picks_the_slot(images) -> None:
    m = machine_for("-device virtio-rng-device,bus=virtio-mmio-bus.2", str(images))
    assert slots(m) == {2: ("virtio-rng-device", None)}


def test_readonly_drive_refuses_writes(images) -> None:
    m = machine_for("-drive file=@disk.raw,format=raw,readonly=on", str(images))
    d = m.block_backends["virtio0"]
    assert d.readonly and not d.probed_raw
    with pytest.raises(BlockError):
        d.write(0, b"x" * 512)
    close_drives(m)


@pytest.mark.parametrize("how", ["-snapshot -hda @disk.qcow2",
                                 "-drive file=@disk.qcow2,snapshot=on",
                                 "-snapshot -drive file=@disk.raw,format=raw"])
def test_snapshot_writes_vanish(images, how) -> None:
    name = "disk.qcow2" if "qcow2" in how else "disk.raw"
    before = (images / name).read_bytes()
    m = machine_for(how, str(images))
    d = m.block_backends["virtio0"]
    d.write(4096, b"\xaa" * 4096)
    d.flush()
    assert d.read(4096, 4096) == b"\xaa" * 4096
    assert d.backing_file is not None
    close_drives(m)
    assert (images / name).read_bytes() == before


@pytest.mark.parametrize("name", ["disk.qcow2", "disk.raw"])
def test_commit_writes_the_snapshot_back(images, name) -> None:
    """Ctrl-A s under -snapshot: the overlay's data goes into the image."""
    m = machine_for(f"-snapshot -drive file=@{name}", str(images))
    d = m.block_backends["virtio0"]
    d.write(65536 + 512, b"committed" + bytes(503))
    d.commit()
    d.write(131072, b"not committed" + bytes(499))
    assert d.read(65536 + 512, 9) == b"committed"
    close_drives(m)
    m2 = machine_for(f"-drive file=@{name}", str(images))
    d2 = m2.block_backends["virtio0"]
    assert d2.read(65536 + 512, 9) == b"committed"
    assert d2.read(131072, 13) == bytes(13)
    assert d2.read(0, 8) == (b"RAWDISK!" if name == "disk.raw" else bytes(8))
    close_drives(m2)
    if name == "disk.qcow2" and subprocess.run(["which", QEMU_IMG]).returncode == 0:
        r = subprocess.run([QEMU_IMG, "check", str(images / name)], capture_output=True,
                           text=True)
        assert r.returncode == 0, r.stdout + r.stderr


def test_writes_persist_and_image_checks(images) -> None:
    m = machine_for("-drive file=@disk.qcow2,format=qcow2,cache=writethrough", str(images))
    d = m.block_backends["virtio0"]
    d.write(0, b"hello" + bytes(507))
    d.write_zeroes(1 << 20, 65536)
    d.discard(2 << 20, 65536)
    close_drives(m)
    m2 = machine_for("-drive file=@disk.qcow2,format=qcow2", str(images))
    assert m2.block_backends["virtio0"].read(0, 5) == b"hello"
    close_drives(m2)
    if subprocess.run(["which", QEMU_IMG], capture_output=True).returncode == 0:
        r = subprocess.run([QEMU_IMG, "check", str(images / "disk.qcow2")],
                           capture_output=True, text=True)
        assert r.returncode == 0, r.stdout + r.stderr


class CountingBackend:
    size, readonly = 1 << 20, False

    def __init__(self) -> None:
        self.flushes = 0
        self.data = bytearray(self.size)

    def read(self, offset: int, length: int) -> bytes:
        return bytes(self.data[offset:offset + length])

    def write(self, offset: int, data: bytes) -> None:
        self.data[offset:offset + len(data)] = data

    def write_zeroes(self, offset: int, length: int) -> None:
        self.data[offset:offset + length] = bytes(length)

    def discard(self, offset: int, length: int) -> None:
        pass

    def flush(self) -> None:
        self.flushes += 1

    def close(self) -> None:
        pass


@pytest.mark.parametrize("cache,write_flushes,flush_flushes",
                         [("writeback", 0, 1), ("writethrough", 1, 1),
                          ("directsync", 1, 1), ("none", 0, 1), ("unsafe", 0, 0)])
def test_cache_modes(cache, write_flushes, flush_flushes) -> None:
    be = CountingBackend()
    d = Drive("d", be, "f", "raw", cache=cache)  # type: ignore[arg-type]
    d.write(0, b"x")
    assert be.flushes == write_flushes
    d.flush()
    assert be.flushes == write_flushes + flush_flushes


def test_probed_raw_protects_sector_zero() -> None:
    be = CountingBackend()
    d = Drive("d", be, "f", "raw", probed_raw=True)  # type: ignore[arg-type]
    with pytest.raises(BlockError):
        d.write(0, b"QFI\xfb" + bytes(508))
    d.write(512, b"QFI\xfb")  # elsewhere is fine
    d.write(0, b"\0" * 512)
    Drive("d", be, "f", "raw").write(0, b"QFI\xfb")  # format=raw given: no restriction


ERRORS = [
    ("-drive file=@nope.img", "-drive file=@nope.img: Could not open '@nope.img': "
     "No such file or directory"),
    ("-drive file=@disk.raw,foo=bar", "Block format 'raw' does not support the option 'foo'"),
    ("-drive file=@disk.qcow2,foo=bar", "Block format 'qcow2' does not support the option 'foo'"),
    ("-drive foo=bar", "Invalid parameter 'foo'"),
    ("-drive file=@disk.raw,if=ide", "machine type does not support if=ide,bus=0,unit=0"),
    ("-drive file=@disk.raw,if=xyz", "unsupported bus type 'xyz'"),
    ("-drive file=@disk.raw,format=vmdk", "Unknown driver 'vmdk'"),
    ("-drive file=@disk.qcow2,format=raw,driver=qcow2",
     "Cannot specify both 'driver' and 'format'"),
    ("-drive file=@disk.raw,readonly=maybe", "Parameter 'read-only' expects 'on' or 'off'"),
    ("-drive file=@disk.raw,cache=fast", "invalid cache option"),
    ("-drive file=@disk.raw,media=tape", "'tape' invalid media"),
    ("-drive file=@disk.raw,id=1x", "Parameter 'id' expects an identifier"),
    ("-drive file=@disk.raw,if=none,id=d0 -device virtio-blk-device,drive=d0 "
     "-device virtio-blk-device,drive=d0", "Drive 'd0' is already in use by another device"),
    ("-drive file=@disk.raw,id=d0 -device virtio-blk-device,drive=d0",
     "Drive 'd0' is already in use because it has been automatically connected to another "
     "device (did you need 'if=none' in the drive options?)"),
    ("-device virtio-blk-device,drive=zz",
     "Property 'virtio-blk-device.drive' can't find value 'zz'"),
    ("-device virtio-blk-device", "-device virtio-blk-device: drive property not set"),
    ("-device nosuchdev", "-device nosuchdev: 'nosuchdev' is not a valid device model name"),
    ("-drive if=none,id=d0,file=@disk.raw -device virtio-blk-device,drive=d0,foo=1",
     "Property 'virtio-blk-device.foo' not found"),
    ("-drive file=@disk.raw,id=a -drive file=@disk.qcow2,id=a", "Duplicate ID 'a' for drive"),
    ("-hda @disk.raw -drive file=@disk.qcow2,index=0",
     "drive with bus=0, unit=0 (index=0) exists"),
    ("-drive if=none,id=e -device virtio-blk-device,drive=e",
     "Device needs media, but drive is empty"),
    ("-drive if=virtio", "Device needs media, but drive is empty"),
    ("-device virtio-rng-device,bus=virtio-mmio-bus.9", "Bus 'virtio-mmio-bus.9' not found"),
    (" ".join(["-device virtio-rng-device"] * 9), "No 'virtio-bus' bus found"),
    ("-hda @disk.qcow2 -drive file=@disk.qcow2", "-drive file=@disk.qcow2: "
     "Failed to get \"write\" lock"),
    ("-hda @disk.qcow2 -drive file=@disk.qcow2,snapshot=on",
     "Failed to get shared \"write\" lock"),
    ("-drive file=@disk.qcow2,readonly=on -hdb @disk.qcow2", "Failed to get \"write\" lock"),
]


@pytest.mark.parametrize("args,message", ERRORS)
def test_errors(images, args, message) -> None:
    with pytest.raises(ValueError) as e:
        machine_for(args, str(images))
    text = str(e.value)
    first, _, hint = text.partition("\n")  # lock conflicts add QEMU's hint line
    held = f"Is another process using the image [{images}/disk.qcow2]?"
    assert hint == (held if "Failed to get" in message else "")
    assert message.replace("@", str(images) + "/") in first


def test_cli_error_is_one_line_exit_1(images) -> None:
    r = subprocess.run([sys.executable, "-m", "pemu.cli.system", "-m", "16M",
                        "-drive", f"file={images}/nope.img,format=raw"],
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 1
    assert r.stderr.strip().splitlines()[-1] == (
        f"pemu-system-riscv64: -drive file={images}/nope.img,format=raw: "
        f"Could not open '{images}/nope.img': No such file or directory")
    assert "Traceback" not in r.stderr
