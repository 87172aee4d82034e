"""Fixtures for the KVM tests: /dev/kvm availability, the test guest, running pemu."""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

GUEST_SRC = Path(__file__).parent / "guest"
IMAGES = Path(__file__).resolve().parents[3] / "shared" / "images" / "x86_64"
if not IMAGES.exists():
    IMAGES = Path("/work/shared/images/x86_64")
#: This host's PVM cannot emulate xrstor or cmpxchg16b in guest kernel mode.
CPU = "host,-xsave,-cx16"


def kvm_problem() -> str | None:
    if not os.path.exists("/dev/kvm"):
        return "/dev/kvm does not exist (no KVM on this host)"
    if not os.access("/dev/kvm", os.R_OK | os.W_OK):
        return "/dev/kvm is not accessible (add the user to the 'kvm' group)"
    return None


requires_kvm = pytest.mark.skipif(kvm_problem() is not None,
                                  reason=f"needs KVM: {kvm_problem()}")


@pytest.fixture(scope="session")
def guest(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Build the test guest and its native twin with the host's gcc/ld; returns the dir."""
    for tool in ("gcc", "ld", "make"):
        if shutil.which(tool) is None:
            pytest.skip(f"building the test guest needs '{tool}'")
    out = tmp_path_factory.mktemp("guest")
    subprocess.run(["make", "-s", "-C", str(GUEST_SRC), f"OUT={out}"], check=True)
    return out


def pemu(*args: str, timeout: float = 60) -> subprocess.CompletedProcess:
    """Run pemu-system-x86_64 (this checkout) with stdin a pipe; captures output."""
    cmd = [sys.executable, "-m", "pemu.cli.system_x86", *args]
    return subprocess.run(cmd, stdin=subprocess.PIPE, capture_output=True, text=True,
                          timeout=timeout, cwd=Path(__file__).resolve().parents[2])


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """`slow` KVM tests (full Linux boots) run only when asked: `pytest -m slow`."""
    if config.option.markexpr:
        return
    skip = pytest.mark.skip(reason="slow: run with -m slow")
    for item in items:
        if "slow" in item.keywords and "tests/kvm/" in str(item.fspath):
            item.add_marker(skip)
