"""Deleted items kept whole so an operator can restore them (SPEC R8)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from tinydb import Query

from storage.tinystore import open_db


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


class Trash:
    """Writes go straight to disk: an entry must be durable before the delete it guards."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def put(
        self, *, side: str, item_id: str, item: dict[str, Any], reason: str, run: str = ""
    ) -> str:
        entry_id = uuid.uuid4().hex[:12]
        open_db(self.path).table("trash").insert(
            {
                "id": entry_id,
                "deleted_at": _now(),
                "side": side,
                "item_id": item_id,
                "item": item,
                "reason": reason,
                "run": run,
                "restored_at": None,
            }
        )
        return entry_id

    def entries(self, *, include_restored: bool = False) -> list[dict[str, Any]]:
        if not self.path.exists():
            return []
        rows = [dict(d) for d in open_db(self.path).table("trash").all()]
        if not include_restored:
            rows = [r for r in rows if not r.get("restored_at")]
        return sorted(rows, key=lambda r: str(r["deleted_at"]), reverse=True)

    def get(self, entry_id: str) -> dict[str, Any] | None:
        if not self.path.exists():
            return None
        found = open_db(self.path).table("trash").get(Query().id == entry_id)
        return dict(found) if found else None

    def mark_restored(self, entry_id: str) -> None:
        open_db(self.path).table("trash").update({"restored_at": _now()}, Query().id == entry_id)

    def purge_before(self, cutoff: datetime) -> int:
        if not self.path.exists():
            return 0
        stamp = cutoff.isoformat(timespec="seconds")
        return len(open_db(self.path).table("trash").remove(Query().deleted_at < stamp))
