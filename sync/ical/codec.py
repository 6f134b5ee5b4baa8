"""Event <-> iCalendar (RFC 5545), for every provider that stores iCalendar text.

The mapping is SPEC "event model": show-as from X-MICROSOFT-CDO-BUSYSTATUS, else
STATUS:TENTATIVE, else TRANSP; privacy from CLASS (personal = PRIVATE plus
X-CALSYNC-PRIVACY:PERSONAL, which only calsync reads, so it round-trips); the
reminder is the first DISPLAY alarm with a relative trigger at or before the
start; text is DESCRIPTION.

Reading never raises anything but `MalformedItem` naming the item: icalendar is
lenient and raises assorted exception types on junk, and one bad item must never
abort a whole listing.

Writing on top of an item's current text (`base`) replaces only the properties
calsync maps, so attendees, categories, Outlook's X- properties and other alarms
survive an update made by calsync.

Two choices worth knowing:

* Floating times (no TZID, no Z) are in the calendar's X-WR-TIMEZONE, else read
  as UTC. RFC 5545 says they mean the wall clock of whoever looks at them; the
  parser has no viewer, and the engine compares instants, so a fixed, documented
  reading beats guessing the host zone (which would differ between the cron host
  and an operator's laptop). A floating DTEND beside a DTSTART with a TZID is in
  DTSTART's zone. Which zone a TZID means: `sync.ical.timezones`.
* A property whose value an edit did not change is written back as it was,
  parameters and form included (floating stays floating, a TZID stays that TZID,
  LANGUAGE and ALTREP stay); X- properties keep their exact text.
* iCalendar text cannot hold a carriage return (icalendar turns CR and CRLF into
  LF), so texts are LF-normalized on the way through.

Both paths import icalendar, so they are imported by the first read or write, not
with this module: a no-change sync reads no item and imports no icalendar.
"""

from __future__ import annotations

from datetime import datetime

from sync.ical.vocabulary import recurrence_key, recurrence_value
from sync.model import Event, EventError
from sync.providers.base import MalformedItem

__all__ = ["parse_event", "render_event", "round_trips_exactly"]


def parse_event(data: bytes | str, item_id: str) -> Event:
    """Read one VCALENDAR holding one event (its master if it is a series)."""
    # the common simple item is read as text, ~10x faster; outside the try so a
    # broken fast path fails loudly instead of marking every item malformed
    from sync.ical.fast_read import read_simple
    from sync.ical.full_read import parse_full
    from sync.ical.load import decode, one_line

    text = decode(data, item_id)
    event = read_simple(text, item_id)
    if event is not None:
        return event
    try:
        return parse_full(text, item_id)
    except MalformedItem:
        raise
    except EventError as exc:
        raise MalformedItem(item_id, str(exc)) from exc
    except Exception as exc:  # icalendar raises ValueError, KeyError, TypeError, ... on junk
        raise MalformedItem(item_id, one_line(f"not readable as iCalendar: {exc}")) from exc


def render_event(event: Event, base: bytes | str | None = None) -> bytes:
    """A complete VCALENDAR for `event`, on top of the item's current text if given."""
    from sync.ical.fast_write import render_simple
    from sync.ical.full_write import render_full

    if base is None:
        # a fresh item is most of an initial sync: write it as text when possible
        data = render_simple(event)
        if data is not None:
            return data
    return render_full(event, base)


def round_trips_exactly(event: Event) -> bool:
    """`parse_event(render_event(event)) == event` in every field, hash included.

    False for what the mapping normalizes: carriage returns in texts (iCalendar
    cannot hold them), a leading byte order mark, a recurrence id not in its
    canonical form, and a wall-clock time in the repeated hour when clocks go
    back (written in UTC). Providers use this to skip re-parsing what
    they just wrote."""
    # icalendar drops a value's leading byte order mark
    for text in (event.subject, event.location, event.text):
        if "\r" in text or "\\N" in text or text.startswith("\ufeff"):
            return False
    if "\r" in event.uid or event.uid.startswith("\ufeff") or not event.uid.strip():
        return False
    if event.recurrence_id is not None:
        try:
            value = recurrence_value(event.recurrence_id)
        except ValueError:
            return False
        if isinstance(value, datetime) and value.microsecond:
            return False
        if recurrence_key(value) != event.recurrence_id:
            return False
    if event.last_modified is not None and event.last_modified.microsecond:
        return False
    return all(
        not isinstance(value, datetime)
        or (value.fold == 0 and value.microsecond == 0 and not _ambiguous(value))
        for value in (event.start, event.end)
    )


def _ambiguous(value: datetime) -> bool:
    """A local time that occurs twice (the hour repeated when clocks go back)."""
    other = value.replace(fold=1 - value.fold)
    return value.utcoffset() != other.utcoffset()
