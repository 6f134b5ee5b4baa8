"""The folder's listing index: the proof that no file changed, kept compact.

A directory's mtime does not change when a file in it is rewritten in place, so
the proof that nothing changed is one `stat` per item file: its etag (mtime_ns,
size, inode; see `files.etag_of`). The index keeps, in the provider cache under
INDEX_KEY, the last listing as three aligned columns, each one string:

- ``names``: the item files in directory order, joined by "/" (which no name holds);
- ``etags``: each file's etag when it was parsed, joined by " ";
- ``starts``: each plain event's start (UTC ISO, which sorts as the instants do),
  or "-" for a series or a broken file, joined by " ";

plus ``other`` ({name: [error or None, holds a series]} for the "-" rows) and
``new`` ({name: [etag, start]} for the single events calsync wrote since the
listing, so the run after an init does not parse the files it just wrote).

When the folder's names and etags joined are equal to the stored strings (two
string comparisons in C) and nothing was written since, every row is reused as
it is; the Python work per file is only the `stat` and its etag. Otherwise the
rows are merged by name, and only files whose etag differs are parsed. Strings
also make the cache cheap to decode from, and encode into, the state file, and
to snapshot and compare at its flush (`storage.state`).
"""

from __future__ import annotations

import os
from collections.abc import Callable, MutableMapping
from datetime import UTC
from pathlib import Path
from typing import Any

from sync.providers.base import CalendarNotFound, ConfigError, Window
from sync.providers.folder.files import SUFFIX, not_found

#: bump when the cached index's shape changes; an old index is then rebuilt
INDEX_KEY = "folder_index_v3"
#: what older versions kept (etags without the inode): dropped, the folder is relisted
OLD_INDEX_KEYS = ("folder_index_v2", "folder_index_v1")
#: the start column's entry for a row that is not a plain event
NOT_PLAIN = "-"
_S_IFMT, _S_IFREG = 0o170000, 0o100000
#: POSIX: list and stat relative to an open directory (no path joined per file)
_AT = os.stat in os.supports_dir_fd and os.listdir in os.supports_fd

#: the row of one file as `index_row` makes it: [etag, start (UTC ISO) or None,
#: error or None, holds a series]; None when the file is gone
IndexRow = Callable[[str], "list[Any] | None"]


def _split(blob: str, sep: str) -> list[str]:
    return blob.split(sep) if blob else []


def stat_folder(folder: Path) -> tuple[list[str], list[str]]:
    """The item files of `folder` (regular, not dot-named, `.ics`) and their etags."""
    try:
        if _AT:
            fd = os.open(folder, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
            try:
                names = [n for n in os.listdir(fd) if n.endswith(SUFFIX) and n[0] != "."]
                etags = _etags(names, fd)
            finally:
                os.close(fd)
        else:  # pragma: no cover - Windows
            names = [n for n in os.listdir(folder) if n.endswith(SUFFIX) and n[0] != "."]
            etags = _etags([os.path.join(folder, n) for n in names], None)
    except FileNotFoundError:
        # never an empty calendar: a mistyped or unmounted path would make a sync
        # copy everything into a new folder, or delete everything on the other side
        raise CalendarNotFound(not_found(folder)) from None
    except OSError as exc:
        raise ConfigError(f"cannot read calendar folder {folder}: {exc}") from exc
    if None in etags:  # not a regular file, or gone between the listing and its stat
        kept = [(n, e) for n, e in zip(names, etags, strict=True) if e is not None]
        return [n for n, _ in kept], [e for _, e in kept]
    return names, etags  # type: ignore[return-value]


def _etags(paths: list[str], dir_fd: int | None) -> list[str | None]:
    """`files.etag_of` of each path, None for what is not a regular file; inlined,
    since this loop is most of what a no-change listing of a large folder costs."""
    stat = os.stat
    out: list[str | None] = []
    append = out.append
    for path in paths:
        try:
            st = stat(path, dir_fd=dir_fd)
        except OSError:
            append(None)
            continue
        if st.st_mode & _S_IFMT == _S_IFREG:
            append(f"{st.st_mtime_ns}-{st.st_size}-{st.st_ino}")
        else:
            append(None)
    return out


class FolderIndex:
    """The index of one listing (see the module's docstring)."""

    def __init__(self, names: list[str], etags: list[str], starts: list[str]) -> None:
        self.names = names
        self.etags = etags
        self.starts = starts
        #: {name: [error or None, holds a series]} of the rows whose start is NOT_PLAIN
        self.other: dict[str, list[Any]] = {}
        #: {name: [etag, start]} of the single events written since the listing
        self.new: dict[str, list[Any]] = {}

    @classmethod
    def scan(
        cls, folder: Path, cache: MutableMapping[str, Any], index_row: IndexRow
    ) -> FolderIndex:
        """List `folder`, reusing the cached rows of files whose etag is unchanged and
        parsing the others with `index_row`; the new index goes into `cache`."""
        for key in OLD_INDEX_KEYS:
            cache.pop(key, None)
        stored = cache.get(INDEX_KEY)
        names, etags = stat_folder(folder)
        blobs: dict[str, Any] = stored if isinstance(stored, dict) else {}
        old = _valid(stored)
        if old is not None:
            if (
                not old.new
                and " ".join(etags) == blobs["etags"]
                and "/".join(names) == blobs["names"]
            ):
                old.names, old.etags = names, etags
                return old  # nothing changed: every row as it was, the cache untouched
            old.names = _split(blobs["names"], "/")
            old.etags = _split(blobs["etags"], " ")
        index = cls._merged(names, etags, old, index_row)
        index.store(cache)
        return index

    @classmethod
    def _merged(
        cls, names: list[str], etags: list[str], old: FolderIndex | None, index_row: IndexRow
    ) -> FolderIndex:
        known: dict[str, tuple[str, str]] = {}
        other: dict[str, list[Any]] = {}
        if old is not None:
            known = dict(zip(old.names, zip(old.etags, old.starts, strict=True), strict=True))
            other = old.other
            for name, row in old.new.items():
                if isinstance(row, list) and len(row) == 2 and isinstance(row[1], str):
                    known[name] = (str(row[0]), row[1])
        index = cls([], [], [])
        for name, etag in zip(names, etags, strict=True):
            had = known.get(name)
            if had is not None and had[0] == etag and (had[1] != NOT_PLAIN or name in other):
                start = had[1]
                if start == NOT_PLAIN:
                    index.other[name] = other[name]
            else:
                parsed = index_row(name)
                if parsed is None:
                    continue  # gone meanwhile
                # the row's etag, not the stat's: it belongs to the bytes that were parsed
                etag = str(parsed[0])
                if parsed[1] is None or parsed[2] is not None or parsed[3]:
                    start = NOT_PLAIN
                    index.other[name] = [parsed[2], bool(parsed[3])]
                else:
                    start = str(parsed[1])
            index.names.append(name)
            index.etags.append(etag)
            index.starts.append(start)
        return index

    def add(self, name: str, etag: str, start: str) -> None:
        """A single event calsync wrote (the row `index_row` would make of its bytes)."""
        self.new[name] = [etag, start]

    def fold(self, folder: Path, cache: MutableMapping[str, Any]) -> None:
        """Move the rows of what calsync wrote into the columns, in the order the
        folder lists its files now: the next listing then takes the fast path, and
        the state file is not rewritten once more for an index in another order.

        Called when the writes are flushed, before the state records them. Rows of
        files gone since (deleted) are dropped; files nobody indexed are left to
        the next listing.
        """
        try:
            order = [n for n in os.listdir(folder) if n.endswith(SUFFIX) and n[0] != "."]
        except OSError:
            return  # the next listing merges the rows written
        rows = dict(zip(self.names, zip(self.etags, self.starts, strict=True), strict=True))
        for name, (etag, start) in self.new.items():
            rows[name] = (etag, start)
            self.other.pop(name, None)
        self.names, self.etags, self.starts = [], [], []
        for name in order:
            row = rows.get(name)
            if row is not None:
                self.names.append(name)
                self.etags.append(row[0])
                self.starts.append(row[1])
        kept = set(self.names)
        self.other = {n: row for n, row in self.other.items() if n in kept}
        self.new.clear()
        self.store(cache)

    def store(self, cache: MutableMapping[str, Any]) -> None:
        cache[INDEX_KEY] = {
            "names": "/".join(self.names),
            "etags": " ".join(self.etags),
            "starts": " ".join(self.starts),
            "other": self.other,
            "new": self.new,
        }

    def row(self, name: str) -> list[Any] | None:
        """The row of `name` as `index_row` makes it (for tests and checks)."""
        if name in self.new:
            etag, start = self.new[name]
            return [etag, start, None, False]
        if name not in self.names:
            return None
        at = self.names.index(name)
        if self.starts[at] == NOT_PLAIN:
            error, series = self.other[name]
            return [self.etags[at], None, error, series]
        return [self.etags[at], self.starts[at], None, False]

    def in_window(self, window: Window) -> dict[str, str]:
        """name -> etag of the plain events that start in `window`."""
        lo = window.start.astimezone(UTC).isoformat()
        hi = window.end.astimezone(UTC).isoformat()
        # NOT_PLAIN sorts before every ISO date
        return {
            n: e
            for n, e, s in zip(self.names, self.etags, self.starts, strict=True)
            if lo <= s < hi
        }

    def etag_by_name(self) -> dict[str, str]:
        return dict(zip(self.names, self.etags, strict=True))


def _valid(stored: Any) -> FolderIndex | None:
    """The stored index (its names and etags left to split), or None where it is
    missing or not what this version writes: the folder is then parsed again."""
    if not isinstance(stored, dict):
        return None
    names, etags, starts = (stored.get("names"), stored.get("etags"), stored.get("starts"))
    other, new = stored.get("other"), stored.get("new")
    if not (
        isinstance(names, str)
        and isinstance(etags, str)
        and isinstance(starts, str)
        and isinstance(other, dict)
        and isinstance(new, dict)
    ):
        return None
    rows = _split(starts, " ")
    count = len(rows)
    if (names.count("/") + 1 if names else 0) != count or (
        etags.count(" ") + 1 if etags else 0
    ) != count:
        return None
    if rows.count(NOT_PLAIN) != len(other) or not all(
        isinstance(row, list) and len(row) == 2 for row in other.values()
    ):
        return None
    if other and {
        n for n, s in zip(_split(names, "/"), rows, strict=True) if s == NOT_PLAIN
    } != set(other):
        return None
    index = FolderIndex([], [], rows)
    index.other = other
    index.new = new
    return index
