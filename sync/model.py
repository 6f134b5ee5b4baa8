"""The normalized calendar item every provider maps to and from (SPEC R7).

One immutable `Event` carries exactly the fields that sync. Timed items use
timezone-aware datetimes; all-day items use dates (end exclusive, as iCalendar).
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from enum import StrEnum
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError


class ShowAs(StrEnum):
    FREE = "free"
    TENTATIVE = "tentative"
    BUSY = "busy"
    OOF = "oof"
    WORKING_ELSEWHERE = "working_elsewhere"


class Privacy(StrEnum):
    NORMAL = "normal"
    PERSONAL = "personal"
    PRIVATE = "private"
    CONFIDENTIAL = "confidential"


#: an `Event.extras` key a provider sets on items that cannot be written without
#: notifying attendees (e.g. a Graph meeting the mailbox organizes); the engine
#: never writes such an item and keeps its version instead
NOTIFIES_ATTENDEES = "notifies_attendees"


class EventError(ValueError):
    """An event whose fields contradict each other (e.g. end before start)."""


#: Fields that take part in sync and in the content hash. `last_modified` is
#: metadata: a provider touching it without changing content is no change.
SYNCED_FIELDS = (
    "uid",
    "recurrence_id",
    "subject",
    "start",
    "end",
    "all_day",
    "location",
    "show_as",
    "privacy",
    "reminder",
    "text",
)


@dataclass(frozen=True, slots=True)
class Event:
    uid: str
    subject: str
    start: datetime | date
    end: datetime | date
    all_day: bool = False
    location: str = ""
    show_as: ShowAs = ShowAs.BUSY
    privacy: Privacy = Privacy.NORMAL
    #: minutes before start, or None for no reminder
    reminder: int | None = None
    text: str = ""
    #: UTC; None where the provider has no trustworthy modification time
    last_modified: datetime | None = None
    #: for an occurrence of a recurring series: the occurrence's original start, ISO
    recurrence_id: str | None = None
    #: provider-specific values that ride along but never sync (e.g. Exchange
    #: organizer flags); excluded from equality and the hash
    extras: tuple[tuple[str, str], ...] = field(default=(), compare=False)
    #: content_hash and event_to_dict, worked out once: the engine asks for both
    #: several times per item (hash, both sides of a pair, the change log)
    _hash: str | None = field(default=None, init=False, compare=False, repr=False)
    _dict: dict[str, Any] | None = field(default=None, init=False, compare=False, repr=False)

    def __post_init__(self) -> None:
        if not self.uid:
            raise EventError("event has no uid")
        if self.all_day:
            if isinstance(self.start, datetime) or isinstance(self.end, datetime):
                raise EventError(f"all-day event {self.uid} must use dates, not datetimes")
        else:
            if not (isinstance(self.start, datetime) and isinstance(self.end, datetime)):
                raise EventError(f"timed event {self.uid} must use datetimes")
            if self.start.tzinfo is None or self.end.tzinfo is None:
                raise EventError(f"event {self.uid} has a time without a time zone")
        if _ends_before_start(self.start, self.end):
            raise EventError(f"event {self.uid} ends before it starts")
        if self.reminder is not None and self.reminder < 0:
            raise EventError(f"event {self.uid} has a negative reminder")
        if self.last_modified is not None and self.last_modified.tzinfo is None:
            raise EventError(f"event {self.uid} has a naive last-modified time")

    # -- derived -----------------------------------------------------------------

    @property
    def start_utc(self) -> datetime:
        """The start as a UTC instant (all-day items: midnight UTC of the date)."""
        return as_utc(self.start)

    @property
    def is_multiday(self) -> bool:
        """Spans more than one date (all-day: more than one day; timed: ends on a later date)."""
        if self.all_day:
            return (self.end - self.start) > timedelta(days=1)  # type: ignore[operator]
        assert isinstance(self.start, datetime) and isinstance(self.end, datetime)
        end_local = self.end.astimezone(self.start.tzinfo)
        last_day = (end_local - timedelta(microseconds=1)).date()
        return last_day > self.start.date()

    @property
    def notifies_attendees(self) -> bool:
        return any(key == NOTIFIES_ATTENDEES for key, _ in self.extras)

    @property
    def is_private(self) -> bool:
        return self.privacy is not Privacy.NORMAL

    def replace(self, **changes: Any) -> Event:
        return dataclasses.replace(self, **changes)

    def content_hash(self) -> str:
        """Hash over the synced fields: equal hash, equal content."""
        if self._hash is None:
            blob = json.dumps(
                {k: v for k, v in event_to_dict(self).items() if k in SYNCED_FIELDS},
                sort_keys=True,
                ensure_ascii=False,
            )
            object.__setattr__(self, "_hash", hashlib.sha256(blob.encode()).hexdigest()[:32])
        assert self._hash is not None
        return self._hash


def _ends_before_start(start: datetime | date, end: datetime | date) -> bool:
    """Backwards by the wall clock and by the instant both.

    Python compares two times of one zone by the wall clock and ignores `fold`, so
    01:30 EDT .. 01:10 EST (40 minutes, autumn) looks backwards on the wall clock;
    a time in the spring gap (02:30 on the day clocks jump to 03:00) has an instant
    before the wall clock says: 02:30 .. 03:00 looks backwards by instant. Neither
    is a backwards event, and real calendars hold both.
    """
    if end >= start:  # type: ignore[operator]
        return False
    if not isinstance(start, datetime) or not isinstance(end, datetime):
        return True
    try:
        return end.astimezone(UTC) < start.astimezone(UTC)
    except OverflowError:  # at the very ends of the calendar: the wall clocks decide
        return True


def as_utc(value: datetime | date) -> datetime:
    if isinstance(value, datetime):
        return value.astimezone(UTC)
    return datetime(value.year, value.month, value.day, tzinfo=UTC)


# -- JSON form (state store, change log, --json output) ---------------------------


def _dt_to_json(value: datetime | date) -> str:
    if isinstance(value, datetime):
        key = getattr(value.tzinfo, "key", None)
        text = value.isoformat()
        # keep the IANA zone so a round-trip through JSON restores wall-clock semantics
        return f"{text}[{key}]" if key and key != "UTC" else text
    return value.isoformat()


def _dt_from_json(text: str, *, all_day: bool) -> datetime | date:
    if all_day:
        return date.fromisoformat(text)
    zone = None
    if text.endswith("]") and "[" in text:
        text, _, key = text[:-1].partition("[")
        try:
            zone = ZoneInfo(key)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise EventError(f"unknown time zone {key!r}") from exc
    value = datetime.fromisoformat(text)
    if value.tzinfo is None:
        raise EventError(f"time {text!r} has no time zone")
    return value.astimezone(zone) if zone else value


def event_to_dict(event: Event) -> dict[str, Any]:
    """The item object of SPEC/issue 3: ISO-8601 times, enum values as strings.

    A new dict each call (callers may change it), copied from one made once per event.
    """
    if event._dict is None:
        object.__setattr__(event, "_dict", _to_dict(event))
    assert event._dict is not None
    return dict(event._dict)


def _to_dict(event: Event) -> dict[str, Any]:
    return {
        "uid": event.uid,
        "recurrence_id": event.recurrence_id,
        "subject": event.subject,
        "start": _dt_to_json(event.start),
        "end": _dt_to_json(event.end),
        "all_day": event.all_day,
        "location": event.location,
        "show_as": event.show_as.value,
        "privacy": event.privacy.value,
        "reminder": event.reminder,
        "text": event.text,
        "last_modified": event.last_modified.isoformat() if event.last_modified else None,
    }


#: the values `event_from_dict` takes for a missing key: a stored event leaves them out
_STORED_DEFAULTS: dict[str, Any] = {
    "recurrence_id": None,
    "all_day": False,
    "location": "",
    "show_as": "busy",
    "privacy": "normal",
    "reminder": None,
    "text": "",
    "last_modified": None,
}


def event_to_stored(event: Event) -> dict[str, Any]:
    """The item object without the keys whose value is what a missing key reads as.

    For the state file, which holds both sides' event of every pair: a series of a
    year is hundreds of pairs of near-empty occurrences, and the defaults were ~40 %
    of the file. `event_from_dict` reads it back equal; files with every key (older
    calsync) read as before.
    """
    return {
        k: v
        for k, v in event_to_dict(event).items()
        if k not in _STORED_DEFAULTS
        or v != _STORED_DEFAULTS[k]
        or type(v) is not type(_STORED_DEFAULTS[k])
    }


def event_from_dict(data: dict[str, Any]) -> Event:
    try:
        all_day = bool(data.get("all_day", False))
        lm = data.get("last_modified")
        return Event(
            uid=str(data["uid"]),
            recurrence_id=data.get("recurrence_id"),
            subject=str(data.get("subject", "")),
            start=_dt_from_json(data["start"], all_day=all_day),
            end=_dt_from_json(data["end"], all_day=all_day),
            all_day=all_day,
            location=str(data.get("location", "")),
            show_as=ShowAs(data.get("show_as", "busy")),
            privacy=Privacy(data.get("privacy", "normal")),
            reminder=data.get("reminder"),
            text=str(data.get("text", "")),
            last_modified=datetime.fromisoformat(lm) if lm else None,
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise EventError(f"bad stored event: {exc}") from exc
