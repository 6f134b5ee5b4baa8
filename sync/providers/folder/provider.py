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

Etags are ``f"{mtime_ns}-{size}"``. Every write goes through a new temp file that
is renamed over the item, so a changed item is a new file whose mtime is the time
of that write; calsync also pushes the new file's mtime past the old
one's, so two writes within one tick of a coarse file-system clock still give
different etags. The one case it misses, an outside editor rewriting a file in
place with identical size within the same clock tick, is the same blind spot
vdirsyncer's filesystem storage accepts.

Writes reach the disk in batches: `flush()` (which the engine calls before it
records writes in the user's state, and `close()`) makes every file written so far
durable with one file-system sync. An fsync per file cost more than everything
else an initial sync does per item; a crash before the flush loses no pairing,
because the state that would name those files was not written either.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import re
import secrets
import stat as stat_mod
import tempfile
from collections.abc import Mapping, MutableMapping, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, ClassVar

from storage.atomic import make_durable
from sync.ical import parse_event, recurrence, render_event, round_trips_exactly
from sync.ical.recurrence import Series
from sync.model import Event
from sync.multi_uid import event_uids, several_uids_warning
from sync.occurrence_index import OccurrenceIndex
from sync.providers.base import (
    BrokenItem,
    CalendarNotFound,
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

__all__ = ["FolderProvider"]

ID_FILE = ".calsync-id"
SUFFIX = ".ics"
FILE_MODE = 0o600
#: bump when the cached index's shape changes; an old index is then rebuilt
_INDEX_KEY = "folder_index_v2"
#: the series files' occurrences (`sync.occurrence_index`)
_OCCURRENCES_KEY = "folder_occurrences_v1"
#: files holding events of several UIDs: {name: [etag, warning]} (`sync.multi_uid`)
_SEVERAL_KEY = "folder_several_uids_v1"
#: UIDs made of these characters are used as file names as they are
_SAFE_UID = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.@+=-]{0,199}")
#: ns steps tried to make a rewritten file's mtime newer on coarse clocks (FAT: 2 s)
_MTIME_STEPS = (1, 1_000, 1_000_000, 1_000_000_000, 2_000_000_000)


def _path_from_url(url: str) -> Path:
    scheme, sep, rest = url.partition(":")
    if not sep or scheme.lower() != "folder":
        raise ConfigError(f"{url!r} is not a folder calendar (folder:PATH)")
    rest = rest.strip()
    if rest.startswith("///"):  # folder:///abs/path, the file-URL habit
        rest = rest[2:]
    if not rest:
        raise ConfigError(f"folder calendar {url!r} has no path (use folder:PATH)")
    return Path(rest).expanduser().resolve()


def file_name_for(uid: str, recurrence_id: str | None = None) -> str:
    """The item's file name: the UID itself when it is file-name safe, else its hash.

    An occurrence copy shares its series' UID, so its recurrence id is part of the name.
    """
    if recurrence_id is not None:
        uid = f"{uid}#{recurrence_id}"
    if _SAFE_UID.fullmatch(uid) and not uid.lower().endswith(SUFFIX):
        return uid + SUFFIX
    return hashlib.sha256(uid.encode()).hexdigest()[:40] + SUFFIX


def _etag(st: os.stat_result) -> str:
    return f"{st.st_mtime_ns}-{st.st_size}"


def _now() -> datetime:
    return datetime.now(UTC).replace(microsecond=0)


class FolderProvider(Provider):
    scheme: ClassVar[str] = "folder"
    capabilities: ClassVar[Capabilities] = Capabilities()

    def __init__(self, url: str, *, settings: Mapping[str, Any] | None = None) -> None:
        super().__init__(url, settings=settings)
        self.path = _path_from_url(url)
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
        self._index: dict[str, list[Any]] | None = None
        #: temp files made by this provider (their names' counter)
        self._temps = 0
        #: the folder and its id file exist (checked at the first create of a run)
        self._prepared = False
        #: files written since the last `flush`
        self._unflushed: list[Path] = []
        self._dirty = False
        #: each series' occurrences by etag, kept in the cache (set by list_window)
        self._expanded = OccurrenceIndex({}, _OCCURRENCES_KEY)
        #: files holding events of several UIDs (set by list_window)
        self._several: dict[str, Any] = {}

    @classmethod
    def normalize_url(cls, url: str) -> str:
        """`folder:~/cal` -> `folder:/home/me/cal`: cron must not depend on the cwd."""
        path = _path_from_url(url)
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
        self._ensure_folder()
        new_id = secrets.token_hex(16)
        try:
            self._write_new(id_path, (new_id + "\n").encode())
        except FileExistsError:
            # another process created it first: theirs wins
            return id_path.read_text(encoding="utf-8").strip()
        return new_id

    def _not_found(self) -> str:
        return f"calendar folder {self.path} not found (create it, or correct the path)"

    def _ensure_folder(self) -> None:
        try:
            self.path.mkdir(parents=True, exist_ok=True, mode=0o700)
        except OSError as exc:
            raise ConfigError(
                f"cannot create calendar folder {self.path}: {exc.strerror or exc}"
            ) from exc
        if not self.path.is_dir():
            raise ConfigError(f"calendar folder {self.path} is not a folder")

    # -- reading ----------------------------------------------------------------------

    def _item_path(self, item_id: str) -> Path | None:
        """The file of `item_id`, or None for ids that cannot name an item here."""
        if (
            not item_id.endswith(SUFFIX)
            or item_id.startswith(".")
            or "/" in item_id
            or "\\" in item_id
            or "\0" in item_id
        ):
            return None
        return self.path / item_id

    def _read(self, item_id: str) -> tuple[bytes, str] | None:
        """(content, etag) read from one open file, or None if there is no such item."""
        path = self._item_path(item_id)
        if path is None:
            return None
        try:
            with open(path, "rb") as fh:
                st = os.fstat(fh.fileno())
                if not stat_mod.S_ISREG(st.st_mode):
                    return None
                return fh.read(), _etag(st)
        except (FileNotFoundError, NotADirectoryError, IsADirectoryError):
            return None

    def _load(self, item_id: str) -> Item | BrokenItem | None:
        """The item, or None if there is none: an occurrence id whose series no longer
        has it, or a plain file id whose file now holds a series (its occurrences are
        the items now)."""
        name, rid = recurrence.split_id(item_id)
        try:
            found = self._read(name)
        except OSError as exc:
            return BrokenItem(item_id, "", f"unreadable: {exc.strerror or exc}")
        if found is None:
            return None
        data, etag = found
        try:
            series = Series.parse(data, name)
            if series is None:
                if rid is not None:
                    return None
                parsed = self._parsed.pop(name, None)
                if parsed is not None and parsed[0] == etag:
                    return Item(item_id, etag, parsed[1])
                return Item(item_id, etag, parse_event(data, name))
            if rid is None:
                return None
            event = series.occurrence(rid)
        except MalformedItem as exc:
            return BrokenItem(item_id, etag, exc.reason)
        return None if event is None else Item(item_id, etag, event)

    def list_window(self, window: Window, cache: MutableMapping[str, Any]) -> Listing:
        """Scan the folder; files unchanged since the last run are not parsed again.

        The index in `cache` maps file name -> [etag, start (UTC ISO) or None,
        error or None, holds a series], so a run over thousands of unchanged files
        costs one stat each. A series file is read and expanded on every run: which
        of its occurrences lie in the window changes with the date.
        """
        self._expanded = OccurrenceIndex(cache, _OCCURRENCES_KEY)
        several = cache.get(_SEVERAL_KEY)
        self._several = several if isinstance(several, dict) else {}
        old_index = cache.get(_INDEX_KEY)
        if not isinstance(old_index, dict):
            old_index = {}
        index: dict[str, list[Any]] = {}
        listing = Listing(etags={})
        try:
            entries = list(os.scandir(self.path))
        except FileNotFoundError:
            # never an empty calendar: a mistyped or unmounted path would make a sync
            # copy everything into a new folder, or delete everything on the other side
            raise CalendarNotFound(self._not_found()) from None
        except OSError as exc:
            raise ConfigError(f"cannot read calendar folder {self.path}: {exc}") from exc

        for entry in entries:
            name = entry.name
            if name.startswith(".") or not name.endswith(SUFFIX):
                continue
            try:
                if not entry.is_file():
                    continue
                etag = _etag(entry.stat())
            except OSError:
                continue  # vanished between scandir and stat
            row = old_index.get(name)
            if not (isinstance(row, list) and len(row) == 4 and row[0] == etag):
                row = self._index_row(name)
                if row is None:
                    continue
            index[name] = row
            # the row's etag, not the stat's: it belongs to the bytes that were parsed
            row_etag, start_iso, error, is_series = (str(row[0]), row[1], row[2], row[3])
            warned = self._several.get(name)
            if isinstance(warned, list) and warned[0] == row_etag:
                listing.warnings.append(str(warned[1]))  # every run, until it is split
            if error is not None:
                listing.broken[name] = BrokenItem(name, row_etag, error)
            elif is_series:
                self._list_series(name, row_etag, window, listing)
            elif (
                start_iso is not None
                and window.start <= datetime.fromisoformat(start_iso) < window.end
            ):
                listing.etags[name] = row_etag
        cache[_INDEX_KEY] = index
        cache[_SEVERAL_KEY] = {n: w for n, w in self._several.items() if n in index}
        self._index = index
        self._expanded.prune()
        return listing

    def _list_series(self, name: str, etag: str, window: Window, listing: Listing) -> None:
        def load() -> Series | None:
            found = self._read(name)
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
            found = self._read(name)
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
                loaded = self._load(item_id)
            else:
                if name not in series:
                    series[name] = self._load_series(name)
                loaded = self._expanded.item(item_id, rid, series[name])
            if loaded is not None:
                out[item_id] = loaded
        return out

    def _load_series(self, name: str) -> tuple[str, Series | None] | BrokenItem | None:
        """(etag, series or None) of one file, read once per fetch."""
        try:
            found = self._read(name)
        except OSError as exc:
            return BrokenItem(name, "", f"unreadable: {exc.strerror or exc}")
        if found is None:
            return None
        data, etag = found
        try:
            return etag, Series.parse(data, name)
        except MalformedItem as exc:
            return BrokenItem(name, etag, exc.reason)

    # -- writing ----------------------------------------------------------------------

    def create(self, event: Event, *, notify: bool = False) -> Item:
        ensure_no_notify(notify)
        if not self._prepared:
            self._ensure_folder()
            self._calendar_id()  # the first write fixes the calendar's identity
            self._prepared = True  # once per run, not once per item
        item_id = file_name_for(event.uid, event.recurrence_id)
        event = event.replace(last_modified=_now())
        data = render_event(event)
        try:
            self._write_new(self.path / item_id, data)
        except FileExistsError:
            raise ItemRefused(
                item_id, f"an item with UID {event.uid!r} already exists", uid_conflict=True
            ) from None
        return self._indexed(self._written(item_id, data, written=event), data)

    def update(self, item_id: str, etag: str, event: Event, *, notify: bool = False) -> Item:
        ensure_no_notify(notify)
        name, rid = recurrence.split_id(item_id)
        path = self._item_path(name)
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
        self._replace(path, data)
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
        path = self._item_path(name)
        current = self._read_or_oserror(name)
        if path is None or current is None:
            raise ItemNotFound(item_id)
        if current[1] != self._current_etag(name, etag):
            raise EtagMismatch(item_id, etag)
        if rid is not None:
            data = recurrence.exclude(current[0], name, rid)
            if data is not None:
                self._replace(path, data)
                self._written(name, data, current[1])
                return
        try:
            path.unlink()
        except FileNotFoundError:
            raise ItemNotFound(item_id) from None
        except OSError as exc:
            raise ProviderError(f"cannot delete {path}: {exc.strerror or exc}") from exc
        self._dirty = True

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
            return self._read(item_id)
        except OSError as exc:
            raise ProviderError(f"cannot read item {item_id}: {exc.strerror or exc}") from exc

    def _indexed(self, item: Item, data: bytes) -> Item:
        """Record a single event calsync just wrote in the listing index (the row
        `_index_row` would make from the same bytes); series are left to the listing."""
        if self._index is not None and not recurrence.might_be_series(data):
            self._index[item.id] = [item.etag, item.event.start_utc.isoformat(), None, False]
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
        etag = _etag((self.path / item_id).stat())
        if replaced is not None:
            old, _ = self._superseded.get(item_id, (set(), ""))
            self._superseded[item_id] = (old | {replaced}, etag)
        if written is not None and round_trips_exactly(written):
            return Item(item_id, etag, written)
        return Item(item_id, etag, parse_event(data, item_id))

    # -- durable files ------------------------------------------------------------------

    def _temp(self, target: Path, data: bytes) -> str:
        """A temp file next to `target` (dot-named: listings skip it); durable at `flush`."""
        fd, tmp = self._open_temp(target)
        try:
            os.fchmod(fd, FILE_MODE)
            with os.fdopen(fd, "wb") as fh:
                fh.write(data)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
            raise
        return tmp

    def _open_temp(self, target: Path) -> tuple[int, str]:
        # tempfile.mkstemp draws a random name per call (a tenth of a write's cost);
        # pid + counter is unique among live writers, and a crashed writer's leftover
        # only costs a retry under a random name
        self._temps += 1
        name = str(self.path / f".{target.name}.{os.getpid()}-{self._temps}.tmp")
        flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_CLOEXEC", 0)
        try:
            return os.open(name, flags, FILE_MODE), name
        except FileExistsError:
            return tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=self.path)

    def _write_new(self, target: Path, data: bytes) -> None:
        """Create `target` atomically; FileExistsError if it exists (no clobbering)."""
        try:
            tmp = self._temp(target, data)
            try:
                try:
                    os.link(tmp, target)  # atomic create-if-absent, unlike os.replace
                except FileExistsError:
                    raise
                except OSError:
                    # file systems without hard links: check, then rename (best effort)
                    if target.exists():
                        raise FileExistsError(str(target)) from None
                    os.replace(tmp, target)
            finally:
                with contextlib.suppress(OSError):
                    os.unlink(tmp)
        except FileExistsError:
            raise
        except OSError as exc:
            raise ProviderError(f"cannot write {target}: {exc.strerror or exc}") from exc
        self._written_file(target)

    def _replace(self, target: Path, data: bytes) -> None:
        try:
            try:
                old_mtime = target.stat().st_mtime_ns
            except FileNotFoundError:
                old_mtime = 0
            tmp = self._temp(target, data)
            try:
                self._make_newer(tmp, old_mtime)
                os.replace(tmp, target)
            except BaseException:
                with contextlib.suppress(OSError):
                    os.unlink(tmp)
                raise
        except OSError as exc:
            raise ProviderError(f"cannot write {target}: {exc.strerror or exc}") from exc
        self._written_file(target)

    @staticmethod
    def _make_newer(tmp: str, old_mtime: int) -> None:
        """Give the new file an mtime past the old one's, so the etag must change."""
        for step in _MTIME_STEPS:
            st = os.stat(tmp)
            if st.st_mtime_ns > old_mtime:
                return
            os.utime(tmp, ns=(st.st_atime_ns, old_mtime + step))

    def _written_file(self, target: Path) -> None:
        self._unflushed.append(target)
        self._dirty = True

    def flush(self) -> None:
        if not self._dirty:
            return
        try:
            make_durable(self.path, self._unflushed)
        except OSError as exc:
            raise ProviderError(
                f"cannot flush the writes to {self.path} to disk: {exc.strerror or exc}"
            ) from exc
        self._unflushed.clear()
        self._dirty = False

    def close(self) -> None:
        # the engine flushes before it records anything; this is for other callers,
        # and a failure here must not mask the error a caller is already handling
        with contextlib.suppress(ProviderError):
            self.flush()

    # -- operator checks ----------------------------------------------------------------

    def check(self) -> list[tuple[str, bool, str]]:
        if not self.path.is_dir():
            return [("calendar reachable", False, self._not_found())]
        results = super().check()
        if results and results[0][1]:
            writable = os.access(self.path, os.W_OK | os.X_OK)
            results.append(
                ("folder writable", writable, str(self.path) if writable else "no write access")
            )
        return results
