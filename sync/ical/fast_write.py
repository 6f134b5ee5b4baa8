"""A fresh VCALENDAR for one Event, written as text: the hot path of an initial sync.

`render_event(event)` with no base builds icalendar's object model, serializes it
and, above all, derives a VTIMEZONE from zoneinfo for every item (0.5-1.3 ms each).
`render_simple` writes the same bytes directly (~12 us each): the property order
is icalendar's canonical VEVENT order, values, escaping and line folding follow
icalendar's serializer, and the VTIMEZONE block is produced once per (zones,
years) by `finish_calendar` itself on a throwaway calendar, so it is identical by
construction.

It returns None for whatever it is not sure to write identically; the caller then
takes the full path. Tests compare both paths byte for byte on generated events
(tests/ical/test_fast_write.py).
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import icalendar
from icalendar.timezone.tzid import tzid_from_tzinfo

from sync.ical.full_write import finish_calendar
from sync.ical.vocabulary import (
    PRIVACY_TO_CLASS,
    PRIVACY_X_PROP,
    PRODID,
    SHOW_AS_TO_CDO,
    ical_time,
    recurrence_value,
)
from sync.model import Event, Privacy, ShowAs

__all__ = ["render_simple"]

_CRLF = b"\r\n"
_FOLD = b"\r\n "
#: icalendar's _foldline: a physical line holds at most 74 octets of content
_LINE_OCTETS = 74
#: backslash and caret: icalendar never ends a folded piece on one (issue #1501)
_ESCAPE_BYTES = (0x5C, 0x5E)

#: TZID values icalendar writes bare (no quoting, no RFC 6868 escaping)
_PLAIN_TZID = re.compile(r"[A-Za-z0-9][A-Za-z0-9/_+\-]*")


def _vtext(text: str) -> str:
    """icalendar's vText escaping (used for the alarm's DESCRIPTION)."""
    return (
        text.replace("\\N", "\n")
        .replace("\\", "\\\\")
        .replace(";", "\\;")
        .replace(",", "\\,")
        .replace("\r\n", "\\n")
        .replace("\n", "\\n")
        .replace("\r", "\\n")
    )


def _rfc_text(text: str) -> str:
    """sync.ical.full_write._Text escaping (UID, SUMMARY, LOCATION, DESCRIPTION)."""
    return (
        text.replace("\\", "\\\\")
        .replace(";", "\\;")
        .replace(",", "\\,")
        .replace("\r\n", "\n")
        .replace("\r", "\n")
        .replace("\n", "\\n")
    )


def _line(name: str, value: str) -> bytes:
    """One folded content line, CRLF included.

    icalendar decodes each serialized value as utf-8-sig, which drops one leading
    byte order mark; the same happens here.
    """
    if value.startswith("\ufeff"):
        value = value[1:]
    data = f"{name}:{value}".encode()
    size = len(data)
    if size <= _LINE_OCTETS:
        return data + _CRLF
    pieces = []
    start = 0
    while size - start > _LINE_OCTETS:
        end = start + _LINE_OCTETS
        while data[end] & 0xC0 == 0x80:  # never split a UTF-8 sequence
            end -= 1
        if data[end - 1] in _ESCAPE_BYTES:
            end -= 1
        pieces.append(data[start:end])
        start = end
    pieces.append(data[start:])
    return _FOLD.join(pieces) + _CRLF


def _stamp(value: datetime) -> str:
    return (
        f"{value.year:04}{value.month:02}{value.day:02}"
        f"T{value.hour:02}{value.minute:02}{value.second:02}"
    )


def _date(value: date) -> str:
    return f"{value.year:04}{value.month:02}{value.day:02}"


def _duration(minutes: int) -> str:
    """vDuration's text for a trigger `minutes` before the start."""
    if minutes == 0:
        return "P0D"
    span = timedelta(minutes=minutes)
    time = ""
    if span.seconds:
        hours, rest = divmod(span.seconds, 3600)
        time = "T" + (f"{hours}H" if hours else "") + (f"{rest // 60}M" if rest // 60 else "")
    if span.days == 0:
        return f"-P{time}"
    return f"-P{span.days}D{time}"


_tzid_ok: dict[str, bool] = {}


def _zone_tzid(value: datetime) -> str | None:
    """The TZID icalendar writes for a value `ical_time` kept in its IANA zone.

    None when icalendar would write something else: it maps a few names to UTC
    (GMT, Etc/GMT, ...), and exotic keys would need quoting.
    """
    tz = value.tzinfo
    if not isinstance(tz, ZoneInfo):
        return None
    key = tz.key
    ok = _tzid_ok.get(key)
    if ok is None:
        ok = bool(_PLAIN_TZID.fullmatch(key)) and tzid_from_tzinfo(tz) == key
        _tzid_ok[key] = ok
    return key if ok else None


#: (parameters, value, TZID or None) of a DTSTART/DTEND line
_TimeForm = tuple[str, str, str | None]


def _time_form(value: datetime | date) -> _TimeForm | None:
    if not isinstance(value, datetime):
        return ";VALUE=DATE", _date(value), None
    written = ical_time(value)
    assert isinstance(written, datetime)
    if written.tzinfo is UTC:
        return "", _stamp(written) + "Z", None
    tzid = _zone_tzid(written)
    if tzid is None:
        return None
    return f";TZID={tzid}", _stamp(written), tzid


_HEADER = b"BEGIN:VCALENDAR\r\n" + _line("VERSION", "2.0") + _line("PRODID", _vtext(PRODID))
_BEGIN_EVENT = b"BEGIN:VEVENT\r\n"
_FOOTER = b"END:VEVENT\r\nEND:VCALENDAR\r\n"
_ALARM_HEAD = b"BEGIN:VALARM\r\nACTION:DISPLAY\r\n"
_ALARM_TAIL = b"END:VALARM\r\n"

_TZ_CACHE_LIMIT = 4096
_timezones: dict[tuple[str | None, str | None, int, int], bytes] = {}


def _timezone_block(
    event: Event, start: datetime | date, end: datetime | date, keys: tuple[str | None, str | None]
) -> bytes | None:
    """The VTIMEZONE components `finish_calendar` adds for this event, as text.

    Made once per (zones, year span) by finish_calendar on a calendar that uses
    the same TZIDs in the same order, and cut out of its output.
    """
    years = (event.start.year, event.end.year)
    first, last = max(min(years) - 1, 1), min(max(years) + 3, 9999)
    key = (keys[0], keys[1], first, last)
    block = _timezones.get(key)
    if block is not None:
        return block
    try:
        cal = icalendar.Calendar()
        cal.add("PRODID", PRODID)
        cal.add("VERSION", "2.0")
        comp = icalendar.Event()
        cal.add_component(comp)
        comp.add("DTSTART", start)
        comp.add("DTEND", end)
        data = finish_calendar(cal, [event.start, event.end])
    except Exception:  # the full path meets the same error and reports it
        return None
    cut = data.find(_BEGIN_EVENT)
    if not data.startswith(_HEADER) or cut < 0:
        return None
    block = data[len(_HEADER) : cut]
    if len(_timezones) >= _TZ_CACHE_LIMIT:
        _timezones.clear()
    _timezones[key] = block
    return block


def render_simple(event: Event) -> bytes | None:
    """`render_event(event)` (no base) as the same bytes, or None if unsure."""
    try:
        return _render(event)
    except (OverflowError, ValueError, UnicodeError):
        # out-of-range times, a malformed recurrence id, lone surrogates: the full
        # path raises (or copes) in its own way
        return None


def _render(event: Event) -> bytes | None:
    start = _time_form(event.start)
    end = _time_form(event.end)
    if start is None or end is None:
        return None

    if event.last_modified is not None:
        modified = event.last_modified.astimezone(UTC)
    else:
        modified = datetime.now(UTC)
    stamp = _stamp(modified) + "Z"

    out = [_HEADER]
    if start[2] is not None or end[2] is not None:
        block = _timezone_block(
            event, ical_time(event.start), ical_time(event.end), (start[2], end[2])
        )
        if block is None:
            return None
        out.append(block)
    out.append(_BEGIN_EVENT)
    out.append(_line("SUMMARY", _rfc_text(event.subject)))
    out.append(_line("DTSTART" + start[0], start[1]))
    out.append(_line("DTEND" + end[0], end[1]))
    out.append(_line("DTSTAMP", stamp))
    out.append(_line("UID", _rfc_text(event.uid)))
    if event.recurrence_id is not None:
        rid = recurrence_value(event.recurrence_id)
        if isinstance(rid, datetime):
            out.append(_line("RECURRENCE-ID", _stamp(rid.astimezone(UTC)) + "Z"))
        else:
            out.append(_line("RECURRENCE-ID;VALUE=DATE", _date(rid)))
    # the rest in icalendar's alphabetical order
    out.append(_line("CLASS", PRIVACY_TO_CLASS[event.privacy]))
    if event.text:
        out.append(_line("DESCRIPTION", _rfc_text(event.text)))
    if event.last_modified is not None:
        out.append(_line("LAST-MODIFIED", stamp))
    if event.location:
        out.append(_line("LOCATION", _rfc_text(event.location)))
    if event.show_as is ShowAs.TENTATIVE:
        out.append(b"STATUS:TENTATIVE\r\n")
    out.append(b"TRANSP:TRANSPARENT\r\n" if event.show_as is ShowAs.FREE else b"TRANSP:OPAQUE\r\n")
    if event.privacy is Privacy.PERSONAL:
        out.append(_line(PRIVACY_X_PROP, "PERSONAL"))
    out.append(_line("X-MICROSOFT-CDO-BUSYSTATUS", SHOW_AS_TO_CDO[event.show_as]))
    if event.reminder is not None:
        out.append(_ALARM_HEAD)
        out.append(_line("DESCRIPTION", _vtext(event.subject or "Reminder")))
        out.append(_line("TRIGGER", _duration(event.reminder)))
        out.append(_ALARM_TAIL)
    out.append(_FOOTER)
    return b"".join(out)
