"""Occurrence ids and the cheap checks on a series, without icalendar.

An occurrence of a series is its own item (`sync.ical.recurrence`): its id is the
resource's id + "#" + its original start in UTC (`abc.ics#20261201T090000Z`, all-day
`abc.ics#20261201`). A no-change sync only splits, marks and compares such ids, so
they live here, apart from the series code: importing icalendar (with dateutil)
costs a cron run ~0.05-0.08 s of CPU that it never uses (issue 21.10).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from sync.ical.vocabulary import recurrence_value
from sync.model import Event
from sync.providers.base import ConfigError

__all__ = [
    "MAX_OCCURRENCES",
    "OVERRIDES_ONLY",
    "detach",
    "mark",
    "max_occurrences",
    "might_be_series",
    "occurrence_id",
    "split_id",
    "unmark",
]

#: occurrences one series may contribute to a listing (setting `max_occurrences`)
MAX_OCCURRENCES = 500
_MARK = re.compile(r"\d{8}(?:T\d{6}Z)?")
#: marks a resource of overrides without a master that calsync took an override out of
OVERRIDES_ONLY = "X-CALSYNC-OVERRIDES-ONLY"


def mark(recurrence_id: str) -> str:
    """'2026-12-01T09:00:00+00:00' -> '20261201T090000Z'; '2026-12-01' -> '20261201'."""
    value = recurrence_value(recurrence_id)
    if isinstance(value, datetime):
        return value.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")
    return value.strftime("%Y%m%d")


def unmark(text: str) -> str:
    if "T" in text:
        return datetime.strptime(text, "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC).isoformat()
    return datetime.strptime(text, "%Y%m%d").date().isoformat()


def occurrence_id(resource_id: str, recurrence_id: str) -> str:
    return f"{resource_id}#{mark(recurrence_id)}"


def split_id(item_id: str) -> tuple[str, str | None]:
    """(resource id, recurrence id or None) of an item id."""
    resource, sep, tail = item_id.rpartition("#")
    if sep and resource and _MARK.fullmatch(tail):
        return resource, unmark(tail)
    return item_id, None


def detach(event: Event) -> Event:
    """The single item that stands in for an occurrence created from the CRM.

    Items created from the CRM never become recurring (and a server would refuse a
    second resource with the series' UID): the copy is a single item whose UID is
    the occurrence's pair key (uid#recurrence id, as `sync.engine.pairs.pair_key`),
    so a crash between the write and the state update still pairs it by UID.
    """
    if event.recurrence_id is None:
        return event
    return event.replace(uid=f"{event.uid}#{event.recurrence_id}", recurrence_id=None)


def max_occurrences(table: Mapping[str, Any] | None, where: str) -> int:
    value = (table or {}).get("max_occurrences", MAX_OCCURRENCES)
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ConfigError(f"[{where}] max_occurrences must be a whole number ≥ 1 (got {value!r})")
    return value


def might_be_series(data: bytes | str) -> bool:
    """Cheap pre-check before a full parse: a series names RRULE or RDATE in a VEVENT, or
    holds several VEVENTs with a RECURRENCE-ID (overrides without their master). Only
    inside VEVENTs: a VTIMEZONE's daylight-saving RRULEs made nearly every item "maybe
    a series" and parsed it an extra time or two on each read.
    """
    probe = data.upper() if isinstance(data, str) else data.decode("utf-8", "replace").upper()
    start = probe.find("BEGIN:VEVENT")
    overrides = 0
    while start != -1:
        end = probe.find("END:VEVENT", start)
        block = probe[start:] if end == -1 else probe[start:end]
        if "RRULE" in block or "RDATE" in block:
            return True
        overrides += "RECURRENCE-ID" in block
        if overrides > 1 or (overrides and OVERRIDES_ONLY in probe):
            return True
        if end == -1:
            return False
        start = probe.find("BEGIN:VEVENT", end)
    return False
