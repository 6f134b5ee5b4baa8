"""The Graph provider's index of one calendar view, kept up to date by delta rounds.

`items` maps each listed event id to [etag, start (UTC ISO) or None, attendees if the
mailbox organizes it as a meeting else 0, series master id or None]; `series` maps
each series master seen to its etag (masters are never items: series.py);
`meetings` is the provider's {id: (etag, attendees)} it checks before writing.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping
from typing import Any

from sync.providers.graph.mapping import (
    MappingError,
    is_organized_meeting,
    series_master_of,
    start_instant,
)
from sync.providers.graph.series import drop_series, is_master


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
