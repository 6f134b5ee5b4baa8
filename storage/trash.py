"""Deleted items kept whole so an operator can restore them (SPEC R8)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from tinydb import Query
from tinydb.table import Table

from storage.locking import file_lock
from storage.tinystore import open_db

LOCK_TIMEOUT = 10.0


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


class Trash:
    """Writes go straight to disk: an entry must be durable before the delete it guards.

    Each write re-reads the file under its own lock (not the user's state lock), so
    an operator restoring from the TUI cannot lose an entry a running sync just added.
    """

    def __init__(self, path: Path) -> None:
        self.path = path

    @contextmanager
    def _writing(self) -> Iterator[Table]:
        with file_lock(self.path, f"trash {self.path}", LOCK_TIMEOUT):
            yield open_db(self.path).table("trash")

    def _reading(self) -> Table | None:
        if not self.path.exists():
            return None
        return open_db(self.path).table("trash")

    def put(
        self,
        *,
        side: str,
        item_id: str,
        item: dict[str, Any],
        reason: str,
        run: str = "",
        extra: dict[str, Any] | None = None,
    ) -> str:
        """`extra`: more of the item ("raw": its stored text; "source": the other
        side's item whose deletion this one follows)."""
        entry = _entry(side, item_id, item, reason, run, extra)
        with self._writing() as table:
            table.insert(entry)
        return str(entry["id"])

    def put_pending(
        self,
        *,
        side: str,
        item_id: str,
        item: dict[str, Any],
        reason: str,
        run: str = "",
        extra: dict[str, Any] | None = None,
    ) -> tuple[str, bool]:
        """The entry guarding a delete about to be sent: (entry id, made now).

        It stays `pending` until `settle` (the delete is known done) or `discard`
        (known not done). A pending entry for the same item (a delete whose reply was
        lost, or a run killed mid-delete) is reused, so one item never has two entries.
        `extra` as for `put`.
        """
        with self._writing() as table:
            q = Query()
            found = table.get(
                (q.side == side)
                & (q.item_id == item_id)
                & (q.pending == True)  # noqa: E712 - a TinyDB query, not a comparison
                & (q.restored_at == None)  # noqa: E711
            )
            if isinstance(found, dict):
                return str(found["id"]), False
            entry = {**_entry(side, item_id, item, reason, run, extra), "pending": True}
            table.insert(entry)
        return str(entry["id"]), True

    def pending(self) -> list[dict[str, Any]]:
        """Entries whose delete's outcome is not known yet (see `put_pending`)."""
        try:
            raw = self.path.read_bytes()
        except FileNotFoundError:
            return []
        except OSError:
            raw = b'"pending":true'  # let the parse below report it by name
        if b'"pending":true' not in raw and b'"pending": true' not in raw:
            return []  # every run asks: most of the time the answer is in the raw bytes
        table = self._reading()
        if table is None:
            return []
        return [dict(d) for d in table.search(Query().pending == True)]  # noqa: E712

    def settle(self, entry_ids: list[str]) -> None:
        """The deletes these entries guard are done: they are ordinary entries now."""
        if not entry_ids:
            return
        with self._writing() as table:
            table.update({"pending": False}, Query().id.one_of(entry_ids))

    def entries(self, *, include_restored: bool = False) -> list[dict[str, Any]]:
        table = self._reading()
        if table is None:
            return []
        # newest first; within one second (a stamp's precision) the later written first
        docs = sorted(
            table.all(), key=lambda d: (str(d.get("deleted_at", "")), d.doc_id), reverse=True
        )
        rows = [dict(d) for d in docs]
        if not include_restored:
            rows = [r for r in rows if not r.get("restored_at")]
        return rows

    def get(self, entry_id: str) -> dict[str, Any] | None:
        table = self._reading()
        if table is None:
            return None
        found = table.get(Query().id == entry_id)
        return dict(found) if isinstance(found, dict) else None

    def discard(self, entry_id: str | list[str]) -> None:
        """Forget entries whose delete did not happen after all (e.g. etag conflict)."""
        ids = [entry_id] if isinstance(entry_id, str) else entry_id
        if not ids:
            return
        with self._writing() as table:
            table.remove(Query().id.one_of(ids))

    def mark_restored(self, entry_id: str) -> bool:
        """Stamp the entry restored; False if there is no such entry."""
        with self._writing() as table:
            return bool(table.update({"restored_at": _now()}, Query().id == entry_id))

    def purge_before(self, cutoff: datetime) -> int:
        if not self.path.exists():
            return 0
        stamp = cutoff.astimezone(UTC).isoformat(timespec="seconds")
        with self._writing() as table:
            return len(table.remove(Query().deleted_at < stamp))


def _entry(
    side: str,
    item_id: str,
    item: dict[str, Any],
    reason: str,
    run: str,
    extra: dict[str, Any] | None,
) -> dict[str, Any]:
    """A new trash entry: the deleted item and where, why and when it went."""
    return {
        **(extra or {}),
        "id": uuid.uuid4().hex[:12],
        "deleted_at": _now(),
        "side": side,
        "item_id": item_id,
        "item": item,
        "reason": reason,
        "run": run,
        "restored_at": None,
    }
