"""sync.ical.recurrence on its own: ids, expansion, lookups by recurrence id, and writes."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from sync.engine.pairs import pair_key
from sync.engine.transform import new_copy
from sync.ical.recurrence import Series, detach, exclude, occurrence_id, override, split_id
from sync.model import Event
from sync.providers.base import ItemNotFound, MalformedItem, Window
from sync.settings import Settings

STHLM = ZoneInfo("Europe/Stockholm")
ALL = Window(datetime(2026, 1, 1, tzinfo=UTC), datetime(2028, 1, 1, tzinfo=UTC))


def cal(*lines: str) -> str:
    return "\r\n".join(["BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:t", *lines, "END:VCALENDAR"])


WEEKLY = cal(
    "BEGIN:VEVENT",
    "UID:w",
    "DTSTAMP:20260101T000000Z",
    "DTSTART;TZID=Europe/Stockholm:20260316T090000",
    "DTEND;TZID=Europe/Stockholm:20260316T093000",
    "RRULE:FREQ=WEEKLY;COUNT=4",
    "SUMMARY:Standup",
    "END:VEVENT",
)


def test_ids_round_trip_and_plain_ids_stay_plain() -> None:
    rid = datetime(2026, 12, 1, 9, tzinfo=UTC).isoformat()
    assert occurrence_id("a.ics", rid) == "a.ics#20261201T090000Z"
    assert split_id("a.ics#20261201T090000Z") == ("a.ics", rid)
    assert split_id("b.ics#20261201") == ("b.ics", "2026-12-01")
    assert split_id("odd#name.ics") == ("odd#name.ics", None)
    assert split_id("/cal/x.ics") == ("/cal/x.ics", None)


def test_expansion_keeps_the_wall_clock_across_dst() -> None:
    series = Series.parse(WEEKLY, "w.ics")
    assert series is not None
    events, capped = series.occurrences(ALL, 500)
    assert not capped
    assert [e.start for e in events] == [
        datetime(2026, 3, d, 9, tzinfo=STHLM) for d in (16, 23, 30)
    ] + [datetime(2026, 4, 6, 9, tzinfo=STHLM)]
    # Stockholm moved to summer time on 29 March: same wall time, an hour earlier in UTC
    assert [e.recurrence_id for e in events][1:3] == [
        "2026-03-23T08:00:00+00:00",
        "2026-03-30T07:00:00+00:00",
    ]
    assert {e.uid for e in events} == {"w"}


def test_a_single_event_is_no_series() -> None:
    single = cal(
        "BEGIN:VEVENT", "UID:s", "DTSTART:20260316T090000Z", "SUMMARY:RRULE in text", "END:VEVENT"
    )
    assert Series.parse(single, "s.ics") is None


def test_cap_keeps_the_earliest() -> None:
    series = Series.parse(WEEKLY, "w.ics")
    assert series is not None
    events, capped = series.occurrences(ALL, 2)
    assert capped and [e.start.day for e in events] == [16, 23]  # type: ignore[union-attr]


def test_override_then_exclude() -> None:
    series = Series.parse(WEEKLY, "w.ics")
    assert series is not None
    second = series.occurrences(ALL, 10)[0][1]
    moved = second.replace(
        subject="Moved",
        start=second.start + timedelta(hours=1),
        end=second.end + timedelta(hours=1),
    )
    text = override(WEEKLY, "w.ics", moved)
    assert "RECURRENCE-ID;TZID=Europe/Stockholm:20260323T090000" in text.decode()
    again = Series.parse(text, "w.ics")
    assert again is not None
    got = again.occurrence(second.recurrence_id or "")
    assert got is not None and got.subject == "Moved" and got.start.hour == 10  # type: ignore[union-attr]
    assert len(again.occurrences(ALL, 10)[0]) == 4

    fewer = exclude(text, "w.ics", second.recurrence_id or "")
    assert fewer is not None and b"EXDATE;TZID=Europe/Stockholm:20260323T090000" in fewer
    left = Series.parse(fewer, "w.ics")
    assert left is not None and left.occurrence(second.recurrence_id or "") is None
    assert "Moved" not in fewer.decode()
    with pytest.raises(ItemNotFound):
        exclude(fewer, "w.ics", second.recurrence_id or "")


def test_excluding_the_last_occurrence_empties_the_resource() -> None:
    text: bytes | str = WEEKLY
    series = Series.parse(text, "w.ics")
    assert series is not None
    rids = [e.recurrence_id or "" for e in series.occurrences(ALL, 10)[0]]
    for rid in rids[:-1]:
        out = exclude(text, "w.ics", rid)
        assert out is not None
        text = out
    assert exclude(text, "w.ics", rids[-1]) is None


def test_all_day_and_utc_series() -> None:
    yearly = cal(
        "BEGIN:VEVENT",
        "UID:y",
        "DTSTART;VALUE=DATE:20260301",
        "RRULE:FREQ=YEARLY;BYMONTH=3;BYMONTHDAY=1",
        "SUMMARY:Y",
        "END:VEVENT",
    )
    series = Series.parse(yearly, "y.ics")
    assert series is not None
    events, _ = series.occurrences(ALL, 10)
    assert (events[0].start, events[0].end, events[0].recurrence_id) == (
        date(2026, 3, 1),
        date(2026, 3, 2),
        "2026-03-01",
    )
    out = exclude(yearly, "y.ics", "2027-03-01")
    assert out is not None and b"EXDATE;VALUE=DATE:20270301" in out

    utc = WEEKLY.replace(";TZID=Europe/Stockholm:20260316T090000", ":20260316T080000Z")
    out = exclude(utc, "w.ics", "2026-03-23T08:00:00+00:00")
    assert out is not None and b"EXDATE:20260323T080000Z" in out


def test_junk_rules_are_malformed_not_a_crash() -> None:
    junk = WEEKLY.replace("RRULE:FREQ=WEEKLY;COUNT=4", "RRULE:FREQ=SOMETIMES")
    with pytest.raises(MalformedItem):
        series = Series.parse(junk, "j.ics")
        assert series is not None
        series.occurrences(ALL, 10)


def test_a_crm_occurrence_copied_to_the_remote_is_a_single_item_under_its_pair_key() -> None:
    start = datetime(2026, 5, 4, 9, tzinfo=STHLM)
    occurrence = Event(
        "s1",
        "Standup",
        start,
        start + timedelta(minutes=30),
        recurrence_id=start.astimezone(UTC).isoformat(),
    )
    copy = new_copy(occurrence, "crm", Settings(), datetime.now(UTC))
    assert copy.recurrence_id is None and copy.uid == pair_key(occurrence)
    assert detach(occurrence).uid == pair_key(occurrence) and detach(copy) == copy
    # the other way, the CRM copy keeps the series' identity
    back = new_copy(occurrence, "remote", Settings(), datetime.now(UTC))
    assert (back.uid, back.recurrence_id) == ("s1", occurrence.recurrence_id)


def test_a_rule_every_minute_costs_only_the_cap() -> None:
    minutely = WEEKLY.replace("RRULE:FREQ=WEEKLY;COUNT=4", "RRULE:FREQ=MINUTELY")
    series = Series.parse(minutely, "m.ics")
    assert series is not None
    events, capped = series.occurrences(ALL, 500)
    assert capped and len(events) == 500
    assert events[1].start - events[0].start == timedelta(minutes=1)
