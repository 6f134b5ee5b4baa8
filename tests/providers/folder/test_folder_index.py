"""A folder calendar's listing index learns the files calsync writes, so the run after
an init (thousands of new files) does not parse each of them again."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sync.providers.base import Item
from sync.providers.folder.listing import INDEX_KEY
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
        for item in (changed, other):
            assert isinstance(item, Item)
            assert cache[INDEX_KEY][item.id] == reader._index_row(item.id)
