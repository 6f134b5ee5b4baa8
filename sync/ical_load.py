"""Loading iCalendar text so that what calsync does not map survives a rewrite.

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
from typing import Any

import icalendar
from icalendar.parser.ical.calendar import CalendarIcalParser
from icalendar.prop import vUnknown

__all__ = ["FaithfulCalendar", "repair_offsets"]

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
