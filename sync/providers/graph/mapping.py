"""Microsoft Graph event JSON <-> the normalized `Event` (SPEC R7).

Graph assigns `iCalUId` itself on POST, so calsync keeps its own UID in a
single-value extended property (a fixed, calsync-owned GUID namespace). A copy
calsync created therefore keeps the CRM's UID across re-listings and crash
recovery; items created in Outlook fall back to their `iCalUId`.

An instance of a recurring series (`type` occurrence or exception) names its
master (`seriesMasterId`) and its original start (`originalStart`, UTC). The
mapping gives it the recurrence id calsync uses everywhere (`sync.ical.recurrence_key`:
the original start as UTC ISO, or its date for an all-day series); its UID is the
series', which only the master knows, so the provider sets it.
"""

from __future__ import annotations

import html
import re
from collections.abc import Mapping
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from typing import Any
from zoneinfo import ZoneInfo

from sync.ical.zone_names import UnknownTimezone, resolve_tzid
from sync.model import NOTIFIES_ATTENDEES, Event, EventError, Privacy, ShowAs
from sync.providers.graph.zones import display_zones, time_to_graph, zone_property

#: the extended property holding calsync's UID on every event it writes
UID_PROPERTY = "String {e2a9a878-b4bb-5b84-ab31-c3924e5c1565} Name calsyncUID"

SHOW_AS_FROM_GRAPH = {
    "free": ShowAs.FREE,
    "tentative": ShowAs.TENTATIVE,
    "busy": ShowAs.BUSY,
    "oof": ShowAs.OOF,
    "workingelsewhere": ShowAs.WORKING_ELSEWHERE,
}
SHOW_AS_TO_GRAPH = {
    ShowAs.FREE: "free",
    ShowAs.TENTATIVE: "tentative",
    ShowAs.BUSY: "busy",
    ShowAs.OOF: "oof",
    ShowAs.WORKING_ELSEWHERE: "workingElsewhere",
}
PRIVACY_FROM_GRAPH = {p.value: p for p in Privacy}


class MappingError(ValueError):
    """A Graph event whose fields cannot be read."""


def _zone(name: str) -> tzinfo | None:
    """A zone Graph names: UTC, an IANA name or a Windows name (Graph answers either)."""
    if name.upper() in ("UTC", "ETC/UTC", "Z"):
        return ZoneInfo("UTC")
    try:
        return resolve_tzid(name)
    except UnknownTimezone:
        return None


def parse_graph_time(value: Mapping[str, Any]) -> datetime:
    """A dateTimeTimeZone (`{"dateTime": "...0000000", "timeZone": "UTC"}`) as aware datetime."""
    text = str(value.get("dateTime") or "")
    zone_name = str(value.get("timeZone") or "UTC")
    if not text:
        raise MappingError("missing date/time")
    if text.endswith("Z"):
        text, zone_name = text[:-1], "UTC"
    head, dot, frac = text.partition(".")
    try:
        naive = datetime.fromisoformat(head + ("." + frac[:6].ljust(6, "0") if dot else ""))
    except ValueError as exc:
        raise MappingError(f"bad date/time {text!r}") from exc
    if naive.tzinfo is not None:
        return naive
    zone = _zone(zone_name)
    if zone is None:
        raise MappingError(f"unknown time zone {zone_name!r}")
    return naive.replace(tzinfo=zone)


def parse_stamp(text: str | None) -> datetime | None:
    if not text:
        return None
    try:
        return parse_graph_time({"dateTime": text, "timeZone": "UTC"}).astimezone(UTC)
    except MappingError:
        return None


def start_instant(data: Mapping[str, Any]) -> datetime:
    """The UTC instant an item starts at (all-day: midnight UTC of its date), for windows."""
    start = parse_graph_time(data.get("start") or {})
    if data.get("isAllDay"):
        return datetime(start.year, start.month, start.day, tzinfo=UTC)
    return start.astimezone(UTC)


def is_organized_meeting(data: Mapping[str, Any]) -> bool:
    """The mailbox organizes this meeting and it has attendees: writes would notify them."""
    return bool(data.get("isOrganizer")) and bool(data.get("attendees"))


def plain_text(body: Mapping[str, Any] | None) -> str:
    if not body:
        return ""
    content = str(body.get("content") or "")
    if str(body.get("contentType", "text")).lower() == "html":
        # only reached when a server ignores the Prefer header for text bodies
        content = re.sub(r"(?i)<br\s*/?>|</p>|</div>", "\n", content)
        content = html.unescape(re.sub(r"<[^>]+>", "", content)).strip()
    return content.replace("\r\n", "\n")


def uid_of(data: Mapping[str, Any]) -> str:
    for prop in data.get("singleValueExtendedProperties") or ():
        if str(prop.get("id", "")).lower() == UID_PROPERTY.lower() and prop.get("value"):
            return str(prop["value"])
    return str(data.get("iCalUId") or data.get("id") or "")


#: the `type` of an event that is one instance of a recurring series
INSTANCE_TYPES = ("occurrence", "exception")


def series_master_of(data: Mapping[str, Any]) -> str | None:
    """The id of the series master an occurrence or exception belongs to, else None."""
    if data.get("type") in INSTANCE_TYPES and data.get("seriesMasterId"):
        return str(data["seriesMasterId"])
    return None


def recurrence_id_of(data: Mapping[str, Any]) -> str | None:
    """An instance's recurrence id: its original start as UTC ISO, or (all-day) its date."""
    if data.get("type") not in INSTANCE_TYPES:
        return None
    original = parse_stamp(data.get("originalStart"))
    if original is None:
        raise MappingError("an occurrence of a series without a readable originalStart")
    if not data.get("isAllDay"):
        return original.isoformat()
    if original.time() == time(0):
        # Graph may label the local midnight of an all-day occurrence as UTC: the date
        # as written is the occurrence's (converting it would move it a day west of UTC)
        return original.date().isoformat()
    # otherwise the series' local midnight, given in UTC
    try:
        zone = resolve_tzid(str(data.get("originalStartTimeZone") or "UTC"))
        return original.astimezone(zone).date().isoformat()
    except UnknownTimezone:
        # local midnight lies within 12 hours of UTC midnight of the same date
        return (original + timedelta(hours=12)).date().isoformat()


def event_from_graph(data: Mapping[str, Any]) -> Event:
    """Map one Graph event (requested with UTC times and text bodies)."""
    try:
        all_day = bool(data.get("isAllDay"))
        start_dt = parse_graph_time(data.get("start") or {})
        end_dt = parse_graph_time(data.get("end") or {})
        start: datetime | date
        end: datetime | date
        if all_day:
            start, end = start_dt.date(), end_dt.date()
        else:
            # show the time in the zone the organizer chose (zones.py)
            start_zone, end_zone = display_zones(data)
            start = start_dt.astimezone(start_zone or UTC)
            end = end_dt.astimezone(end_zone or start_zone or UTC)
        reminder: int | None = None
        if data.get("isReminderOn"):
            reminder = max(0, int(data.get("reminderMinutesBeforeStart") or 0))
        extras: list[tuple[str, str]] = [("graph.type", str(data.get("type") or "singleInstance"))]
        if is_organized_meeting(data):
            extras.append(("graph.organized_meeting", str(len(data.get("attendees") or ()))))
            extras.append((NOTIFIES_ATTENDEES, "1"))
        return Event(
            uid=uid_of(data),
            subject=str(data.get("subject") or ""),
            start=start,
            end=end,
            all_day=all_day,
            location=str((data.get("location") or {}).get("displayName") or ""),
            show_as=SHOW_AS_FROM_GRAPH.get(str(data.get("showAs") or "busy").lower(), ShowAs.BUSY),
            privacy=PRIVACY_FROM_GRAPH.get(
                str(data.get("sensitivity") or "normal").lower(), Privacy.NORMAL
            ),
            reminder=reminder,
            text=plain_text(data.get("body")),
            last_modified=parse_stamp(data.get("lastModifiedDateTime")),
            recurrence_id=recurrence_id_of(data),
            extras=tuple(extras),
        )
    except (EventError, TypeError, ValueError) as exc:
        raise MappingError(str(exc)) from exc


def event_to_graph(event: Event) -> dict[str, Any]:
    """The writable properties of a Graph event. Never attendees: calsync sends no invitations."""
    body: dict[str, Any] = {
        "subject": event.subject,
        "body": {"contentType": "text", "content": event.text},
        # Windows zone names: Graph refuses most IANA names (zones.py)
        "start": time_to_graph(event.start, all_day=event.all_day),
        "end": time_to_graph(event.end, all_day=event.all_day),
        "isAllDay": event.all_day,
        "location": {"displayName": event.location},
        "showAs": SHOW_AS_TO_GRAPH[event.show_as],
        "sensitivity": event.privacy.value,
        "isReminderOn": event.reminder is not None,
        "singleValueExtendedProperties": [{"id": UID_PROPERTY, "value": event.uid}],
    }
    if event.reminder is not None:
        body["reminderMinutesBeforeStart"] = event.reminder
    zones = None if event.all_day else zone_property(event.start, event.end)
    if zones is not None:
        body["singleValueExtendedProperties"].append(zones)
    return body
