"""Event ⇄ exchangelib CalendarItem (SPEC R7, Exchange column).

Only imported by `sync.providers.ews` (its provider), which the registry imports lazily, so
importing exchangelib here costs nothing for users without Exchange.
"""

from __future__ import annotations

import html
import re
from contextlib import suppress
from datetime import UTC, date, datetime, timedelta, tzinfo
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from exchangelib import Body, CalendarItem, EWSDate, EWSDateTime, EWSTimeZone, ExtendedProperty
from exchangelib.errors import UnknownTimeZone

from sync.model import Event, Privacy, ShowAs

SHOW_AS_TO_EWS = {
    ShowAs.FREE: "Free",
    ShowAs.TENTATIVE: "Tentative",
    ShowAs.BUSY: "Busy",
    ShowAs.OOF: "OOF",
    ShowAs.WORKING_ELSEWHERE: "WorkingElsewhere",
}
EWS_TO_SHOW_AS = {v: k for k, v in SHOW_AS_TO_EWS.items()} | {"NoData": ShowAs.BUSY}
PRIVACY_TO_EWS = {
    Privacy.NORMAL: "Normal",
    Privacy.PERSONAL: "Personal",
    Privacy.PRIVATE: "Private",
    Privacy.CONFIDENTIAL: "Confidential",
}
EWS_TO_PRIVACY = {v: k for k, v in PRIVACY_TO_EWS.items()}

#: what GetItem asks for; the body comes as server-converted text where EWS can (2013+)
FETCH_FIELDS = (
    "subject",
    "start",
    "end",
    "is_all_day",
    "location",
    "legacy_free_busy_status",
    "sensitivity",
    "reminder_is_set",
    "reminder_minutes_before_start",
    "last_modified_time",
    "uid",
    "type",
    "original_start",
    "_start_timezone",
    "_end_timezone",
)
#: what UpdateItem sets; the UID stays (occurrences cannot change it)
UPDATE_FIELDS = [
    "subject",
    "start",
    "end",
    "is_all_day",
    "location",
    "legacy_free_busy_status",
    "sensitivity",
    "reminder_is_set",
    "reminder_minutes_before_start",
    "body",
]


class MappingError(ValueError):
    pass


# -- finding items by UID ----------------------------------------------------------------------
#
# EWS cannot search calendar:UID, and Exchange does not refuse a second item with the
# UID of an existing one. It can search PidLidCleanGlobalObjectId, which Exchange
# derives from the UID ([MS-OXCICAL] 2.1.3.1.1.20.26), so calsync looks for that.

_GOID_HEADER = bytes.fromhex("040000008200E00074C5B7101A82E008")
_OUTLOOK_UID = re.compile(r"(?i)^040000008200E00074C5B7101A82E008(?:[0-9A-F]{2})+$")
UID_PROPERTY = "calsync_clean_global_object_id"


class CleanGlobalObjectId(ExtendedProperty):  # type: ignore[misc]
    distinguished_property_set_id = "Meeting"
    property_id = 0x23
    property_type = "Binary"


def clean_global_object_id(uid: str) -> bytes:
    if _OUTLOOK_UID.match(uid):  # an Outlook UID is the hex of the id itself
        raw = bytearray(bytes.fromhex(uid))
        raw[16:20] = bytes(4)  # "clean": no occurrence date
        return bytes(raw)
    data = b"vCal-Uid" + (1).to_bytes(4, "little") + uid.encode("utf-8") + b"\0"
    return _GOID_HEADER + bytes(20) + len(data).to_bytes(4, "little") + data


def register_uid_property() -> None:
    with suppress(ValueError):  # already registered by an earlier provider in this process
        CalendarItem.register(UID_PROPERTY, CleanGlobalObjectId)


def html_to_text(value: str) -> str:
    """A plain rendering of an HTML body, for servers that cannot convert it (pre-2013)."""
    value = re.sub(r"(?is)<(script|style)\b.*?</\1>", "", value)
    value = re.sub(r"(?i)<br\s*/?>|</p>|</div>|</li>|</tr>", "\n", value)
    value = html.unescape(re.sub(r"<[^>]+>", "", value))
    lines = [line.rstrip() for line in value.replace("\xa0", " ").splitlines()]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()


def _plain_zone(zone: Any, prefer: Any = None) -> tzinfo:
    """exchangelib's EWSTimeZone (which knows Windows names) as a plain ZoneInfo.

    Windows zone names are coarser than IANA ones ("W. Europe Standard Time" covers
    Stockholm and Berlin) and read back as one canonical IANA zone. Where the item's
    Windows zone is the one of `prefer` (the workspace's zone), `prefer` is used, so
    an item written in Europe/Stockholm does not come back as Europe/Berlin.
    """
    key = getattr(zone, "key", None)
    if not key:
        return UTC
    if prefer is not None and getattr(prefer, "key", None) and prefer.key != key:
        try:
            if EWSTimeZone(prefer.key).ms_id == EWSTimeZone(key).ms_id:
                key = prefer.key
        except (UnknownTimeZone, KeyError, ValueError):
            pass
    try:
        return ZoneInfo(key)
    except (ZoneInfoNotFoundError, ValueError):
        return UTC


def _plain_datetime(value: Any, zone: tzinfo) -> datetime:
    if not isinstance(value, datetime) or value.tzinfo is None:
        raise MappingError(f"time {value!r} has no time zone")
    return datetime.fromtimestamp(value.timestamp(), tz=zone)


def _utc(value: Any) -> datetime | None:
    if not isinstance(value, datetime) or value.tzinfo is None:
        return None
    return datetime.fromtimestamp(value.timestamp(), tz=UTC)


def item_to_event(item: Any, prefer: Any = None) -> Event:
    """Map a fetched CalendarItem; raises MappingError for an unusable one.

    `prefer` is the zone that wins where the item's Windows zone names it too.
    """
    all_day = bool(item.is_all_day)
    start: datetime | date
    end: datetime | date
    if item.start is None or item.end is None:
        raise MappingError("no start or end time")
    if all_day:
        # exchangelib hands all-day items back as dates with an inclusive end
        start = item.start if type(item.start) in (date, EWSDate) else item.start.date()
        last = item.end if type(item.end) in (date, EWSDate) else item.end.date()
        start = date(start.year, start.month, start.day)
        end = date(last.year, last.month, last.day) + timedelta(days=1)
        end = max(end, start + timedelta(days=1))
    else:
        start = _plain_datetime(item.start, _plain_zone(item._start_timezone, prefer))
        end_zone = item._end_timezone or item._start_timezone
        end = _plain_datetime(item.end, _plain_zone(end_zone, prefer))
    text = getattr(item, "text_body", None)
    if text is None:
        body = item.body
        text = html_to_text(str(body)) if type(body).__name__ == "HTMLBody" else (body or "")
    recurrence_id = None
    if item.type in ("Occurrence", "Exception"):
        original = _utc(getattr(item, "recurrence_id", None)) or _utc(item.original_start)
        if original is not None and all_day:
            # an all-day occurrence is identified by its date, as in iCalendar
            local = original.astimezone(_plain_zone(item._start_timezone, prefer))
            recurrence_id = local.date().isoformat()
        elif original is not None:
            recurrence_id = original.isoformat()
    reminder = None
    if item.reminder_is_set:
        reminder = max(int(item.reminder_minutes_before_start or 0), 0)
    try:
        return Event(
            uid=item.uid or f"ews-{item.id}",
            subject=item.subject or "",
            start=start,
            end=end,
            all_day=all_day,
            location=item.location or "",
            show_as=EWS_TO_SHOW_AS.get(item.legacy_free_busy_status, ShowAs.BUSY),
            privacy=EWS_TO_PRIVACY.get(item.sensitivity, Privacy.NORMAL),
            reminder=reminder,
            text=str(text).replace("\r\n", "\n"),
            last_modified=_utc(item.last_modified_time),
            recurrence_id=recurrence_id,
            extras=(("ews_type", str(item.type or "Single")),),
        )
    except ValueError as exc:
        raise MappingError(str(exc)) from exc


def _ews_datetime(value: datetime) -> Any:
    """A timed event's datetime in an EWS zone: its own IANA zone if Exchange knows it, else UTC."""
    zone: Any
    try:
        zone = EWSTimeZone.from_timezone(value.tzinfo)
        zone.ms_id  # noqa: B018 - raises for IANA zones with no Windows name
    except (UnknownTimeZone, KeyError, TypeError, ValueError, AttributeError):
        zone = EWSTimeZone("UTC")
    converted = value.astimezone(zone)  # EWSTimeZone.fromutc already yields an EWSDateTime
    return converted if isinstance(converted, EWSDateTime) else EWSDateTime.from_datetime(converted)


def event_to_item(event: Event, account: Any, folder: Any, **ids: Any) -> Any:
    """A CalendarItem carrying the event's synced fields (ids: id/changekey for updates)."""
    fields: dict[str, Any] = {
        "subject": event.subject,
        "is_all_day": event.all_day,
        "location": event.location or None,
        "legacy_free_busy_status": SHOW_AS_TO_EWS[event.show_as],
        "sensitivity": PRIVACY_TO_EWS[event.privacy],
        "reminder_is_set": event.reminder is not None,
        "reminder_minutes_before_start": event.reminder if event.reminder is not None else 0,
        "body": Body(event.text) if event.text else None,
    }
    if event.all_day:
        assert isinstance(event.start, date) and isinstance(event.end, date)
        last = max(event.end - timedelta(days=1), event.start)  # EWS all-day ends are inclusive
        fields["start"] = EWSDate.from_date(event.start)
        fields["end"] = EWSDate.from_date(last)
        fields["_start_timezone"] = account.default_timezone
        fields["_end_timezone"] = account.default_timezone
    else:
        assert isinstance(event.start, datetime) and isinstance(event.end, datetime)
        fields["start"] = _ews_datetime(event.start)
        fields["end"] = _ews_datetime(event.end)
    if not ids:
        fields["uid"] = event.uid
    return CalendarItem(account=account, folder=folder, **ids, **fields)
