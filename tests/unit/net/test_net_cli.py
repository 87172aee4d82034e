"""pemu-system-riscv64's network options end to end: a bad one is one line and status 1,
`-device help` lists the card, `model=help` lists the NIC models."""
from __future__ import annotations

import subprocess
import sys

import pytest

PEMU = [sys.executable, "-m", "pemu.cli.system"]


def run(args: list[str]) -> subprocess.CompletedProcess:
    return subprocess.run(PEMU + args, capture_output=True, text=True, timeout=60)


@pytest.mark.parametrize("args, words", [
    (["-netdev", "user,id=n0,smb=/srv"], "user netdev option 'smb' is not supported"),
    (["-nic", "socket,connect=127.0.0.1:1"], "can't connect socket"),
    (["-netdev", "hubport,id=h,hubid=0", "-object", "filter-dump,id=f,netdev=h"],
     "Parameter 'file' is missing"),
    (["-device", "virtio-net-device,netdev=nope"], "can't find value 'nope'"),
    (["-net", "nic,model=rtl8139"], "NIC model 'rtl8139' is not supported"),
])
def test_bad_network_option_is_one_line_and_status_1(args, words):
    r = run(args + ["-nographic"])
    assert r.returncode == 1, r.stderr
    assert "Traceback" not in r.stderr
    assert r.stderr.startswith("pemu-system-riscv64: ") and words in r.stderr
    assert len(r.stderr.strip().splitlines()) == 1, r.stderr


def test_help_lists_the_card_and_its_model():
    assert "virtio-net-device" in run(["-device", "help"]).stdout
    assert run(["-nic", "user,model=help"]).stdout == "Available NIC models:\nvirtio-net-device\n"
    out = run(["-device", "virtio-net-device,help"]).stdout
    assert "mac=<str>" in out and "netdev=" in out
