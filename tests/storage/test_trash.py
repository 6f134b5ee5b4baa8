"""The trash keeps deleted items whole until they are restored or purged."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from storage.errors import StoreBusy
from storage.locking import file_lock
from storage.trash import Trash

ITEM = {"uid": "u1", "subject": "Fair 🎪", "text": "x" * 1000}


def test_put_get_and_list(tmp_path: Path) -> None:
    trash = Trash(tmp_path / "trash.json")
    assert trash.entries() == []
    assert trash.get("missing") is None
    first = trash.put(
        side="remote", item_id="r1", item=ITEM, reason="deleted in remote", run="run1"
    )
    second = trash.put(side="crm", item_id="c1", item={"uid": "u2"}, reason="deleted in CRM")
    assert first != second
    entry = trash.get(first)
    assert entry is not None
    assert entry["item"] == ITEM
    assert entry["side"] == "remote"
    assert entry["item_id"] == "r1"
    assert entry["reason"] == "deleted in remote"
    assert entry["run"] == "run1"
    assert entry["restored_at"] is None
    assert datetime.fromisoformat(entry["deleted_at"]).tzinfo is not None
    assert {e["id"] for e in trash.entries()} == {first, second}


def test_restored_entries_are_marked_and_hidden_by_default(tmp_path: Path) -> None:
    trash = Trash(tmp_path / "trash.json")
    kept = trash.put(side="remote", item_id="r1", item=ITEM, reason="r")
    restored = trash.put(side="remote", item_id="r2", item=ITEM, reason="r")
    assert trash.mark_restored(restored) is True
    assert trash.mark_restored("no-such-entry") is False
    assert [e["id"] for e in trash.entries()] == [kept]
    everything = {e["id"]: e for e in trash.entries(include_restored=True)}
    assert set(everything) == {kept, restored}
    assert everything[restored]["restored_at"] is not None
    assert everything[kept]["restored_at"] is None
    # the item itself stays, so a restored entry can be looked at again
    again = trash.get(restored)
    assert again is not None
    assert again["item"] == ITEM


def test_entries_survive_a_new_trash_object(tmp_path: Path) -> None:
    path = tmp_path / "trash.json"
    entry_id = Trash(path).put(side="crm", item_id="c1", item=ITEM, reason="r")
    assert Trash(path).get(entry_id) is not None
    assert json.loads(path.read_text())["trash"]


def test_purge_before(tmp_path: Path) -> None:
    trash = Trash(tmp_path / "trash.json")
    old = trash.put(side="crm", item_id="c1", item=ITEM, reason="r")
    trash.put(side="crm", item_id="c2", item=ITEM, reason="r")
    data = json.loads(trash.path.read_text())
    for doc in data["trash"].values():
        if doc["id"] == old:
            doc["deleted_at"] = "2020-01-01T00:00:00+00:00"
    trash.path.write_text(json.dumps(data))
    assert trash.purge_before(datetime.now(UTC) - timedelta(days=1)) == 1
    assert trash.get(old) is None
    assert len(trash.entries()) == 1


def test_write_while_locked_elsewhere_is_store_busy(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("storage.trash.LOCK_TIMEOUT", 0.05)
    trash = Trash(tmp_path / "trash.json")
    with file_lock(trash.path, "held", 1.0), pytest.raises(StoreBusy, match="trash"):
        trash.put(side="crm", item_id="c1", item=ITEM, reason="r")
    assert not trash.path.exists()
