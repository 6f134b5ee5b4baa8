"""The words both paths of the iCalendar codec share, as public names.

The full path (`sync.ical.full_read`, `sync.ical.full_write`) and the fast path
(`sync.ical.fast_read`, `sync.ical.fast_write`) must read and write exactly the
same text for the same event: show-as as X-MICROSOFT-CDO-BUSYSTATUS, privacy as
CLASS plus calsync's X-CALSYNC-PRIVACY, the PRODID, how a time is written
(`ical_time`), how a DURATION is added (`add_duration`) and how a RECURRENCE-ID
becomes the model's id and back. They live here, once, so neither path imports
the other's private names.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from sync.model import Privacy, ShowAs

__all__ = [
    "CDO_BUSYSTATUS",
    "CDO_TO_SHOW_AS",
    "PRIVACY_TO_CLASS",
    "PRIVACY_X_PROP",
    "PRODID",
    "SHOW_AS_TO_CDO",
    "add_duration",
    "ical_time",
    "recurrence_key",
    "recurrence_value",
]

PRODID = "-//calsync//EN"
#: marks CLASS:PRIVATE items that are "personal" in Exchange terms
PRIVACY_X_PROP = "X-CALSYNC-PRIVACY"

#: Outlook's show-as, read before STATUS and TRANSP
CDO_BUSYSTATUS = "X-MICROSOFT-CDO-BUSYSTATUS"
CDO_TO_SHOW_AS = {
    "FREE": ShowAs.FREE,
    "TENTATIVE": ShowAs.TENTATIVE,
    "BUSY": ShowAs.BUSY,
    "OOF": ShowAs.OOF,
    "WORKINGELSEWHERE": ShowAs.WORKING_ELSEWHERE,
}
SHOW_AS_TO_CDO = {v: k for k, v in CDO_TO_SHOW_AS.items()}

PRIVACY_TO_CLASS = {
    Privacy.NORMAL: "PUBLIC",
    Privacy.PERSONAL: "PRIVATE",
    Privacy.PRIVATE: "PRIVATE",
    Privacy.CONFIDENTIAL: "CONFIDENTIAL",
}

_UTC_KEYS = frozenset({"UTC", "Etc/UTC", "Etc/UCT", "UCT", "Etc/Zulu", "Zulu", "Universal"})


def ical_time(value: datetime | date) -> datetime | date:
    """A value icalendar writes as TZID=<IANA>, Z (UTC) or a DATE."""
    if not isinstance(value, datetime):
        return value
    tz = value.tzinfo
    named = isinstance(tz, ZoneInfo) and bool(tz.key) and tz.key not in _UTC_KEYS
    # RFC 5545 reads an ambiguous wall time as its first occurrence, so the second
    # one (fold=1, the repeated hour in autumn) cannot be written as TZID + local time
    if named and value.replace(fold=0).utcoffset() == value.utcoffset():
        return value.replace(fold=0)
    # UTC, fixed offsets, custom VTIMEZONE rules and that repeated hour have no
    # exact TZID form: the instant is kept exactly, the wall-clock zone becomes UTC
    return value.astimezone(UTC)


def add_duration(start: datetime | date, duration: timedelta) -> datetime | date:
    """RFC 5545 3.3.6: "P1D" is nominal (same wall time next day), "PT2H" exact.

    icalendar hands us a timedelta, where PT24H and P1D look the same; whole days
    are read as nominal, anything with a time part as exact.
    """
    if not isinstance(start, datetime) or not duration.seconds:
        return start + timedelta(days=duration.days)
    zone = start.tzinfo
    return (start.astimezone(UTC) + duration).astimezone(zone)


def recurrence_key(value: datetime | date) -> str:
    """RECURRENCE-ID as the model's ISO string: UTC for date-times, so it is canonical."""
    if isinstance(value, datetime):
        return value.astimezone(UTC).isoformat()
    return value.isoformat()


def recurrence_value(key: str) -> datetime | date:
    """The RECURRENCE-ID value for a model recurrence id (`recurrence_key` backwards)."""
    if "T" in key:
        value = datetime.fromisoformat(key)
        return value.astimezone(UTC) if value.tzinfo else value.replace(tzinfo=UTC)
    return date.fromisoformat(key)
