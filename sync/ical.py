"""Event <-> iCalendar (RFC 5545), for every provider that stores iCalendar text.

The mapping is SPEC "event model": show-as from X-MICROSOFT-CDO-BUSYSTATUS, else
STATUS:TENTATIVE, else TRANSP; privacy from CLASS (personal = PRIVATE plus
X-CALSYNC-PRIVACY:PERSONAL, which only calsync reads, so it round-trips); the
reminder is the first DISPLAY alarm with a relative trigger at or before the
start; text is DESCRIPTION.

Reading never raises anything but `MalformedItem` naming the item: icalendar is
lenient and raises assorted exception types on junk, and one bad item must never
abort a whole listing.

Writing on top of an item's current text (`base`) replaces only the properties
calsync maps, so attendees, categories, Outlook's X- properties and other alarms
survive an update made by calsync.

Two choices worth knowing:

* Floating times (no TZID, no Z) are in the calendar's X-WR-TIMEZONE, else read
  as UTC. RFC 5545 says they mean the wall clock of whoever looks at them; the
  parser has no viewer, and the engine compares instants, so a fixed, documented
  reading beats guessing the host zone (which would differ between the cron host
  and an operator's laptop). A floating DTEND beside a DTSTART with a TZID is in
  DTSTART's zone. Which zone a TZID means: `sync.ical_timezones`.
* A property whose value an edit did not change is written back as it was,
  parameters and form included (floating stays floating, a TZID stays that TZID,
  LANGUAGE and ALTREP stay); X- properties keep their exact text.
* iCalendar text cannot hold a carriage return (icalendar turns CR and CRLF into
  LF), so texts are LF-normalized on the way through.
"""

from __future__ import annotations

import contextlib
import warnings
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import icalendar
from icalendar.error import GloballyUniqueTZIDGuessed
from icalendar.prop import vBroken, vText

from sync.ical_load import FaithfulCalendar, repair_offsets
from sync.ical_timezones import ZoneLookup, same_time
from sync.model import Event, EventError, Privacy, ShowAs
from sync.providers.base import MalformedItem

__all__ = [
    "PRIVACY_X_PROP",
    "PRODID",
    "ZoneLookup",
    "event_from_component",
    "is_series_master",
    "load_calendar",
    "parse_event",
    "read_time",
    "recurrence_key",
    "recurrence_value",
    "render_event",
    "vevents",
    "write_component",
]

PRODID = "-//calsync//EN"
#: marks CLASS:PRIVATE items that are "personal" in Exchange terms
PRIVACY_X_PROP = "X-CALSYNC-PRIVACY"

_CDO = "X-MICROSOFT-CDO-BUSYSTATUS"
_CDO_TO_SHOW_AS = {
    "FREE": ShowAs.FREE,
    "TENTATIVE": ShowAs.TENTATIVE,
    "BUSY": ShowAs.BUSY,
    "OOF": ShowAs.OOF,
    "WORKINGELSEWHERE": ShowAs.WORKING_ELSEWHERE,
}
_SHOW_AS_TO_CDO = {v: k for k, v in _CDO_TO_SHOW_AS.items()}

_PRIVACY_TO_CLASS = {
    Privacy.NORMAL: "PUBLIC",
    Privacy.PERSONAL: "PRIVATE",
    Privacy.PRIVATE: "PRIVATE",
    Privacy.CONFIDENTIAL: "CONFIDENTIAL",
}

# icalendar warns on stderr when it guesses a vendor-prefixed TZID while parsing;
# calsync resolves TZIDs itself (sync.timezones) and an operator's terminal or a
# cron mail is no place for that warning.
warnings.filterwarnings("ignore", category=GloballyUniqueTZIDGuessed)

_UTC_KEYS = frozenset({"UTC", "Etc/UTC", "Etc/UCT", "UCT", "Etc/Zulu", "Zulu", "Universal"})


# -- reading ---------------------------------------------------------------------------


def parse_event(data: bytes | str, item_id: str) -> Event:
    """Read one VCALENDAR holding one event (its master if it is a series)."""
    # the common simple item is read as text, ~10x faster; outside the try so a
    # broken fast path fails loudly instead of marking every item malformed
    from sync.ical_fast_read import read_simple  # it imports this module

    text = _decode(data, item_id)
    event = read_simple(text, item_id)
    if event is not None:
        return event
    try:
        return _parse(text, item_id)
    except MalformedItem:
        raise
    except EventError as exc:
        raise MalformedItem(item_id, str(exc)) from exc
    except Exception as exc:  # icalendar raises ValueError, KeyError, TypeError, ... on junk
        raise MalformedItem(item_id, _one_line(f"not readable as iCalendar: {exc}")) from exc


def _one_line(text: str, limit: int = 200) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _decode(data: bytes | str, item_id: str) -> str:
    if isinstance(data, str):
        return data
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise MalformedItem(item_id, f"not UTF-8 text (byte {exc.start})") from exc


def _load_calendar(data: bytes | str, item_id: str) -> icalendar.Calendar:
    text = _decode(data, item_id)
    if "BEGIN:VCALENDAR" not in text[:4096].upper():
        raise MalformedItem(item_id, "not iCalendar data (no BEGIN:VCALENDAR)")
    cal = FaithfulCalendar.from_ical(repair_offsets(text))
    if cal.name != "VCALENDAR":
        raise MalformedItem(item_id, f"top-level component is {cal.name}, not VCALENDAR")
    return cal


def _events(cal: icalendar.Calendar) -> list[icalendar.cal.Component]:
    return [c for c in cal.subcomponents if c.name == "VEVENT"]


vevents = _events


def _pick_master(events: list[icalendar.cal.Component]) -> icalendar.cal.Component:
    """The series master, else the first component (a lone overridden occurrence).

    `parse_event` reads a series as its master; providers that list occurrences
    expand the series with `sync.recurrence` instead.
    """
    for comp in events:
        if "RECURRENCE-ID" not in comp:
            return comp
    return events[0]


def _no_event_reason(cal: icalendar.Calendar) -> str:
    kinds = sorted({str(c.name) for c in cal.subcomponents})
    if kinds == ["VTIMEZONE"]:
        return "holds only time zone definitions (VTIMEZONE), no event (VEVENT)"
    if kinds:
        return f"holds no event (VEVENT), only {', '.join(kinds)}"
    return "holds no event (VEVENT)"


def _parse(data: bytes | str, item_id: str) -> Event:
    cal = _load_calendar(data, item_id)
    events = _events(cal)
    if not events:
        raise MalformedItem(item_id, _no_event_reason(cal))
    return _component_event(_pick_master(events), ZoneLookup(cal, item_id), item_id)


def load_calendar(data: bytes | str, item_id: str) -> icalendar.Calendar:
    """The VCALENDAR in `data`; MalformedItem naming `item_id` on anything unreadable."""
    try:
        return _load_calendar(data, item_id)
    except MalformedItem:
        raise
    except Exception as exc:  # icalendar raises assorted types on junk
        raise MalformedItem(item_id, _one_line(f"not readable as iCalendar: {exc}")) from exc


def event_from_component(comp: icalendar.cal.Component, zones: ZoneLookup, item_id: str) -> Event:
    """One VEVENT (a master, an override or an expanded occurrence) as an Event."""
    try:
        return _component_event(comp, zones, item_id)
    except MalformedItem:
        raise
    except EventError as exc:
        raise MalformedItem(item_id, str(exc)) from exc
    except Exception as exc:
        raise MalformedItem(item_id, _one_line(f"not readable as iCalendar: {exc}")) from exc


def is_series_master(comp: icalendar.cal.Component) -> bool:
    """A VEVENT that defines a recurrence set (RFC 5545 3.8.5) rather than one occurrence."""
    return (
        comp.name == "VEVENT"
        and "RECURRENCE-ID" not in comp
        and ("RRULE" in comp or "RDATE" in comp)
    )


def _component_event(comp: icalendar.cal.Component, zones: ZoneLookup, item_id: str) -> Event:
    uid = _text(comp, "UID")
    if not uid.strip():
        raise MalformedItem(item_id, "event has no UID")

    start = read_time(comp, "DTSTART", zones, item_id)
    if start is None:
        raise MalformedItem(item_id, "event has no DTSTART")
    all_day = not isinstance(start, datetime)
    end = _read_end(comp, start, zones, item_id)
    if end < start:  # type: ignore[operator]
        raise MalformedItem(item_id, f"event ends ({end.isoformat()}) before it starts")

    recurrence = read_time(comp, "RECURRENCE-ID", zones, item_id)

    return Event(
        uid=uid,
        subject=_text(comp, "SUMMARY"),
        start=start,
        end=end,
        all_day=all_day,
        location=_text(comp, "LOCATION"),
        show_as=_read_show_as(comp),
        privacy=_read_privacy(comp),
        reminder=_read_reminder(comp),
        text=_text(comp, "DESCRIPTION"),
        last_modified=_read_last_modified(comp),
        recurrence_id=recurrence_key(recurrence) if recurrence is not None else None,
    )


def _first(comp: icalendar.cal.Component, name: str) -> Any:
    value = comp.get(name)
    if isinstance(value, list):
        return value[0] if value else None
    return value


def _text(comp: icalendar.cal.Component, name: str) -> str:
    value = _first(comp, name)
    if value is None:
        return ""
    if isinstance(value, vBroken):
        return str(value)
    return str(value).replace("\r\n", "\n").replace("\r", "\n")


def _upper(comp: icalendar.cal.Component, name: str) -> str:
    return _text(comp, name).strip().upper()


def read_time(
    comp: icalendar.cal.Component, name: str, zones: ZoneLookup, item_id: str
) -> datetime | date | None:
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


def _read_end(
    comp: icalendar.cal.Component, start: datetime | date, zones: ZoneLookup, item_id: str
) -> datetime | date:
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
        return _add_duration(start, value)
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


def _add_duration(start: datetime | date, duration: timedelta) -> datetime | date:
    """RFC 5545 3.3.6: "P1D" is nominal (same wall time next day), "PT2H" exact.

    icalendar hands us a timedelta, where PT24H and P1D look the same; whole days
    are read as nominal, anything with a time part as exact.
    """
    if not isinstance(start, datetime) or not duration.seconds:
        return start + timedelta(days=duration.days)
    zone = start.tzinfo
    return (start.astimezone(UTC) + duration).astimezone(zone)


def _read_show_as(comp: icalendar.cal.Component) -> ShowAs:
    cdo = _CDO_TO_SHOW_AS.get(_upper(comp, _CDO))
    if cdo is not None:
        return cdo
    if _upper(comp, "STATUS") == "TENTATIVE":
        return ShowAs.TENTATIVE
    if _upper(comp, "TRANSP") == "TRANSPARENT":
        return ShowAs.FREE
    return ShowAs.BUSY


def _read_privacy(comp: icalendar.cal.Component) -> Privacy:
    cls = _upper(comp, "CLASS")
    if cls in ("", "PUBLIC"):
        return Privacy.NORMAL
    if cls == "CONFIDENTIAL":
        return Privacy.CONFIDENTIAL
    # RFC 5545 3.8.1.3: unknown classes are treated as PRIVATE
    if _upper(comp, PRIVACY_X_PROP) == "PERSONAL":
        return Privacy.PERSONAL
    return Privacy.PRIVATE


def _reminder_trigger(alarm: icalendar.cal.Component) -> timedelta | None:
    """The alarm's offset before start if it is one calsync maps, else None."""
    if alarm.name != "VALARM" or _upper(alarm, "ACTION") != "DISPLAY":
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


def _mapped_alarms(comp: icalendar.cal.Component) -> Iterator[icalendar.cal.Component]:
    for sub in comp.subcomponents:
        if _reminder_trigger(sub) is not None:
            yield sub


def _read_reminder(comp: icalendar.cal.Component) -> int | None:
    for alarm in _mapped_alarms(comp):
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


def recurrence_key(value: datetime | date) -> str:
    """RECURRENCE-ID as the model's ISO string: UTC for date-times, so it is canonical."""
    if isinstance(value, datetime):
        return value.astimezone(UTC).isoformat()
    return value.isoformat()


# -- writing ---------------------------------------------------------------------------


def render_event(event: Event, base: bytes | str | None = None) -> bytes:
    """A complete VCALENDAR for `event`, on top of the item's current text if given."""
    if base is None:
        # a fresh item is most of an initial sync: write it as text when possible
        from sync.ical_fast_write import render_simple  # it imports this module

        data = render_simple(event)
        if data is not None:
            return data
    return _render_full(event, base)


def _render_full(event: Event, base: bytes | str | None) -> bytes:
    """render_event through icalendar's object model: any base, any event."""
    cal, comp = _canvas(event, base)
    _write_event(comp, event, ZoneLookup(cal, event.uid) if base is not None else None)
    return finish_calendar(cal, [event.start, event.end])


def finish_calendar(cal: icalendar.Calendar, around: list[datetime | date]) -> bytes:
    """The calendar's text, with a VTIMEZONE for every TZID it uses and lacks.

    icalendar's default VTIMEZONE spells out every transition 1970-2038 (~3 KB
    per zone, most of the parse time of a listing); a single item needs the
    rules around its own dates. A series repeats for years, so a calendar that
    holds one gets the full default span. Dates at the ends of the calendar get
    none: the TZID names the zone on its own.
    """
    with contextlib.suppress(ValueError, OverflowError):
        if any(is_series_master(c) for c in _events(cal)):
            cal.add_missing_timezones()
        else:
            years = [value.year for value in around]
            cal.add_missing_timezones(
                first_date=date(max(min(years) - 1, 1), 1, 1),
                last_date=date(min(max(years) + 3, 9999), 1, 1),
            )
    data: bytes = cal.to_ical()
    return data


def write_component(
    comp: icalendar.cal.Component, event: Event, zones: ZoneLookup | None = None
) -> None:
    """Write the synced fields of `event` into one VEVENT, keeping what calsync does not map
    (and, given the calendar's `zones`, every mapped property whose value is unchanged)."""
    _write_event(comp, event, zones)


def _canvas(
    event: Event, base: bytes | str | None
) -> tuple[icalendar.Calendar, icalendar.cal.Component]:
    """The calendar and the VEVENT to write into: base's master, or fresh ones."""
    cal: icalendar.Calendar | None = None
    if base is not None:
        try:
            cal = _load_calendar(base, event.uid)
        except Exception:  # the current text is broken: overwrite it rather than fail
            cal = None
    if cal is None:
        cal = icalendar.Calendar()
    _set(cal, "PRODID", PRODID)
    _set(cal, "VERSION", "2.0")
    events = _events(cal)
    if events:
        return cal, _pick_master(events)
    comp = icalendar.Event()
    cal.add_component(comp)
    return cal, comp


class _Text(vText):
    """vText that escapes exactly per RFC 5545 3.3.11.

    icalendar's own escaping first turns a literal backslash-N into a line break,
    so a text containing "\\N" (a Windows path, a regex) would not survive.
    """

    def to_ical(self) -> bytes:
        text = (
            str(self)
            .replace("\\", "\\\\")
            .replace(";", "\\;")
            .replace(",", "\\,")
            .replace("\r\n", "\n")
            .replace("\r", "\n")
            .replace("\n", "\\n")
        )
        return text.encode("utf-8")


def _set(comp: icalendar.cal.Component, name: str, value: Any) -> None:
    comp.pop(name, None)
    comp.add(name, value)


def _drop(comp: icalendar.cal.Component, *names: str) -> None:
    for name in names:
        comp.pop(name, None)


def _ical_time(value: datetime | date) -> datetime | date:
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


def _write_event(
    comp: icalendar.cal.Component, event: Event, zones: ZoneLookup | None = None
) -> None:
    old_text = _text(comp, "DESCRIPTION") if "DESCRIPTION" in comp else None
    old_status = _upper(comp, "STATUS")

    # a property whose value did not change stays as it is, parameters included
    _set_text(comp, "UID", event.uid)
    _set_text(comp, "SUMMARY", event.subject)
    _write_times(comp, event, zones)
    if "X-MICROSOFT-CDO-ALLDAYEVENT" in comp:
        _set(comp, "X-MICROSOFT-CDO-ALLDAYEVENT", "TRUE" if event.all_day else "FALSE")

    if event.recurrence_id is None:
        _drop(comp, "RECURRENCE-ID")
    elif _old_recurrence(comp, zones) != event.recurrence_id:
        _set(comp, "RECURRENCE-ID", recurrence_value(event.recurrence_id))

    for name, value in (("LOCATION", event.location), ("DESCRIPTION", event.text)):
        if value:
            _set_text(comp, name, value)
        else:
            _drop(comp, name)
    if old_text is not None and old_text != event.text:
        _drop(comp, "X-ALT-DESC")  # Outlook's HTML body would contradict the new text

    _set(comp, _CDO, _SHOW_AS_TO_CDO[event.show_as])
    _set(comp, "TRANSP", "TRANSPARENT" if event.show_as is ShowAs.FREE else "OPAQUE")
    if event.show_as is ShowAs.TENTATIVE:
        _set(comp, "STATUS", "TENTATIVE")
    elif old_status == "TENTATIVE":
        _set(comp, "STATUS", "CONFIRMED")

    _set(comp, "CLASS", _PRIVACY_TO_CLASS[event.privacy])
    if event.privacy is Privacy.PERSONAL:
        _set(comp, PRIVACY_X_PROP, "PERSONAL")
    else:
        _drop(comp, PRIVACY_X_PROP)

    _write_reminder(comp, event)

    if event.last_modified is not None:
        stamp = event.last_modified.astimezone(UTC).replace(microsecond=0)
        _set(comp, "LAST-MODIFIED", stamp)
        _set(comp, "DTSTAMP", stamp)
    else:
        _drop(comp, "LAST-MODIFIED")
        if "DTSTAMP" not in comp:  # required by RFC 5545
            comp.add("DTSTAMP", datetime.now(UTC).replace(microsecond=0))
    # SEQUENCE stays as it was and METHOD is never added: calsync edits copies,
    # it does not schedule (no iTIP), so attendees are never told anything


def _set_text(comp: icalendar.cal.Component, name: str, value: str) -> None:
    if name not in comp or isinstance(comp[name], list) or _text(comp, name) != value:
        _set(comp, name, _Text(value))
        return
    # unchanged: the same value and parameters (LANGUAGE, ALTREP), but escaped by
    # _Text, since icalendar's own escaping turns a kept "\N" into a line break
    kept = _Text(value)
    kept.params = comp[name].params
    comp[name] = kept


def _write_times(comp: icalendar.cal.Component, event: Event, zones: ZoneLookup | None) -> None:
    """DTSTART and DTEND; each kept in its own form (floating, TZID, DURATION) if unchanged."""
    old_start: datetime | date | None = None
    old_end: datetime | date | None = None
    if zones is not None:
        with contextlib.suppress(Exception):  # unreadable times are simply rewritten
            old_start = read_time(comp, "DTSTART", zones, event.uid)
            if old_start is not None:
                old_end = _read_end(comp, old_start, zones, event.uid)
    keep_start = same_time(old_start, event.start)
    if not keep_start:
        _set(comp, "DTSTART", _ical_time(event.start))
    has_end = "DTEND" in comp or (keep_start and "DURATION" in comp)
    if not (has_end and same_time(old_end, event.end)):
        _set(comp, "DTEND", _ical_time(event.end))
        _drop(comp, "DURATION")


def _old_recurrence(comp: icalendar.cal.Component, zones: ZoneLookup | None) -> str | None:
    if zones is None or "RECURRENCE-ID" not in comp:
        return None
    try:
        value = read_time(comp, "RECURRENCE-ID", zones, "")
    except Exception:
        return None
    return recurrence_key(value) if value is not None else None


def recurrence_value(key: str) -> datetime | date:
    if "T" in key:
        value = datetime.fromisoformat(key)
        return value.astimezone(UTC) if value.tzinfo else value.replace(tzinfo=UTC)
    return date.fromisoformat(key)


def _write_reminder(comp: icalendar.cal.Component, event: Event) -> None:
    mapped = list(_mapped_alarms(comp))
    if event.reminder is None:
        # every alarm that would read as a reminder goes, or the next would surface
        drop = {id(a) for a in mapped}
        comp.subcomponents = [s for s in comp.subcomponents if id(s) not in drop]
        return
    trigger = -timedelta(minutes=event.reminder)
    if mapped:
        alarm = mapped[0]  # edit in place: its other properties (UID, X-...) survive
        _set(alarm, "TRIGGER", trigger)
        if "DESCRIPTION" not in alarm:
            alarm.add("DESCRIPTION", event.subject or "Reminder")
        return
    alarm = icalendar.Alarm()
    alarm.add("ACTION", "DISPLAY")
    alarm.add("DESCRIPTION", event.subject or "Reminder")
    alarm.add("TRIGGER", trigger)
    comp.add_component(alarm)


def round_trips_exactly(event: Event) -> bool:
    """`parse_event(render_event(event)) == event` in every field, hash included.

    False for what the mapping normalizes: carriage returns in texts (iCalendar
    cannot hold them), a leading byte order mark, a recurrence id not in its
    canonical form, and a wall-clock time in the repeated hour when clocks go
    back (written in UTC). Providers use this to skip re-parsing what
    they just wrote."""
    # icalendar drops a value's leading byte order mark
    for text in (event.subject, event.location, event.text):
        if "\r" in text or "\\N" in text or text.startswith("\ufeff"):
            return False
    if "\r" in event.uid or event.uid.startswith("\ufeff") or not event.uid.strip():
        return False
    if event.recurrence_id is not None:
        try:
            value = recurrence_value(event.recurrence_id)
        except ValueError:
            return False
        if isinstance(value, datetime) and value.microsecond:
            return False
        if recurrence_key(value) != event.recurrence_id:
            return False
    if event.last_modified is not None and event.last_modified.microsecond:
        return False
    return all(
        not isinstance(value, datetime)
        or (value.fold == 0 and value.microsecond == 0 and not _ambiguous(value))
        for value in (event.start, event.end)
    )


def _ambiguous(value: datetime) -> bool:
    """A local time that occurs twice (the hour repeated when clocks go back)."""
    other = value.replace(fold=1 - value.fold)
    return value.utcoffset() != other.utcoffset()
