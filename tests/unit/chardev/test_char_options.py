"""apply_char_options: QEMU's defaults and labels."""
from __future__ import annotations

import pytest

from pemu.chardev import stdio as stdio_mod
from pemu.cli.char_options import apply_char_options
from pemu.cli.options import OptionError, parse_argv
from pemu.core.machine import Machine


@pytest.fixture(autouse=True)
def release_stdio():
    yield
    stdio_mod._in_use = False
    stdio_mod.restore_terminal()


def labels(argv: list[str]) -> tuple[dict, object]:
    m = Machine()
    serial = apply_char_options(m, parse_argv(argv), "-nographic" in argv)
    return {k: v.describe() for k, v in m.chardevs.items()}, serial


def test_nographic_muxes_serial_and_monitor_on_stdio():
    got, serial = labels(["-nographic"])
    assert got == {"serial0": "mux", "serial0-base": "stdio"}
    assert serial.describe() == "mux"


def test_nographic_with_qmp_gives_plain_stdio_serial(tmp_path):
    got, _ = labels(["-nographic", "-qmp", f"unix:{tmp_path}/q,server=on,wait=off"])
    assert got == {"compat_monitor0": f"disconnected:unix:{tmp_path}/q,server=on",
                   "serial0": "stdio"}


def test_display_none_defaults_are_vc():
    got, _ = labels(["-display", "none"])
    assert got == {"compat_monitor0": "vc", "serial0": "vc"}


def test_chardev_and_mon(tmp_path):
    got, serial = labels(["-chardev", f"socket,id=m,path={tmp_path}/m,server=on,wait=off",
                          "-mon", "chardev=m,mode=control", "-serial", "null"])
    assert got["m"].endswith(f"unix:{tmp_path}/m,server=on")
    assert got["serial0"] == "null"


def test_serial_none():
    got, serial = labels(["-serial", "none", "-monitor", "none"])
    assert serial is None and got == {}


def test_errors_worded_like_qemu():
    with pytest.raises(OptionError, match="^-serial bogus: 'bogus' is not a valid char driver$"):
        labels(["-serial", "bogus"])
    with pytest.raises(OptionError, match='^-mon chardev=nope: chardev "nope" not found$'):
        labels(["-mon", "chardev=nope"])
    with pytest.raises(OptionError, match="^-chardev null,id=a: Duplicate ID 'a' for chardev$"):
        labels(["-chardev", "null,id=a", "-chardev", "null,id=a"])
    with pytest.raises(OptionError,
                       match="^-serial stdio: cannot use stdio by multiple character devices$"):
        labels(["-monitor", "stdio", "-serial", "stdio"])
