"""qcow2 on-disk structures: the header, header extensions and entry bits.

Layouts follow docs/interop/qcow2.txt in QEMU ("qcow2 format specification"),
section "Header": all numbers are big-endian.  Bytes 0-71 exist in version 2
and 3; version 3 adds bytes 72-103 and optionally the compression type at
byte 104 (header length 112 with padding).
"""

from __future__ import annotations

import struct
from dataclasses import dataclass, field

from .errors import ImageCorrupt, UnsupportedImage

MAGIC = b"QFI\xfb"

# Spec "Header": fixed part of version 2 (72 bytes) and 3 (104 bytes).
_HDR_V2 = struct.Struct(">4sIQIIQIIQQIIQ")
_HDR_V3 = struct.Struct(">QQQII")

# Spec "Header", incompatible_features bits.
INCOMPAT_DIRTY = 1 << 0
INCOMPAT_CORRUPT = 1 << 1
INCOMPAT_DATA_FILE = 1 << 2
INCOMPAT_COMPRESSION = 1 << 3
INCOMPAT_EXTL2 = 1 << 4
INCOMPAT_KNOWN = INCOMPAT_DIRTY | INCOMPAT_CORRUPT | INCOMPAT_DATA_FILE | INCOMPAT_COMPRESSION
# compatible_features bits
COMPAT_LAZY_REFCOUNTS = 1 << 0
# autoclear_features bits
AUTOCLEAR_BITMAPS = 1 << 0
AUTOCLEAR_DATA_FILE_RAW = 1 << 1

# Spec "Header extensions": type codes.
EXT_END = 0x00000000
EXT_BACKING_FORMAT = 0xE2792ACA
EXT_FEATURE_TABLE = 0x6803F857
EXT_BITMAPS = 0x23852875
EXT_CRYPTO = 0x0537BE77
EXT_DATA_FILE = 0x44415441

# Feature name table written on create (spec "Feature name table"):
# (type 0=incompatible 1=compatible 2=autoclear, bit, name)
FEATURE_NAMES = [
    (0, 0, "dirty bit"), (0, 1, "corrupt bit"), (0, 2, "external data file"),
    (0, 3, "compression type"), (0, 4, "extended L2 entries"),
    (1, 0, "lazy refcounts"), (2, 0, "bitmaps"), (2, 1, "raw external data"),
]

# Spec "Cluster mapping": L1/L2 entry bits.
OFLAG_COPIED = 1 << 63
OFLAG_COMPRESSED = 1 << 62
OFLAG_ZERO = 1 << 0
L1E_OFFSET_MASK = 0x00FFFFFFFFFFFE00
L2E_OFFSET_MASK = 0x00FFFFFFFFFFFE00
REFT_OFFSET_MASK = 0xFFFFFFFFFFFFFE00

COMPRESSION_ZLIB = 0
COMPRESSION_ZSTD = 1
COMPRESSION_NAMES = {COMPRESSION_ZLIB: "zlib", COMPRESSION_ZSTD: "zstd"}

# Sanity limits (same orders of magnitude as QEMU's): bound every allocation
# a hostile header could request.
MAX_L1_BYTES = 32 << 20
MAX_REFTABLE_BYTES = 8 << 20
MAX_SNAPSHOTS = 65536
MAX_BACKING_NAME = 1023
MIN_CLUSTER_BITS = 9
MAX_CLUSTER_BITS = 21


@dataclass
class Extension:
    """One header extension, kept verbatim unless pemu understands it."""

    type: int
    data: bytes


@dataclass
class Header:
    """The qcow2 header (spec "Header") plus its extensions."""

    version: int = 3
    backing_file_offset: int = 0
    backing_file_size: int = 0
    cluster_bits: int = 16
    size: int = 0
    crypt_method: int = 0
    l1_size: int = 0
    l1_table_offset: int = 0
    refcount_table_offset: int = 0
    refcount_table_clusters: int = 0
    nb_snapshots: int = 0
    snapshots_offset: int = 0
    incompatible_features: int = 0
    compatible_features: int = 0
    autoclear_features: int = 0
    refcount_order: int = 4
    header_length: int = 112
    compression_type: int = COMPRESSION_ZLIB
    backing_file: str | None = None
    backing_format: str | None = None
    data_file: str | None = None
    extensions: list[Extension] = field(default_factory=list)  # others, verbatim

    @property
    def cluster_size(self) -> int:
        return 1 << self.cluster_bits

    @property
    def refcount_bits(self) -> int:
        return 1 << self.refcount_order

    def ext(self, ext_type: int) -> Extension | None:
        for e in self.extensions:
            if e.type == ext_type:
                return e
        return None

    # -- parsing ----------------------------------------------------------
    @classmethod
    def parse(cls, buf: bytes, file_size: int) -> Header:
        """Parse and validate a header from the first cluster of the image."""
        if len(buf) < _HDR_V2.size or buf[:4] != MAGIC:
            raise ImageCorrupt("Image is not in qcow2 format")
        f = _HDR_V2.unpack_from(buf, 0)
        h = cls(version=f[1], backing_file_offset=f[2], backing_file_size=f[3],
                cluster_bits=f[4], size=f[5], crypt_method=f[6], l1_size=f[7],
                l1_table_offset=f[8], refcount_table_offset=f[9],
                refcount_table_clusters=f[10], nb_snapshots=f[11], snapshots_offset=f[12])
        if h.version not in (2, 3):
            raise UnsupportedImage(f"Unsupported qcow2 version {h.version}")
        if not MIN_CLUSTER_BITS <= h.cluster_bits <= MAX_CLUSTER_BITS:
            raise ImageCorrupt(f"Unsupported cluster size: 2^{h.cluster_bits}")
        if h.version == 3:
            if len(buf) < 104:
                raise ImageCorrupt("qcow2 header exceeds cluster size")
            (h.incompatible_features, h.compatible_features, h.autoclear_features,
             h.refcount_order, h.header_length) = _HDR_V3.unpack_from(buf, 72)
            if h.header_length < 104 or h.header_length > min(len(buf), h.cluster_size):
                raise ImageCorrupt("qcow2 header exceeds cluster size")
            if h.header_length > 104:
                h.compression_type = buf[104]
        else:
            h.header_length = 72
            h.refcount_order = 4
        if h.refcount_table_clusters * h.cluster_size > MAX_REFTABLE_BYTES:
            raise ImageCorrupt("Reference count table too large")
        if h.l1_size * 8 > MAX_L1_BYTES:
            raise ImageCorrupt("Active L1 table too large")
        if h.refcount_order > 6:
            raise ImageCorrupt("Reference count entry width too large; may not exceed 64 bits")
        if h.crypt_method:
            raise UnsupportedImage(
                "Encrypted images are not supported by pemu "
                f"(crypt_method {h.crypt_method}); decrypt them with qemu-img first")
        unknown = h.incompatible_features & ~INCOMPAT_KNOWN
        if h.incompatible_features & INCOMPAT_EXTL2:
            raise UnsupportedImage("Unsupported qcow2 feature(s): extended L2 entries")
        if unknown:
            raise UnsupportedImage(f"Unsupported qcow2 feature(s): Unknown incompatible "
                                   f"feature: {unknown:x}")
        if h.compression_type not in COMPRESSION_NAMES:
            raise UnsupportedImage(f"Unknown compression type {h.compression_type}")
        if (h.compression_type != COMPRESSION_ZLIB) != bool(
                h.incompatible_features & INCOMPAT_COMPRESSION):
            raise ImageCorrupt("Invalid compression type / incompatible feature bit")
        h._parse_extensions(buf)
        h._parse_backing(buf)
        if h.incompatible_features & INCOMPAT_DATA_FILE and not h.data_file:
            raise ImageCorrupt("Image has an external data file but no data file name")
        if h.size > (1 << 62):
            raise ImageCorrupt("Image size too large")
        return h

    def _parse_extensions(self, buf: bytes) -> None:
        off = self.header_length
        end = len(buf) if self.backing_file_offset == 0 else min(len(buf),
                                                                  self.backing_file_offset)
        while off + 8 <= end:
            etype, elen = struct.unpack_from(">II", buf, off)
            off += 8
            if etype == EXT_END:
                return
            if off + elen > end:
                raise ImageCorrupt("Invalid header extension: length exceeds header cluster")
            data = bytes(buf[off:off + elen])
            off += (elen + 7) & ~7
            if etype == EXT_BACKING_FORMAT:
                self.backing_format = data.decode("utf-8", "replace")
            elif etype == EXT_DATA_FILE:
                self.data_file = data.decode("utf-8", "replace")
            elif etype == EXT_CRYPTO:
                raise UnsupportedImage("Encrypted images are not supported by pemu")
            elif etype == EXT_FEATURE_TABLE:
                continue  # regenerated on write
            else:
                self.extensions.append(Extension(etype, data))

    def _parse_backing(self, buf: bytes) -> None:
        if not self.backing_file_offset:
            return
        if self.backing_file_size > MAX_BACKING_NAME:
            raise ImageCorrupt("Backing file name too long")
        start, end = self.backing_file_offset, self.backing_file_offset + self.backing_file_size
        if end > len(buf):
            raise ImageCorrupt("Invalid backing file offset")
        self.backing_file = bytes(buf[start:end]).decode("utf-8", "replace")

    # -- serialisation ----------------------------------------------------
    def pack(self, cluster_size: int | None = None) -> bytes:
        """Serialise header, extensions and backing file name.

        Extensions are written in this order: backing format, data file,
        feature name table (v3), then preserved ones; the backing file name
        follows the end marker.  Raises if it does not fit in cluster 0.
        """
        cs = cluster_size or self.cluster_size
        if self.version == 3:
            self.header_length = 112
        else:
            self.header_length = 72
        exts = b""
        if self.backing_format:
            exts += _ext(EXT_BACKING_FORMAT, self.backing_format.encode())
        if self.data_file:
            exts += _ext(EXT_DATA_FILE, self.data_file.encode())
        if self.version == 3:
            table = b"".join(struct.pack(">BB46s", t, b, n.encode())
                             for t, b, n in FEATURE_NAMES)
            exts += _ext(EXT_FEATURE_TABLE, table)
        for e in self.extensions:
            exts += _ext(e.type, e.data)
        exts += struct.pack(">II", EXT_END, 0)
        backing = (self.backing_file or "").encode()
        self.backing_file_offset = self.header_length + len(exts) if backing else 0
        self.backing_file_size = len(backing)
        head = _HDR_V2.pack(MAGIC, self.version, self.backing_file_offset,
                            self.backing_file_size, self.cluster_bits, self.size,
                            self.crypt_method, self.l1_size, self.l1_table_offset,
                            self.refcount_table_offset, self.refcount_table_clusters,
                            self.nb_snapshots, self.snapshots_offset)
        if self.version == 3:
            head += _HDR_V3.pack(self.incompatible_features, self.compatible_features,
                                 self.autoclear_features, self.refcount_order,
                                 self.header_length)
            head += bytes([self.compression_type]) + bytes(7)
        out = head + exts + backing
        if len(out) > cs:
            raise UnsupportedImage("Header extensions and backing file name do not fit "
                                   "in the first cluster")
        return out


def _ext(etype: int, data: bytes) -> bytes:
    pad = (-len(data)) % 8
    return struct.pack(">II", etype, len(data)) + data + bytes(pad)


def compressed_geometry(cluster_bits: int) -> tuple[int, int, int]:
    """Spec "Compressed Clusters Descriptor": (offset mask, sector shift, sector mask)."""
    x = 62 - (cluster_bits - 8)
    return (1 << x) - 1, x, (1 << (cluster_bits - 8)) - 1
