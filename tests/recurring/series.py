"""Remote series for the recurring scenarios: how a user's calendar app makes them.

`ICalRemote` keeps a series as iCalendar text in one resource (a vdir file or a
CalDAV resource), re-rendered in full on every change as a client would write it;
`tests/recurring/test_ews.py` has the Exchange counterpart. Both present one
small interface to the scenarios in `scenarios.py`.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any, Protocol
from zoneinfo import ZoneInfo

from sync.model import Event
from sync.providers.base import Item, Window
from tests.engine.harness import Env

ZONE = ZoneInfo("Europe/Stockholm")


def today() -> date:
    return datetime.now(UTC).astimezone(ZONE).date()


def local(day: date, hour: int = 9) -> datetime:
    return datetime(day.year, day.month, day.day, hour, tzinfo=ZONE)


def next_dst_change(after: date) -> date:
    """The first date after `after` on which Stockholm's UTC offset differs from the day before."""
    day = after
    while True:
        nxt = day + timedelta(days=1)
        if local(nxt, 12).utcoffset() != local(day, 12).utcoffset():
            return nxt
        day = nxt


def rid_of(start: datetime | date) -> str:
    """The recurrence id (as the model spells it) of an occurrence starting at `start`."""
    if isinstance(start, datetime):
        return start.astimezone(UTC).isoformat()
    return start.isoformat()


@dataclass
class SeriesSpec:
    uid: str
    subject: str
    start: datetime | date
    duration: timedelta
    freq: str = "WEEKLY"
    count: int = 8
    #: original starts removed from the series
    exdates: list[datetime | date] = field(default_factory=list)
    #: original start -> the exception's (subject, new start)
    overrides: dict[datetime | date, tuple[str, datetime | date]] = field(default_factory=dict)

    @property
    def all_day(self) -> bool:
        return not isinstance(self.start, datetime)

    def starts(self) -> list[datetime | date]:
        out: list[datetime | date] = []
        for n in range(self.count):
            if self.freq == "WEEKLY":
                value = self.start + timedelta(weeks=n)
            elif self.freq == "DAILY":
                value = self.start + timedelta(days=n)
            else:  # YEARLY
                value = self.start.replace(year=self.start.year + n)
            out.append(value)
        return [s for s in out if s not in self.exdates]


class Remote(Protocol):
    """What the scenarios do to series in the remote calendar, as its user would."""

    def add(self, spec: SeriesSpec) -> None: ...
    def change(self, spec: SeriesSpec) -> None: ...
    def delete(self, spec: SeriesSpec) -> None: ...


# -- iCalendar text ---------------------------------------------------------------------------


def _when(name: str, value: datetime | date) -> str:
    if isinstance(value, datetime):
        return f"{name};TZID=Europe/Stockholm:{value.astimezone(ZONE):%Y%m%dT%H%M%S}"
    return f"{name};VALUE=DATE:{value:%Y%m%d}"


def series_text(spec: SeriesSpec) -> str:
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    lines = [
        "BEGIN:VCALENDAR",
        "VERSION:2.0",
        "PRODID:-//calsync tests//series//EN",
        "BEGIN:VEVENT",
        f"UID:{spec.uid}",
        f"DTSTAMP:{stamp}",
        f"LAST-MODIFIED:{stamp}",
        _when("DTSTART", spec.start),
        _when("DTEND", spec.start + spec.duration),
        f"RRULE:FREQ={spec.freq};COUNT={spec.count}",
        *(_when("EXDATE", x) for x in spec.exdates),
        f"SUMMARY:{spec.subject}",
        "END:VEVENT",
    ]
    for original, (subject, start) in spec.overrides.items():
        lines += [
            "BEGIN:VEVENT",
            f"UID:{spec.uid}",
            f"DTSTAMP:{stamp}",
            f"LAST-MODIFIED:{stamp}",
            _when("RECURRENCE-ID", original),
            _when("DTSTART", start),
            _when("DTEND", start + spec.duration),
            f"SUMMARY:{subject}",
            "END:VEVENT",
        ]
    lines.append("END:VCALENDAR")
    return "\r\n".join(lines) + "\r\n"


class ICalRemote:
    """A series as one iCalendar resource, written by `put(name, text)` / `drop(name)`."""

    def __init__(self, put: Callable[[str, str], None], drop: Callable[[str], None]) -> None:
        self._put = put
        self._drop = drop

    def add(self, spec: SeriesSpec) -> None:
        self._put(f"{spec.uid}.ics", series_text(spec))

    change = add  # a client rewrites the whole resource

    def delete(self, spec: SeriesSpec) -> None:
        self._drop(f"{spec.uid}.ics")


def folder_remote(path: Path) -> ICalRemote:
    def put(name: str, text: str) -> None:
        target = path / name
        old = target.stat().st_mtime_ns if target.exists() else 0
        tmp = path / f".{name}.tmp"
        tmp.write_text(text, encoding="utf-8")
        st = tmp.stat()
        # an editor's rewrite within one clock tick must still look changed
        os.utime(tmp, ns=(st.st_atime_ns, max(st.st_mtime_ns, old + 1_000_000)))
        os.replace(tmp, target)

    def drop(name: str) -> None:
        (path / name).unlink()

    path.mkdir(parents=True, exist_ok=True)
    return ICalRemote(put, drop)


# -- looking at both sides ----------------------------------------------------------------------

#: the default sync window (90 days back, 365 ahead), less a day at each edge
AROUND = Window(datetime.now(UTC) - timedelta(days=89), datetime.now(UTC) + timedelta(days=364))


def items(env: Env, side: str) -> list[Item]:
    with env.provider(side) as p:
        listing = p.list_window(AROUND, {})
        got = p.fetch(list(listing.etags))
    return [i for i in got.values() if isinstance(i, Item)]


def by_key(env: Env, side: str) -> dict[tuple[str, str | None], Event]:
    """(uid, recurrence id) -> event; fails on a duplicate."""
    found = items(env, side)
    out = {(i.event.uid, i.event.recurrence_id): i.event for i in found}
    assert len(out) == len(found), f"duplicate on {side}: {sorted(out)}"
    return out


def crm_series(env: Env, uid: str) -> dict[str, Event]:
    """The CRM copies of a series' occurrences, by recurrence id."""
    return {rid: e for (u, rid), e in by_key(env, "crm").items() if u == uid and rid}


def crm_item(env: Env, uid: str, rid: str) -> Item:
    (found,) = [i for i in items(env, "crm") if i.event.uid == uid and i.event.recurrence_id == rid]
    return found


def crm_edit(env: Env, uid: str, rid: str, **changes: Any) -> None:
    item = crm_item(env, uid, rid)
    stamp = datetime.now(UTC).replace(microsecond=0) + timedelta(seconds=5)
    with env.provider("crm") as p:
        p.update(item.id, item.etag, item.event.replace(last_modified=stamp, **changes))


def crm_delete(env: Env, uid: str, rid: str) -> None:
    item = crm_item(env, uid, rid)
    with env.provider("crm") as p:
        p.delete(item.id, item.etag)


def assert_mirrored(env: Env) -> None:
    """Every remote occurrence has exactly one CRM copy with its fields, and back;
    a second sync plans nothing."""
    crm = by_key(env, "crm")
    remote = by_key(env, "remote")

    def shape(e: Event) -> tuple[Any, ...]:
        return (e.subject, e.start_utc, e.all_day, e.location, e.text)

    # a CRM occurrence re-created remotely is a single item keyed by its pair key
    remote_by_pair = {(f"{u}#{r}" if r else u): shape(e) for (u, r), e in remote.items()}
    crm_by_pair = {(f"{u}#{r}" if r else u): shape(e) for (u, r), e in crm.items()}
    assert crm_by_pair == remote_by_pair
    env.assert_converged()
