"""Calendar API event JSON <-> the normalized `Event` (SPEC R7).

Google's own fields carry what they can, both ways: `summary`, `description`,
`location`, `start`/`end` (`date` for all-day, `dateTime` + `timeZone` otherwise;
start and end may name different zones), `transparency` (free = transparent),
`visibility` (default / private / confidential) and `reminders` (no default, one
popup override). What Google has no field for rides in `extendedProperties.private`,
which only this project's credentials see: the exact show-as (tentative, out of
office, working elsewhere are all "opaque") and "personal" (Google's "private").
Such a value counts only while Google's own field still agrees with it, so an edit
made in Google Calendar wins over the stale note.

The UID is Google's `iCalUID` (the one CalDAV shows as UID), so pairs made over
CalDAV hold when a user moves to the API. An instance of a recurring series has the
series' iCalUID and an `originalStartTime`, which becomes the recurrence id calsync
uses everywhere (UTC ISO, or the date for an all-day series).
"""

from __future__ import annotations

import html
import re
from collections.abc import Mapping
from datetime import UTC, date, datetime, tzinfo
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sync.model import NOTIFIES_ATTENDEES, Event, EventError, Privacy, ShowAs

SHOW_AS_KEY = "calsyncShowAs"
PRIVACY_KEY = "calsyncPrivacy"
#: Google's limit for a reminder override: four weeks, in minutes
MAX_REMINDER = 40320
_HTML = re.compile(
    r"(?i)<(br|p|div|b|i|u|a|ul|ol|li|span)\b[^>]*>|</(p|div|b|i|u|a|ul|ol|li|span)>"
)


class MappingError(ValueError):
    """A Calendar API event whose fields cannot be read."""


def _zone(name: str | None) -> tzinfo | None:
    if not name:
        return None
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return None


def parse_time(value: Mapping[str, Any] | None) -> datetime | date:
    """A start/end/originalStartTime: a date (all-day) or an aware datetime."""
    if not value:
        raise MappingError("missing date/time")
    if value.get("date"):
        try:
            return date.fromisoformat(str(value["date"]))
        except ValueError as exc:
            raise MappingError(f"bad date {value['date']!r}") from exc
    text = str(value.get("dateTime") or "")
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError as exc:
        raise MappingError(f"bad date/time {text!r}") from exc
    zone = _zone(value.get("timeZone"))
    if moment.tzinfo is None:
        if zone is None:
            raise MappingError(f"date/time {text!r} without a time zone")
        return moment.replace(tzinfo=zone)
    return moment.astimezone(zone) if zone is not None else moment


def start_instant(data: Mapping[str, Any]) -> datetime:
    """The UTC instant an item starts at (all-day: midnight UTC of its date), for windows."""
    start = parse_time(data.get("start"))
    if isinstance(start, datetime):
        return start.astimezone(UTC)
    return datetime(start.year, start.month, start.day, tzinfo=UTC)


def time_to_google(value: datetime | date) -> dict[str, str | None]:
    """A start or end; the other form's fields as null, so a PATCH that turns a timed
    event all-day (or back) clears them (Google merges objects field by field)."""
    if not isinstance(value, datetime):
        return {"date": value.isoformat(), "dateTime": None, "timeZone": None}
    key = getattr(value.tzinfo, "key", None)
    if not key and value.tzinfo is UTC:
        key = "UTC"
    return {
        "date": None,
        "dateTime": value.isoformat(timespec="seconds"),
        "timeZone": str(key) if key else None,
    }


def recurrence_id_of(data: Mapping[str, Any]) -> str | None:
    """An instance's recurrence id: its original start as UTC ISO, or (all-day) its date."""
    if not data.get("recurringEventId"):
        return None
    original = parse_time(data.get("originalStartTime"))
    if isinstance(original, datetime):
        return original.astimezone(UTC).isoformat()
    return original.isoformat()


def private_props(data: Mapping[str, Any]) -> Mapping[str, Any]:
    return ((data.get("extendedProperties") or {}).get("private")) or {}


def organizes(data: Mapping[str, Any]) -> bool:
    """The calendar is this event's organizer (an event without one is the calendar's own)."""
    organizer = data.get("organizer")
    return not organizer or bool(organizer.get("self"))


def notifies(data: Mapping[str, Any]) -> bool:
    """Writing or deleting this event would touch other people: a meeting with attendees,
    or an invitation another calendar organizes (Google refuses most such writes)."""
    others = [a for a in data.get("attendees") or () if not a.get("self") and not a.get("resource")]
    return bool(others) or not organizes(data)


def show_as_of(data: Mapping[str, Any]) -> ShowAs:
    kind = data.get("eventType")
    if kind == "outOfOffice":
        return ShowAs.OOF
    if kind == "workingLocation":
        return ShowAs.WORKING_ELSEWHERE
    transparent = data.get("transparency") == "transparent"
    noted = private_props(data).get(SHOW_AS_KEY)
    if transparent:
        return ShowAs.FREE
    if noted in (ShowAs.TENTATIVE, ShowAs.OOF, ShowAs.WORKING_ELSEWHERE):
        return ShowAs(noted)
    if data.get("status") == "tentative":
        return ShowAs.TENTATIVE
    return ShowAs.BUSY


def privacy_of(data: Mapping[str, Any]) -> Privacy:
    visibility = data.get("visibility") or "default"
    if visibility == "confidential":
        return Privacy.CONFIDENTIAL
    if visibility == "private":
        noted = private_props(data).get(PRIVACY_KEY)
        return Privacy.PERSONAL if noted == Privacy.PERSONAL else Privacy.PRIVATE
    return Privacy.NORMAL


def reminder_of(data: Mapping[str, Any]) -> int | None:
    reminders = data.get("reminders") or {}
    if reminders.get("useDefault"):
        return None  # the calendar's default reminders: kept as they are (provider.py)
    minutes = [int(o["minutes"]) for o in reminders.get("overrides") or () if "minutes" in o]
    return min(minutes) if minutes else None


def plain_text(description: str) -> str:
    """Google Calendar's web editor stores descriptions as HTML; calsync syncs text."""
    if not _HTML.search(description):
        return description
    text = re.sub(r"(?i)<br\s*/?>|</p>|</div>|</li>", "\n", description)
    return html.unescape(re.sub(r"<[^>]+>", "", text)).strip()


def event_from_google(data: Mapping[str, Any]) -> Event:
    try:
        start, end = parse_time(data.get("start")), parse_time(data.get("end"))
        all_day = not isinstance(start, datetime)
        if all_day != (not isinstance(end, datetime)):
            raise MappingError("start and end mix a date and a date/time")
        extras: list[tuple[str, str]] = [
            ("google.event_type", str(data.get("eventType") or "default"))
        ]
        if notifies(data):
            extras.append((NOTIFIES_ATTENDEES, "1"))
        if (data.get("reminders") or {}).get("useDefault"):
            extras.append(("google.default_reminders", "1"))
        return Event(
            uid=str(data.get("iCalUID") or data.get("id") or ""),
            subject=str(data.get("summary") or ""),
            start=start,
            end=end,
            all_day=all_day,
            location=str(data.get("location") or ""),
            show_as=show_as_of(data),
            privacy=privacy_of(data),
            reminder=reminder_of(data),
            text=plain_text(str(data.get("description") or "")),
            last_modified=_stamp(data.get("updated")),
            recurrence_id=recurrence_id_of(data),
            extras=tuple(extras),
        )
    except (EventError, TypeError, ValueError, AttributeError) as exc:
        raise MappingError(str(exc)) from exc


def _stamp(text: object) -> datetime | None:
    if not text:
        return None
    try:
        return datetime.fromisoformat(str(text).replace("Z", "+00:00")).astimezone(UTC)
    except ValueError:
        return None


def event_to_google(
    event: Event, *, with_text: bool = True, keep_reminders: bool = False
) -> dict[str, Any]:
    """The fields calsync writes. Never attendees: calsync sends no invitations."""
    body: dict[str, Any] = {
        "summary": event.subject,
        "location": event.location,
        "start": time_to_google(event.start),
        "end": time_to_google(event.end),
        "transparency": "transparent" if event.show_as is ShowAs.FREE else "opaque",
        "visibility": {
            Privacy.NORMAL: "default",
            Privacy.PERSONAL: "private",
            Privacy.PRIVATE: "private",
            Privacy.CONFIDENTIAL: "confidential",
        }[event.privacy],
        "extendedProperties": {
            "private": {
                SHOW_AS_KEY: event.show_as.value,
                PRIVACY_KEY: event.privacy.value,
            }
        },
    }
    if with_text:
        body["description"] = event.text
    if not keep_reminders:
        overrides = (
            []
            if event.reminder is None
            else [{"method": "popup", "minutes": min(event.reminder, MAX_REMINDER)}]
        )
        body["reminders"] = {"useDefault": False, "overrides": overrides}
    return body
