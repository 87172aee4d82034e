"""A flattened device tree (DTB) writer.

Written from the Devicetree Specification v0.4, chapter 5 "Flattened
Devicetree (DTB) Format":

- 5.2 header: ten big-endian u32 fields (magic 0xd00dfeed, totalsize,
  off_dt_struct, off_dt_strings, off_mem_rsvmap, version, last_comp_version,
  boot_cpuid_phys, size_dt_strings, size_dt_struct); we emit version 17,
  last compatible version 16.
- 5.3 memory reservation block: 8-byte aligned (address, size) u64 pairs,
  ended by a (0, 0) entry.
- 5.4 structure block: tokens FDT_BEGIN_NODE (name, NUL, pad to 4),
  FDT_END_NODE, FDT_PROP (len, nameoff, value, pad to 4), FDT_END; a node's
  properties precede its subnodes.
- 5.5 strings block: NUL-terminated property names, referenced by offset
  (names are stored once).

Nodes are collected in memory by `begin_node`/`end_node`, so a property may be
added after a subnode was opened and closed; serialisation puts properties
first as the format requires. Setting a property twice replaces it.
"""
from __future__ import annotations

import struct
from collections.abc import Iterable

FDT_MAGIC = 0xD00DFEED
FDT_BEGIN_NODE = 0x1
FDT_END_NODE = 0x2
FDT_PROP = 0x3
FDT_END = 0x9
FDT_VERSION = 17
FDT_LAST_COMP_VERSION = 16
_HEADER_SIZE = 40


def _pad4(data: bytes) -> bytes:
    return data + b"\0" * (-len(data) % 4)


class _Node:
    __slots__ = ("children", "name", "props")

    def __init__(self, name: str) -> None:
        self.name = name
        self.props: dict[str, bytes] = {}
        self.children: list[_Node] = []


class FdtError(ValueError):
    """Misuse of the writer (unbalanced nodes, bad names)."""


class Fdt:
    """Build a device tree node by node, then `to_bytes()` gives the DTB blob."""

    def __init__(self, boot_cpuid_phys: int = 0) -> None:
        self.boot_cpuid_phys = boot_cpuid_phys
        self.reservations: list[tuple[int, int]] = []
        self._root: _Node | None = None
        self._stack: list[_Node] = []
        self._next_phandle = 1

    # --- structure ------------------------------------------------------------
    def begin_node(self, name: str) -> None:
        """Open a node; the first node opened is the root and must be named ''."""
        if "\0" in name or "/" in name:
            raise FdtError(f"invalid node name {name!r}")
        node = _Node(name)
        if not self._stack:
            if self._root is not None:
                raise FdtError("the tree has only one root node")
            if name != "":
                raise FdtError("the root node's name is ''")
            self._root = node
        else:
            parent = self._stack[-1]
            if any(c.name == name for c in parent.children):
                raise FdtError(f"duplicate node name {name!r}")
            parent.children.append(node)
        self._stack.append(node)

    def end_node(self) -> None:
        if not self._stack:
            raise FdtError("end_node without begin_node")
        self._stack.pop()

    def add_reservation(self, address: int, size: int) -> None:
        """An entry in the memory reservation block (spec 5.3)."""
        self.reservations.append((address, size))

    def alloc_phandle(self) -> int:
        """A new unique phandle value (spec 2.3.3: non-zero, unique in the tree)."""
        ph = self._next_phandle
        self._next_phandle += 1
        return ph

    def prop_phandle(self) -> int:
        """Allocate a phandle and set the current node's 'phandle' property to it."""
        ph = self.alloc_phandle()
        self.prop_u32("phandle", ph)
        return ph

    # --- properties (values are big-endian, spec 2.2.4) ------------------------
    def prop_bytes(self, name: str, value: bytes) -> None:
        if not self._stack:
            raise FdtError("property outside any node")
        if not name or "\0" in name:
            raise FdtError(f"invalid property name {name!r}")
        self._stack[-1].props[name] = bytes(value)

    def prop_empty(self, name: str) -> None:
        self.prop_bytes(name, b"")

    def prop_u32(self, name: str, value: int) -> None:
        self.prop_bytes(name, struct.pack(">I", value & 0xFFFFFFFF))

    def prop_u64(self, name: str, value: int) -> None:
        self.prop_bytes(name, struct.pack(">Q", value & 0xFFFFFFFFFFFFFFFF))

    def prop_cells(self, name: str, cells: Iterable[int]) -> None:
        self.prop_bytes(name, b"".join(struct.pack(">I", c & 0xFFFFFFFF) for c in cells))

    def prop_str(self, name: str, value: str) -> None:
        self.prop_bytes(name, value.encode() + b"\0")

    def prop_strlist(self, name: str, values: Iterable[str]) -> None:
        self.prop_bytes(name, b"".join(v.encode() + b"\0" for v in values))

    # --- serialisation ----------------------------------------------------------
    def to_bytes(self) -> bytes:
        if self._root is None:
            raise FdtError("empty tree")
        if self._stack:
            raise FdtError(f"{len(self._stack)} node(s) still open")
        strings = bytearray()
        offsets: dict[str, int] = {}

        def name_offset(name: str) -> int:
            off = offsets.get(name)
            if off is None:
                off = offsets[name] = len(strings)
                strings.extend(name.encode() + b"\0")
            return off

        body = bytearray()

        def emit(node: _Node) -> None:
            body.extend(struct.pack(">I", FDT_BEGIN_NODE))
            body.extend(_pad4(node.name.encode() + b"\0"))
            for pname, value in node.props.items():
                body.extend(struct.pack(">III", FDT_PROP, len(value), name_offset(pname)))
                body.extend(_pad4(value))
            for child in node.children:
                emit(child)
            body.extend(struct.pack(">I", FDT_END_NODE))

        emit(self._root)
        body.extend(struct.pack(">I", FDT_END))

        rsv = b"".join(struct.pack(">QQ", a, s) for a, s in self.reservations)
        rsv += struct.pack(">QQ", 0, 0)
        off_rsv = _HEADER_SIZE  # 40 is a multiple of 8 (spec 5.3 alignment)
        off_struct = off_rsv + len(rsv)
        off_strings = off_struct + len(body)
        total = off_strings + len(strings)
        header = struct.pack(
            ">10I", FDT_MAGIC, total, off_struct, off_strings, off_rsv,
            FDT_VERSION, FDT_LAST_COMP_VERSION, self.boot_cpuid_phys,
            len(strings), len(body))
        return header + rsv + bytes(body) + bytes(strings)
