"""The full path's reading: one VEVENT of icalendar's object model as an Event.

`sync.ical.codec.parse_event` comes here for whatever the fast reader
(`sync.ical.fast_read`) declines; `sync.ical.recurrence` reads masters, overrides
and expanded occurrences with `event_from_component`. The mapping and the
choices it makes are described in `sync.ical.codec`.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from typing import Any

import icalendar
from icalendar.prop import vBroken

from sync.ical.load import one_line, pick_master, read_calendar, vevents
from sync.ical.timezones import ZoneLookup
from sync.ical.vocabulary import (
    CDO_BUSYSTATUS,
    CDO_TO_SHOW_AS,
    PRIVACY_X_PROP,
    add_duration,
    recurrence_key,
)
from sync.model import Event, EventError, Privacy, ShowAs
from sync.providers.base import MalformedItem

__all__ = [
    "event_from_component",
    "is_series_master",
    "mapped_alarms",
    "parse_full",
    "prop_text",
    "prop_upper",
    "read_end",
    "read_time",
]


def parse_full(data: bytes | str, item_id: str) -> Event:
    """`parse_event` through icalendar: the event (a series' master) of any item it reads.

    Raises what icalendar raises on junk; `parse_event` turns that into `MalformedItem`.
    """
    cal = read_calendar(data, item_id)
    events = vevents(cal)
    if not events:
        raise MalformedItem(item_id, _no_event_reason(cal))
    return _component_event(pick_master(events), ZoneLookup(cal, item_id), item_id)


def _no_event_reason(cal: icalendar.Calendar) -> str:
    kinds = sorted({str(c.name) for c in cal.subcomponents})
    if kinds == ["VTIMEZONE"]:
        return "holds only time zone definitions (VTIMEZONE), no event (VEVENT)"
    if kinds:
        return f"holds no event (VEVENT), only {', '.join(kinds)}"
    return "holds no event (VEVENT)"


def event_from_component(comp: icalendar.cal.Component, zones: ZoneLookup, item_id: str) -> Event:
    """One VEVENT (a master, an override or an expanded occurrence) as an Event."""
    try:
        return _component_event(comp, zones, item_id)
    except MalformedItem:
        raise
    except EventError as exc:
        raise MalformedItem(item_id, str(exc)) from exc
    except Exception as exc:
        raise MalformedItem(item_id, one_line(f"not readable as iCalendar: {exc}")) from exc


def is_series_master(comp: icalendar.cal.Component) -> bool:
    """A VEVENT that defines a recurrence set (RFC 5545 3.8.5) rather than one occurrence."""
    return (
        comp.name == "VEVENT"
        and "RECURRENCE-ID" not in comp
        and ("RRULE" in comp or "RDATE" in comp)
    )


def _component_event(comp: icalendar.cal.Component, zones: ZoneLookup, item_id: str) -> Event:
    uid = prop_text(comp, "UID")
    if not uid.strip():
        raise MalformedItem(item_id, "event has no UID")

    start = read_time(comp, "DTSTART", zones, item_id)
    if start is None:
        raise MalformedItem(item_id, "event has no DTSTART")
    all_day = not isinstance(start, datetime)
    end = read_end(comp, start, zones, item_id)
    if end < start:  # type: ignore[operator]
        raise MalformedItem(item_id, f"event ends ({end.isoformat()}) before it starts")

    recurrence = read_time(comp, "RECURRENCE-ID", zones, item_id)

    return Event(
        uid=uid,
        subject=prop_text(comp, "SUMMARY"),
        start=start,
        end=end,
        all_day=all_day,
        location=prop_text(comp, "LOCATION"),
        show_as=_read_show_as(comp),
        privacy=_read_privacy(comp),
        reminder=_read_reminder(comp),
        text=prop_text(comp, "DESCRIPTION"),
        last_modified=_read_last_modified(comp),
        recurrence_id=recurrence_key(recurrence) if recurrence is not None else None,
    )


def _first(comp: icalendar.cal.Component, name: str) -> Any:
    value = comp.get(name)
    if isinstance(value, list):
        return value[0] if value else None
    return value


def prop_text(comp: icalendar.cal.Component, name: str) -> str:
    """A property's text (the first if repeated), LF-normalized; "" when absent."""
    value = _first(comp, name)
    if value is None:
        return ""
    if isinstance(value, vBroken):
        return str(value)
    return str(value).replace("\r\n", "\n").replace("\r", "\n")


def prop_upper(comp: icalendar.cal.Component, name: str) -> str:
    """`prop_text` stripped and upper-cased, to compare keywords."""
    return prop_text(comp, name).strip().upper()


def read_time(
    comp: icalendar.cal.Component, name: str, zones: ZoneLookup, item_id: str
) -> datetime | date | None:
    """A date or date-time property in the zone it means in this calendar; None if absent."""
    prop = comp.get(name)
    if prop is None:
        return None
    if isinstance(prop, list):
        raise MalformedItem(item_id, f"event has {len(prop)} {name} properties")
    if isinstance(prop, vBroken) or not hasattr(prop, "dt"):
        raise MalformedItem(item_id, f"bad {name} value {str(prop)!r}")
    value = prop.dt
    if isinstance(value, datetime):
        tzid = prop.params.get("TZID")
        if tzid:
            return value.replace(tzinfo=None).replace(tzinfo=zones(str(tzid)))
        if value.tzinfo is None:
            return value.replace(tzinfo=zones.floating)  # see module docstring
        return value.astimezone(UTC) if value.utcoffset() == timedelta(0) else value
    if isinstance(value, date):
        return value
    raise MalformedItem(item_id, f"{name} is not a date or date-time: {str(prop.to_ical())!r}")


def read_end(
    comp: icalendar.cal.Component, start: datetime | date, zones: ZoneLookup, item_id: str
) -> datetime | date:
    """The end: DTEND, else DTSTART plus DURATION, else RFC 5545's default."""
    end = read_time(comp, "DTEND", zones, item_id)
    if end is not None:
        if isinstance(start, datetime) and _floating(comp, "DTEND") and _has_tzid(comp, "DTSTART"):
            assert isinstance(end, datetime)  # read as floating, so a date-time
            end = end.replace(tzinfo=start.tzinfo)  # Mozilla-era files: DTSTART's zone
        if isinstance(end, datetime) != isinstance(start, datetime):
            raise MalformedItem(item_id, "DTSTART and DTEND are not both dates or both date-times")
        return end
    duration = comp.get("DURATION")
    if duration is not None:
        broken = isinstance(duration, (list, vBroken))
        value = None if broken else getattr(duration, "dt", None)
        if not isinstance(value, timedelta):
            raise MalformedItem(item_id, f"bad DURATION value {str(duration)!r}")
        return add_duration(start, value)
    # RFC 5545 3.6.1: a date event without an end lasts one day, a date-time one no time
    if isinstance(start, datetime):
        return start
    return start + timedelta(days=1)


def _floating(comp: icalendar.cal.Component, name: str) -> bool:
    """The property is a date-time with neither TZID nor Z."""
    prop = comp.get(name)
    value = getattr(prop, "dt", None)
    return (
        isinstance(value, datetime)
        and value.tzinfo is None
        and not getattr(prop, "params", {}).get("TZID")
    )


def _has_tzid(comp: icalendar.cal.Component, name: str) -> bool:
    return bool(getattr(comp.get(name), "params", {}).get("TZID"))


def _read_show_as(comp: icalendar.cal.Component) -> ShowAs:
    cdo = CDO_TO_SHOW_AS.get(prop_upper(comp, CDO_BUSYSTATUS))
    if cdo is not None:
        return cdo
    if prop_upper(comp, "STATUS") == "TENTATIVE":
        return ShowAs.TENTATIVE
    if prop_upper(comp, "TRANSP") == "TRANSPARENT":
        return ShowAs.FREE
    return ShowAs.BUSY


def _read_privacy(comp: icalendar.cal.Component) -> Privacy:
    cls = prop_upper(comp, "CLASS")
    if cls in ("", "PUBLIC"):
        return Privacy.NORMAL
    if cls == "CONFIDENTIAL":
        return Privacy.CONFIDENTIAL
    # RFC 5545 3.8.1.3: unknown classes are treated as PRIVATE
    if prop_upper(comp, PRIVACY_X_PROP) == "PERSONAL":
        return Privacy.PERSONAL
    return Privacy.PRIVATE


def _reminder_trigger(alarm: icalendar.cal.Component) -> timedelta | None:
    """The alarm's offset before start if it is one calsync maps, else None."""
    if alarm.name != "VALARM" or prop_upper(alarm, "ACTION") != "DISPLAY":
        return None
    trigger = _first(alarm, "TRIGGER")
    if trigger is None or isinstance(trigger, vBroken):
        return None
    params = getattr(trigger, "params", {})
    if str(params.get("RELATED", "START")).upper() != "START":
        return None
    value = getattr(trigger, "dt", None)
    if not isinstance(value, timedelta) or value > timedelta(0):
        return None
    return value


def mapped_alarms(comp: icalendar.cal.Component) -> Iterator[icalendar.cal.Component]:
    """The VALARMs that read as the event's reminder, in order (the first one counts)."""
    for sub in comp.subcomponents:
        if _reminder_trigger(sub) is not None:
            yield sub


def _read_reminder(comp: icalendar.cal.Component) -> int | None:
    for alarm in mapped_alarms(comp):
        trigger = _reminder_trigger(alarm)
        assert trigger is not None
        return int(-trigger.total_seconds()) // 60
    return None


def _read_last_modified(comp: icalendar.cal.Component) -> datetime | None:
    # a bad LAST-MODIFIED costs conflict resolution a timestamp, not the item
    prop = _first(comp, "LAST-MODIFIED")
    value = None if isinstance(prop, vBroken) else getattr(prop, "dt", None)
    if not isinstance(value, datetime):
        return None
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)  # RFC 5545 3.8.7.3: always UTC
    return value.astimezone(UTC).replace(microsecond=0)
