"""The Graph provider's index of one calendar view, kept up to date by delta rounds.

`read_delta` runs one round: `calendarView/delta` over the sync window widened to
whole months (`month_floor`, `month_ceil`, so the delta link survives the window's
daily move), from the stored delta link when there is one.

`items` maps each listed event id to [etag, start (UTC ISO) or None, attendees if the
mailbox organizes it as a meeting else 0, series master id or None]; `series` maps
each series master seen to its etag (masters are never items: series.py);
`meetings` is the provider's {id: (etag, attendees)} it checks before writing.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable, Mapping
from datetime import datetime
from typing import Any

from sync.providers.base import BrokenItem, Listing, ProviderError, Window
from sync.providers.graph.client import PREFER_TEXT, PREFER_TZ, GraphHTTPError
from sync.providers.graph.mailbox import MailboxCalendar
from sync.providers.graph.mapping import (
    MappingError,
    is_organized_meeting,
    series_master_of,
    start_instant,
)
from sync.providers.graph.series import drop_series, is_master, read_instances


class DeltaIndex:
    def __init__(
        self,
        items: dict[str, list[Any]],
        series: dict[str, str],
        meetings: dict[str, tuple[str, int]],
    ) -> None:
        self.items = items
        self.series = series
        self.meetings = meetings
        #: masters new or changed in this round: their instances need a reading
        self.changed: set[str] = set()

    def absorb(self, entry: Mapping[str, Any]) -> None:
        items = self.items
        item_id = str(entry.get("id") or "")
        if not item_id:
            return
        if "@removed" in entry:
            items.pop(item_id, None)
            self.meetings.pop(item_id, None)
            # a deleted series comes as one tombstone for its master, without `type`
            self.series.pop(item_id, None)
            drop_series(items, item_id)
            return
        if is_master(entry):
            # listed with its first occurrence's times: never an item of its own
            etag = str(entry.get("@odata.etag") or entry.get("changeKey") or "")
            if self.series.get(item_id) != etag or not etag:
                self.changed.add(item_id)
            self.series[item_id] = etag
            items.pop(item_id, None)
            return
        old = items.get(item_id) or [None, None, 0, None]
        # delta may send only changed properties: keep what it leaves out
        etag = str(
            entry.get("@odata.etag") or entry.get("changeKey") or f"delta:{uuid.uuid4().hex}"
        )
        start_text = old[1]
        if "start" in entry:
            try:
                start_text = start_instant(entry).isoformat()
            except MappingError:
                start_text = None
        meeting = old[2]
        if "attendees" in entry or "isOrganizer" in entry:
            meeting = len(entry.get("attendees") or ()) if is_organized_meeting(entry) else 0
        master = old[3]
        if "type" in entry or "seriesMasterId" in entry:
            # a partial entry may name only one of the two: the other is as before
            master = series_master_of(
                {
                    "type": entry.get("type", "occurrence" if old[3] else "singleInstance"),
                    "seriesMasterId": entry.get("seriesMasterId", old[3]),
                }
            )
        items[item_id] = [etag, start_text, meeting, master]
        if "attendees" in entry or "isOrganizer" in entry:
            self.meetings[item_id] = (etag, meeting)
        else:
            # a sparse occurrence says nothing of its meeting: look before writing it
            self.meetings.pop(item_id, None)

    def reconcile(self, master: str, found: Iterable[Mapping[str, Any]] | None) -> None:
        """Replace a series' listed instances by its instances as Graph lists them
        (`/events/{master}/instances`), or drop them all when the master is gone."""
        old = {i: row for i, row in self.items.items() if row[3] == master}
        drop_series(self.items, master)
        if found is None:
            self.series.pop(master, None)
            return
        for entry in found:
            entry_id = str(entry.get("id") or "")
            if entry_id in old and old[entry_id][0] == entry.get("@odata.etag"):
                self.items[entry_id] = old[entry_id]  # unchanged: keep what delta said
            else:
                self.absorb(entry)


def read_delta(
    box: MailboxCalendar, span: tuple[str, str], link: str | None, index: DeltaIndex
) -> tuple[DeltaIndex, str, bool]:
    """One delta round over the calendar view `span` (UTC ISO start and end) into
    `index`: from the stored delta `link`, or a full listing without one or when the
    server let it expire (410, once). Returns the index (a new one after a re-listing),
    the new delta link, and whether it re-listed."""
    range_start, range_end = span
    relisted = False
    initial = (
        box.user_path("/calendarView/delta"),
        {"startDateTime": range_start, "endDateTime": range_end},
    )
    path, params = (link, None) if link else initial
    prefer = f"{PREFER_TZ}, {PREFER_TEXT}, odata.maxpagesize={box.page_size}"
    while True:
        try:
            response = box.client.request("GET", path, params=params, headers={"Prefer": prefer})
        except GraphHTTPError as exc:
            if exc.status != 410 or relisted:
                raise
            # the sync state expired on the server: one full re-list, not an error
            relisted = True
            (path, params) = initial
            index = DeltaIndex({}, {}, index.meetings)
            continue
        page = response.json()
        for entry in page.get("value") or ():
            index.absorb(entry)
        next_link = page.get("@odata.nextLink")
        if next_link:
            path, params = str(next_link), None
            continue
        delta = page.get("@odata.deltaLink")
        if not delta:
            raise ProviderError(
                f"Graph's delta listing for {box.mailbox} ended without a delta link"
            )
        break
    if link and not relisted:
        # a changed master may mean occurrences deleted or moved without a delta
        # entry of their own: read the series' instances instead
        for master in sorted(index.changed):
            found = read_instances(
                box.client,
                box.user_path(),
                master,
                range_start,
                range_end,
                page_size=box.page_size,
                prefer=PREFER_TZ,
            )
            index.reconcile(master, found)
    return index, str(delta), relisted


def window_listing(
    items: Mapping[str, list[Any]],
    window: Window,
    cap: int,
    series_uid: Callable[[str], str | None],
) -> Listing:
    """The index's items starting in `window`; an unreadable start is a broken item.
    A series contributes at most `cap` occurrences, the earliest, with a warning that
    names it by `series_uid(master id)` (the operator knows a series by its UID)."""
    listing = Listing(etags={})
    series: dict[str, list[tuple[datetime, str]]] = {}
    for item_id, (etag, start_text, _meeting, master) in items.items():
        if start_text is None:
            listing.broken[item_id] = BrokenItem(item_id, etag, "unreadable start time")
            continue
        start_at = datetime.fromisoformat(start_text)
        if window.start <= start_at < window.end:
            listing.etags[item_id] = etag
            if master:
                series.setdefault(master, []).append((start_at, item_id))
    for master, found in series.items():
        if len(found) <= cap:
            continue
        for _start, item_id in sorted(found)[cap:]:
            del listing.etags[item_id]
        # worth a lookup only here
        name = series_uid(master) or master
        listing.warnings.append(
            f"recurring series {name} has more than {cap} "
            f"occurrences in the window; only the first {cap} are synced "
            "(setting max_occurrences)"
        )
    return listing
