"""Bad input to pemu-system-x86_64: one line on stderr, status 1, never a traceback."""
from __future__ import annotations

from pathlib import Path

import pytest

from tests.kvm.conftest import pemu, requires_kvm


def one_line_error(r, *words: str) -> None:
    assert r.returncode == 1, (r.stdout, r.stderr)
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1, r.stderr
    assert lines[0].startswith("pemu-system-x86_64: ")
    for w in words:
        assert w in lines[0]


@requires_kvm
def test_kernel_neither_bzimage_nor_elf(tmp_path: Path) -> None:
    bad = tmp_path / "kernel.txt"
    bad.write_bytes(b"this is not a kernel\n" * 100)
    one_line_error(pemu("-cpu", "host", "-kernel", str(bad), "-nographic"),
                   "neither a bzImage nor an ELF")


def test_huge_memory(tmp_path: Path) -> None:
    one_line_error(pemu("-m", "64T", "-kernel", "/dev/null"), "memory")


def test_unknown_cpu_feature() -> None:
    one_line_error(pemu("-cpu", "host,+nosuchfeature", "-kernel", "/dev/null"),
                   "nosuchfeature")


def test_unknown_cpu_model() -> None:
    one_line_error(pemu("-cpu", "pentium9", "-kernel", "/dev/null"), "pentium9")


def test_unknown_machine() -> None:
    one_line_error(pemu("-M", "nosuchboard", "-kernel", "/dev/null"), "nosuchboard")


def test_unknown_option() -> None:
    one_line_error(pemu("-frobnicate"), "-frobnicate")


def test_missing_kernel_option() -> None:
    one_line_error(pemu("-m", "256M"), "-kernel")


def test_missing_kernel_file() -> None:
    one_line_error(pemu("-kernel", "/nonexistent/bzImage"), "/nonexistent/bzImage")


def test_bad_memory_size() -> None:
    one_line_error(pemu("-m", "lots", "-kernel", "/dev/null"), "lots")


def test_unknown_accel() -> None:
    one_line_error(pemu("-accel", "hvf", "-kernel", "/dev/null"), "hvf")


def test_accel_help() -> None:
    r = pemu("-accel", "help")
    assert r.returncode == 0 and "kvm" in r.stdout


def test_cpu_help_and_machine_help() -> None:
    r = pemu("-cpu", "help")
    assert r.returncode == 0 and "host" in r.stdout and "qemu64" in r.stdout
    r = pemu("-M", "help")
    assert r.returncode == 0 and "microvm" in r.stdout


def test_missing_dev_kvm_is_one_line() -> None:
    from pemu.accel.kvm import KvmError, KvmSystem
    with pytest.raises(KvmError) as e:
        KvmSystem("/nonexistent/kvm")
    assert "\n" not in str(e.value) and "does not exist" in str(e.value)
