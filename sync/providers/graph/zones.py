"""Time zones as Microsoft Graph takes them on create and update.

Graph's `dateTimeTimeZone.timeZone` accepts the Windows zone names and only a fixed
list of about 100 IANA names (Microsoft's "dateTimeTimeZone resource type" page);
anything else — Europe/Stockholm, Europe/Amsterdam, America/Toronto, Asia/Hong_Kong
and most other cities — is refused with `400 TimeZoneNotSupportedException`. So
calsync always sends the Windows name CLDR's windowsZones table gives the IANA zone
(Europe/Stockholm -> "W. Europe Standard Time"), with the local wall time, so Outlook
shows the item in the zone the CRM chose and keeps it there across DST changes.

A Windows zone stands for many IANA zones, so the IANA names are kept beside it in
an extended property of calsync's; reading back, they are believed only while the
Windows names Graph reports still match them (an Outlook user who moves the item
to another zone wins). A zone with no Windows name whose rules match at that
moment, or a fixed offset, goes as UTC: the instant stays exact.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, date, datetime, tzinfo
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from icalendar.timezone.windows_to_olson import WINDOWS_TO_OLSON
from tzlocal.windows_tz import tz_win

from sync.ical.zone_names import UnknownTimezone, resolve_tzid

#: the IANA names of an event's start and end zones, "START END", on events calsync writes
ZONE_PROPERTY = "String {e2a9a878-b4bb-5b84-ab31-c3924e5c1565} Name calsyncTimeZones"


def _zone(name: str) -> ZoneInfo | None:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        return None


def windows_name(zone: tzinfo | None, at: datetime | None = None) -> str | None:
    """The Windows name Graph accepts for `zone`, or None.

    Only names of CLDR's territory-001 table count (the Windows zones every Exchange
    knows); when `at` is given, the Windows zone must also have the same UTC offset
    there, so the wall time means the same instant to Exchange.
    """
    key = getattr(zone, "key", None)
    if not key:
        return None
    name = key if key in WINDOWS_TO_OLSON else tz_win.get(key)
    if name is None or name not in WINDOWS_TO_OLSON:
        return None
    if at is not None and name != "UTC":
        reference = _zone(WINDOWS_TO_OLSON[name])
        naive = at.replace(tzinfo=None)
        if reference is None or naive.replace(tzinfo=reference).utcoffset() != at.utcoffset():
            return None
    return name


def time_to_graph(value: datetime | date, *, all_day: bool) -> dict[str, str]:
    """A `dateTimeTimeZone` Graph accepts on create and update."""
    if all_day or not isinstance(value, datetime):
        return {"dateTime": f"{value.isoformat()[:10]}T00:00:00", "timeZone": "UTC"}
    name = windows_name(value.tzinfo, value)
    if name is not None and name != "UTC":
        return {"dateTime": value.replace(tzinfo=None).isoformat(), "timeZone": name}
    return {"dateTime": value.astimezone(UTC).replace(tzinfo=None).isoformat(), "timeZone": "UTC"}


def zone_property(start: datetime | date, end: datetime | date) -> dict[str, str] | None:
    """The extended property that remembers the IANA zones behind the Windows names."""
    keys = [
        getattr(v.tzinfo, "key", None) if isinstance(v, datetime) else None for v in (start, end)
    ]
    if not any(keys):
        return None
    return {"id": ZONE_PROPERTY, "value": " ".join(k or "UTC" for k in keys)}


def _property(data: Mapping[str, Any], prop_id: str) -> str | None:
    for prop in data.get("singleValueExtendedProperties") or ():
        if str(prop.get("id", "")).lower() == prop_id.lower() and prop.get("value"):
            return str(prop["value"])
    return None


def display_zones(data: Mapping[str, Any]) -> tuple[tzinfo | None, tzinfo | None]:
    """The zones to show an event's start and end in, from what Graph reports
    (`originalStartTimeZone` / `originalEndTimeZone`: a Windows or IANA name) and
    calsync's remembered IANA names where they still agree; None where unknown."""
    remembered = (_property(data, ZONE_PROPERTY) or "").split()
    out: list[tzinfo | None] = []
    for index, field in enumerate(("originalStartTimeZone", "originalEndTimeZone")):
        name = str(data.get(field) or data.get("originalStartTimeZone") or "")
        key = remembered[index] if index < len(remembered) else None
        candidate = _zone(key) if key and key != "UTC" else None
        if candidate is not None and name in (key, windows_name(candidate)):
            out.append(candidate)
            continue
        try:
            out.append(resolve_tzid(name) if name else None)
        except UnknownTimezone:
            out.append(None)
    return out[0], out[1]
