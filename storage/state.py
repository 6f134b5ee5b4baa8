"""Per-user sync state: pairings, provider caches, calendar identity, runs.

The engine works on the pairings in memory and writes them back in one atomic
replace per `flush()`; it flushes in batches and at the end of a run. A crash in
between is safe because pairing is by UID: the next run re-pairs what it finds.

The run records live in a small file of their own (runs.json), so a run that changed
no pairing and no provider cache records itself without rewriting state.json, which
holds a copy of every synced item (megabytes for a 5,000-item calendar). State files
from before the split keep their runs until the next rewrite moves them.
"""

from __future__ import annotations

import json
import marshal
import os
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from storage.atomic import ensure_dir
from storage.changelog import ChangeLog
from storage.errors import StoreCorrupt
from storage.pairstore import (
    INDEX_TABLE,
    MISSING,
    PAIRS_TABLE,
    pairs_digest,
    read_pairs,
    write_pairs,
)
from storage.run_history import RunHistory
from storage.tinystore import META_TABLE, AtomicJSONStorage
from storage.trash import Trash
from storage.workspace import Workspace

#: 2: the pairings live in pairs.json (storage/pairstore.py); calsync before it,
#: which would read such a file as one without pairings, refuses it as too new
STATE_SCHEMA = 2
DEFAULT_LOCK_TIMEOUT = 5.0


class _Pairs(dict[str, dict[str, Any]]):
    """The pairings; remembers whether any was added, replaced or removed.

    Callers replace a pairing whole (`pairs[key] = pair.to_json()`), never edit one in
    place, so watching the mapping's own mutators is enough.
    """

    changed = False

    def __setitem__(self, key: str, value: dict[str, Any]) -> None:
        self.changed = True
        super().__setitem__(key, value)

    def __delitem__(self, key: str) -> None:
        self.changed = True
        super().__delitem__(key)

    def pop(self, key: str, *default: Any) -> Any:
        if key in self:
            self.changed = True
        return super().pop(key, *default)

    def popitem(self) -> tuple[str, dict[str, Any]]:
        self.changed = True
        return super().popitem()

    def clear(self) -> None:
        self.changed = self.changed or bool(self)
        super().clear()

    def update(self, *args: Any, **kwargs: Any) -> None:
        self.changed = True
        super().update(*args, **kwargs)

    def setdefault(self, key: str, default: Any = None) -> Any:
        if key not in self:
            self.changed = True
        return super().setdefault(key, default)


def _snapshot(value: dict[str, Any]) -> Any:
    """What `value` (JSON data) is now, to tell at flush whether it changed.

    The provider caches are edited in place, so a change is seen by comparing with
    what they were at load. That is their marshal bytes (format 0, which writes equal
    data the same way every time: no references, no interning): making the bytes
    costs ~4 ms for the 2.7 MB of caches of 50 year-long series, where a decoded copy
    cost ~20 ms more (issue 21.10). Anything marshal refuses (not JSON data) falls
    back to the serialised text.
    """
    try:
        return marshal.dumps(value, 0)
    except ValueError:
        return _blob(value)


def _same(value: dict[str, Any], snapshot: Any) -> bool:
    if isinstance(snapshot, str):
        return _blob(value) == snapshot
    try:
        if marshal.dumps(value, 0) == snapshot:
            return True  # the same bytes decode to the same data
    except ValueError:
        return False
    # different bytes may still be equal data (a dict in another order); and `==`
    # takes 1, 1.0 and True as equal, which JSON writes differently; a cache value
    # that changed only so is read back equal, so not rewriting it loses nothing
    try:
        return bool(value == marshal.loads(snapshot))
    except RecursionError:
        return False


def _blob(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


class UserState:
    """One user's state file (and its runs and pairs files), loaded into memory.

    The pairings are read from pairs.json on first use (`pairs`); a run that sees
    from `pairs_digest` that nothing changed never reads them (storage/pairstore.py).
    """

    def __init__(self, path: Path, *, writable: bool) -> None:
        self.path = path
        self.writable = writable
        self._storage = AtomicJSONStorage(str(path), autoflush=False, newest=STATE_SCHEMA)
        data = self._storage.read() or {}
        self.meta: dict[str, Any] = dict(data.get("meta", {}).get("1", {}))
        # provider caches are edited in place: compare with a copy to see a change
        self._meta_at_load = _snapshot(self.meta)
        # a state file from before pairs.json holds its pairings itself (schema 1)
        self._legacy_pairs: dict[str, Any] | None = data.get(PAIRS_TABLE)
        index = data.get(INDEX_TABLE, {}).get("1", {})
        self._index: dict[str, Any] = {} if self._legacy_pairs is not None else dict(index)
        self._pairs: dict[str, dict[str, Any]] | None = None
        if self._legacy_pairs is None and self._index.get("count") and not self.pairs_path.exists():
            raise StoreCorrupt(self.pairs_path, MISSING)
        # the run history is a record, not sync state: a power loss that brings back
        # the previous runs.json or last-run.json (their bytes are fsynced, never torn)
        # makes `status` show the run before, and the back-off count one lower: the next
        # run records itself again. Their folder's fsync is left out; it is kept when
        # runs move out of a legacy state file (below). runs.json itself is read only
        # when needed (storage/run_history.py).
        self._legacy_runs = "runs" in data
        self.history = RunHistory(self.runs_path, legacy=data if self._legacy_runs else None)
        if not writable:
            self.history.load()  # a snapshot for display: unreadable records said now

    @property
    def pairs_path(self) -> Path:
        return self.path.with_name("pairs.json")

    @property
    def pairs(self) -> dict[str, dict[str, Any]]:
        """The pairings by key, read on first use; StoreCorrupt if pairs.json is."""
        if self._pairs is None:
            if self._legacy_pairs is not None:
                stored = self._legacy_pairs.values()
                self._pairs = _Pairs((str(p["key"]), p) for p in stored if "key" in p)
            elif self._index.get("count"):
                self._pairs = _Pairs(read_pairs(self.pairs_path))
            else:
                self._pairs = _Pairs()
        return self._pairs

    @pairs.setter
    def pairs(self, value: dict[str, dict[str, Any]]) -> None:
        self._pairs = value  # a plain dict: flush rewrites it, the safe answer

    @property
    def pairs_count(self) -> int:
        """How many pairings there are, without reading them where state.json says."""
        if self._pairs is None and self._legacy_pairs is None:
            return int(self._index.get("count", 0))
        return len(self.pairs)

    @property
    def pairs_digest(self) -> str | None:
        """`pairstore.listings_digest` of listings showing exactly the pairings as synced
        (None where none can, or where it is not known without reading them)."""
        if self._pairs is None and self._legacy_pairs is None:
            if not self._index.get("count"):
                return pairs_digest(())
            digest = self._index.get("digest")
            return str(digest) if digest is not None else None
        return pairs_digest(self.pairs.values())

    def _pairs_changed(self) -> bool:
        pairs = self._pairs
        # a caller that swapped in a plain dict gets the safe answer: changed
        return pairs is not None and (not isinstance(pairs, _Pairs) or pairs.changed)

    @property
    def runs_path(self) -> Path:
        return self.path.with_name("runs.json")

    # -- meta ---------------------------------------------------------------------------

    @property
    def initialized(self) -> bool:
        return bool(self.meta.get("initialized_at"))

    @property
    def identity(self) -> str | None:
        value = self.meta.get("identity")
        return str(value) if value is not None else None

    def cache(self, side: str) -> dict[str, Any]:
        """The provider-owned cache of one side ("crm" or "remote"), mutable in place."""
        caches = self.meta.setdefault("caches", {})
        cache = caches.setdefault(side, {})
        assert isinstance(cache, dict)
        return cache

    def reset_pairs(self) -> None:
        self._pairs = _Pairs()
        self._pairs.changed = True
        self.meta.pop("caches", None)

    @property
    def runs(self) -> list[dict[str, Any]]:
        """The run records, oldest first (a copy: record runs with the methods)."""
        return self.history.runs

    def add_run(self, run: dict[str, Any], *, replaceable: bool = False) -> None:
        """A new record; `replaceable`: a quiet run a later one may replace."""
        self.history.add(run, replaceable=replaceable)

    def replace_last_run(self, run: dict[str, Any]) -> None:
        """Put `run` in the newest record's place (sync/engine/record.py `coalesced`)."""
        self.history.replace_last(run)

    @property
    def last_run(self) -> dict[str, Any] | None:
        return self.history.last

    # -- persistence ----------------------------------------------------------------------

    def flush(self) -> None:
        if not self.writable:
            raise RuntimeError("state opened read-only")
        pairs_changed = self._pairs_changed() or self._legacy_pairs is not None
        index = self._index
        if self._pairs is not None or self._legacy_pairs is not None:
            # recomputed whenever they were read: a digest left stale by a crash
            # between the two files' writes is put right by the next run that reads them
            index = {"count": len(self.pairs), "digest": pairs_digest(self.pairs.values())}
        if (
            pairs_changed
            or index != self._index
            or not _same(self.meta, self._meta_at_load)
            or self._legacy_runs
            or not self.path.exists()
        ):
            if pairs_changed:
                # pairs.json first, durably: state.json's digest must never name
                # pairings that are not on the disk (storage/pairstore.py)
                write_pairs(self.pairs_path, self.pairs.values())
            data = dict(self._storage.read() or {})
            data.pop(PAIRS_TABLE, None)  # they live in pairs.json now
            data.pop("runs", None)  # they live in runs.json now
            data[META_TABLE] = {"1": {"schema": STATE_SCHEMA}}
            data["meta"] = {"1": self.meta}
            data[INDEX_TABLE] = {"1": index}
            # runs.json first, durably: a crash in between must not lose the runs moved out
            if self._legacy_runs:
                self.history.load()
            self.history.write(sync_dir=self._legacy_runs)
            self._storage.write(data)
            self._storage.flush()
            self._meta_at_load = _snapshot(self.meta)
            self._legacy_runs = False
            self._legacy_pairs = None
            self._index = index
            if isinstance(self._pairs, _Pairs):
                self._pairs.changed = False
        else:
            self._write_runs()

    def flush_runs(self) -> None:
        """Save the run history only: after a failure, the pairs and caches in memory
        may name writes that never reached the disk, so they are not saved."""
        if not self.writable:
            raise RuntimeError("state opened read-only")
        self._write_runs()

    def _write_runs(self) -> None:
        self.history.write()


class UserFiles:
    """Entry point to one user's files: state (locked for writing), log and trash."""

    def __init__(self, workspace: Workspace, name: str) -> None:
        self.workspace = workspace
        self.name = name
        self.dir = workspace.user_dir(name)

    @property
    def state_path(self) -> Path:
        return self.dir / "state.json"

    def read_state(self) -> UserState:
        """A snapshot for display; never written."""
        return UserState(self.state_path, writable=False)

    @contextmanager
    def open_state(self, timeout: float = DEFAULT_LOCK_TIMEOUT) -> Iterator[UserState]:
        """Lock the user, load the state, flush it on normal exit. StoreBusy if locked."""
        with self.workspace.lock(self.state_path, f"user {self.name}", timeout):
            state = UserState(self.state_path, writable=True)
            yield state
            state.flush()

    @contextmanager
    def locked(self, timeout: float = DEFAULT_LOCK_TIMEOUT) -> Iterator[None]:
        with self.workspace.lock(self.state_path, f"user {self.name}", timeout):
            yield

    @property
    def log(self) -> ChangeLog:
        return ChangeLog(self.dir / "log")

    @property
    def trash(self) -> Trash:
        return Trash(self.dir / "trash.json")

    def archive(self) -> Path | None:
        """Move the user's folder to WORKSPACE/removed/NAME-STAMP; None if it had none.

        Call it holding `locked()`, so no sync is writing into the folder meanwhile.
        """
        if not self.dir.exists():
            return None
        ensure_dir(self.workspace.removed_dir)
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
        dest = self.workspace.removed_dir / f"{self.name}-{stamp}"
        n = 1
        while dest.exists():  # removed twice in one second
            n += 1
            dest = self.workspace.removed_dir / f"{self.name}-{stamp}-{n}"
        os.rename(self.dir, dest)
        return dest

    def unarchive(self, archived: Path) -> None:
        """Undo `archive` (used when removing the user's record then fails)."""
        ensure_dir(self.dir.parent)
        os.rename(archived, self.dir)

    def remove_all(self) -> None:
        if self.dir.exists():
            shutil.rmtree(self.dir)
