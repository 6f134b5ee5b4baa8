"""The content lines of an iCalendar text, read exactly as icalendar reads them.

The layer under `sync.ical.fast_read`: unfolding and splitting (`content_lines`),
a line's name, parameters and raw value (`HEAD`, `keep`), whether icalendar
survives a line the fast reader does not read (`check_strict`,
`value_params_plain`), whether a VTIMEZONE block parses (`zone_parses`, judged
once per distinct block by icalendar itself) and the basic DATE, DATE-TIME and
DURATION forms. Anything outside what it is certain about raises `Unsure`, and
the caller takes the full path. The facts about icalendar these rest on are
listed in `sync.ical.fast_read`.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta

import icalendar
from icalendar.prop import vCalAddress, vText, vUnknown, vUri

__all__ = [
    "HEAD",
    "Props",
    "Unsure",
    "check_strict",
    "component_name",
    "content_lines",
    "date_or_time",
    "keep",
    "parse_duration",
    "value_params_plain",
    "zone_end",
    "zone_parses",
]


class Unsure(Exception):
    """The item is outside the subset: let the full parser read it."""


#: icalendar's fold, `(\r?\n)+[ \t]` (parser/content_line.py), once CRLF is LF
_UNFOLD = re.compile(r"\n+[ \t]")

#: the name and the character after it; icalendar splits the name there too
HEAD = re.compile(r"([A-Za-z0-9-]+)([;:])")

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

_TYPES = icalendar.Calendar.types_factory
#: value types whose icalendar parser accepts any text
_ANY_TEXT = (vText, vUnknown, vUri, vCalAddress)
#: names icalendar's parser splits into lists: a VALUE on them can crash it
_SPECIAL_NAMES = frozenset({"CATEGORIES", "FREEBUSY", "RDATE", "EXDATE"})

Props = dict[str, tuple[dict[str, str], str]]


def zone_end(lines: list[str], start: int) -> int:
    """Where the VTIMEZONE opened before `start` may end (checked by `zone_parses`)."""
    try:
        return lines.index("END:VTIMEZONE", start)
    except ValueError:
        for at in range(start, len(lines)):
            if lines[at].upper() == "END:VTIMEZONE":
                return at
    raise Unsure


def content_lines(text: str) -> list[str] | None:
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


def component_name(line: str, head: re.Match[str]) -> str:
    """The component a BEGIN or END line names, compared as icalendar compares it."""
    value = line[head.end() :]
    if head[2] != ":" or "\\" in value:
        raise Unsure
    return value.upper()


def _params(line: str, pos: int) -> tuple[dict[str, str], str]:
    """The parameters (upper-case keys) and the raw value of a content line."""
    params: dict[str, str] = {}
    while line[pos] == ";":
        match = _PARAM.match(line, pos)
        if match is None:
            raise Unsure
        key = match[1].upper()
        if key in params:
            raise Unsure
        quoted = match[2]
        params[key] = quoted if quoted is not None else match[3]
        pos = match.end()
    if line[pos] != ":":
        raise Unsure
    return params, line[pos + 1 :]


def keep(props: Props, name: str, line: str, pos: int, allowed: frozenset[str]) -> None:
    if name in props:
        raise Unsure  # icalendar makes a list; the full parser's rules apply
    params, value = _params(line, pos - 1)
    if not allowed.issuperset(params):
        raise Unsure
    props[name] = (params, value)


def check_strict(name: str, line: str, pos: int) -> None:
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
        if name == "ACKNOWLEDGED" and isinstance(date_or_time(value), datetime):
            return
    raise Unsure


def value_params_plain(name: str, line: str) -> bool:
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


def zone_parses(lines: list[str]) -> bool:
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
                        raise Unsure
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
        head = HEAD.match(line)
        if head is None:
            return False
        name = head[1].upper()
        if name == "BEGIN":
            kind = component_name(line, head)
            part = stack == ["VTIMEZONE"] and kind in ("STANDARD", "DAYLIGHT")
            if not part and not (number == 0 and kind == "VTIMEZONE"):
                return False
            stack.append(kind)
        elif name == "END":
            if not stack or stack.pop() != component_name(line, head):
                return False
            if not stack and number != len(lines) - 1:
                return False
    return not stack


def date_or_time(value: str) -> datetime | date | None:
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


def parse_duration(value: str) -> timedelta:
    match = _DURATION.match(value)
    if match is None or value.endswith("P"):
        raise Unsure
    sign, weeks, days, hours, minutes, seconds = (group or "0" for group in match.groups())
    delta = timedelta(
        weeks=int(weeks),
        days=int(days),
        hours=int(hours),
        minutes=int(minutes),
        seconds=int(seconds),
    )
    return -delta if sign == "-" else delta
