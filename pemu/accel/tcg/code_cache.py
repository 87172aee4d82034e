"""A persistent cache of compiled block code, so a second boot starts warm.

compile() is the dominant cost of translating a block (hundreds of µs),
while generating its source is cheap. The cache maps a digest of the
generated Python source to the marshalled code object: identical source
means identical code, so a hit can never be stale. It lives in
$XDG_CACHE_HOME/pemu (or ~/.cache/pemu), one file per Python version and
code-generator fingerprint (a digest of the translator's own source), so a
changed translator starts a fresh file and the stale one is removed.
PEMU_TB_CACHE=off disables it, PEMU_TB_CACHE=DIR moves it.
"""
from __future__ import annotations

import atexit
import glob
import hashlib
import marshal
import os
import sys
import tempfile
from types import CodeType

FORMAT = 1
MAX_ENTRIES = 400_000


def _default_dir() -> str | None:
    setting = os.environ.get("PEMU_TB_CACHE", "")
    if setting.lower() in ("off", "0", "no", "false"):
        return None
    if setting:
        return setting
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return os.path.join(base, "pemu")


class CodeCache:
    def __init__(self, directory: str | None = None, tag: str = "tb",
                 fingerprint: str = "") -> None:
        self.dir = directory if directory is not None else _default_dir()
        self.prefix = f"{tag}-py{sys.version_info.major}{sys.version_info.minor}-v{FORMAT}"
        name = f"{self.prefix}-{fingerprint}.marshal" if fingerprint else f"{self.prefix}.marshal"
        self.path = os.path.join(self.dir, name) if self.dir else None
        self._entries: dict[bytes, bytes] | None = None
        self._new: dict[bytes, bytes] = {}
        self.hits = self.misses = 0
        if self.path:
            atexit.register(self.save)

    def _load(self) -> dict[bytes, bytes]:
        if self._entries is None:
            self._entries = {}
            if self.path:
                try:
                    with open(self.path, "rb") as f:
                        data = marshal.load(f)
                    if isinstance(data, dict):
                        self._entries = data
                except (OSError, EOFError, ValueError, TypeError):
                    pass
        return self._entries

    def compile(self, source: str, filename: str) -> CodeType:
        """compile(source), or the cached code object for identical source."""
        if self.path is None:
            return compile(source, filename, "exec")
        key = hashlib.blake2b(source.encode(), digest_size=16).digest()
        blob = self._load().get(key)
        if blob is not None:
            try:
                self.hits += 1
                return marshal.loads(blob)
            except (EOFError, ValueError, TypeError):
                pass
        self.misses += 1
        code = compile(source, filename, "exec")
        if len(self._new) + len(self._entries or ()) < MAX_ENTRIES:
            blob = marshal.dumps(code)
            self._new[key] = blob
            self._entries[key] = blob  # type: ignore[index]
        return code

    def save(self) -> None:
        """Merge new entries into the cache file (atomic replace)."""
        if not self.path or not self._new:
            return
        try:
            os.makedirs(self.dir, exist_ok=True)  # type: ignore[arg-type]
            merged: dict[bytes, bytes] = {}
            try:
                with open(self.path, "rb") as f:
                    old = marshal.load(f)
                if isinstance(old, dict):
                    merged = old
            except (OSError, EOFError, ValueError, TypeError):
                pass
            merged.update(self._new)
            fd, tmp = tempfile.mkstemp(dir=self.dir, prefix=".tb-")
            with os.fdopen(fd, "wb") as f:
                marshal.dump(merged, f)
            os.replace(tmp, self.path)
            self._new = {}
            for old_file in glob.glob(os.path.join(self.dir, self.prefix + "-*.marshal")):
                if old_file != self.path:
                    os.unlink(old_file)
        except OSError:
            pass  # a cache that cannot be written is only a slower start


def fingerprint(*modules: object) -> str:
    """A short digest of the source files of the modules that generate code."""
    h = hashlib.blake2b(digest_size=6)
    for mod in modules:
        path = getattr(mod, "__file__", None)
        if path:
            with open(path, "rb") as f:
                h.update(f.read())
    return h.hexdigest()
