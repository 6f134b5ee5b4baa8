"""Turn the time zone names found in calendar data into `tzinfo` objects.

Calendars name zones three ways: IANA names (``Europe/Stockholm``), Windows names
from Exchange and Outlook (``W. Europe Standard Time``), and "globally unique"
TZIDs that prefix an IANA name with a vendor path (``/mozilla.org/20050126_1/
Europe/Berlin``, ``/freeassociation.sourceforge.net/Tzfile/Europe/Berlin``). We
resolve them here, once, instead of relying on icalendar's process-wide zone
cache, so one calendar's custom VTIMEZONE can never leak into another's parse.
"""

from __future__ import annotations

from datetime import UTC, tzinfo
from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

# icalendar ships the CLDR Windows -> Olson table; sync/ must not pull in
# exchangelib just for its copy of the same data.
from icalendar.timezone.windows_to_olson import WINDOWS_TO_OLSON

__all__ = ["UnknownTimezone", "resolve_tzid"]

#: Names that mean UTC but are not all in tzdata under that spelling.
_UTC_NAMES = frozenset({"utc", "z", "gmt", "etc/utc", "etc/gmt", "coordinated universal time"})


class UnknownTimezone(ValueError):
    """A zone name none of IANA, Windows or a vendor-prefixed IANA name matches."""

    def __init__(self, name: str) -> None:
        super().__init__(f"unknown time zone {name!r}")
        self.name = name


def _iana(name: str) -> ZoneInfo | None:
    # ZoneInfo accepts relative paths like "../x" as keys and raises ValueError;
    # treat every such failure as "not this name"
    if not name or name.startswith("/") or ".." in name:
        return None
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        return None


def _candidates(name: str) -> list[str]:
    """Names to try, most specific first."""
    cleaned = name.strip().strip('"').strip()
    out = [cleaned]
    windows = WINDOWS_TO_OLSON.get(cleaned)
    if windows:
        out.append(windows)
    stripped = cleaned.strip("/")
    if stripped != cleaned:
        out.append(stripped)
    # "/vendor/version/Area/City": try ever shorter suffixes, longest first,
    # so "America/Argentina/Buenos_Aires" is tried before "Argentina/Buenos_Aires"
    parts = [p for p in stripped.split("/") if p]
    for i in range(1, len(parts)):
        out.append("/".join(parts[i:]))
    return out


@lru_cache(maxsize=512)
def resolve_tzid(name: str) -> tzinfo:
    """The zone a calendar means by `name`; raises UnknownTimezone.

    UTC spellings return `datetime.UTC`; everything else a `ZoneInfo`, whose
    ``key`` is the IANA name calsync writes back (never the Windows name).
    """
    for candidate in _candidates(name):
        if candidate.lower() in _UTC_NAMES:
            return UTC
        zone = _iana(candidate)
        if zone is not None:
            return zone
    raise UnknownTimezone(name)
