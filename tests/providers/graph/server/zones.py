"""The time zone names Microsoft Graph accepts in a `dateTimeTimeZone` on create/update.

Source: Microsoft's "dateTimeTimeZone resource type" page
(https://learn.microsoft.com/graph/api/resources/datetimetimezone): `timeZone` "can be
set to any of the time zones currently supported by Windows, as well as the additional
time zones supported by the calendar API", followed by the list of additional (IANA)
names copied below. Anything else is refused with `400 TimeZoneNotSupportedException`
("A valid TimeZone value must be specified. The following TimeZone value is not
supported: '...'", the message Graph sends). So `Europe/Stockholm`, `Europe/Amsterdam`,
`America/Toronto`, `Asia/Hong_Kong` ... are refused, while their Windows names
(`W. Europe Standard Time`, ...) are accepted.

The Windows names are CLDR's windowsZones table as icalendar ships it (territory 001).
"""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from icalendar.timezone.windows_to_olson import WINDOWS_TO_OLSON

#: "Additional time zones" on the dateTimeTimeZone page, in the page's order
MICROSOFT_IANA = (
    "Etc/GMT+12",
    "Etc/GMT+11",
    "Pacific/Honolulu",
    "America/Anchorage",
    "America/Santa_Isabel",
    "America/Los_Angeles",
    "America/Phoenix",
    "America/Chihuahua",
    "America/Denver",
    "America/Guatemala",
    "America/Chicago",
    "America/Mexico_City",
    "America/Regina",
    "America/Bogota",
    "America/New_York",
    "America/Indiana/Indianapolis",
    "America/Caracas",
    "America/Asuncion",
    "America/Halifax",
    "America/Cuiaba",
    "America/La_Paz",
    "America/Santiago",
    "America/St_Johns",
    "America/Sao_Paulo",
    "America/Argentina/Buenos_Aires",
    "America/Cayenne",
    "America/Godthab",
    "America/Montevideo",
    "America/Bahia",
    "Etc/GMT+2",
    "Atlantic/Azores",
    "Atlantic/Cape_Verde",
    "Africa/Casablanca",
    "Etc/GMT",
    "Europe/London",
    "Atlantic/Reykjavik",
    "Europe/Berlin",
    "Europe/Budapest",
    "Europe/Paris",
    "Europe/Warsaw",
    "Africa/Lagos",
    "Africa/Windhoek",
    "Europe/Bucharest",
    "Asia/Beirut",
    "Africa/Cairo",
    "Asia/Damascus",
    "Africa/Johannesburg",
    "Europe/Kiev",
    "Europe/Istanbul",
    "Asia/Jerusalem",
    "Asia/Amman",
    "Asia/Baghdad",
    "Europe/Kaliningrad",
    "Asia/Riyadh",
    "Africa/Nairobi",
    "Asia/Tehran",
    "Asia/Dubai",
    "Asia/Baku",
    "Europe/Moscow",
    "Indian/Mauritius",
    "Asia/Tbilisi",
    "Asia/Yerevan",
    "Asia/Kabul",
    "Asia/Karachi",
    "Asia/Tashkent",
    "Asia/Kolkata",
    "Asia/Colombo",
    "Asia/Kathmandu",
    "Asia/Almaty",
    "Asia/Dhaka",
    "Asia/Yekaterinburg",
    "Asia/Rangoon",
    "Asia/Bangkok",
    "Asia/Novosibirsk",
    "Asia/Shanghai",
    "Asia/Krasnoyarsk",
    "Asia/Singapore",
    "Australia/Perth",
    "Asia/Taipei",
    "Asia/Ulaanbaatar",
    "Asia/Irkutsk",
    "Asia/Tokyo",
    "Asia/Seoul",
    "Australia/Adelaide",
    "Australia/Darwin",
    "Australia/Brisbane",
    "Australia/Sydney",
    "Pacific/Port_Moresby",
    "Australia/Hobart",
    "Asia/Yakutsk",
    "Pacific/Guadalcanal",
    "Asia/Vladivostok",
    "Pacific/Auckland",
    "Etc/GMT-12",
    "Pacific/Fiji",
    "Asia/Magadan",
    "Pacific/Tongatapu",
    "Pacific/Apia",
    "Pacific/Kiritimati",
)
_ACCEPTED_IANA = frozenset(MICROSOFT_IANA)


class ZoneNotSupported(ValueError):
    """A `timeZone` Graph refuses (the store answers 400 TimeZoneNotSupportedException)."""

    def __init__(self, name: str) -> None:
        super().__init__(
            "A valid TimeZone value must be specified. The following TimeZone value is not "
            f"supported: '{name}'."
        )
        self.name = name


def accepted(name: str) -> bool:
    """Whether Graph takes `name` as `start.timeZone` / `end.timeZone` on create or update."""
    return name in WINDOWS_TO_OLSON or name in _ACCEPTED_IANA


def zone(name: str) -> dt.tzinfo:
    """The tzinfo of an accepted name; raises ZoneNotSupported for any other."""
    if not accepted(name):
        raise ZoneNotSupported(name)
    if name == "UTC":
        return dt.UTC
    try:
        return ZoneInfo(WINDOWS_TO_OLSON.get(name, name))
    except (ZoneInfoNotFoundError, ValueError) as exc:  # pragma: no cover - tzdata gap
        raise ZoneNotSupported(name) from exc
