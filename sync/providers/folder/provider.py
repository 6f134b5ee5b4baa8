"""`folder:PATH` — a calendar kept as a folder of .ics files (a vdir).

One ``<uid>.ics`` file per item, the layout khal and vdirsyncer read and write, so
an operator can inspect or edit items with ordinary tools. It is calsync's embedded
default (`calsync demo`) and the reference the provider contract suite is written
against.

A file may hold a recurring series (as khal writes them): it is listed as its
occurrences in the window, `<file>#<original start>` each, through
`sync.ical.recurrence`; edits and deletions of an occurrence go back into the file
as an override or an EXDATE. An occurrence copy (an item with a recurrence id)
gets a file of its own, named after its UID and recurrence id.

Etags, atomic writes and their batched durability: `files.py`; the listing
index and loading items from their files: `listing.py`. `flush()` (which the
engine calls before it records writes in the user's state, and `close()`) makes
every file written so far durable with one file-system sync; a crash before the
flush loses no pairing, because the state that would name those files was not
written either.
"""

from __future__ import annotations

import contextlib
import os
import secrets
from collections.abc import Mapping, MutableMapping, Sequence
from datetime import UTC, datetime
from typing import Any, ClassVar

from sync.ical import parse_event, recurrence, render_event, round_trips_exactly
from sync.ical.recurrence import Series
from sync.model import Event
from sync.multi_uid import event_uids, several_uids_warning
from sync.occurrence_index import OccurrenceIndex
from sync.providers.base import (
    BrokenItem,
    Capabilities,
    ConfigError,
    EtagMismatch,
    Item,
    ItemNotFound,
    ItemRefused,
    Listing,
    MalformedItem,
    Provider,
    ProviderError,
    Window,
    ensure_no_notify,
)
from sync.providers.folder.files import (
    ID_FILE,
    DurableWriter,
    ensure_folder,
    etag_of,
    file_name_for,
    item_path,
    not_found,
    path_from_url,
    read_item,
)
from sync.providers.folder.index import FolderIndex
from sync.providers.folder.listing import (
    OCCURRENCES_KEY,
    SEVERAL_KEY,
    load_item,
    load_series,
)

__all__ = ["FolderProvider"]


def _now() -> datetime:
    return datetime.now(UTC).replace(microsecond=0)


class FolderProvider(Provider):
    scheme: ClassVar[str] = "folder"
    capabilities: ClassVar[Capabilities] = Capabilities()

    def __init__(self, url: str, *, settings: Mapping[str, Any] | None = None) -> None:
        super().__init__(url, settings=settings)
        self.path = path_from_url(url)
        table = self.settings.get("folder")
        self.max_occurrences = recurrence.max_occurrences(
            table if isinstance(table, Mapping) else None, "folder"
        )
        #: file -> (etags this run's own writes replaced, the etag after them); see
        #: `_current_etag`
        self._superseded: dict[str, tuple[set[str], str]] = {}
        #: events parsed while listing, by file name: (etag, event), used once by fetch
        self._parsed: dict[str, tuple[str, Event]] = {}
        #: the listing index of this run (lives in the provider cache); writes add their
        #: files to it, so the run after an init does not parse every file it just wrote
        self._index: FolderIndex | None = None
        #: the provider cache the index lives in (set by list_window)
        self._cache: MutableMapping[str, Any] | None = None
        #: the folder and its id file exist (checked at the first create of a run)
        self._prepared = False
        #: atomic writes, made durable together at `flush`
        self._files = DurableWriter(self.path)
        #: each series' occurrences by etag, kept in the cache (set by list_window)
        self._expanded = OccurrenceIndex({}, OCCURRENCES_KEY)
        #: files holding events of several UIDs (set by list_window)
        self._several: dict[str, Any] = {}

    @classmethod
    def normalize_url(cls, url: str) -> str:
        """`folder:~/cal` -> `folder:/home/me/cal`: cron must not depend on the cwd."""
        path = path_from_url(url)
        if path.exists() and not path.is_dir():
            raise ConfigError(f"folder calendar {path} exists but is not a folder")
        return f"folder:{path}"

    # -- identity ---------------------------------------------------------------------

    def identity(self) -> str:
        """The folder's path plus an id kept inside it.

        The id file makes a different folder mounted at the same path, or the same
        path wiped and recreated, a different calendar (SPEC R10).
        """
        calendar_id = self._calendar_id()
        return f"folder:{self.path}#{calendar_id}" if calendar_id else f"folder:{self.path}"

    def calendar_name(self) -> str | None:  # what the operator called the folder
        return self.path.name or None

    def _calendar_id(self) -> str:
        id_path = self.path / ID_FILE
        try:
            existing = id_path.read_text(encoding="utf-8").strip()
        except FileNotFoundError:
            existing = ""
        except OSError as exc:
            raise ConfigError(f"cannot read {id_path}: {exc.strerror or exc}") from exc
        if existing or self.read_only:
            # a dry run or a check marks nothing: a folder without an id file has none yet
            return existing
        ensure_folder(self.path)
        new_id = secrets.token_hex(16)
        try:
            self._files.write_new(id_path, (new_id + "\n").encode())
        except FileExistsError:
            # another process created it first: theirs wins
            return id_path.read_text(encoding="utf-8").strip()
        return new_id

    # -- reading ----------------------------------------------------------------------

    def list_window(self, window: Window, cache: MutableMapping[str, Any]) -> Listing:
        """Scan the folder; files unchanged since the last run are not parsed again.

        The index in `cache` (`index.py`) makes a run over thousands of unchanged
        files cost one stat each. A series file is read and expanded on every run:
        which of its occurrences lie in the window changes with the date (the
        occurrence index makes that cheap).
        """
        self._expanded = OccurrenceIndex(cache, OCCURRENCES_KEY)
        several = cache.get(SEVERAL_KEY)
        self._several = several if isinstance(several, dict) else {}
        index = FolderIndex.scan(self.path, cache, self._index_row)
        listing = Listing(etags=index.in_window(window))
        # the rows' etags, not the stats': they belong to the bytes that were parsed
        etags = index.etag_by_name() if index.other or self._several else {}
        for name, warned in self._several.items():
            if isinstance(warned, list) and len(warned) == 2 and warned[0] == etags.get(name):
                listing.warnings.append(str(warned[1]))  # every run, until it is split
        for name, (error, is_series) in index.other.items():
            if error is not None:
                listing.broken[name] = BrokenItem(name, etags[name], str(error))
            elif is_series:
                self._list_series(name, etags[name], window, listing)
        if self._several:
            cache[SEVERAL_KEY] = {n: w for n, w in self._several.items() if n in etags}
        self._index, self._cache = index, cache
        self._expanded.prune()
        return listing

    def _list_series(self, name: str, etag: str, window: Window, listing: Listing) -> None:
        def load() -> Series | None:
            found = read_item(self.path, name)
            if found is None or found[1] != etag:
                return None  # changed since the scan: the next run lists it
            return Series.parse(found[0], name)

        try:
            self._expanded.list_series(name, etag, load, window, self.max_occurrences, listing)
        except OSError as exc:
            listing.broken[name] = BrokenItem(name, etag, f"unreadable: {exc.strerror or exc}")
        except MalformedItem as exc:
            listing.broken[name] = BrokenItem(name, etag, exc.reason)

    def _index_row(self, name: str) -> list[Any] | None:
        try:
            found = read_item(self.path, name)
        except OSError as exc:
            return ["", None, f"unreadable: {exc.strerror or exc}", False]
        if found is None:
            return None
        data, etag = found
        self._several.pop(name, None)
        warning = several_uids_warning(name, event_uids(data))
        if warning is not None:
            self._several[name] = [etag, warning]
        try:
            if Series.parse(data, name) is not None:
                return [etag, None, None, True]
            event = parse_event(data, name)
        except MalformedItem as exc:
            return [etag, None, exc.reason, False]
        # the engine fetches new and changed files right after listing them
        self._parsed[name] = (etag, event)
        return [etag, event.start_utc.isoformat(), None, False]

    def fetch(self, ids: Sequence[str]) -> dict[str, Item | BrokenItem]:
        out: dict[str, Item | BrokenItem] = {}
        series: dict[str, tuple[str, Series | None] | BrokenItem | None] = {}
        for item_id in ids:
            name, rid = recurrence.split_id(item_id)
            if rid is None:
                loaded = load_item(self.path, item_id, self._parsed)
            else:
                if name not in series:
                    series[name] = load_series(self.path, name)
                loaded = self._expanded.item(item_id, rid, series[name])
            if loaded is not None:
                out[item_id] = loaded
        return out

    # -- writing ----------------------------------------------------------------------

    def create(self, event: Event, *, notify: bool = False) -> Item:
        ensure_no_notify(notify)
        if not self._prepared:
            ensure_folder(self.path)
            self._calendar_id()  # the first write fixes the calendar's identity
            self._prepared = True  # once per run, not once per item
        item_id = file_name_for(event.uid, event.recurrence_id)
        event = event.replace(last_modified=_now())
        data = render_event(event)
        try:
            self._files.write_new(self.path / item_id, data)
        except FileExistsError:
            raise ItemRefused(
                item_id, f"an item with UID {event.uid!r} already exists", uid_conflict=True
            ) from None
        return self._indexed(self._written(item_id, data, written=event), data)

    def update(self, item_id: str, etag: str, event: Event, *, notify: bool = False) -> Item:
        ensure_no_notify(notify)
        name, rid = recurrence.split_id(item_id)
        path = item_path(self.path, name)
        current = self._read_or_oserror(name)
        if path is None or current is None:
            raise ItemNotFound(item_id)
        base, current_etag = current
        if current_etag != self._current_etag(name, etag):
            raise EtagMismatch(item_id, etag)
        event = event.replace(last_modified=_now())
        if rid is None:
            # on top of the current text, so properties calsync does not map survive
            data = render_event(event, base)
        else:
            data = recurrence.override(base, name, event.replace(recurrence_id=rid))
        self._files.replace(path, data)
        written = self._written(
            name,
            data,
            current_etag if rid is not None else None,
            written=event if rid is None else None,
        )
        if rid is None:
            return self._indexed(written, data)
        occurrence = Series.parse(data, name)
        got = occurrence.occurrence(rid) if occurrence is not None else None
        return Item(item_id, written.etag, got or event)

    def delete(self, item_id: str, etag: str, *, notify: bool = False) -> None:
        ensure_no_notify(notify)
        name, rid = recurrence.split_id(item_id)
        path = item_path(self.path, name)
        current = self._read_or_oserror(name)
        if path is None or current is None:
            raise ItemNotFound(item_id)
        if current[1] != self._current_etag(name, etag):
            raise EtagMismatch(item_id, etag)
        if rid is not None:
            data = recurrence.exclude(current[0], name, rid)
            if data is not None:
                self._files.replace(path, data)
                self._written(name, data, current[1])
                return
        try:
            path.unlink()
        except FileNotFoundError:
            raise ItemNotFound(item_id) from None
        except OSError as exc:
            raise ProviderError(f"cannot delete {path}: {exc.strerror or exc}") from exc
        self._files.dirty = True

    def change_time(self, item: Item) -> datetime | None:
        """The file's mtime, which the etag carries: every write is a new file."""
        mtime_ns, _, _ = item.etag.partition("-")
        return datetime.fromtimestamp(int(mtime_ns) / 1e9, UTC) if mtime_ns.isdigit() else None

    def _current_etag(self, name: str, etag: str) -> str:
        """`etag`, or the file's etag after this run's own writes if those replaced it.

        Every occurrence of a series shares its file's etag, and the engine holds the
        etag it listed. Writing one occurrence changes the file; the run's next write
        to another occurrence of that series would fail its etag check although only
        calsync touched the file. Only etags this provider replaced itself are followed.
        """
        seen = self._superseded.get(name)
        if seen is not None and etag in seen[0]:
            return seen[1]
        return etag

    def _read_or_oserror(self, item_id: str) -> tuple[bytes, str] | None:
        try:
            return read_item(self.path, item_id)
        except OSError as exc:
            raise ProviderError(f"cannot read item {item_id}: {exc.strerror or exc}") from exc

    def _indexed(self, item: Item, data: bytes) -> Item:
        """Record a single event calsync just wrote in the listing index (the row
        `_index_row` would make from the same bytes); series are left to the listing."""
        if self._index is not None and not recurrence.might_be_series(data):
            self._index.add(item.id, item.etag, item.event.start_utc.isoformat())
        return item

    def _written(
        self,
        item_id: str,
        data: bytes,
        replaced: str | None = None,
        *,
        written: Event | None = None,
    ) -> Item:
        """The item as stored: what a later fetch returns (text normalized and all).

        Parsing the bytes back costs as much as rendering them, so an event the
        mapping round-trips exactly is returned as it was written."""
        etag = etag_of((self.path / item_id).stat())
        if replaced is not None:
            old, _ = self._superseded.get(item_id, (set(), ""))
            self._superseded[item_id] = (old | {replaced}, etag)
        if written is not None and round_trips_exactly(written):
            return Item(item_id, etag, written)
        return Item(item_id, etag, parse_event(data, item_id))

    def flush(self) -> None:
        wrote = self._files.dirty
        self._files.flush()
        if wrote and self._index is not None and self._cache is not None:
            self._index.fold(self.path, self._cache)

    def close(self) -> None:
        # the engine flushes before it records anything; this is for other callers,
        # and a failure here must not mask the error a caller is already handling
        with contextlib.suppress(ProviderError):
            self.flush()

    # -- operator checks ----------------------------------------------------------------

    def check(self) -> list[tuple[str, bool, str]]:
        if not self.path.is_dir():
            return [("calendar reachable", False, not_found(self.path))]
        results = super().check()
        if results and results[0][1]:
            writable = os.access(self.path, os.W_OK | os.X_OK)
            results.append(
                ("folder writable", writable, str(self.path) if writable else "no write access")
            )
        return results
