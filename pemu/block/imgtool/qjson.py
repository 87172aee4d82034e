"""JSON output laid out exactly as qemu-img prints it.

qemu-img converts QAPI objects to a QDict, a hash table of 512 buckets, and
prints keys in bucket order (newest first within a bucket), indented by four
spaces.  Reproducing the hash gives byte-identical ``--output=json``.
"""

from __future__ import annotations

import json
from typing import Any

_BUCKETS = 512


def _tdb_hash(name: str) -> int:
    v = (0x238F13AF * len(name.encode())) & 0xFFFFFFFF
    for i, c in enumerate(name.encode()):
        v = (v + (c << (i * 5 % 24))) & 0xFFFFFFFF
    return ((1103515243 * v + 12345) & 0xFFFFFFFF) % _BUCKETS


def qdict_order(d: dict[str, Any]) -> list[str]:
    """Keys of ``d`` (insertion = QAPI schema order) in QDict iteration order."""
    keys = list(d)
    pos = {k: i for i, k in enumerate(keys)}
    return sorted(keys, key=lambda k: (_tdb_hash(k), -pos[k]))


def dumps(obj: Any, indent: int = 0) -> str:
    """Pretty-print like ``qobject_to_json_pretty``."""
    pad = "    " * (indent + 1)
    end = "    " * indent
    if isinstance(obj, dict):
        if not obj:
            return "{}"
        items = [f"{pad}{json.dumps(k)}: {dumps(obj[k], indent + 1)}" for k in qdict_order(obj)]
        return "{\n" + ",\n".join(items) + "\n" + end + "}"
    if isinstance(obj, list):
        if not obj:
            return "[]"
        items = [pad + dumps(v, indent + 1) for v in obj]
        return "[\n" + ",\n".join(items) + "\n" + end + "]"
    if isinstance(obj, bool):
        return "true" if obj else "false"
    return json.dumps(obj, ensure_ascii=False)
