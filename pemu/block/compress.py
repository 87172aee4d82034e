"""Cluster compression for qcow2 (spec "Compressed Clusters Descriptor").

compression_type 0 is raw deflate (zlib without header, 4 KiB window as
QEMU writes it); type 1 is a zstd frame.  The stored length is rounded up to
512-byte sectors, so decompressors must ignore trailing bytes.
"""

from __future__ import annotations

import io
import os
import zlib
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor

from .errors import ImageCorrupt
from .qcow2_format import COMPRESSION_ZLIB, COMPRESSION_ZSTD

try:
    import zstandard
except ImportError:  # pragma: no cover - zstandard is a declared dependency
    zstandard = None


def compress(data: bytes, ctype: int) -> bytes:
    if ctype == COMPRESSION_ZLIB:
        c = zlib.compressobj(zlib.Z_DEFAULT_COMPRESSION, zlib.DEFLATED, -12, 9)
        return c.compress(data) + c.flush()
    if ctype == COMPRESSION_ZSTD:
        return zstandard.ZstdCompressor().compress(data)
    raise ImageCorrupt(f"Unknown compression type {ctype}")


_pool: ThreadPoolExecutor | None = None


def compress_many(clusters: Sequence[bytes], ctype: int) -> list[bytes]:
    """Compress clusters in parallel (zlib and zstd release the GIL while they work)."""
    global _pool
    if len(clusters) < 2 or (os.cpu_count() or 1) < 2:
        return [compress(c, ctype) for c in clusters]
    if _pool is None:
        _pool = ThreadPoolExecutor(max_workers=os.cpu_count(), thread_name_prefix="compress")
    return list(_pool.map(compress, clusters, [ctype] * len(clusters)))


def decompress(data: bytes, ctype: int, out_size: int) -> bytes:
    """Decompress exactly ``out_size`` bytes of one cluster."""
    try:
        if ctype == COMPRESSION_ZLIB:
            d = zlib.decompressobj(-15)
            out = d.decompress(data, out_size)
        elif ctype == COMPRESSION_ZSTD:
            if zstandard is None:
                raise ImageCorrupt("zstd support is not available")
            # a bounded streaming read: stops at the frame end (trailing sector
            # padding ignored) and never inflates more than one cluster
            reader = zstandard.ZstdDecompressor().stream_reader(io.BytesIO(data))
            parts, got = [], 0
            while got < out_size:
                chunk = reader.read(out_size - got)
                if not chunk:
                    break
                parts.append(chunk)
                got += len(chunk)
            out = b"".join(parts)
        else:
            raise ImageCorrupt(f"Unknown compression type {ctype}")
    except (zlib.error, ValueError) as e:
        raise ImageCorrupt(f"Failed to decompress cluster: {e}") from None
    except Exception as e:  # zstandard.ZstdError
        if zstandard is not None and isinstance(e, zstandard.ZstdError):
            raise ImageCorrupt(f"Failed to decompress cluster: {e}") from None
        raise
    if len(out) < out_size:
        raise ImageCorrupt("Compressed cluster is truncated")
    return out[:out_size]
