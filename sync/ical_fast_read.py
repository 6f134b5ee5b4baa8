"""Reading a simple iCalendar item as text: the hot path of listing a CalDAV calendar.

`sync.ical.parse_event` builds icalendar's object model for every item (~0.5 ms);
an initial sync of a large calendar spends most of its time there. `read_simple`
reads the common shape directly from the content lines and returns exactly the
`Event` the full parser returns, or None for anything outside the subset it is
certain about; the caller then takes the full path, which also reports errors in
its own words. It never raises.

The subset: one VCALENDAR holding VTIMEZONEs and exactly one VEVENT (no series,
no override) with VALARMs. Lines are unfolded and split exactly as icalendar does
(`icalendar.parser.content_line`). Every line read must be `NAME(;KEY=VALUE)*:value`
with plain parameter values (no backslash, caret, percent or lists) and only the
parameters calsync understands; DATE and DATE-TIME values in basic form, strict
durations, TZIDs that name an IANA zone, a Windows zone or UTC; floating times
only without X-WR-TIMEZONE and not as DTEND beside a DTSTART with TZID. Equality with
icalendar rests on these facts about it, each checked by
tests/test_ical_fast_read.py against the full parser:

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

import icalendar
from icalendar.prop import vCalAddress, vText, vUnknown, vUri
from icalendar.timezone.windows_to_olson import WINDOWS_TO_OLSON

from sync.ical import _CDO, _CDO_TO_SHOW_AS, PRIVACY_X_PROP, _add_duration
from sync.model import Event, Privacy, ShowAs
from sync.timezones import UnknownTimezone, resolve_tzid

__all__ = ["read_simple"]


class _Unsure(Exception):
    """The item is outside the subset: let the full parser read it."""


#: icalendar's fold, `(\r?\n)+[ \t]` (parser/content_line.py), once CRLF is LF
_UNFOLD = re.compile(r"\n+[ \t]")

#: the name and the character after it; icalendar splits the name there too
_HEAD = re.compile(r"([A-Za-z0-9-]+)([;:])")
# One parameter. Unquoted values may not start or end with blanks (icalendar
# strips those) nor hold what its validator rejects; backslash, caret and percent
# are left out because icalendar rewrites them (RFC 6868, its %-escaping).
_PLAIN = r'[^\s"\x00-\x1f\x7f;:,\\^%]'
_PARAM = re.compile(
    r';([A-Za-z0-9-]+)=(?:"([^"\x00-\x08\x0a-\x1f\x7f\\^%]*)"'
    rf'|({_PLAIN}(?:[^"\x00-\x08\x0a-\x1f\x7f;:,\\^%]*{_PLAIN})?))'
)
#: what may be a VALUE parameter in a line not otherwise read (errs on the safe side)
_ANY_VALUE_PARAM = re.compile(r";[ \t]*value[ \t]*=", re.IGNORECASE)
_PLAIN_VALUE_PARAM = re.compile(r";value=[A-Za-z0-9-]+[;:]", re.IGNORECASE)

_DATE_TIME = re.compile(r"([0-9]{4})([0-9]{2})([0-9]{2})(?:T([0-9]{2})([0-9]{2})([0-9]{2})(Z?))?\Z")
_DURATION = re.compile(
    r"([-+]?)P(?:([0-9]{1,6})W)?(?:([0-9]{1,6})D)?"
    r"(?:T(?=[0-9])(?:([0-9]{1,6})H)?(?:([0-9]{1,6})M)?(?:([0-9]{1,6})S)?)?\Z"
)
_INTEGER = re.compile(r"[-+]?[0-9]{1,9}\Z")
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
    _CDO: _NONE,
    PRIVACY_X_PROP: _NONE,
    "LAST-MODIFIED": _NONE,
}
#: series and overrides are read by the full parser; DUE would resolve its TZID
_EVENT_REFUSED = frozenset({"RRULE", "RDATE", "EXDATE", "EXRULE", "RECURRENCE-ID", "DUE"})
_ALARM_PROPS: dict[str, frozenset[str]] = {
    "ACTION": _NONE,
    "TRIGGER": frozenset({"RELATED", "VALUE"}),
}
_TYPES = icalendar.Calendar.types_factory
#: value types whose icalendar parser accepts any text
_ANY_TEXT = (vText, vUnknown, vUri, vCalAddress)
#: names icalendar's parser splits into lists: a VALUE on them can crash it
_SPECIAL_NAMES = frozenset({"CATEGORIES", "FREEBUSY", "RDATE", "EXDATE"})
_UTC_SPELLINGS = frozenset({"UTC", "GMT", "Z", "Etc/UTC", "Etc/GMT"})

_Props = dict[str, tuple[dict[str, str], str]]


def read_simple(text: str, item_id: str) -> Event | None:
    """The Event `sync.ical._parse(text, item_id)` returns, or None if unsure.

    `item_id` names the item in errors, and this reader reports none.
    """
    try:
        return _read(text)
    except Exception:  # _Unsure, or anything odd: the full parser decides
        return None


def _read(text: str) -> Event | None:
    if text[:15].upper() != "BEGIN:VCALENDAR":
        return None
    lines = _content_lines(text)
    if lines is None:
        return None
    event: _Props | None = None
    alarms: list[_Props] = []
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
        head = _HEAD.match(line)
        if head is None or closed:
            return None
        name = head[1].upper()
        if name == "BEGIN" or name == "END":
            kind = _component_name(line, head)
            if name == "END":
                if not stack or stack.pop() != kind:
                    return None
                closed = not stack
            elif not stack:
                if kind != "VCALENDAR":
                    return None
                stack.append(kind)
            elif kind == "VTIMEZONE" and stack == ["VCALENDAR"]:
                last = _zone_end(lines, i)
                if not _zone_parses(lines[i - 1 : last + 1]):
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
                _keep(event, name, line, head.end(), _EVENT_PROPS[name])
            elif name in _EVENT_REFUSED or not _value_params_plain(name, line):
                return None
            # anything else is ignored: a VEVENT survives even a value icalendar cannot parse
        elif where == "VALARM":
            if name in _ALARM_PROPS:
                _keep(alarms[-1], name, line, head.end(), _ALARM_PROPS[name])
            else:
                _check_strict(name, line, head.end())
        elif where == "VCALENDAR":
            zoned = zoned or name == "X-WR-TIMEZONE"
            _check_strict(name, line, head.end())
        else:
            return None
    if not closed or event is None:
        return None
    return _event(event, alarms, zoned)


def _zone_end(lines: list[str], start: int) -> int:
    """Where the VTIMEZONE opened before `start` may end (checked by `_zone_parses`)."""
    try:
        return lines.index("END:VTIMEZONE", start)
    except ValueError:
        for at in range(start, len(lines)):
            if lines[at].upper() == "END:VTIMEZONE":
                return at
    raise _Unsure


def _content_lines(text: str) -> list[str] | None:
    """The content lines icalendar sees, empty ones included; None for a bare CR.

    The same as icalendar's `UFOLD.sub` then `NEWLINE.split`: once CRLF is LF, a
    fold is a run of line breaks followed by a blank, and where no line is empty
    that run is a single break, which plain replacing removes.
    """
    flat = text.replace("\r\n", "\n")
    if "\r" in flat:
        return None  # a bare CR would stay inside a content line
    if "\n\n" in flat:
        flat = _UNFOLD.sub("", flat)
    elif "\n " in flat or "\n\t" in flat:
        flat = flat.replace("\n ", "").replace("\n\t", "")
    return flat.split("\n")


def _component_name(line: str, head: re.Match[str]) -> str:
    """The component a BEGIN or END line names, compared as icalendar compares it."""
    value = line[head.end() :]
    if head[2] != ":" or "\\" in value:
        raise _Unsure
    return value.upper()


def _params(line: str, pos: int) -> tuple[dict[str, str], str]:
    """The parameters (upper-case keys) and the raw value of a content line."""
    params: dict[str, str] = {}
    while line[pos] == ";":
        match = _PARAM.match(line, pos)
        if match is None:
            raise _Unsure
        key = match[1].upper()
        if key in params:
            raise _Unsure
        quoted = match[2]
        params[key] = quoted if quoted is not None else match[3]
        pos = match.end()
    if line[pos] != ":":
        raise _Unsure
    return params, line[pos + 1 :]


def _keep(props: _Props, name: str, line: str, pos: int, allowed: frozenset[str]) -> None:
    if name in props:
        raise _Unsure  # icalendar makes a list; the full parser's rules apply
    params, value = _params(line, pos - 1)
    if not allowed.issuperset(params):
        raise _Unsure
    props[name] = (params, value)


def _check_strict(name: str, line: str, pos: int) -> None:
    """A property of a component that raises on a value it cannot parse."""
    params, value = _params(line, pos - 1)
    if name.startswith("X-"):
        return  # icalendar tolerates unparsable X- values everywhere
    kind = params.get("VALUE")
    if _TYPES.for_property(name, kind.upper() if kind else None) in _ANY_TEXT:
        return
    if kind is None:
        if name == "REPEAT" and _INTEGER.match(value):
            return
        if name == "DURATION" and _DURATION.match(value):
            return
        if name == "ACKNOWLEDGED" and isinstance(_date_or_time(value), datetime):
            return
    raise _Unsure


def _value_params_plain(name: str, line: str) -> bool:
    """Whether icalendar survives the VALUE parameters of a VEVENT line not read here.

    Any single VALUE only changes which parser may fail, and a VEVENT tolerates
    that; a list of them, or one on CATEGORIES, crashes icalendar's parser.
    """
    for found in _ANY_VALUE_PARAM.finditer(line):
        if name in _SPECIAL_NAMES or not _PLAIN_VALUE_PARAM.match(line, found.start()):
            return False
    return True


#: VTIMEZONE block (content lines) -> whether icalendar parses it and its rules
_ZONE_VERDICTS: dict[str, bool] = {}


def _zone_parses(lines: list[str]) -> bool:
    """Whether icalendar reads this VTIMEZONE block without raising, whatever it cached.

    A server repeats the same block in every item, so each distinct one is judged
    once: its structure here, its properties by icalendar itself. Building its
    rules (`to_tz`) is part of the verdict: icalendar does that while parsing for
    a TZID it does not know, unless an earlier calendar already taught it the name.
    """
    block = "\n".join(lines)
    verdict = _ZONE_VERDICTS.get(block)
    if verdict is None:
        try:
            verdict = _zone_structure_ok(lines)
            if verdict:
                wrapped = f"BEGIN:VCALENDAR\r\n{block}\r\nEND:VCALENDAR\r\n"
                for comp in icalendar.Calendar.from_ical(wrapped).subcomponents:
                    if not isinstance(comp, icalendar.Timezone):
                        raise _Unsure
                    comp.to_tz(lookup_tzid=False)
        except Exception:
            verdict = False
        if len(_ZONE_VERDICTS) >= 256:
            _ZONE_VERDICTS.clear()
        _ZONE_VERDICTS[block] = verdict
    return verdict


def _zone_structure_ok(lines: list[str]) -> bool:
    """BEGIN:VTIMEZONE, STANDARD and DAYLIGHT parts, and its END on the last line only."""
    stack: list[str] = []
    for number, line in enumerate(lines):
        if not line:
            continue
        head = _HEAD.match(line)
        if head is None:
            return False
        name = head[1].upper()
        if name == "BEGIN":
            kind = _component_name(line, head)
            part = stack == ["VTIMEZONE"] and kind in ("STANDARD", "DAYLIGHT")
            if not part and not (number == 0 and kind == "VTIMEZONE"):
                return False
            stack.append(kind)
        elif name == "END":
            if not stack or stack.pop() != _component_name(line, head):
                return False
            if not stack and number != len(lines) - 1:
                return False
    return not stack


def _text(props: _Props, name: str) -> str:
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


def _raw_upper(props: _Props, name: str) -> str:
    """An X- property as `sync.ical._upper` sees it: icalendar keeps X- values raw."""
    prop = props.get(name)
    return prop[1].strip().upper() if prop is not None else ""


def _date_or_time(value: str) -> datetime | date | None:
    """DATE or DATE-TIME in basic form: naive, or UTC for a trailing Z; None otherwise."""
    match = _DATE_TIME.match(value)
    if match is None:
        return None
    year, month, day, hour, minute, second, zulu = match.groups()
    if hour is None:
        return date(int(year), int(month), int(day))
    return datetime(
        int(year),
        int(month),
        int(day),
        int(hour),
        int(minute),
        int(second),
        tzinfo=UTC if zulu else None,
    )


def _time(props: _Props, name: str) -> datetime | date | None:
    """`sync.ical.read_time` for the forms this reader accepts."""
    prop = props.get(name)
    if prop is None:
        return None
    params, raw = prop
    value = _date_or_time(raw)
    if value is None:
        raise _Unsure
    kind = params.get("VALUE")
    if kind is not None and kind.upper() not in ("DATE", "DATE-TIME"):
        raise _Unsure  # other types have other parsers
    tzid = params.get("TZID")
    if not isinstance(value, datetime):
        if tzid is not None:
            raise _Unsure  # icalendar reads a DATE with a TZID as a midnight date-time
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
        raise _Unsure
    return zone


def _duration(value: str) -> timedelta:
    match = _DURATION.match(value)
    if match is None or value.endswith("P"):
        raise _Unsure
    sign, weeks, days, hours, minutes, seconds = (group or "0" for group in match.groups())
    delta = timedelta(
        weeks=int(weeks),
        days=int(days),
        hours=int(hours),
        minutes=int(minutes),
        seconds=int(seconds),
    )
    return -delta if sign == "-" else delta


def _end(props: _Props, start: datetime | date) -> datetime | date:
    end = _time(props, "DTEND")
    if end is not None:
        if isinstance(end, datetime) != isinstance(start, datetime):
            raise _Unsure
        return end
    duration = props.get("DURATION")
    if duration is not None:
        return _add_duration(start, _duration(duration[1]))
    if isinstance(start, datetime):
        return start
    return start + timedelta(days=1)


def _show_as(props: _Props) -> ShowAs:
    cdo = _CDO_TO_SHOW_AS.get(_raw_upper(props, _CDO))
    if cdo is not None:
        return cdo
    if _text(props, "STATUS").strip().upper() == "TENTATIVE":
        return ShowAs.TENTATIVE
    if _text(props, "TRANSP").strip().upper() == "TRANSPARENT":
        return ShowAs.FREE
    return ShowAs.BUSY


def _privacy(props: _Props) -> Privacy:
    cls = _text(props, "CLASS").strip().upper()
    if cls in ("", "PUBLIC"):
        return Privacy.NORMAL
    if cls == "CONFIDENTIAL":
        return Privacy.CONFIDENTIAL
    if _raw_upper(props, PRIVACY_X_PROP) == "PERSONAL":
        return Privacy.PERSONAL
    return Privacy.PRIVATE


def _trigger(alarm: _Props) -> timedelta | None:
    """The TRIGGER as icalendar reads it when it is a duration; checks every form."""
    prop = alarm.get("TRIGGER")
    if prop is None:
        return None
    params, value = prop
    if params.get("VALUE", "DURATION").upper() not in ("DURATION", "DATE-TIME"):
        raise _Unsure
    if value[:1] in ("P", "-", "+"):
        return _duration(value)  # by content, whatever VALUE says, as icalendar
    if not isinstance(_date_or_time(value), datetime):
        raise _Unsure
    return None


def _reminder(alarms: list[_Props]) -> int | None:
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


def _last_modified(props: _Props) -> datetime | None:
    prop = props.get("LAST-MODIFIED")
    if prop is None:
        return None
    value = _date_or_time(prop[1])
    if value is None:
        raise _Unsure  # icalendar may read odd forms its own way, or drop them
    if not isinstance(value, datetime):
        return None
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(UTC).replace(microsecond=0)


def _floating(props: _Props, name: str) -> bool:
    prop = props.get(name)
    return prop is not None and "TZID" not in prop[0] and len(prop[1]) == 15


def _event(props: _Props, alarms: list[_Props], zoned: bool) -> Event | None:
    uid = _text(props, "UID")
    # a floating time is in X-WR-TIMEZONE's zone, a floating DTEND in DTSTART's
    # (sync.ical_timezones): the full parser reads those
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
