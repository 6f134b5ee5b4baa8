"""Which occurrences each series resource has, remembered between runs by its etag.

Listing a series means parsing its resource and expanding its rule, and a year of
daily occurrences exported by Exchange cost seconds per series on every run, also
when nothing had changed. A provider keeps this index in its cache instead: per
resource, the etag it was expanded at, the span it was expanded over and each
occurrence's original start (its id) and actual start. A run whose window lies
inside that span and whose etag is unchanged lists the occurrences from the index
without reading the resource at all.

The span reaches `SPAN_AHEAD` past the window's end, so the daily move of the
window does not expand every series again. A series with more occurrences than
the cap allows is not kept (its capped listing depends on the exact window, and
such series are rare); it is expanded on every run, as before.

The occurrences expanded in this run stay in memory (`events`), so the fetch
that follows the listing needs no second expansion.
"""

from __future__ import annotations

from collections.abc import Callable, MutableMapping
from datetime import UTC, datetime, timedelta
from typing import Any

from sync.ical.recurrence import Series, mark, occurrence_id
from sync.model import Event
from sync.providers.base import BrokenItem, Item, Listing, MalformedItem, Window

__all__ = ["SPAN_AHEAD", "OccurrenceIndex"]

#: how far past the window's end a series is expanded (and its index stays usable)
SPAN_AHEAD = timedelta(days=14)


def _epoch(value: datetime) -> int:
    return int(value.astimezone(UTC).timestamp())


class OccurrenceIndex:
    """The index in `cache[key]`: {resource: [etag, span start, span end, [[mark, start]]]}
    (times as UTC epoch seconds)."""

    def __init__(self, cache: MutableMapping[str, Any], key: str) -> None:
        rows = cache.get(key)
        if not isinstance(rows, dict):
            rows = cache[key] = {}
        self._rows: dict[str, Any] = rows
        self._listed: set[str] = set()
        #: (resource, etag) -> {recurrence id: occurrence} expanded in this run
        self.events: dict[tuple[str, str], dict[str, Event]] = {}

    def list_series(
        self,
        resource: str,
        etag: str,
        load: Callable[[], Series | None],
        window: Window,
        cap: int,
        listing: Listing,
    ) -> Series | None:
        """Add the series' occurrences in `window` to `listing`.

        `load` reads and parses the resource; it is called only when the index cannot
        answer, and what it raises (MalformedItem, OSError) reaches the caller. Returns
        the series when it was loaded (None when answered from the index, or when the
        resource no longer holds a series).
        """
        self._listed.add(resource)
        if self._from_index(resource, etag, window, cap, listing):
            return None
        self._rows.pop(resource, None)
        series = load()
        if series is None:
            return None
        span = Window(window.start, window.end + SPAN_AHEAD)
        events, capped = series.occurrences(span, cap)
        if capped:
            events, capped = series.occurrences(window, cap)
        else:
            self._rows[resource] = [
                etag,
                _epoch(span.start),
                _epoch(span.end),
                [[mark(e.recurrence_id or ""), _epoch(e.start_utc)] for e in events],
            ]
        found = self.events.setdefault((resource, etag), {})
        for event in events:
            assert event.recurrence_id is not None
            found[event.recurrence_id] = event
            if window.contains(event):
                listing.etags[occurrence_id(resource, event.recurrence_id)] = etag
        if capped:
            listing.warnings.append(
                f"recurring series {series.uid or resource} has more than {cap} "
                f"occurrences in the window; only the first {cap} are synced "
                "(setting max_occurrences)"
            )
        return series

    def _from_index(
        self, resource: str, etag: str, window: Window, cap: int, listing: Listing
    ) -> bool:
        row = self._rows.get(resource)
        if not (isinstance(row, list) and len(row) == 4 and row[0] == etag):
            return False
        start, end = _epoch(window.start), _epoch(window.end)
        if not (row[1] <= start and end <= row[2]):
            return False
        marks = [rid_mark for rid_mark, when in row[3] if start <= when < end]
        if len(marks) > cap:
            return False  # max_occurrences was lowered: the expansion picks which stay
        for rid_mark in marks:
            listing.etags[f"{resource}#{rid_mark}"] = etag
        return True

    def event(self, resource: str, etag: str, recurrence_id: str) -> Event | None:
        """The occurrence as expanded in this run, if it was."""
        return self.events.get((resource, etag), {}).get(recurrence_id)

    def item(
        self, item_id: str, rid: str, found: tuple[str, Series | None] | BrokenItem | None
    ) -> Item | BrokenItem | None:
        """The occurrence `rid` of a resource read as (etag, series) for a fetch: from this
        run's expansion when it has it, else looked up; None when it is gone."""
        if found is None:
            return None
        if isinstance(found, BrokenItem):
            return BrokenItem(item_id, found.etag, found.error)
        etag, series = found
        if series is None:
            return None  # no longer a series: the occurrence is gone
        event = self.event(series.item_id, etag, rid)
        try:
            event = event or series.occurrence(rid)
        except MalformedItem as exc:
            return BrokenItem(item_id, etag, exc.reason)
        return None if event is None else Item(item_id, etag, event)

    def prune(self) -> None:
        """Forget resources this run's listing did not name (deleted, or no series now)."""
        for gone in set(self._rows) - self._listed:
            del self._rows[gone]
