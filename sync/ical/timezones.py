"""The time zone of every date-time in one calendar, as real clients write them.

`ZoneLookup` answers, for one VCALENDAR, which zone a TZID means and which zone a
floating time (no TZID, no Z) is in. In order:

1. a name `sync.ical.zone_names.resolve_tzid` knows (IANA, Windows, vendor-prefixed);
2. a Windows *display* name, as Outlook 2003/2007 and OWA write them:
   ``Canberra\\, Melbourne\\, Sydney``, ``(UTC-05:00) Eastern Time (US & Canada)``,
   ``(GMT+10:00) Canberra, Melbourne, Sydney`` (escaped commas are unescaped);
3. the calendar's own VTIMEZONE of that name (Exchange's ``Customized Time
   Zone``, Mozilla's ``US-Eastern``);
4. the offset in a ``(GMT +01:00)`` name with nothing else to go on, as a fixed
   offset;
5. otherwise the item is refused (`MalformedItem`): a local time is never read
   as UTC, for a single item and for every occurrence of a series alike.

Floating times are in the calendar's ``X-WR-TIMEZONE`` (Google, Apple and many
exporters write one), else read as UTC (see `sync.ical.codec`). A floating DTEND next
to a DTSTART with a TZID (Mozilla-era files) is in DTSTART's zone.

`expandable` makes the copy of a calendar that `recurring-ical-events` expands:
every date-time carries the zone read here, so the occurrences it lists are the
ones `sync.ical` reads and `sync.ical.recurrence` looks up by id.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta, timezone, tzinfo
from typing import Any
from zoneinfo import ZoneInfo

import icalendar
from icalendar.prop import vDDDLists, vDDDTypes
from icalendar.timezone.windows_to_olson import WINDOWS_TO_OLSON

from sync.ical.zone_names import UnknownTimezone, resolve_tzid
from sync.providers.base import MalformedItem

__all__ = [
    "ZoneLookup",
    "display_name_zone",
    "expandable",
    "same_time",
    "tzid_name",
    "zone_name",
]

#: Windows display names (the registry's "Display" text without its "(UTC±hh:mm) "
#: prefix) -> Windows zone id; Outlook 2003/2007 and OWA name zones this way.
#: Source: Microsoft, "Default Time Zones" (learn.microsoft.com/windows-hardware/
#: manufacture/desktop/default-time-zones), older spellings as Outlook wrote them.
_DISPLAY = {
    "international date line west": "Dateline Standard Time",
    "coordinated universal time-11": "UTC-11",
    "midway island, samoa": "UTC-11",
    "hawaii": "Hawaiian Standard Time",
    "alaska": "Alaskan Standard Time",
    "baja california": "Pacific Standard Time (Mexico)",
    "pacific time (us & canada)": "Pacific Standard Time",
    "pacific time (us & canada), tijuana": "Pacific Standard Time",
    "pacific time (us & canada); tijuana": "Pacific Standard Time",
    "arizona": "US Mountain Standard Time",
    "mountain time (us & canada)": "Mountain Standard Time",
    "chihuahua, la paz, mazatlan": "Mountain Standard Time (Mexico)",
    "central america": "Central America Standard Time",
    "central time (us & canada)": "Central Standard Time",
    "guadalajara, mexico city, monterrey": "Central Standard Time (Mexico)",
    "saskatchewan": "Canada Central Standard Time",
    "bogota, lima, quito": "SA Pacific Standard Time",
    "bogota, lima, quito, rio branco": "SA Pacific Standard Time",
    "eastern time (us & canada)": "Eastern Standard Time",
    "indiana (east)": "US Eastern Standard Time",
    "atlantic time (canada)": "Atlantic Standard Time",
    "caracas": "Venezuela Standard Time",
    "santiago": "Pacific SA Standard Time",
    "newfoundland": "Newfoundland Standard Time",
    "brasilia": "E. South America Standard Time",
    "buenos aires": "Argentina Standard Time",
    "city of buenos aires": "Argentina Standard Time",
    "greenland": "Greenland Standard Time",
    "montevideo": "Montevideo Standard Time",
    "coordinated universal time-02": "UTC-02",
    "mid-atlantic": "UTC-02",
    "azores": "Azores Standard Time",
    "cape verde is.": "Cape Verde Standard Time",
    "casablanca": "Morocco Standard Time",
    "coordinated universal time": "UTC",
    "dublin, edinburgh, lisbon, london": "GMT Standard Time",
    "greenwich mean time : dublin, edinburgh, lisbon, london": "GMT Standard Time",
    "monrovia, reykjavik": "Greenwich Standard Time",
    "amsterdam, berlin, bern, rome, stockholm, vienna": "W. Europe Standard Time",
    "belgrade, bratislava, budapest, ljubljana, prague": "Central Europe Standard Time",
    "brussels, copenhagen, madrid, paris": "Romance Standard Time",
    "sarajevo, skopje, warsaw, zagreb": "Central European Standard Time",
    "west central africa": "W. Central Africa Standard Time",
    "athens, bucharest": "GTB Standard Time",
    "athens, bucharest, istanbul": "GTB Standard Time",
    "beirut": "Middle East Standard Time",
    "cairo": "Egypt Standard Time",
    "harare, pretoria": "South Africa Standard Time",
    "helsinki, kyiv, riga, sofia, tallinn, vilnius": "FLE Standard Time",
    "helsinki, kiev, riga, sofia, tallinn, vilnius": "FLE Standard Time",
    "jerusalem": "Israel Standard Time",
    "istanbul": "Turkey Standard Time",
    "baghdad": "Arabic Standard Time",
    "kuwait, riyadh": "Arab Standard Time",
    "nairobi": "E. Africa Standard Time",
    "moscow, st. petersburg": "Russian Standard Time",
    "moscow, st. petersburg, volgograd": "Russian Standard Time",
    "tehran": "Iran Standard Time",
    "abu dhabi, muscat": "Arabian Standard Time",
    "baku": "Azerbaijan Standard Time",
    "kabul": "Afghanistan Standard Time",
    "islamabad, karachi": "Pakistan Standard Time",
    "tashkent": "West Asia Standard Time",
    "chennai, kolkata, mumbai, new delhi": "India Standard Time",
    "kathmandu": "Nepal Standard Time",
    "dhaka": "Bangladesh Standard Time",
    "astana": "Central Asia Standard Time",
    "yangon (rangoon)": "Myanmar Standard Time",
    "bangkok, hanoi, jakarta": "SE Asia Standard Time",
    "beijing, chongqing, hong kong, urumqi": "China Standard Time",
    "kuala lumpur, singapore": "Singapore Standard Time",
    "perth": "W. Australia Standard Time",
    "taipei": "Taipei Standard Time",
    "osaka, sapporo, tokyo": "Tokyo Standard Time",
    "seoul": "Korea Standard Time",
    "adelaide": "Cen. Australia Standard Time",
    "darwin": "AUS Central Standard Time",
    "brisbane": "E. Australia Standard Time",
    "canberra, melbourne, sydney": "AUS Eastern Standard Time",
    "hobart": "Tasmania Standard Time",
    "vladivostok": "Vladivostok Standard Time",
    "guam, port moresby": "West Pacific Standard Time",
    "auckland, wellington": "New Zealand Standard Time",
    "fiji": "Fiji Standard Time",
    "nuku'alofa": "Tonga Standard Time",
}

#: "(UTC-05:00) ", "(GMT+10:00) ", "(GMT +01:00)", "(UTC)" at the start of a name
_PREFIX = re.compile(
    r"\(\s*(?:UTC|GMT)\s*(?:([+-])\s*([0-9]{1,2})(?::?([0-9]{2}))?)?\s*\)\s*", re.I
)
#: a fixed offset's own name ("UTC+01:00", as Python names datetime.timezone)
_FIXED = re.compile(r"(?:UTC|GMT)([+-])([0-9]{2}):?([0-9]{2})", re.I)


def tzid_name(tzid: str) -> str:
    """A TZID as written, unquoted and with its text escapes (``\\,``) undone."""
    name = tzid.strip().strip('"').strip()
    return re.sub(r"\\(.)", r"\1", name) if "\\" in name else name


def display_name_zone(tzid: str) -> tzinfo | None:
    """The zone a Windows display name means, else None (no fixed-offset guess)."""
    name = tzid_name(tzid)
    match = _PREFIX.match(name)
    label = name[match.end() :] if match else name
    key = " ".join(label.lower().replace(" and ", " & ").split())
    windows = _DISPLAY.get(key)
    if windows is None:
        return None
    try:
        return resolve_tzid(WINDOWS_TO_OLSON.get(windows, windows))
    except UnknownTimezone:
        return None


def _offset_zone(tzid: str) -> tzinfo | None:
    """A fixed offset for a name that is nothing but "(GMT +01:00)"."""
    name = tzid_name(tzid)
    match = _PREFIX.fullmatch(name) or _FIXED.fullmatch(name)
    if match is None:
        return None
    sign, hours, minutes = match.groups()
    if hours is None:
        return UTC
    delta = timedelta(hours=int(hours), minutes=int(minutes or 0))
    if delta >= timedelta(hours=24):
        return None
    return timezone(-delta if sign == "-" else delta)


class ZoneLookup:
    """TZID -> tzinfo for one calendar, and the zone of its floating times."""

    def __init__(self, cal: icalendar.Calendar, item_id: str) -> None:
        self._custom = {
            tzid_name(str(c.get("TZID", ""))): c
            for c in cal.subcomponents
            if isinstance(c, icalendar.Timezone)
        }
        self._item_id = item_id
        self._made: dict[str, tzinfo] = {}
        self.floating: tzinfo = _calendar_zone(cal)

    def __call__(self, tzid: str) -> tzinfo:
        made = self._made.get(tzid)
        if made is not None:
            return made
        zone = self._find(tzid)
        self._made[tzid] = zone
        return zone

    def _find(self, tzid: str) -> tzinfo:
        for name in dict.fromkeys((tzid, tzid_name(tzid))):
            try:
                return resolve_tzid(name)
            except UnknownTimezone:
                pass
        known = display_name_zone(tzid)
        if known is not None:
            return known
        comp = self._custom.get(tzid_name(tzid))
        if comp is not None:
            try:
                zone: tzinfo = comp.to_tz(lookup_tzid=False)
            except Exception as exc:  # a VTIMEZONE icalendar cannot turn into rules
                raise MalformedItem(
                    self._item_id, f"time zone {tzid!r} is unusable: {_first_line(exc)}"
                ) from exc
            return zone
        offset = _offset_zone(tzid)
        if offset is not None:
            return offset
        raise MalformedItem(self._item_id, f"unknown time zone TZID={tzid!r}")


def _first_line(exc: Exception) -> str:
    text = " ".join(str(exc).split())
    return text if len(text) <= 160 else text[:159] + "…"


def _calendar_zone(cal: icalendar.Calendar) -> tzinfo:
    """X-WR-TIMEZONE's zone, else UTC (also when it names no zone calsync knows)."""
    name = cal.get("X-WR-TIMEZONE")
    if name is None or isinstance(name, list):
        return UTC
    try:
        return resolve_tzid(tzid_name(str(name)))
    except UnknownTimezone:
        return display_name_zone(str(name)) or UTC


# -- writing ---------------------------------------------------------------------------------

_UTC_KEYS = frozenset({"UTC", "Etc/UTC", "Etc/UCT", "UCT", "Etc/Zulu", "Zulu", "Universal"})


def same_time(old: datetime | date | None, new: datetime | date) -> bool:
    """The same day, or the same instant in the same zone.

    A zone calsync cannot name (a file's own VTIMEZONE, a fixed offset) reaches
    the CRM as UTC, so UTC coming back at the same instant is no change either.
    """
    if old is None or isinstance(old, datetime) != isinstance(new, datetime):
        return False
    if not isinstance(old, datetime) or not isinstance(new, datetime):
        return old == new
    if old != new:
        return False
    old_zone, new_zone = zone_name(old), zone_name(new)
    return old_zone == new_zone or (old_zone is None and new_zone == "UTC")


def zone_name(value: datetime) -> str | None:
    """ "UTC", an IANA key, or None for a zone without a name calsync writes."""
    zone = value.tzinfo
    if zone is UTC or (isinstance(zone, ZoneInfo) and zone.key in _UTC_KEYS):
        return "UTC"
    return zone.key if isinstance(zone, ZoneInfo) else None


# -- expansion ---------------------------------------------------------------------------------

_TIMES = ("DTSTART", "DTEND", "RECURRENCE-ID", "EXDATE", "RDATE")


def expandable(cal: icalendar.Calendar, zones: ZoneLookup) -> icalendar.Calendar:
    """A shallow copy of `cal` whose VEVENT date-times all carry the zone calsync reads.

    icalendar attaches whatever its process-wide zone cache holds for a TZID (or
    nothing), and recurring-ical-events expands with that; this copy makes the
    expansion agree with `sync.ical.read_time`. Properties keep their parameters.
    """
    out = icalendar.Calendar()
    for name, value in cal.items():
        out[name] = value
    if "X-WR-TIMEZONE" in out:
        # recurring-ical-events applies it by IANA key: the zone read here, or none
        floating = zones.floating
        if isinstance(floating, ZoneInfo):
            out["X-WR-TIMEZONE"] = floating.key
        else:
            del out["X-WR-TIMEZONE"]
    for comp in cal.subcomponents:
        out.add_component(_zoned(comp, zones) if comp.name == "VEVENT" else comp)
    return out


def _zoned(comp: icalendar.cal.Component, zones: ZoneLookup) -> icalendar.cal.Component:
    copy = comp.copy()
    copy.subcomponents = list(comp.subcomponents)
    start = comp.get("DTSTART")
    # a floating DTEND (or EXDATE, RDATE) beside a DTSTART with a TZID is in that zone
    floating = zones.floating
    if start is not None and not isinstance(start, list) and start.params.get("TZID"):
        floating = zones(str(start.params["TZID"]))
    for name in _TIMES:
        value = comp.get(name)
        if value is None:
            continue
        values = value if isinstance(value, list) else [value]
        done = [_zoned_prop(v, zones, floating) for v in values]
        copy[name] = done if isinstance(value, list) else done[0]
    return copy


def _zoned_prop(prop: Any, zones: ZoneLookup, floating: tzinfo) -> Any:
    tzid = getattr(prop, "params", {}).get("TZID")
    zone = zones(str(tzid)) if tzid else floating
    if isinstance(prop, vDDDLists):
        items = [_zoned_value(d.dt, zone, bool(tzid)) for d in prop.dts]
        new: Any = vDDDLists(items)
    elif isinstance(prop, vDDDTypes):
        new = vDDDTypes(_zoned_value(prop.dt, zone, bool(tzid)))
    else:
        return prop
    new.params = prop.params
    return new


def _zoned_value(value: Any, zone: tzinfo, named: bool) -> Any:
    if isinstance(value, tuple):  # a PERIOD: (start, end or duration)
        return tuple(_zoned_value(v, zone, named) for v in value)
    if not isinstance(value, datetime):
        return value  # a date or a duration
    if named or value.tzinfo is None:
        return value.replace(tzinfo=zone)  # the wall time in the zone calsync reads
    return value
