"""The full path's writing: an Event into a VEVENT of icalendar's object model.

`sync.ical.codec.render_event` comes here for an update on top of an item's
current text and for any event the fast writer (`sync.ical.fast_write`) declines;
`sync.ical.recurrence` writes overrides with `write_component`. Only the
properties calsync maps are replaced; what an edit did not change is kept as it
was (see `sync.ical.codec`).
"""

from __future__ import annotations

import contextlib
from datetime import UTC, date, datetime, timedelta
from typing import Any

import icalendar
from icalendar.prop import vText

from sync.ical.full_read import (
    is_series_master,
    mapped_alarms,
    prop_text,
    prop_upper,
    read_end,
    read_time,
)
from sync.ical.load import pick_master, read_calendar, vevents
from sync.ical.timezones import ZoneLookup, same_time
from sync.ical.vocabulary import (
    CDO_BUSYSTATUS,
    PRIVACY_TO_CLASS,
    PRIVACY_X_PROP,
    PRODID,
    SHOW_AS_TO_CDO,
    ical_time,
    recurrence_key,
    recurrence_value,
)
from sync.model import Event, Privacy, ShowAs

__all__ = ["finish_calendar", "render_full", "write_component"]


def render_full(event: Event, base: bytes | str | None) -> bytes:
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
        if any(is_series_master(c) for c in vevents(cal)):
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
            cal = read_calendar(base, event.uid)
        except Exception:  # the current text is broken: overwrite it rather than fail
            cal = None
    if cal is None:
        cal = icalendar.Calendar()
    _set(cal, "PRODID", PRODID)
    _set(cal, "VERSION", "2.0")
    events = vevents(cal)
    if events:
        return cal, pick_master(events)
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


def _write_event(
    comp: icalendar.cal.Component, event: Event, zones: ZoneLookup | None = None
) -> None:
    old_text = prop_text(comp, "DESCRIPTION") if "DESCRIPTION" in comp else None
    old_status = prop_upper(comp, "STATUS")

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

    _set(comp, CDO_BUSYSTATUS, SHOW_AS_TO_CDO[event.show_as])
    _set(comp, "TRANSP", "TRANSPARENT" if event.show_as is ShowAs.FREE else "OPAQUE")
    if event.show_as is ShowAs.TENTATIVE:
        _set(comp, "STATUS", "TENTATIVE")
    elif old_status == "TENTATIVE":
        _set(comp, "STATUS", "CONFIRMED")

    _set(comp, "CLASS", PRIVACY_TO_CLASS[event.privacy])
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


def _set_text(comp: icalendar.cal.Component, name: str, value: str) -> None:
    if name not in comp or isinstance(comp[name], list) or prop_text(comp, name) != value:
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
                old_end = read_end(comp, old_start, zones, event.uid)
    keep_start = same_time(old_start, event.start)
    if not keep_start:
        _set(comp, "DTSTART", ical_time(event.start))
    has_end = "DTEND" in comp or (keep_start and "DURATION" in comp)
    if not (has_end and same_time(old_end, event.end)):
        _set(comp, "DTEND", ical_time(event.end))
        _drop(comp, "DURATION")


def _old_recurrence(comp: icalendar.cal.Component, zones: ZoneLookup | None) -> str | None:
    if zones is None or "RECURRENCE-ID" not in comp:
        return None
    try:
        value = read_time(comp, "RECURRENCE-ID", zones, "")
    except Exception:
        return None
    return recurrence_key(value) if value is not None else None


def _write_reminder(comp: icalendar.cal.Component, event: Event) -> None:
    mapped = list(mapped_alarms(comp))
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
