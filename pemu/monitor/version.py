"""pemu's version in the shape QEMU reports its own (query-version, the QMP greeting)."""
from __future__ import annotations

from importlib import metadata

PACKAGE = "pemu"


def version_string() -> str:
    try:
        return metadata.version("pemu")
    except metadata.PackageNotFoundError:
        return "0.1.0"


def version_info() -> dict:
    """{"qemu": {"micro", "minor", "major"}, "package"} with pemu's numbers."""
    parts = [int(p) if p.isdigit() else 0 for p in version_string().split(".")[:3]]
    parts += [0] * (3 - len(parts))
    return {"qemu": {"micro": parts[2], "minor": parts[1], "major": parts[0]}, "package": PACKAGE}
