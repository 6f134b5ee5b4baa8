"""The iCalendar codec (RFC 5545): Event <-> iCalendar text, for every provider
that stores iCalendar.

`codec` is the entry point and dispatches to two paths that give the same
result: the full path through icalendar's object model (`full_read`,
`full_write`, on top of `load`) and the fast path that reads and writes the
common simple item as text (`fast_read` over `fast_lines`, `fast_write`). The
words both paths share are `vocabulary`. Time zones: `timezones` (which zone a
TZID or a floating time means in one calendar) and `zone_names` (IANA, Windows
and vendor-prefixed names). Series: `recurrence`, with `rscale` for RFC 7529
rules.

The names below are the codec's public API; import them from `sync.ical`. They are
imported when first asked for: most of them need icalendar, which a no-change sync
never uses (importing it cost ~0.05-0.08 s per run, issue 21.10), and importing a
submodule (`sync.ical.recurrence`) imports this package first.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from sync.ical.codec import parse_event, render_event, round_trips_exactly
    from sync.ical.full_read import event_from_component, is_series_master, read_time
    from sync.ical.full_write import finish_calendar, write_component
    from sync.ical.load import load_calendar, vevents
    from sync.ical.timezones import ZoneLookup
    from sync.ical.vocabulary import PRIVACY_X_PROP, PRODID, recurrence_key, recurrence_value

#: each public name and the submodule it comes from
_HOME = {
    "parse_event": "codec",
    "render_event": "codec",
    "round_trips_exactly": "codec",
    "event_from_component": "full_read",
    "is_series_master": "full_read",
    "read_time": "full_read",
    "finish_calendar": "full_write",
    "write_component": "full_write",
    "load_calendar": "load",
    "vevents": "load",
    "ZoneLookup": "timezones",
    "PRIVACY_X_PROP": "vocabulary",
    "PRODID": "vocabulary",
    "recurrence_key": "vocabulary",
    "recurrence_value": "vocabulary",
}


def __getattr__(name: str) -> Any:
    home = _HOME.get(name)
    if home is None:  # `from sync.ical import recurrence` then imports the submodule
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(import_module(f"{__name__}.{home}"), name)
    globals()[name] = value
    return value


__all__ = [
    "PRIVACY_X_PROP",
    "PRODID",
    "ZoneLookup",
    "event_from_component",
    "finish_calendar",
    "is_series_master",
    "load_calendar",
    "parse_event",
    "read_time",
    "recurrence_key",
    "recurrence_value",
    "render_event",
    "round_trips_exactly",
    "vevents",
    "write_component",
]
