"""A persistent cache of compiled block code, so a second boot starts warm.

Translating a block (decode, IR, optimiser, code generation, compile())
costs about a millisecond in Python. The translator stores each block's
compiled code under a digest of where it is (virtual and physical pc, flags)
with a digest of the guest bytes it came from, checked on every hit, so a
warm run skips all of that work (`get_blob`/`put_blob`); native code is kept
the same way. `compile()` below caches by a digest of the generated source,
for code generators that have no cheaper key.

It is an SQLite database (standard library; safe with several pemu processes
at once, and a lookup reads one row instead of loading the whole cache) in
$XDG_CACHE_HOME/pemu (or ~/.cache/pemu), one file per Python version and
code-generator fingerprint (a digest of the translator's own source), so a
changed translator starts a fresh file and stale ones are removed. Rows
carry a last-used time; past MAX_ENTRIES the least recently used go.
PEMU_TB_CACHE=off disables it, PEMU_TB_CACHE=DIR moves it. Any failure of
the cache only makes translation slower, never wrong.
"""
from __future__ import annotations

import atexit
import glob
import hashlib
import marshal
import os
import sqlite3
import sys
import time
from types import CodeType

FORMAT = 2
MAX_ENTRIES = 120_000  # a Linux boot to a shell keeps about 35k (Python and native code)
FLUSH_EVERY = 2_000  # new entries kept in memory before they are written


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
        name = f"{self.prefix}-{fingerprint}.sqlite" if fingerprint else f"{self.prefix}.sqlite"
        self.path = os.path.join(self.dir, name) if self.dir else None
        self._db: sqlite3.Connection | None = None
        self._pid = os.getpid()
        self._failed = self.path is None
        self._new: dict[bytes, bytes] = {}
        self._used: set[bytes] = set()
        self.hits = self.misses = 0
        if self.path:
            atexit.register(self.save)

    def _conn(self) -> sqlite3.Connection | None:
        if self._db is not None and self._pid != os.getpid():
            # a forked child (user-mode fork) must not share the parent's
            # connection: open its own
            self._db = None
            self._new, self._used = {}, set()
        if self._db is None and not self._failed:
            try:
                os.makedirs(self.dir, exist_ok=True)  # type: ignore[arg-type]
                fresh = not os.path.exists(self.path)  # type: ignore[arg-type]
                db = sqlite3.connect(self.path, timeout=5, isolation_level=None)  # type: ignore[arg-type]
                db.execute("PRAGMA journal_mode=WAL")
                db.execute("PRAGMA synchronous=OFF")
                db.execute("CREATE TABLE IF NOT EXISTS tb (key BLOB PRIMARY KEY, code BLOB, "
                           "used INTEGER)")
                self._db = db
                self._pid = os.getpid()
                if fresh:
                    self._remove_stale_files()
            except (sqlite3.Error, OSError):
                self._failed = True
        return self._db

    def _remove_stale_files(self) -> None:
        for old in glob.glob(os.path.join(self.dir, self.prefix + "-*")):  # type: ignore[arg-type]
            if not old.startswith(self.path):  # type: ignore[arg-type]
                try:
                    os.unlink(old)
                except OSError:
                    pass

    def compile(self, source: str, filename: str) -> CodeType:
        """compile(source), or the cached code object for identical source."""
        db = self._conn()
        if db is None:
            return compile(source, filename, "exec")
        key = hashlib.blake2b(source.encode(), digest_size=16).digest()
        blob = self._new.get(key)
        if blob is None:
            try:
                row = db.execute("SELECT code FROM tb WHERE key = ?", (key,)).fetchone()
                blob = row[0] if row else None
            except sqlite3.Error:
                blob = None
        if blob is not None:
            try:
                code = marshal.loads(blob)
                self.hits += 1
                self._used.add(key)
                return code
            except (EOFError, ValueError, TypeError):
                pass
        self.misses += 1
        code = compile(source, filename, "exec")
        self._new[key] = marshal.dumps(code)
        if len(self._new) >= FLUSH_EVERY:
            self.save()
        return code

    def get_blob(self, key: bytes) -> bytes | None:
        """A value stored with put_blob (None: not cached, or the cache is off)."""
        blob = self._new.get(key)
        if blob is not None:
            return blob
        db = self._conn()
        if db is None:
            return None
        try:
            row = db.execute("SELECT code FROM tb WHERE key = ?", (key,)).fetchone()
        except sqlite3.Error:
            return None
        if row is None:
            return None
        self._used.add(key)
        return row[0]

    def put_blob(self, key: bytes, blob: bytes) -> None:
        if self._conn() is None:
            return
        self._new[key] = blob
        if len(self._new) >= FLUSH_EVERY:
            self.save()

    def save(self) -> None:
        """Write new entries and last-used times; trim to MAX_ENTRIES."""
        db = self._conn() if self._db is not None else None
        if db is None or (not self._new and not self._used):
            return
        now = int(time.time())
        try:
            db.execute("BEGIN")
            db.executemany("INSERT OR REPLACE INTO tb VALUES (?, ?, ?)",
                           [(k, v, now) for k, v in self._new.items()])
            db.executemany("UPDATE tb SET used = ? WHERE key = ?",
                           [(now, k) for k in self._used])
            (count,) = db.execute("SELECT COUNT(*) FROM tb").fetchone()
            if count > MAX_ENTRIES:
                db.execute("DELETE FROM tb WHERE key IN (SELECT key FROM tb ORDER BY used "
                           "LIMIT ?)", (count - MAX_ENTRIES,))
            db.execute("COMMIT")
        except sqlite3.Error:
            try:
                db.execute("ROLLBACK")
            except sqlite3.Error:
                pass
        self._new = {}
        self._used = set()


def fingerprint(*modules: object) -> str:
    """A short digest of the source files of the modules that generate code."""
    h = hashlib.blake2b(digest_size=6)
    for mod in modules:
        path = getattr(mod, "__file__", None)
        if path:
            with open(path, "rb") as f:
                h.update(f.read())
    return h.hexdigest()
