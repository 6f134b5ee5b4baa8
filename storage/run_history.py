"""A user's run records: runs.json, and the newest quiet record in last-run.json.

A fleet synced every 10 minutes records 144 runs a day per user, almost all of them
quiet (ok, nothing written: sync/engine/record.py), and consecutive quiet runs share one
record that each run replaces. Kept in runs.json, that replacement re-read, re-encoded
and fsynced the whole history (200 records, 57 KB) on every run: ~5 ms of a no-change
user's ~9 ms in `sync --all` (issue 17). So a record that later runs may replace (the
tail) lives in last-run.json, a few hundred bytes, and runs.json is read and written
only when a record of its own is added — a change, a failure, an operator's run — or
an old quiet record must be replaced.

Reading: the history, then the tail (once, should runs.json hold it too). Writing:
last-run.json first (the new tail, or removed), then runs.json (with the previous tail
folded in): the tail is always the newest record, and a kill in between loses the
newest records, never orders them wrongly — the next run records itself again, as after
a kill before runs.json's write. Both files' bytes are fsynced before their rename
(never torn); their folder is not (a power loss may bring back the previous record, as
it may for runs.json alone).
"""

from __future__ import annotations

import contextlib
from pathlib import Path
from typing import Any

from storage.tinystore import (
    AtomicJSONStorage,
    check_tables,
    open_db,
    read_json_file,
    write_json_file,
)

MAX_RUNS_KEPT = 200
TAIL_TABLE = "run"


def _by_start(runs: Any) -> list[dict[str, Any]]:
    return sorted((r for r in runs if isinstance(r, dict)), key=lambda r: str(r.get("started", "")))


def read_tail(path: Path) -> dict[str, Any] | None:
    """The record in last-run.json, or None; StoreCorrupt if unreadable."""
    data = read_json_file(path)
    if data is None:
        return None
    check_tables(path, data)
    record = data.get(TAIL_TABLE, {}).get("1")
    return record if isinstance(record, dict) else None


class RunHistory:
    """The records of one user, oldest first; runs.json read only when needed."""

    def __init__(self, runs_path: Path, *, legacy: dict[str, Any] | None = None) -> None:
        self.runs_path = runs_path
        self.tail_path = runs_path.with_name("last-run.json")
        self._tail = read_tail(self.tail_path)
        self._tail_dirty = False
        #: runs still inside a state file from before runs.json: moved out on write
        self._legacy = legacy
        self._storage: AtomicJSONStorage | None = None
        self._history: list[dict[str, Any]] | None = None

    @property
    def paths(self) -> tuple[Path, Path]:
        return self.runs_path, self.tail_path

    def load(self) -> list[dict[str, Any]]:
        """The history without the tail (read from runs.json on first use)."""
        if self._history is None:
            storage = open_db(self.runs_path, autoflush=False).storage
            assert isinstance(storage, AtomicJSONStorage)
            storage.sync_dir = False
            self._storage = storage
            data = storage.read()
            source = data if data is not None else (self._legacy or {})
            history = _by_start(source.get("runs", {}).values())
            if self._tail is not None and any(r.get("id") == self._tail.get("id") for r in history):
                self._tail, self._tail_dirty = None, True  # folded in before a crash
            self._history = history
        return self._history

    @property
    def runs(self) -> list[dict[str, Any]]:
        """Every record, oldest first (a copy: change them through the methods)."""
        history = self.load()
        return [*history, self._tail] if self._tail is not None else list(history)

    @property
    def last(self) -> dict[str, Any] | None:
        if self._tail is not None:
            return self._tail
        history = self.load()
        return history[-1] if history else None

    def add(self, run: dict[str, Any], *, replaceable: bool = False) -> None:
        """A new record; `replaceable` (a quiet run) goes into last-run.json."""
        history = self.load()
        if self._tail is not None:
            history.append(self._tail)
        self._tail, self._tail_dirty = (run if replaceable else None), True
        if not replaceable:
            history.append(run)
        del history[: -MAX_RUNS_KEPT + (1 if replaceable else 0)]

    def replace_last(self, run: dict[str, Any]) -> None:
        """`run` in the newest record's place, kept in last-run.json from now on."""
        if self._tail is None:
            history = self.load()
            if history:
                history.pop()
        self._tail, self._tail_dirty = run, True

    def write(self, *, sync_dir: bool = False) -> None:
        """Write what changed: last-run.json first, then runs.json (always when it was
        read: a record may have been marked in place, `sync.health.clear`)."""
        if self._tail_dirty:
            if self._tail is None:
                with contextlib.suppress(FileNotFoundError):
                    self.tail_path.unlink()
            else:
                data = {"_meta": {"1": {"schema": 1}}, TAIL_TABLE: {"1": self._tail}}
                write_json_file(self.tail_path, data, sync_dir=False)
            self._tail_dirty = False
        if self._history is not None:
            assert self._storage is not None
            self._storage.sync_dir = sync_dir
            self._storage.write({"runs": {str(i): r for i, r in enumerate(self._history, 1)}})
            self._storage.flush()
            self._storage.sync_dir = False
