"""Issue 21 at the codec: time zones and kept properties in real exported files.

Every file comes from another iCalendar project's test data (tests/data/corpus,
sources in MANIFEST.md); each test names the cause it shows.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from sync.ical import load_calendar, parse_event, read_time, render_event, vevents
from sync.ical.recurrence import Series, override
from sync.ical.timezones import ZoneLookup
from sync.model import Event
from sync.providers.base import MalformedItem, Window
from tests.corpus import lines, resources, text

BRUSSELS = ZoneInfo("Europe/Brussels")
WIDE = Window(datetime(1990, 1, 1, tzinfo=UTC), datetime(2030, 1, 1, tzinfo=UTC))


def series(data: str, name: str = "s.ics") -> Series:
    found = Series.parse(data, name)
    assert found is not None
    return found


def listed(found: Series, window: Window = WIDE, cap: int = 500) -> list[Event]:
    occurrences, _ = found.occurrences(window, cap)
    return occurrences


# -- 1, 2: X-WR-TIMEZONE and floating times -------------------------------------------------


def test_floating_times_are_in_the_calendars_x_wr_timezone() -> None:
    """Cause 1: 21:00 in Brussels, not 21:00 UTC (recurring-ical-events issue 86)."""
    event = parse_event(text("calsync-x-wr-timezone-floating.ics"), "a.ics")
    assert event.start == datetime(2021, 9, 16, 21, tzinfo=BRUSSELS)
    assert event.end == datetime(2021, 9, 16, 22, 45, tzinfo=BRUSSELS)
    assert event.start_utc == datetime(2021, 9, 16, 19, tzinfo=UTC)


def test_a_title_edit_writes_an_unchanged_floating_time_back_floating() -> None:
    """Cause 2: DTSTART:20210916T210000 stays as written, never becomes …Z."""
    base = text("calsync-x-wr-timezone-floating.ics")
    event = parse_event(base, "a.ics")
    written = render_event(event.replace(subject="Renamed"), base)
    assert lines(written, "DTSTART") == ["DTSTART:20210916T210000"]
    assert lines(written, "DTEND") == ["DTEND:20210916T224500"]
    assert parse_event(written, "a.ics") == event.replace(subject="Renamed")


def test_a_title_edit_keeps_an_unchanged_tzid_and_a_moved_time_is_exact() -> None:
    """Cause 2: an Outlook CDO TZID stays that TZID; a real move is written exactly."""
    base = text("ical4j-outlook-cdo-escaped-comma-tzid.ics")
    event = parse_event(base, "a.ics")
    written = render_event(event.replace(subject="Renamed"), base)
    assert lines(written, "DTSTART") == [
        'DTSTART;TZID="Pacific Time (US & Canada), Tijuana":20041011T223000'
    ]
    moved = event.replace(start=event.start + timedelta(hours=1))
    back = parse_event(render_event(moved, base), "a.ics")
    assert back.start_utc == moved.start_utc and back.end == event.end


# -- 3: TZIDs the file defines or that name a Windows display name --------------------------


def test_owa_display_names_are_their_windows_zones() -> None:
    """Cause 3: Exchange 2010 OWA names "(UTC-05:00) Eastern Time (US & Canada)"
    and "(GMT+10:00) Canberra, Melbourne, Sydney" (node-ical's Office-2012-owa)."""
    cal = load_calendar(text("nodeical-exchange2010-owa-names.ics"), "owa.ics")
    zones = ZoneLookup(cal, "owa.ics")
    starts = [read_time(c, "DTSTART", zones, "owa.ics") for c in vevents(cal)]
    assert starts == [
        datetime(2020, 10, 28, 13, 30, tzinfo=ZoneInfo("Australia/Sydney")),
        datetime(2020, 10, 28, 13, 30, tzinfo=ZoneInfo("America/New_York")),
        datetime(2020, 11, 2, 13, 30, tzinfo=ZoneInfo("America/New_York")),
        datetime(2020, 11, 2, 13, 30, tzinfo=ZoneInfo("America/New_York")),
    ]
    # the DST change between them is the zone's, not a fixed offset's
    assert [s.utcoffset() for s in starts[1:3]] == [timedelta(hours=-4), timedelta(hours=-5)]


def test_outlook_escaped_comma_names_are_their_windows_zones() -> None:
    """Cause 3: Outlook's "Pacific Time (US & Canada)\\, Tijuana" (ical4j's tmeher)."""
    event = parse_event(text("ical4j-outlook-cdo-escaped-comma-tzid.ics"), "a.ics")
    assert event.start == datetime(2004, 10, 11, 22, 30, tzinfo=ZoneInfo("America/Los_Angeles"))


def test_exchange_customized_time_zone_uses_the_files_vtimezone() -> None:
    """Cause 3: Exchange 2010's "Customized Time Zone" (US Eastern rules) expands in
    those rules: 10:35 local on both sides of the November change."""
    found = series(text("nodeical-exchange2010-customized-tz.ics"))
    occurrences = listed(found)
    assert len(occurrences) == 34  # Tuesdays and Thursdays, 25 Aug to 17 Dec 2020
    assert all((o.start.hour, o.start.minute) == (10, 35) for o in occurrences)
    before = [o for o in occurrences if o.start_utc < datetime(2020, 11, 1, tzinfo=UTC)]
    after = [o for o in occurrences if o.start_utc > datetime(2020, 11, 2, tzinfo=UTC)]
    assert {o.start_utc.hour for o in before} == {14}
    assert {o.start_utc.hour for o in after} == {15}
    # each listed occurrence is found again by its id
    for occurrence in occurrences[::5]:
        assert occurrence.recurrence_id is not None
        assert found.occurrence(occurrence.recurrence_id) == occurrence


def test_mozilla_us_eastern_uses_the_files_vtimezone() -> None:
    """Cause 3: Mozilla's TZID=US-Eastern, defined only by the file (ical.net DailyUntil1)."""
    occurrences = listed(series(text("icalnet-mozilla-us-eastern-floating-dtend.ics")))
    assert len(occurrences) == 113
    assert occurrences[0].start_utc == datetime(1997, 9, 2, 13, tzinfo=UTC)
    assert occurrences[-1].start_utc == datetime(1997, 12, 23, 14, tzinfo=UTC)


def test_an_undefined_tzid_is_refused_for_singles_and_series_alike() -> None:
    """Cause 3: "Customized Time Zone 1" with no VTIMEZONE is never read as UTC."""
    single = resources(text("nodeical-customized-tz-1-undefined.ics"))["1173422081SZR322"]
    with pytest.raises(MalformedItem, match="Customized Time Zone 1"):
        parse_event(single, "a.ics")
    # the same item as a weekly series (the rule added here): refused the same way,
    # where it used to be expanded at UTC
    weekly = single.replace("CLASS:PUBLIC", "RRULE:FREQ=WEEKLY;COUNT=4\nCLASS:PUBLIC")
    with pytest.raises(MalformedItem, match="Customized Time Zone 1"):
        listed(series(weekly))


@pytest.mark.parametrize(
    "name", ["khal-icloud-tzoffset-seconds.ics", "icalevents-icloud-tzoffset-seconds.ics"]
)
def test_icloud_offsets_with_seconds_are_read(name: str) -> None:
    """Cause 3: iCloud's TZOFFSETFROM:+5328 (Berlin's +00:53:28) no longer makes the
    whole item unreadable, and a write keeps the item instead of replacing it."""
    data = text(name)
    event = parse_event(data, name)
    assert event.start.tzinfo == ZoneInfo("Europe/Berlin")
    written = render_event(event.replace(subject="Renamed"), data)
    assert "TZOFFSETFROM:+005328" in lines(written, "TZOFFSETFROM", zones=True)
    assert lines(written, "CREATED") == lines(data, "CREATED")  # nothing replaced


# -- 4: a floating DTEND beside a DTSTART with a TZID ---------------------------------------


def test_a_floating_dtend_is_in_dtstarts_zone() -> None:
    """Cause 4: Mozilla's DTSTART;TZID=US-Eastern with DTEND:19970902T100000."""
    data = text("icalnet-mozilla-us-eastern-floating-dtend.ics")
    master = parse_event(data, "a.ics")
    assert master.end - master.start == timedelta(hours=1)
    found = series(data)
    first = listed(found)[3]
    assert first.end - first.start == timedelta(hours=1)
    # an occurrence edited on the remote (a copy of the master with a RECURRENCE-ID,
    # its DTEND still floating) reads; so does calsync's own edit of it
    assert first.recurrence_id is not None
    edited = override(data, "a.ics", first.replace(subject="Moved"))
    again = series(edited.decode()).occurrence(first.recurrence_id)
    assert again is not None and again.subject == "Moved" and again.end > again.start


# -- 5: X-WR-TIMEZONE with a UTC rule across a DST change -----------------------------------


@pytest.mark.parametrize(
    ("name", "uid", "count"),
    [
        ("xwr-google-utc-rrule-moved.ics", "38m812jicsrer5gorh3mlp7qhc@google.com", 7),
        ("nodeical-google-x-wr-timezone-utc-rrule.ics", "1234567-ABCD-ABCD-ABCD-123456789012", 18),
    ],
)
def test_listing_and_lookup_agree_on_every_occurrence(name: str, uid: str, count: int) -> None:
    """Cause 5: Google's UTC DTSTART repeats at the X-WR-TIMEZONE wall clock; every
    listed occurrence, before and after the change, is found by its id."""
    found = series(resources(text(name))[uid])
    occurrences = listed(found, cap=count)
    assert len(occurrences) == count
    offsets = {o.start.utcoffset() for o in occurrences}
    assert len(offsets) == 2  # both sides of a DST change
    assert len({(o.start.hour, o.start.minute) for o in occurrences}) == 1  # one wall clock
    for occurrence in occurrences:
        assert occurrence.recurrence_id is not None
        assert found.occurrence(occurrence.recurrence_id) == occurrence


# -- 14: parameters of unchanged properties -------------------------------------------------


def test_language_parameters_stay_on_unchanged_summary_and_location() -> None:
    """Cause 14: Exchange 2010's SUMMARY;LANGUAGE=en-US and LOCATION;LANGUAGE=en-US."""
    base = text("icalevents-exchange2010-language.ics")
    event = parse_event(base, "a.ics")
    written = render_event(event.replace(text="Agenda"), base)
    assert lines(written, "SUMMARY") == lines(base, "SUMMARY")
    assert lines(written, "LOCATION") == lines(base, "LOCATION")
    renamed = render_event(event.replace(subject="Renamed"), base)
    assert lines(renamed, "SUMMARY") == ["SUMMARY:Renamed"]  # a changed value loses them


def test_altrep_stays_on_an_unchanged_description() -> None:
    """Cause 14: DESCRIPTION;ALTREP="data:text/html,…" (icalendar issue 350)."""
    base = text("icalendar-podio-altrep.ics")
    event = parse_event(base, "a.ics")
    written = render_event(event.replace(subject="Renamed"), base)
    (description,) = lines(written, "DESCRIPTION")
    assert description.startswith('DESCRIPTION;ALTREP="data:text/html,%3Cbody%3E')
    assert parse_event(written, "a.ics").text == event.text


def test_range_stays_on_the_recurrence_id_of_an_edited_override() -> None:
    """Cause 14: RECURRENCE-ID;RANGE=THISANDFUTURE (recurring-ical-events issue 75)."""
    base = text("rie-range-thisandfuture.ics")
    found = series(base)
    rid = "2024-09-21T12:00:00+00:00"
    occurrence = found.occurrence(rid)
    assert occurrence is not None
    written = override(base, "r.ics", occurrence.replace(subject="Edited again"))
    assert "RECURRENCE-ID;RANGE=THISANDFUTURE:20240921T120000Z" in lines(written, "RECURRENCE-ID")
    assert series(written.decode()).occurrence(rid) == occurrence.replace(subject="Edited again")


# -- 16: X- values with their own escaping --------------------------------------------------


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("nodeical-apple-structured-location.ics", " geo:50.083558\\,8.4693855"),
        ("ical4j-iphone-structured-location.ics", "geo:48.309978,14.283197"),
        ("icalendar-google-apple-location.ics", "geo:52.382762,7.528319"),
    ],
)
def test_x_apple_structured_location_is_written_as_it_was(name: str, value: str) -> None:
    """Cause 16: geo:lat\\,lon keeps its backslash (and an unescaped one stays so)."""
    base = resources(text(name)).popitem()[1] if "google" in name else text(name)
    event = parse_event(base, "a.ics") if "google" not in name else series(base).master
    if isinstance(event, Event):
        written = render_event(event.replace(subject="Renamed"), base)
    else:
        first = listed(series(base), cap=1)[0]
        written = override(base, "a.ics", first.replace(subject="Renamed"))
    locations = lines(written, "X-APPLE-STRUCTURED-LOCATION")
    assert locations and all(line.endswith(":" + value) for line in locations)


def test_a_bare_gmt_offset_name_is_that_offset_not_utc() -> None:
    """Cause 3: node-ical's music-school export writes TZID="(GMT +01:00)" with no
    VTIMEZONE (the line below is its DTSTART); the offset is all there is to go on."""
    data = (
        "BEGIN:VCALENDAR\nBEGIN:VEVENT\nUID:0000021\n"
        'DTSTART;TZID="(GMT +01:00)":20221004T140000\n'
        'DTEND;TZID="(GMT +01:00)":20221004T150000\n'
        "RRULE:FREQ=WEEKLY;UNTIL=20221201T020000;BYDAY=TU\nEND:VEVENT\nEND:VCALENDAR\n"
    )
    assert parse_event(data, "a.ics").start_utc == datetime(2022, 10, 4, 13, tzinfo=UTC)
    occurrences = listed(series(data))
    assert len(occurrences) == 9
    assert {o.start_utc.hour for o in occurrences} == {13}
