"""Recurring series as Microsoft Graph shows them, for the Graph test server.

A `seriesMaster` event carries a `patternedRecurrence`: a pattern (`daily`,
`weekly` with `daysOfWeek`, `absoluteMonthly`, `absoluteYearly`) and a range
(`endDate`, `numbered`, `noEnd`). Its instances are worked out here in the
series' own time zone, so every occurrence keeps its wall-clock time across
daylight-saving changes. Each instance has an id of its own, derived from the
master's id and its original start, so it stays the same while the series keeps
that occurrence (Graph's occurrence ids likewise encode the master and the date).
"""

from __future__ import annotations

import base64
import datetime as dt
from typing import Any

from dateutil import rrule  # type: ignore[import-untyped]

from tests.providers.graph.server import zones

PATTERNS = {
    "daily": rrule.DAILY,
    "weekly": rrule.WEEKLY,
    "absoluteMonthly": rrule.MONTHLY,
    "absoluteYearly": rrule.YEARLY,
}
RANGES = ("endDate", "noEnd", "numbered")
DAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
#: how far a series without an end is expanded, and the most instances one series makes
HORIZON = dt.timedelta(days=5 * 366)
MAX_INSTANCES = 2000
#: Graph fills the dates a range does not use with this
NO_DATE = "0001-01-01"


class RecurrenceError(ValueError):
    """A recurrence Graph would refuse (the store answers 400)."""


def _invalid(message: str) -> RecurrenceError:
    return RecurrenceError(message)


def zone_of(name: str | None) -> dt.tzinfo:
    if not name or name.upper() in ("UTC", "Z"):
        return dt.UTC
    try:
        return zones.zone(name)  # Windows names + Microsoft's IANA list only
    except zones.ZoneNotSupported as exc:
        raise RecurrenceError(str(exc)) from exc


def normalize(value: Any, first: dt.date) -> dict[str, Any]:
    """A client's recurrence as Graph stores and returns it (every field present)."""
    if not isinstance(value, dict):
        raise _invalid("recurrence must be an object with a pattern and a range")
    pattern, rng = value.get("pattern") or {}, value.get("range") or {}
    kind = pattern.get("type")
    if kind not in PATTERNS:
        raise _invalid(f"unsupported recurrence pattern type {kind!r}")
    interval = pattern.get("interval", 1)
    if not isinstance(interval, int) or interval < 1:
        raise _invalid("recurrence pattern interval must be at least 1")
    days = [str(d).lower() for d in pattern.get("daysOfWeek") or ()]
    if kind == "weekly" and not days:
        raise _invalid("a weekly pattern needs daysOfWeek")
    if any(d not in DAYS for d in days):
        raise _invalid(f"unknown day in daysOfWeek {days!r}")
    month, day_of_month = int(pattern.get("month") or 0), int(pattern.get("dayOfMonth") or 0)
    if kind == "absoluteYearly" and not (1 <= month <= 12 and 1 <= day_of_month <= 31):
        raise _invalid("an absoluteYearly pattern needs month and dayOfMonth")
    if kind == "absoluteMonthly" and not 1 <= day_of_month <= 31:
        raise _invalid("an absoluteMonthly pattern needs dayOfMonth")
    range_type = rng.get("type")
    if range_type not in RANGES:
        raise _invalid(f"unsupported recurrence range type {range_type!r}")
    start_date = str(rng.get("startDate") or first.isoformat())
    end_date = str(rng.get("endDate") or NO_DATE)
    count = int(rng.get("numberOfOccurrences") or 0)
    if range_type == "endDate" and end_date == NO_DATE:
        raise _invalid("an endDate range needs endDate")
    if range_type == "numbered" and count < 1:
        raise _invalid("a numbered range needs numberOfOccurrences of at least 1")
    try:
        dt.date.fromisoformat(start_date), dt.date.fromisoformat(end_date)
    except ValueError as exc:
        raise _invalid(f"bad recurrence range date: {exc}") from exc
    return {
        "pattern": {
            "type": kind,
            "interval": interval,
            "month": month,
            "dayOfMonth": day_of_month,
            "daysOfWeek": days,
            "firstDayOfWeek": str(pattern.get("firstDayOfWeek") or "sunday"),
            "index": str(pattern.get("index") or "first"),
        },
        "range": {
            "type": range_type,
            "startDate": start_date,
            "endDate": end_date if range_type == "endDate" else NO_DATE,
            "recurrenceTimeZone": str(rng.get("recurrenceTimeZone") or ""),
            "numberOfOccurrences": count if range_type == "numbered" else 0,
        },
    }


def _utc(text: str) -> dt.datetime:
    head = text.rstrip("Z").partition(".")[0]
    return dt.datetime.fromisoformat(head).replace(tzinfo=dt.UTC)


def originals(master: dict[str, Any]) -> list[tuple[dt.datetime, dt.datetime, dt.datetime]]:
    """(original start, start, end), in UTC, of every instance the master's pattern makes."""
    recurrence = master["recurrence"]
    pattern, rng = recurrence["pattern"], recurrence["range"]
    zone = zone_of(rng.get("recurrenceTimeZone") or master.get("originalStartTimeZone"))
    wall_start = _utc(master["start"]["dateTime"]).astimezone(zone).replace(tzinfo=None)
    wall_end = _utc(master["end"]["dateTime"]).astimezone(zone).replace(tzinfo=None)
    length = wall_end - wall_start
    first = dt.datetime.combine(dt.date.fromisoformat(rng["startDate"]), wall_start.time())
    options: dict[str, Any] = {"dtstart": first, "interval": pattern["interval"]}
    kind = pattern["type"]
    if kind == "weekly":
        options["byweekday"] = [DAYS.index(d) for d in pattern["daysOfWeek"]]
    elif kind == "absoluteMonthly":
        options["bymonthday"] = pattern["dayOfMonth"]
    elif kind == "absoluteYearly":
        options["bymonth"], options["bymonthday"] = pattern["month"], pattern["dayOfMonth"]
    horizon = (dt.datetime.now(dt.UTC) + HORIZON).replace(tzinfo=None)
    if rng["type"] == "numbered":
        options["count"] = min(rng["numberOfOccurrences"], MAX_INSTANCES)
    elif rng["type"] == "endDate":
        last = dt.datetime.combine(dt.date.fromisoformat(rng["endDate"]), dt.time.max)
        options["until"] = min(last, horizon)
    else:
        options["until"] = horizon
    out: list[tuple[dt.datetime, dt.datetime, dt.datetime]] = []
    for wall in rrule.rrule(PATTERNS[kind], **options):
        if len(out) >= MAX_INSTANCES:
            break
        start = wall.replace(tzinfo=zone).astimezone(dt.UTC)
        out.append((start, start, (wall + length).replace(tzinfo=zone).astimezone(dt.UTC)))
    return out


def stamp(original: dt.datetime) -> str:
    """An original start as Graph writes `originalStart` (DateTimeOffset, UTC)."""
    return original.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def instance_id(master_id: str, original: dt.datetime) -> str:
    raw = base64.urlsafe_b64decode(master_id[len("AAMkAG") :])
    tail = original.astimezone(dt.UTC).strftime("%Y%m%d%H%M%S").encode()
    return "AAMkAG" + base64.urlsafe_b64encode(b"\x01" + raw + tail).decode()


def occurrence_uid(master_uid: str, original: dt.datetime) -> str:
    """An occurrence's iCalUId: the master's with the occurrence date filled in, as
    Exchange's global object ids do (so it never equals the series' own)."""
    day = original.astimezone(dt.UTC)
    return f"{master_uid[:32]}{day.year:04X}{day.month:02X}{day.day:02X}{master_uid[40:]}"


def change_key(master_key: str, original: dt.datetime) -> str:
    """An unmodified occurrence's change key: follows its master's."""
    return base64.b64encode(f"OC{master_key}@{stamp(original)}".encode()).decode()
