"""Reading a simple iCalendar item as text: the hot path of listing a CalDAV calendar.

`sync.ical.codec.parse_event` builds icalendar's object model for every item (~0.5 ms);
an initial sync of a large calendar spends most of its time there. `read_simple`
reads the common shape directly from the content lines and returns exactly the
`Event` the full parser returns, or None for anything outside the subset it is
certain about; the caller then takes the full path, which also reports errors in
its own words. It never raises.

The subset: one VCALENDAR holding VTIMEZONEs and exactly one VEVENT (no series,
no override) with VALARMs. Lines are unfolded and split exactly as icalendar does
(`icalendar.parser.content_line`; here `sync.ical.fast_lines` does it). Every line
read must be `NAME(;KEY=VALUE)*:value`
with plain parameter values (no backslash, caret, percent or lists) and only the
parameters calsync understands; DATE and DATE-TIME values in basic form, strict
durations, TZIDs that name an IANA zone, a Windows zone or UTC; floating times
only without X-WR-TIMEZONE and not as DTEND beside a DTSTART with TZID. Equality with
icalendar rests on these facts about it, each checked by
tests/ical/test_fast_read.py against the full parser:

* A VEVENT tolerates values and lines it cannot parse, so its other properties
  are skipped unread, unless a VALUE parameter could crash icalendar (a list, or
  one on CATEGORIES). VCALENDAR and VALARM raise instead, so their properties are
  limited to types that parse any text (text, URI, address, X- names) and to
  values checked here.
* A VTIMEZONE is not read (every TZID used must resolve by name) but it must
  parse: each distinct block is judged once by icalendar itself, its rules
  included, and the verdict is memoized.
* TEXT values are unescaped in icalendar's single pass (backslash followed by
  backslash, comma, semicolon, colon, n or N; any other backslash stays);
  X- properties keep their raw value.
* Dates and date-times are told apart by length, not by VALUE, and a TZID wins
  over a trailing Z; but a DATE with a TZID becomes a midnight date-time there,
  so that form is left to the full parser.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta, tzinfo
from zoneinfo import ZoneInfo

from icalendar.timezone.windows_to_olson import WINDOWS_TO_OLSON

from sync.ical.fast_lines import (
    HEAD,
    Props,
    Unsure,
    check_strict,
    component_name,
    content_lines,
    date_or_time,
    keep,
    parse_duration,
    value_params_plain,
    zone_end,
    zone_parses,
)
from sync.ical.vocabulary import CDO_BUSYSTATUS, CDO_TO_SHOW_AS, PRIVACY_X_PROP, add_duration
from sync.ical.zone_names import UnknownTimezone, resolve_tzid
from sync.model import Event, Privacy, ShowAs

__all__ = ["read_simple"]

_ESCAPE = re.compile(r"\\([\\,;:nN])")
_TEXT_PARAMS = frozenset({"LANGUAGE", "ALTREP"})
_TIME_PARAMS = frozenset({"TZID", "VALUE"})
_NONE: frozenset[str] = frozenset()
#: VEVENT properties read here -> the parameters allowed on them
_EVENT_PROPS: dict[str, frozenset[str]] = {
    "UID": _NONE,
    "SUMMARY": _TEXT_PARAMS,
    "LOCATION": _TEXT_PARAMS,
    "DESCRIPTION": _TEXT_PARAMS,
    "DTSTART": _TIME_PARAMS,
    "DTEND": _TIME_PARAMS,
    "DURATION": _NONE,
    "STATUS": _NONE,
    "TRANSP": _NONE,
    "CLASS": _NONE,
    CDO_BUSYSTATUS: _NONE,
    PRIVACY_X_PROP: _NONE,
    "LAST-MODIFIED": _NONE,
}
#: series and overrides are read by the full parser; DUE would resolve its TZID
_EVENT_REFUSED = frozenset({"RRULE", "RDATE", "EXDATE", "EXRULE", "RECURRENCE-ID", "DUE"})
_ALARM_PROPS: dict[str, frozenset[str]] = {
    "ACTION": _NONE,
    "TRIGGER": frozenset({"RELATED", "VALUE"}),
}
_UTC_SPELLINGS = frozenset({"UTC", "GMT", "Z", "Etc/UTC", "Etc/GMT"})


def read_simple(text: str, item_id: str) -> Event | None:
    """The Event `sync.ical.full_read.parse_full(text, item_id)` returns, or None if unsure.

    `item_id` names the item in errors, and this reader reports none.
    """
    try:
        return _read(text)
    except Exception:  # Unsure, or anything odd: the full parser decides
        return None


def _read(text: str) -> Event | None:
    if text[:15].upper() != "BEGIN:VCALENDAR":
        return None
    lines = content_lines(text)
    if lines is None:
        return None
    event: Props | None = None
    alarms: list[Props] = []
    stack: list[str] = []
    closed = False
    zoned = False  # the calendar has an X-WR-TIMEZONE
    count = len(lines)
    i = 0
    while i < count:
        line = lines[i]
        i += 1
        if not line:
            continue  # icalendar skips empty lines
        head = HEAD.match(line)
        if head is None or closed:
            return None
        name = head[1].upper()
        if name == "BEGIN" or name == "END":
            kind = component_name(line, head)
            if name == "END":
                if not stack or stack.pop() != kind:
                    return None
                closed = not stack
            elif not stack:
                if kind != "VCALENDAR":
                    return None
                stack.append(kind)
            elif kind == "VTIMEZONE" and stack == ["VCALENDAR"]:
                last = zone_end(lines, i)
                if not zone_parses(lines[i - 1 : last + 1]):
                    return None
                i = last + 1
            elif kind == "VEVENT" and stack == ["VCALENDAR"] and event is None:
                stack.append(kind)
                event = {}
            elif kind == "VALARM" and stack[-1] == "VEVENT":
                stack.append(kind)
                alarms.append({})
            else:
                return None
            continue
        where = stack[-1] if stack else ""
        if where == "VEVENT":
            assert event is not None
            if name in _EVENT_PROPS:
                keep(event, name, line, head.end(), _EVENT_PROPS[name])
            elif name in _EVENT_REFUSED or not value_params_plain(name, line):
                return None
            # anything else is ignored: a VEVENT survives even a value icalendar cannot parse
        elif where == "VALARM":
            if name in _ALARM_PROPS:
                keep(alarms[-1], name, line, head.end(), _ALARM_PROPS[name])
            else:
                check_strict(name, line, head.end())
        elif where == "VCALENDAR":
            zoned = zoned or name == "X-WR-TIMEZONE"
            check_strict(name, line, head.end())
        else:
            return None
    if not closed or event is None:
        return None
    return _event(event, alarms, zoned)


def _text(props: Props, name: str) -> str:
    """A TEXT value unescaped as icalendar does, "" when absent."""
    prop = props.get(name)
    if prop is None:
        return ""
    value = prop[1]
    if "\\" not in value:
        return value
    return _ESCAPE.sub(_unescape_one, value)  # other backslashes stay, as in icalendar


def _unescape_one(match: re.Match[str]) -> str:
    char = match[1]
    return "\n" if char in "nN" else char


def _raw_upper(props: Props, name: str) -> str:
    """An X- property as `sync.ical.full_read.prop_upper` sees it: icalendar keeps X- values raw."""
    prop = props.get(name)
    return prop[1].strip().upper() if prop is not None else ""


def _time(props: Props, name: str) -> datetime | date | None:
    """`sync.ical.full_read.read_time` for the forms this reader accepts."""
    prop = props.get(name)
    if prop is None:
        return None
    params, raw = prop
    value = date_or_time(raw)
    if value is None:
        raise Unsure
    kind = params.get("VALUE")
    if kind is not None and kind.upper() not in ("DATE", "DATE-TIME"):
        raise Unsure  # other types have other parsers
    tzid = params.get("TZID")
    if not isinstance(value, datetime):
        if tzid is not None:
            raise Unsure  # icalendar reads a DATE with a TZID as a midnight date-time
        return value
    if tzid is None:
        return value if value.tzinfo is not None else value.replace(tzinfo=UTC)
    return value.replace(tzinfo=_zone(tzid))  # the wall time there, Z or not, as read_time


#: TZID -> zone, or None when icalendar might treat the name differently
_ZONES: dict[str, tzinfo | None] = {}


def _zone(tzid: str) -> tzinfo:
    """The zone `resolve_tzid` gives, for names icalendar also resolves without a fuss.

    IANA keys, Windows names and UTC spellings only: a vendor-prefixed or dirty
    name can make icalendar's own lookup fail (e.g. a directory name such as
    "Europe"), and a name only the item's VTIMEZONE defines needs its rules.
    """
    if tzid in _ZONES:
        zone = _ZONES[tzid]
    else:
        try:
            found: tzinfo | None = resolve_tzid(tzid)
        except UnknownTimezone:
            found = None
        plain = (
            tzid in _UTC_SPELLINGS
            or tzid in WINDOWS_TO_OLSON
            or (isinstance(found, ZoneInfo) and found.key == tzid)
        )
        zone = found if plain else None
        if len(_ZONES) < 1024:
            _ZONES[tzid] = zone
    if zone is None:
        raise Unsure
    return zone


def _end(props: Props, start: datetime | date) -> datetime | date:
    end = _time(props, "DTEND")
    if end is not None:
        if isinstance(end, datetime) != isinstance(start, datetime):
            raise Unsure
        return end
    duration = props.get("DURATION")
    if duration is not None:
        return add_duration(start, parse_duration(duration[1]))
    if isinstance(start, datetime):
        return start
    return start + timedelta(days=1)


def _show_as(props: Props) -> ShowAs:
    cdo = CDO_TO_SHOW_AS.get(_raw_upper(props, CDO_BUSYSTATUS))
    if cdo is not None:
        return cdo
    if _text(props, "STATUS").strip().upper() == "TENTATIVE":
        return ShowAs.TENTATIVE
    if _text(props, "TRANSP").strip().upper() == "TRANSPARENT":
        return ShowAs.FREE
    return ShowAs.BUSY


def _privacy(props: Props) -> Privacy:
    cls = _text(props, "CLASS").strip().upper()
    if cls in ("", "PUBLIC"):
        return Privacy.NORMAL
    if cls == "CONFIDENTIAL":
        return Privacy.CONFIDENTIAL
    if _raw_upper(props, PRIVACY_X_PROP) == "PERSONAL":
        return Privacy.PERSONAL
    return Privacy.PRIVATE


def _trigger(alarm: Props) -> timedelta | None:
    """The TRIGGER as icalendar reads it when it is a duration; checks every form."""
    prop = alarm.get("TRIGGER")
    if prop is None:
        return None
    params, value = prop
    if params.get("VALUE", "DURATION").upper() not in ("DURATION", "DATE-TIME"):
        raise Unsure
    if value[:1] in ("P", "-", "+"):
        return parse_duration(value)  # by content, whatever VALUE says, as icalendar
    if not isinstance(date_or_time(value), datetime):
        raise Unsure
    return None


def _reminder(alarms: list[Props]) -> int | None:
    reminder = None
    for alarm in alarms:
        trigger = _trigger(alarm)  # every alarm: a bad one makes icalendar raise
        if reminder is not None or trigger is None or trigger > timedelta(0):
            continue
        if _text(alarm, "ACTION").strip().upper() != "DISPLAY":
            continue
        if alarm["TRIGGER"][0].get("RELATED", "START").upper() != "START":
            continue
        reminder = int(-trigger.total_seconds()) // 60
    return reminder


def _last_modified(props: Props) -> datetime | None:
    prop = props.get("LAST-MODIFIED")
    if prop is None:
        return None
    value = date_or_time(prop[1])
    if value is None:
        raise Unsure  # icalendar may read odd forms its own way, or drop them
    if not isinstance(value, datetime):
        return None
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(UTC).replace(microsecond=0)


def _floating(props: Props, name: str) -> bool:
    prop = props.get(name)
    return prop is not None and "TZID" not in prop[0] and len(prop[1]) == 15


def _event(props: Props, alarms: list[Props], zoned: bool) -> Event | None:
    uid = _text(props, "UID")
    # a floating time is in X-WR-TIMEZONE's zone, a floating DTEND in DTSTART's
    # (sync.ical.timezones): the full parser reads those
    if _floating(props, "DTSTART") and zoned:
        return None
    if _floating(props, "DTEND") and (zoned or "TZID" in props.get("DTSTART", ({}, ""))[0]):
        return None
    start = _time(props, "DTSTART")
    if not uid.strip() or start is None:
        return None
    end = _end(props, start)
    if end < start:  # type: ignore[operator]
        return None
    return Event(
        uid=uid,
        subject=_text(props, "SUMMARY"),
        start=start,
        end=end,
        all_day=not isinstance(start, datetime),
        location=_text(props, "LOCATION"),
        show_as=_show_as(props),
        privacy=_privacy(props),
        reminder=_reminder(alarms),
        text=_text(props, "DESCRIPTION"),
        last_modified=_last_modified(props),
    )
