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

The names below are the codec's public API; import them from `sync.ical`.
"""

from sync.ical.codec import parse_event, render_event, round_trips_exactly
from sync.ical.full_read import event_from_component, is_series_master, read_time
from sync.ical.full_write import finish_calendar, write_component
from sync.ical.load import load_calendar, vevents
from sync.ical.timezones import ZoneLookup
from sync.ical.vocabulary import PRIVACY_X_PROP, PRODID, recurrence_key, recurrence_value

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
