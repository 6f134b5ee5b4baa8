"""Which change-log entries an operator asked for: by action, side, text and date.

The same rules for `calsync log` and the TUI's log browser, so a filter typed in
one finds what it found in the other.
"""

from __future__ import annotations

import calendar
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from storage import short_ids
from storage.errors import StoreError
from storage.state import UserFiles
from storage.users import UserStore
from storage.workspace import Workspace

Entry = dict[str, Any]

SIDES = ("crm", "remote")
#: "2026-03-02", "2026-03", "2026"
_DAY = re.compile(r"^(\d{4})(?:-(\d{1,2})(?:-(\d{1,2}))?)?$")


class BadFilter(StoreError):
    """A filter value that cannot be read (a date that is no date…)."""


def _bounds(text: str, *, end: bool) -> date:
    found = _DAY.match(text.strip())
    if found is None:
        raise BadFilter(f"not a date: {text!r} (use YYYY-MM-DD, YYYY-MM or YYYY)")
    year = int(found.group(1))
    month = int(found.group(2) or (12 if end else 1))
    try:
        if found.group(3):
            return date(year, month, int(found.group(3)))
        day = calendar.monthrange(year, month)[1] if end else 1
        return date(year, month, day)
    except ValueError as exc:
        raise BadFilter(f"not a date: {text!r} ({exc})") from None


def parse_dates(text: str) -> tuple[date | None, date | None]:
    """ "2026-03" → all of March; "2026-03-01..2026-03-15", "2026-03-10..", "..2026-02"."""
    text = text.strip()
    if not text:
        return None, None
    if ".." in text:
        first, _, last = text.partition("..")
        start = _bounds(first, end=False) if first.strip() else None
        stop = _bounds(last, end=True) if last.strip() else None
        if start and stop and start > stop:
            raise BadFilter(f"the date range {text!r} ends before it starts")
        return start, stop
    return _bounds(text, end=False), _bounds(text, end=True)


def local_day(value: Any) -> date | None:
    """The day of an entry's ISO time on this machine's clock (as the screens show it)."""
    if not value:
        return None
    try:
        when = datetime.fromisoformat(str(value).split("[", 1)[0])
    except ValueError:
        return None
    return when.astimezone().date() if when.tzinfo else when.date()


def typed_id(word: str, short_id: str) -> bool:
    """`word` is (the start of) this short id: 4 characters at least, not any digit
    that happens to be in the hash."""
    return len(word) >= short_ids.MIN_TYPED and bool(short_id) and short_id.startswith(word)


@dataclass(frozen=True)
class LogFilter:
    action: str = ""
    side: str = ""
    text: str = ""
    dates: str = ""

    def __post_init__(self) -> None:
        if self.side and self.side not in SIDES:
            raise BadFilter(f"side must be crm or remote, not {self.side!r}")
        parse_dates(self.dates)  # a bad date fails when the filter is made, not per entry

    @property
    def active(self) -> bool:
        return bool(self.action or self.side or self.text.strip() or self.dates.strip())

    def matcher(self, short: dict[str, str] | None = None) -> Callable[[Entry], bool]:
        """A test for one entry; `short` maps full ids to the short ids shown."""
        start, stop = parse_dates(self.dates)
        words = self.text.lower().split()
        shown = short or {}

        def matches(entry: Entry) -> bool:
            if self.side and entry.get("side") != self.side:
                return False
            if self.action and entry.get("action") != self.action:
                return False
            if start or stop:
                day = local_day(entry.get("time"))
                if day is None or (start and day < start) or (stop and day > stop):
                    return False
            if words:
                item = entry.get("after") or entry.get("before") or {}
                entry_id = str(entry.get("id", ""))
                haystack = " ".join(
                    str(x)
                    for x in (
                        entry.get("reason"),
                        entry.get("action"),
                        entry_id,
                        item.get("subject"),
                        item.get("location"),
                        item.get("text"),
                    )
                ).lower()
                short_id = shown.get(entry_id, "")
                if not all(w in haystack or typed_id(w, short_id) for w in words):
                    return False
            return True

        return matches


@dataclass(frozen=True)
class LogPage:
    """One page of the entries a filter matches, newest first."""

    rows: list[Entry]
    #: entries the filter matches in all (the whole log without a filter)
    total: int
    #: every entry's short id (full id → short), unambiguous over the user's whole log
    short: dict[str, str]
    first: int
    unreadable: list[str]


def log_page(ws: Workspace, name: str, flt: LogFilter, *, limit: int, page: int = 1) -> LogPage:
    """Page `page` (from 1) of `limit` entries; reads only what it shows when unfiltered."""
    UserStore(ws).get(name)
    log = UserFiles(ws, name).log
    short = short_ids.short_ids(log.ids())
    skip = (page - 1) * limit
    if not flt.active:
        rows = log.entries(skip + limit)[skip:]
        return LogPage(rows, log.count(), short, skip, list(log.unreadable))
    matches = flt.matcher(short)
    found = [entry for entry in log.newest_first() if matches(entry)]
    return LogPage(found[skip : skip + limit], len(found), short, skip, list(log.unreadable))
