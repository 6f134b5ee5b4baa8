"""Loading iCalendar text so that what calsync does not map survives a rewrite.

Both paths of the codec start here: `decode` the item's bytes, `read_calendar`
(or the guarded `load_calendar`) for icalendar's object model, `vevents` and
`pick_master` for the event it holds.

Two repairs happen before icalendar sees the text, both for files real clients
write:

* iCloud writes the local mean time of old VTIMEZONE rules with seconds but
  without the hours (``TZOFFSETFROM:+5328`` for Berlin's +00:53:28). icalendar
  refuses the whole calendar on it, so calsync read nothing of the item and, on
  a write, replaced it. An offset of 24 hours or more in four digits is read as
  minutes and seconds (``+005328``), which is what it means.
* X- properties keep their text exactly as written. icalendar unescapes a value
  it thinks it knows the type of (``VALUE=URI``), and writes it back without the
  escapes: Apple's ``X-APPLE-STRUCTURED-LOCATION;VALUE=URI:geo:52.3\\,7.5``
  came back as ``geo:52.3,7.5``, and servers that split on the comma kept only
  ``geo:52.3``. Their value is vendor data calsync never reads as a type.
"""

from __future__ import annotations

import re
import warnings
from typing import Any

import icalendar
from icalendar.error import GloballyUniqueTZIDGuessed
from icalendar.parser.ical.calendar import CalendarIcalParser
from icalendar.prop import vUnknown

from sync.providers.base import MalformedItem

__all__ = [
    "FaithfulCalendar",
    "decode",
    "load_calendar",
    "one_line",
    "pick_master",
    "read_calendar",
    "repair_offsets",
    "vevents",
]

# icalendar warns on stderr when it guesses a vendor-prefixed TZID while parsing;
# calsync resolves TZIDs itself (sync.ical.zone_names) and an operator's terminal
# or a cron mail is no place for that warning.
warnings.filterwarnings("ignore", category=GloballyUniqueTZIDGuessed)

_OFFSET = re.compile(r"^(TZOFFSET(?:FROM|TO)[^:\r\n]*:)([+-])([0-9]{2})([0-9]{2})(\r?)$", re.M)


def _offset(match: re.Match[str]) -> str:
    head, sign, hours, minutes, cr = match.groups()
    if int(hours) < 24:
        return match[0]
    return f"{head}{sign}00{hours}{minutes}{cr}"  # "+5328": minutes and seconds


def repair_offsets(text: str) -> str:
    """`text` with four-digit UTC offsets of 24 hours or more read as +00MMSS."""
    if "TZOFFSET" not in text.upper():
        return text
    return _OFFSET.sub(_offset, text)


class _FaithfulParser(CalendarIcalParser):
    """icalendar's parser, but every X- property value is kept verbatim."""

    def get_factory_for_property(self, name: str, params: Any) -> Any:
        if name.upper().startswith("X-"):
            return vUnknown
        return super().get_factory_for_property(name, params)


class FaithfulCalendar(icalendar.Calendar):
    """A VCALENDAR whose X- properties are written back exactly as they were read."""

    @classmethod
    def _get_ical_parser(cls, st: str | bytes) -> CalendarIcalParser:
        return _FaithfulParser(st, cls._get_component_factory(), cls.types_factory)


def one_line(text: str, limit: int = 200) -> str:
    """`text` on one line, cut at `limit` characters: for an error message."""
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def decode(data: bytes | str, item_id: str) -> str:
    """The item's text (UTF-8, a byte order mark dropped); MalformedItem if it is not."""
    if isinstance(data, str):
        return data
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise MalformedItem(item_id, f"not UTF-8 text (byte {exc.start})") from exc


def read_calendar(data: bytes | str, item_id: str) -> icalendar.Calendar:
    """The VCALENDAR in `data`; raises whatever icalendar raises on junk (see `load_calendar`)."""
    text = decode(data, item_id)
    if "BEGIN:VCALENDAR" not in text[:4096].upper():
        raise MalformedItem(item_id, "not iCalendar data (no BEGIN:VCALENDAR)")
    cal = FaithfulCalendar.from_ical(repair_offsets(text))
    if cal.name != "VCALENDAR":
        raise MalformedItem(item_id, f"top-level component is {cal.name}, not VCALENDAR")
    return cal


def load_calendar(data: bytes | str, item_id: str) -> icalendar.Calendar:
    """The VCALENDAR in `data`; MalformedItem naming `item_id` on anything unreadable."""
    try:
        return read_calendar(data, item_id)
    except MalformedItem:
        raise
    except Exception as exc:  # icalendar raises assorted types on junk
        raise MalformedItem(item_id, one_line(f"not readable as iCalendar: {exc}")) from exc


def vevents(cal: icalendar.Calendar) -> list[icalendar.cal.Component]:
    """The calendar's VEVENTs, in order."""
    return [c for c in cal.subcomponents if c.name == "VEVENT"]


def pick_master(events: list[icalendar.cal.Component]) -> icalendar.cal.Component:
    """The series master, else the first component (a lone overridden occurrence).

    `parse_event` reads a series as its master; providers that list occurrences
    expand the series with `sync.ical.recurrence` instead.
    """
    for comp in events:
        if "RECURRENCE-ID" not in comp:
            return comp
    return events[0]
