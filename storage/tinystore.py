"""TinyDB on top of atomic, cached, schema-versioned JSON files.

TinyDB's own JSONStorage truncates and rewrites the file in place, so a crash
mid-write leaves half a file. This storage keeps the document in memory, writes
only on `flush()` (batched per run) through `atomic_write`, refuses to open a
corrupt file instead of resetting it, and stamps a schema version.
"""

from __future__ import annotations

import gc
import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from tinydb import TinyDB
from tinydb.storages import Storage

from storage.atomic import atomic_write
from storage.errors import StoreCorrupt, StoreTooNew

SCHEMA_VERSION = 1
META_TABLE = "_meta"


_gc_lock = threading.Lock()
_gc_pauses = 0
_gc_was_enabled = True


@contextmanager
def gc_paused() -> Iterator[None]:
    """No cyclic garbage collection while a large JSON document is decoded.

    Decoding allocates one container per object, and the collector runs again and
    again over the growing result, which cannot hold a cycle: a 21 MB state file
    (18,300 pairs) decoded in 0.69 s with it and 0.23 s without (issue 21.10).
    Counted, so threads of `sync --all` pausing at once leave it as they found it.
    """
    global _gc_pauses, _gc_was_enabled
    with _gc_lock:
        if _gc_pauses == 0:
            _gc_was_enabled = gc.isenabled()
            gc.disable()
        _gc_pauses += 1
    try:
        yield
    finally:
        with _gc_lock:
            _gc_pauses -= 1
            if _gc_pauses == 0 and _gc_was_enabled:
                gc.enable()


#: per thread, inside `reusing_decodes`: path -> (the bytes last read or written, their
#: data, its schema version once `check_tables` passed it) or None
_decoded = threading.local()


@contextmanager
def reusing_decodes(*paths: Path) -> Iterator[None]:
    """Inside this block, on this thread, a file of `paths` whose bytes are the ones
    last read or written here is not decoded again: the same data is handed back.

    For a small file read several times around one write, such as a user's
    runs.json within one user's run of `sync --all` (the health check before, the
    run's own load, the health check after): the 200 records a user keeps (57 KB)
    take 0.8-1 ms to decode, each time (issue 17). The bytes are read and
    compared every time, so a file another process replaced meanwhile is decoded
    afresh. The data is shared: readers of these paths must not edit it in place.
    """
    outer = getattr(_decoded, "files", None)
    _decoded.files = {**(outer or {}), **dict.fromkeys(paths)}
    try:
        yield
    finally:
        _decoded.files = outer


def _remember(path: Path, raw: bytes, data: dict[str, Any], version: int | None = None) -> None:
    files: dict[Path, Any] | None = getattr(_decoded, "files", None)
    if files is not None and path in files:
        files[path] = (raw, data, version)


def _known(path: Path) -> tuple[bytes, dict[str, Any], int | None] | None:
    """What `reusing_decodes` holds for `path` on this thread: (bytes, data, the
    schema version once checked), or None."""
    files: dict[Path, Any] | None = getattr(_decoded, "files", None)
    return files.get(path) if files is not None else None


def read_json_file(path: Path) -> dict[str, Any] | None:
    """The file's JSON object, None if absent; StoreCorrupt if unreadable."""
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise StoreCorrupt(path, exc.strerror or str(exc)) from exc
    known = _known(path)
    if known is not None and known[0] == raw:
        data: dict[str, Any] = known[1]
        return data
    try:
        with gc_paused():
            data = json.loads(raw)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise StoreCorrupt(path, f"not valid JSON: {exc}") from exc
    if not isinstance(data, dict):
        raise StoreCorrupt(path, "not a JSON object")
    _remember(path, raw, data)
    return data


def write_json_file(path: Path, data: dict[str, Any], *, sync_dir: bool = True) -> None:
    """Replace `path` with `data` as compact JSON (`atomic_write`: never torn)."""
    blob = json.dumps(data, ensure_ascii=False, separators=(",", ":")).encode()
    atomic_write(path, blob, sync_dir=sync_dir)
    _remember(path, blob, data)


def check_tables(path: Path, data: dict[str, Any], *, newest: int = SCHEMA_VERSION) -> int:
    """Check the TinyDB shape ({table: {id: document}}) and return the schema version
    (StoreTooNew above `newest`, the newest this calsync reads for that file).

    A file that parses as JSON but has the wrong shape is as corrupt as one that
    does not parse: TinyDB would crash on it, or worse, write it back mangled.
    """
    known = _known(path)
    if known is not None and known[1] is data and known[2] is not None:
        return known[2]  # handed back unchanged by `reusing_decodes`: checked already
    for table, docs in data.items():
        if not isinstance(docs, dict):
            raise StoreCorrupt(path, f"table {table!r} is not a JSON object")
        for doc_id, doc in docs.items():
            if not isinstance(doc, dict):
                raise StoreCorrupt(path, f"record {table}/{doc_id} is not a JSON object")
    meta = data.get(META_TABLE, {}).get("1", {})
    version = meta.get("schema", SCHEMA_VERSION)
    if isinstance(version, bool) or not isinstance(version, int) or version < 1:
        raise StoreCorrupt(path, f"bad schema version {version!r}")
    if version > newest:
        raise StoreTooNew(path, version)
    if known is not None and known[1] is data:
        _remember(path, known[0], data, version)
    return version


class AtomicJSONStorage(Storage):  # type: ignore[misc]
    def __init__(self, path: str, autoflush: bool = True, *, newest: int = SCHEMA_VERSION) -> None:
        self.path = Path(path)
        self.autoflush = autoflush
        self.dirty = False
        #: False: a crash may bring back the previous version (`atomic_write`)
        self.sync_dir = True
        data = read_json_file(self.path)
        if data is not None:
            check_tables(self.path, data, newest=newest)
        self._data: dict[str, Any] | None = data

    def read(self) -> dict[str, Any] | None:
        return self._data

    def write(self, data: dict[str, Any]) -> None:
        data.setdefault(META_TABLE, {"1": {"schema": SCHEMA_VERSION}})
        self._data = data
        self.dirty = True
        if self.autoflush:
            self.flush()

    def flush(self) -> None:
        if self.dirty and self._data is not None:
            write_json_file(self.path, self._data, sync_dir=self.sync_dir)
            self.dirty = False

    def close(self) -> None:
        self.flush()


def open_db(path: Path, *, autoflush: bool = True) -> TinyDB:
    """A TinyDB over `path`. With autoflush off, call `flush_db` to persist."""
    return TinyDB(str(path), storage=AtomicJSONStorage, autoflush=autoflush)


def flush_db(db: TinyDB) -> None:
    storage = db.storage
    assert isinstance(storage, AtomicJSONStorage)
    storage.flush()
