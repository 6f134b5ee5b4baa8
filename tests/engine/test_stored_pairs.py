"""How a pair's events are stored: without the keys that read back as their default
(issue 21.10: the state of 50 year-long series was 21 MB), and older files with every
key still load to the same pair."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pytest

from sync.engine.pairs import Pair
from sync.model import Event, Privacy, ShowAs, event_from_dict, event_to_dict, event_to_stored

BERLIN = ZoneInfo("Europe/Berlin")
PLAIN = Event(
    uid="exch-0",
    subject="Busy 0",
    start=datetime(2026, 11, 5, 10, 30, tzinfo=BERLIN),
    end=datetime(2026, 11, 5, 11, tzinfo=BERLIN),
    recurrence_id="2026-11-05T09:30:00+00:00",
)
FULL = Event(
    uid="u-1",
    subject="",
    start=date(2026, 1, 1),
    end=date(2026, 1, 3),
    all_day=True,
    location="Room [bold]",
    show_as=ShowAs.FREE,
    privacy=Privacy.PRIVATE,
    reminder=0,  # zero minutes is a reminder, not none
    text="Notes",
    last_modified=datetime(2026, 1, 1, tzinfo=UTC),
)


@pytest.mark.parametrize("event", [PLAIN, FULL], ids=["defaults", "every-field-set"])
def test_the_stored_form_reads_back_equal(event: Event) -> None:
    stored = json.loads(json.dumps(event_to_stored(event)))
    assert event_from_dict(stored) == event
    assert event_from_dict(stored).content_hash() == event.content_hash()


def test_defaults_are_left_out_and_set_values_kept() -> None:
    assert set(event_to_stored(PLAIN)) == {"uid", "recurrence_id", "subject", "start", "end"}
    assert event_to_stored(FULL) == {
        k: v for k, v in event_to_dict(FULL).items() if k != "recurrence_id"
    }


def test_a_pair_stored_by_older_calsync_with_every_key_loads_the_same() -> None:
    def side(id: str, event: Event) -> dict[str, object]:
        return {"id": id, "etag": "e", "hash": event.content_hash(), "event": event_to_dict(event)}

    legacy = {
        "key": "k",
        "origin": "remote",
        "crm": side("a.ics", PLAIN),
        "remote": side("b", FULL),
    }
    pair = Pair.from_json(json.loads(json.dumps(legacy)))
    # an undecoded side is written back as it was read
    assert pair.to_json() == legacy
    assert (pair.crm.event, pair.remote.event) == (PLAIN, FULL)
    # a decoded one in the new form, which reads back to the same pair
    again = pair.to_json()
    assert again["crm"]["event"] == event_to_stored(PLAIN)
    assert again["remote"]["event"] == event_to_stored(FULL)
    assert Pair.from_json(again) == pair
