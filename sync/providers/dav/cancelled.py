"""Cancelled events on CalDAV are deletions, not live items.

RFC 5545 §3.8.1.11 lets an event say STATUS:CANCELLED instead of going away, and
servers use it: Google's CalDAV endpoint keeps a deleted instance of a recurring
event as a STATUS:CANCELLED override of the series (the Calendar API documents the
same as "cancelled instances" in incremental results, developers.google.com/
calendar/api/v3/reference/events: status "cancelled"), and an organiser's
cancellation arrives as a cancelled copy of the whole event (RFC 5546 §3.2.5,
METHOD:CANCEL). Synced as it stands, the CRM would keep a meeting that is not held.
So a cancelled single event is left out of the listing, and so is a cancelled
occurrence of a series (or every occurrence of a cancelled series): the engine sees
them go, as it would a deletion.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from sync.ical.recurrence import Series
from sync.model import Event
from sync.providers.base import Window

if TYPE_CHECKING:
    import icalendar

#: a STATUS:CANCELLED line (any parameters; unfolded - the line is short)
_CANCELLED_LINE = re.compile(r"^STATUS(?:;[^:\r\n]*)?:[ \t]*CANCELLED[ \t]*\r?$", re.I | re.M)


def is_cancelled(data: str) -> bool:
    """Whether a single event's text says STATUS:CANCELLED."""
    return "CANCELLED" in data.upper() and _CANCELLED_LINE.search(data) is not None


def _cancelled(comp: icalendar.cal.Component) -> bool:
    return str(comp.get("STATUS", "")).strip().upper() == "CANCELLED"


class LiveSeries(Series):
    """A series without its cancelled occurrences."""

    def _gone(self) -> set[str] | None:
        """The recurrence ids of cancelled overrides; None when the whole series is."""
        if self.master is not None and _cancelled(self.master):
            return None
        return {rid for rid, comp in self.overrides().items() if _cancelled(comp)}

    def occurrences(self, window: Window, cap: int) -> tuple[list[Event], bool]:
        gone = self._gone()
        if gone is None:
            return [], False
        events, capped = super().occurrences(window, cap)
        return [e for e in events if e.recurrence_id not in gone], capped

    def occurrence(self, recurrence_id: str) -> Event | None:
        gone = self._gone()
        if gone is None or recurrence_id in gone:
            return None
        return super().occurrence(recurrence_id)
