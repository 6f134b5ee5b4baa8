"""A folder calendar's listing index learns the files calsync writes, so the run after
an init (thousands of new files) does not parse each of them again."""

from __future__ import annotations

import json
import marshal
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from sync.providers.base import Item
from sync.providers.folder.index import INDEX_KEY
from sync.providers.folder.provider import FolderProvider
from tests.providers.contract import WINDOW, make_event


class CountingFolder(FolderProvider):
    """The real provider, counting how many files its listing had to parse."""

    parsed = 0

    def _index_row(self, name: str) -> list[Any] | None:
        type(self).parsed += 1
        return super()._index_row(name)


def test_files_written_in_a_run_are_listed_next_run_without_parsing(tmp_path: Path) -> None:
    (tmp_path / "cal").mkdir()
    url = f"folder:{tmp_path / 'cal'}"
    cache: dict[str, Any] = {}
    with FolderProvider(url) as writer:
        writer.list_window(WINDOW, cache)
        made = writer.create(make_event(subject="A"))
        changed = writer.update(made.id, made.etag, made.event.replace(subject="Renamed"))
        other = writer.create(make_event(subject="B"))
    with CountingFolder(url) as reader:
        listing = reader.list_window(WINDOW, cache)
        assert CountingFolder.parsed == 0
        assert listing.etags == {changed.id: changed.etag, other.id: other.etag}
        # the rows are the ones a parse of the same bytes makes
        assert reader._index is not None
        for item in (changed, other):
            assert isinstance(item, Item)
            assert reader._index.row(item.id) == reader._index_row(item.id)


# -- the proof that nothing changed ---------------------------------------------------


def _relisted(url: str, cache: dict[str, Any]) -> tuple[dict[str, str], dict[str, Any]]:
    """A listing by a new provider over `cache` as the state file gives it back
    (JSON and back), and the cache after it."""
    cache = json.loads(json.dumps(cache))
    with CountingFolder(url) as reader:
        return reader.list_window(WINDOW, cache).etags, cache


def _subject(url: str, item_id: str) -> str:
    with FolderProvider(url) as reader:
        item = reader.fetch([item_id])[item_id]
        assert isinstance(item, Item)
        return item.event.subject


def test_a_no_change_listing_parses_nothing_and_changes_no_cache(tmp_path: Path) -> None:
    url = f"folder:{tmp_path}"
    cache: dict[str, Any] = {}
    with FolderProvider(url) as writer:
        writer.list_window(WINDOW, cache)
        made = [writer.create(make_event(subject=s)) for s in "ABCD"]
        writer.delete(made[3].id, made[3].etag)
    # the writes' rows are in the index, in the folder's order, from the flush on
    for _ in range(2):
        CountingFolder.parsed = 0
        etags, after = _relisted(url, cache)
        assert etags == {i.id: i.etag for i in made[:3]} and CountingFolder.parsed == 0
        # so the state file is not rewritten: the same data, in the same order
        assert marshal.dumps(after, 0) == marshal.dumps(cache, 0)


def _same_size_edit(path: Path) -> bytes:
    data = path.read_bytes()
    assert data.count(b"SUMMARY:Alpha") == 1
    return data.replace(b"SUMMARY:Alpha", b"SUMMARY:Omega")


def _in_place_same_second(path: Path) -> None:
    """Rewritten in place, same size, the mtime in the same second (another ns)."""
    st = path.stat()
    path.write_bytes(_same_size_edit(path))
    second, ns = divmod(st.st_mtime_ns, 1_000_000_000)
    os.utime(path, ns=(st.st_atime_ns, second * 1_000_000_000 + (ns + 1) % 1_000_000_000))


def _renamed_over(path: Path) -> None:
    """Replaced by a file renamed over it, with the old one's size and mtime."""
    st = path.stat()
    other = path.with_name("new-copy.tmp")
    other.write_bytes(_same_size_edit(path))
    os.utime(other, ns=(st.st_atime_ns, st.st_mtime_ns))
    os.replace(other, path)


@pytest.mark.parametrize("change", [_in_place_same_second, _renamed_over])
def test_a_same_size_rewrite_is_seen(tmp_path: Path, change: Callable[[Path], None]) -> None:
    url = f"folder:{tmp_path}"
    cache: dict[str, Any] = {}
    with FolderProvider(url) as writer:
        writer.list_window(WINDOW, cache)
        item = writer.create(make_event(subject="Alpha"))
        other = writer.create(make_event(subject="Other"))
    etags, cache = _relisted(url, cache)
    before = (tmp_path / item.id).stat()
    change(tmp_path / item.id)
    after = (tmp_path / item.id).stat()
    assert (after.st_size, after.st_mtime_ns // 10**9) == (
        before.st_size,
        before.st_mtime_ns // 10**9,
    )
    CountingFolder.parsed = 0
    changed, _ = _relisted(url, cache)
    assert CountingFolder.parsed == 1  # that file only
    assert changed[other.id] == etags[other.id]
    assert changed[item.id] != etags[item.id]
    assert _subject(url, item.id) == "Omega"


def test_files_added_removed_renamed_and_touched_are_seen(tmp_path: Path) -> None:
    url = f"folder:{tmp_path}"
    cache: dict[str, Any] = {}
    with FolderProvider(url) as writer:
        writer.list_window(WINDOW, cache)
        kept, gone, moved, touched = (writer.create(make_event(subject=s)) for s in "KGMT")
    etags, cache = _relisted(url, cache)
    (tmp_path / gone.id).unlink()
    (tmp_path / moved.id).rename(tmp_path / "moved.ics")
    st = (tmp_path / touched.id).stat()
    os.utime(tmp_path / touched.id, ns=(st.st_atime_ns, st.st_mtime_ns + 1))
    with FolderProvider(url) as writer:
        added = writer.create(make_event(subject="A"))  # no listing: the index learns nothing
    changed, _ = _relisted(url, cache)
    assert set(changed) == {kept.id, "moved.ics", touched.id, added.id}
    assert changed[kept.id] == etags[kept.id]
    assert changed[touched.id] != etags[touched.id]


def test_an_index_of_the_previous_version_is_dropped_and_the_folder_relisted(
    tmp_path: Path,
) -> None:
    url = f"folder:{tmp_path}"
    with FolderProvider(url) as writer:
        item = writer.create(make_event())
    # what the previous version wrote: name -> [etag without the inode, start, error, series]
    st = (tmp_path / item.id).stat()
    old_row = [f"{st.st_mtime_ns}-{st.st_size}", item.event.start_utc.isoformat(), None, False]
    CountingFolder.parsed = 0
    etags, cache = _relisted(url, {"folder_index_v2": {item.id: old_row}})
    assert etags == {item.id: item.etag} and CountingFolder.parsed == 1
    assert "folder_index_v2" not in cache


@pytest.mark.parametrize(
    "junk",
    [
        "nonsense",
        {"names": 3, "etags": "", "starts": "", "other": {}, "new": {}},
        {"names": "a.ics/b.ics", "etags": "1-2-3", "starts": "-", "other": {}, "new": {}},
        {"names": "a.ics", "etags": "1-2-3", "starts": "-", "other": {}, "new": {}},
        {"names": "a.ics", "etags": "1-2-3", "starts": "-", "other": {"b.ics": [None, True]}},
        {"names": "", "etags": "", "starts": "", "other": {}, "new": {"x.ics": 5}},
        {"names": "a.ics", "etags": "1", "starts": "-", "other": {"a.ics": "x"}, "new": {}},
    ],
)
def test_a_corrupt_index_is_rebuilt(tmp_path: Path, junk: Any) -> None:
    url = f"folder:{tmp_path}"
    with FolderProvider(url) as writer:
        item = writer.create(make_event())
    etags, cache = _relisted(url, {INDEX_KEY: junk})
    assert etags == {item.id: item.etag}
    assert _relisted(url, cache)[0] == etags
