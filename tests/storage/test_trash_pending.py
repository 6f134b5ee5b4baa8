"""Pending trash entries: one per item until its delete's outcome is known."""

from __future__ import annotations

from pathlib import Path

from storage.trash import Trash


def _put(trash: Trash, item_id: str = "a.ics") -> tuple[str, bool]:
    return trash.put_pending(
        side="remote", item_id=item_id, item={"uid": "a@x"}, reason="deleted in CRM", run="r1"
    )


def test_a_pending_entry_is_reused_for_the_same_item_until_settled(tmp_path: Path) -> None:
    trash = Trash(tmp_path / "trash.json")
    first, made = _put(trash)
    assert made
    assert _put(trash) == (first, False)  # the retried delete: the same entry
    other, made = _put(trash, "b.ics")
    assert made and other != first
    assert sorted(e["id"] for e in trash.pending()) == sorted([first, other])

    trash.settle([first])
    assert [e["id"] for e in trash.pending()] == [other]
    again, made = _put(trash)  # the item deleted once more later (after a restore, say)
    assert made and again != first
    trash.discard([other, again])
    assert [e["id"] for e in trash.entries()] == [first]
    assert trash.pending() == []


def test_pending_reads_no_file_it_does_not_need(tmp_path: Path) -> None:
    trash = Trash(tmp_path / "trash.json")
    assert trash.pending() == []
    assert not trash.path.exists()  # a read never creates the file
    trash.put(side="crm", item_id="c", item={"uid": "c@x"}, reason="revert")
    assert trash.pending() == []
