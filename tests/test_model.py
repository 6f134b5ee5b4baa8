"""The Event model's own rules."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from sync.model import Event, EventError

NEW_YORK = ZoneInfo("America/New_York")


def test_an_event_across_the_repeated_autumn_hour_is_ordered_by_instant() -> None:
    """01:30 EDT to 01:10 EST is 40 minutes: Python compares one zone's times by the
    wall clock and ignores `fold`, so a wall-clock check called it backwards."""
    start = datetime(2026, 11, 1, 1, 30, tzinfo=NEW_YORK)
    end = datetime(2026, 11, 1, 1, 10, fold=1, tzinfo=NEW_YORK)
    event = Event(uid="fold", subject="Night shift", start=start, end=end)
    assert (event.end - event.start).total_seconds() < 0  # the wall-clock view
    with pytest.raises(EventError, match="ends before it starts"):
        Event(uid="back", subject="x", start=end.replace(fold=0), end=start.replace(hour=0))
