"""The iCalendar mapping: lossless round trip, preservation of foreign data, typed errors."""

from __future__ import annotations

import subprocess
import sys
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import icalendar
import pytest
from hypothesis import given
from hypothesis import strategies as st

from sync.ical import PRODID, parse_event, render_event, round_trips_exactly
from sync.ical.zone_names import UnknownTimezone, resolve_tzid
from sync.model import Event, Privacy, ShowAs, as_utc, event_to_dict
from sync.providers.base import MalformedItem

ZONES = ["UTC", "Europe/Stockholm", "America/New_York", "Asia/Kolkata", "Australia/Lord_Howe"]

# iCalendar text cannot carry CR (it becomes LF) nor lone surrogates (not UTF-8);
# everything else, control characters and astral planes included, must survive.
_chars = st.characters(blacklist_categories=("Cs",), blacklist_characters="\r")


def _no_leading_bom(text: str) -> str:
    # icalendar decodes every value as utf-8-sig, so a value's leading U+FEFF cannot
    # survive any iCalendar round trip (ours or another client's);
    # test_a_leading_byte_order_mark_is_dropped_and_says_so pins that behaviour
    return text.lstrip("\ufeff")


texts = st.text(_chars, max_size=60).map(_no_leading_bom)
uids = (
    st.text(
        st.characters(blacklist_categories=("Cs", "Cc", "Zs", "Zl", "Zp")), min_size=1, max_size=40
    )
    .map(_no_leading_bom)
    .filter(bool)
)


def zoned(zone: str) -> st.SearchStrategy[datetime]:
    tz = UTC if zone == "UTC" else ZoneInfo(zone)
    return st.datetimes(
        min_value=datetime(1950, 1, 1),
        max_value=datetime(2090, 12, 31),
        timezones=st.just(tz),
    ).map(lambda d: d.replace(microsecond=0))


@st.composite
def events(draw: st.DrawFn) -> Event:
    all_day = draw(st.booleans())
    if all_day:
        start: datetime | date = draw(st.dates(date(1950, 1, 1), date(2090, 12, 31)))
        end: datetime | date = start + timedelta(days=draw(st.integers(0, 40)))
    else:
        start = draw(st.sampled_from(ZONES).flatmap(zoned))
        end_zone = draw(st.sampled_from(ZONES))
        tz = UTC if end_zone == "UTC" else ZoneInfo(end_zone)
        seconds = draw(st.integers(0, 40 * 86400))
        end = (start.astimezone(UTC) + timedelta(seconds=seconds)).astimezone(tz)
    lm = draw(
        st.none()
        | st.datetimes(datetime(2000, 1, 1), datetime(2080, 1, 1), timezones=st.just(UTC)).map(
            lambda d: d.replace(microsecond=0)
        )
    )
    rid = draw(
        st.none()
        | st.dates(date(2000, 1, 1), date(2080, 1, 1)).map(date.isoformat)
        | zoned("UTC").map(datetime.isoformat)
    )
    return Event(
        uid=draw(uids),
        subject=draw(texts),
        start=start,
        end=end,
        all_day=all_day,
        location=draw(texts),
        show_as=draw(st.sampled_from(ShowAs)),
        privacy=draw(st.sampled_from(Privacy)),
        reminder=draw(st.none() | st.integers(0, 60 * 24 * 28)),
        text=draw(st.text(_chars, max_size=300).map(_no_leading_bom)),
        last_modified=lm,
        recurrence_id=rid,
    )


def _zone_key(value: datetime | date) -> str | None:
    if not isinstance(value, datetime):
        return None
    if value.replace(fold=0).utcoffset() != value.utcoffset():
        return "UTC"  # the repeated autumn hour has no TZID form; it is written as UTC
    tz = value.tzinfo
    return "UTC" if tz is UTC else getattr(tz, "key", None)


def _fold_dependent(value: datetime | date) -> bool:
    return isinstance(value, datetime) and (
        value.replace(fold=0).utcoffset() != value.replace(fold=1).utcoffset()
    )


def assert_lossless(back: Event, event: Event) -> None:
    """`back == event`, made exact where datetime equality is not.

    datetime == ignores `fold` between values sharing a tzinfo, and PEP 495 makes
    times in a DST fold or gap unequal to every time in another zone, so the
    instants and zones are compared separately.
    """
    assert back.replace(start=event.start, end=event.end) == event
    if not (_fold_dependent(event.start) or _fold_dependent(event.end)):
        assert back == event
    assert back.start_utc == event.start_utc
    assert as_utc(back.end) == as_utc(event.end)
    # and the wall-clock zone must survive, not only the instant
    assert _zone_key(back.start) == _zone_key(event.start)
    assert _zone_key(back.end) == _zone_key(event.end)
    assert type(back.start) is type(event.start)


@given(events())
def test_round_trip_is_lossless(event: Event) -> None:
    assert_lossless(parse_event(render_event(event), "item"), event)


@given(events())
def test_round_trips_exactly_means_same_fields_and_hash(event: Event) -> None:
    """Providers skip re-parsing what they wrote when this says so: it must be true."""
    back = parse_event(render_event(event), "item")
    if round_trips_exactly(event):
        assert event_to_dict(back) == event_to_dict(event)
        assert back.content_hash() == event.content_hash()


@given(events(), events())
def test_rerender_over_base_is_lossless(first: Event, second: Event) -> None:
    """Writing an event over another item's text gives exactly the new event."""
    base = render_event(first)
    assert_lossless(parse_event(render_event(second, base), "item"), second)


def test_a_leading_byte_order_mark_is_dropped_and_says_so() -> None:
    """A text starting with U+FEFF comes back without it, and `round_trips_exactly`
    says so, so a provider re-reads what it wrote instead of remembering the BOM."""
    event = Event(
        uid="u-bom",
        subject="\ufeffTitle",
        start=datetime(2026, 3, 2, 9, tzinfo=UTC),
        end=datetime(2026, 3, 2, 10, tzinfo=UTC),
        text="\ufeff",
    )
    back = parse_event(render_event(event), "item")
    assert (back.subject, back.text) == ("Title", "")
    assert not round_trips_exactly(event)


def test_an_unchanged_text_with_a_backslash_n_is_kept_as_text() -> None:
    """A kept (unchanged) LOCATION is re-escaped per RFC 5545: a literal backslash-N
    stays two characters, not a line break (icalendar's own escaping would do that)."""
    event = Event(
        uid="u-bs",
        subject="Old",
        start=datetime(2026, 3, 2, 9, tzinfo=UTC),
        end=datetime(2026, 3, 2, 10, tzinfo=UTC),
        location="C:\\New folder",
    )
    base = render_event(event)
    back = parse_event(render_event(event.replace(subject="New"), base), "item")
    assert back.location == "C:\\New folder" and back.subject == "New"


def test_rendered_calendar_has_calsync_header_and_timezones() -> None:
    event = Event(
        uid="u-1",
        subject="Board",
        start=datetime(2026, 3, 2, 9, tzinfo=ZoneInfo("Europe/Stockholm")),
        end=datetime(2026, 3, 2, 10, tzinfo=ZoneInfo("Europe/Stockholm")),
    )
    cal = icalendar.Calendar.from_ical(render_event(event))
    assert str(cal["PRODID"]) == PRODID
    assert str(cal["VERSION"]) == "2.0"
    assert "METHOD" not in cal
    tzids = [str(c["TZID"]) for c in cal.walk("VTIMEZONE")]
    assert tzids == ["Europe/Stockholm"]
    vevent = cal.walk("VEVENT")[0]
    assert "DTSTAMP" in vevent
    assert "SEQUENCE" not in vevent


# -- mapping details -----------------------------------------------------------------

CAL = "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//test//EN\r\n{body}END:VCALENDAR\r\n"


def vevent(*lines: str, dtstart: str | None = "DTSTART:20260302T090000Z") -> str:
    props = ["UID:abc"] + ([dtstart] if dtstart else []) + list(lines)
    return CAL.format(
        body="BEGIN:VEVENT\r\n" + "".join(f"{p}\r\n" for p in props) + "END:VEVENT\r\n"
    )


@pytest.mark.parametrize(
    ("lines", "expected"),
    [
        ([], ShowAs.BUSY),
        (["TRANSP:TRANSPARENT"], ShowAs.FREE),
        (["TRANSP:OPAQUE"], ShowAs.BUSY),
        (["STATUS:TENTATIVE"], ShowAs.TENTATIVE),
        (["STATUS:TENTATIVE", "TRANSP:TRANSPARENT"], ShowAs.TENTATIVE),
        (["X-MICROSOFT-CDO-BUSYSTATUS:OOF", "TRANSP:OPAQUE"], ShowAs.OOF),
        (["X-MICROSOFT-CDO-BUSYSTATUS:WORKINGELSEWHERE"], ShowAs.WORKING_ELSEWHERE),
        (["X-MICROSOFT-CDO-BUSYSTATUS:FREE", "STATUS:TENTATIVE"], ShowAs.FREE),
        (["X-MICROSOFT-CDO-BUSYSTATUS:BUSY", "TRANSP:TRANSPARENT"], ShowAs.BUSY),
        (["X-MICROSOFT-CDO-BUSYSTATUS:bogus", "TRANSP:TRANSPARENT"], ShowAs.FREE),
    ],
)
def test_show_as_precedence(lines: list[str], expected: ShowAs) -> None:
    assert parse_event(vevent(*lines), "i").show_as is expected


@pytest.mark.parametrize(
    ("lines", "expected"),
    [
        ([], Privacy.NORMAL),
        (["CLASS:PUBLIC"], Privacy.NORMAL),
        (["CLASS:PRIVATE"], Privacy.PRIVATE),
        (["CLASS:PRIVATE", "X-CALSYNC-PRIVACY:PERSONAL"], Privacy.PERSONAL),
        (["CLASS:CONFIDENTIAL"], Privacy.CONFIDENTIAL),
        (["CLASS:X-SECRET"], Privacy.PRIVATE),  # RFC 5545: unknown classes mean PRIVATE
    ],
)
def test_privacy_from_class(lines: list[str], expected: Privacy) -> None:
    assert parse_event(vevent(*lines), "i").privacy is expected


def alarm(action: str, trigger: str) -> list[str]:
    return ["BEGIN:VALARM", f"ACTION:{action}", "DESCRIPTION:x", trigger, "END:VALARM"]


@pytest.mark.parametrize(
    ("lines", "expected"),
    [
        ([], None),
        (alarm("DISPLAY", "TRIGGER:-PT15M"), 15),
        (alarm("DISPLAY", "TRIGGER:PT0S"), 0),
        (alarm("DISPLAY", "TRIGGER:-P1D"), 1440),
        (alarm("DISPLAY", "TRIGGER;RELATED=START:-PT1H"), 60),
        (alarm("DISPLAY", "TRIGGER:PT15M"), None),  # after the start: not a reminder
        (alarm("DISPLAY", "TRIGGER;RELATED=END:-PT5M"), None),
        (alarm("DISPLAY", "TRIGGER;VALUE=DATE-TIME:20260302T080000Z"), None),
        (alarm("EMAIL", "TRIGGER:-PT30M"), None),
        (alarm("EMAIL", "TRIGGER:-PT30M") + alarm("DISPLAY", "TRIGGER:-PT10M"), 10),
        (alarm("DISPLAY", "TRIGGER:-PT10M") + alarm("DISPLAY", "TRIGGER:-PT20M"), 10),
    ],
)
def test_reminder_is_first_display_alarm_before_start(
    lines: list[str], expected: int | None
) -> None:
    assert parse_event(vevent(*lines), "i").reminder == expected


def test_missing_end_follows_rfc5545() -> None:
    timed = parse_event(vevent(), "i")
    assert timed.end == timed.start
    day = parse_event(vevent(dtstart="DTSTART;VALUE=DATE:20260302"), "i")
    assert day.all_day and day.end == date(2026, 3, 3)


def test_duration_days_are_nominal_and_hours_exact() -> None:
    # 2026-03-29 is the spring-forward day in Stockholm (02:00 -> 03:00)
    start = "DTSTART;TZID=Europe/Stockholm:20260328T120000"
    one_day = parse_event(vevent("DURATION:P1D", dtstart=start), "i")
    assert one_day.end == datetime(2026, 3, 29, 12, tzinfo=ZoneInfo("Europe/Stockholm"))
    early = "DTSTART;TZID=Europe/Stockholm:20260329T013000"
    hours = parse_event(vevent("DURATION:PT2H", dtstart=early), "i")
    assert hours.end == datetime(2026, 3, 29, 4, 30, tzinfo=ZoneInfo("Europe/Stockholm"))
    dates = parse_event(vevent("DURATION:P3D", dtstart="DTSTART;VALUE=DATE:20260302"), "i")
    assert dates.end == date(2026, 3, 5)


def test_floating_time_is_read_as_utc() -> None:
    event = parse_event(vevent("DTEND:20260302T100000", dtstart="DTSTART:20260302T090000"), "i")
    assert event.start == datetime(2026, 3, 2, 9, tzinfo=UTC)
    assert event.end == datetime(2026, 3, 2, 10, tzinfo=UTC)


def test_last_modified_is_utc_whole_seconds() -> None:
    event = parse_event(vevent("LAST-MODIFIED:20260301T101112Z"), "i")
    assert event.last_modified == datetime(2026, 3, 1, 10, 11, 12, tzinfo=UTC)
    assert event.last_modified.tzinfo is UTC
    assert parse_event(vevent("LAST-MODIFIED:junk"), "i").last_modified is None


def test_series_master_is_taken_over_overrides() -> None:
    body = (
        "BEGIN:VEVENT\r\nUID:s\r\nRECURRENCE-ID:20260309T090000Z\r\n"
        "DTSTART:20260309T100000Z\r\nSUMMARY:moved\r\nEND:VEVENT\r\n"
        "BEGIN:VEVENT\r\nUID:s\r\nDTSTART:20260302T090000Z\r\nRRULE:FREQ=WEEKLY\r\n"
        "SUMMARY:weekly\r\nEND:VEVENT\r\n"
    )
    event = parse_event(CAL.format(body=body), "i")
    assert event.subject == "weekly" and event.recurrence_id is None
    # rewriting the master leaves the override alone
    out = icalendar.Calendar.from_ical(
        render_event(event.replace(subject="new"), CAL.format(body=body))
    )
    subjects = sorted(str(e["SUMMARY"]) for e in out.walk("VEVENT"))
    assert subjects == ["moved", "new"]


def test_lone_override_carries_its_recurrence_id() -> None:
    data = vevent("RECURRENCE-ID;TZID=Europe/Stockholm:20260309T100000")
    assert parse_event(data, "i").recurrence_id == "2026-03-09T09:00:00+00:00"


# -- preserving what calsync does not map -------------------------------------------

FOREIGN = CAL.format(
    body="BEGIN:VEVENT\r\n"
    "UID:keep-1\r\n"
    "DTSTART;TZID=Europe/Stockholm:20260302T090000\r\n"
    "DTEND;TZID=Europe/Stockholm:20260302T100000\r\n"
    "SUMMARY:Old\r\n"
    "SEQUENCE:4\r\n"
    "ORGANIZER;CN=Boss:mailto:boss@example.com\r\n"
    "ATTENDEE;CN=Anna;PARTSTAT=ACCEPTED:mailto:anna@example.com\r\n"
    "CATEGORIES:Sales,Customer\r\n"
    "X-FOO;X-PARAM=1:bar\r\n"
    "STATUS:TENTATIVE\r\n"
    "BEGIN:VALARM\r\nACTION:DISPLAY\r\nDESCRIPTION:pop\r\nTRIGGER:-PT5M\r\nX-WR-ALARMUID:a1\r\nEND:VALARM\r\n"
    "BEGIN:VALARM\r\nACTION:EMAIL\r\nSUMMARY:mail\r\nDESCRIPTION:mail\r\n"
    "ATTENDEE:mailto:anna@example.com\r\nTRIGGER:-PT1H\r\nEND:VALARM\r\n"
    "END:VEVENT\r\n"
    "BEGIN:VTODO\r\nUID:todo-1\r\nSUMMARY:unrelated\r\nEND:VTODO\r\n"
)


def test_unknown_properties_survive_an_update() -> None:
    old = parse_event(FOREIGN, "i")
    new = old.replace(subject="New", reminder=30, show_as=ShowAs.BUSY, text="body")
    out = render_event(new, FOREIGN)
    assert parse_event(out, "i") == new

    cal = icalendar.Calendar.from_ical(out)
    ev = cal.walk("VEVENT")[0]
    assert str(ev["ATTENDEE"]) == "mailto:anna@example.com"
    assert ev["ATTENDEE"].params["PARTSTAT"] == "ACCEPTED"
    assert str(ev["ORGANIZER"]) == "mailto:boss@example.com"
    assert [str(c) for c in ev["CATEGORIES"].cats] == ["Sales", "Customer"]
    assert str(ev["X-FOO"]) == "bar" and ev["X-FOO"].params["X-PARAM"] == "1"
    assert int(ev["SEQUENCE"]) == 4  # never bumped: no iTIP
    assert "METHOD" not in cal
    assert str(ev["STATUS"]) == "CONFIRMED"  # no longer tentative
    alarms = ev.walk("VALARM")
    assert [str(a["ACTION"]) for a in alarms] == ["DISPLAY", "EMAIL"]
    assert str(alarms[0]["X-WR-ALARMUID"]) == "a1"  # edited in place
    assert alarms[0]["TRIGGER"].dt == timedelta(minutes=-30)
    assert alarms[1]["TRIGGER"].dt == timedelta(hours=-1)
    assert [c.name for c in cal.subcomponents].count("VTODO") == 1


def test_clearing_the_reminder_keeps_other_alarms() -> None:
    new = parse_event(FOREIGN, "i").replace(reminder=None)
    out = render_event(new, FOREIGN)
    assert parse_event(out, "i").reminder is None
    ev = icalendar.Calendar.from_ical(out).walk("VEVENT")[0]
    assert [str(a["ACTION"]) for a in ev.walk("VALARM")] == ["EMAIL"]


def test_rerender_without_change_is_stable() -> None:
    event = parse_event(FOREIGN, "i")
    once = render_event(event, FOREIGN)
    assert render_event(event, once) == once


def test_changed_text_drops_stale_html_body() -> None:
    base = vevent("DESCRIPTION:old", "X-ALT-DESC;FMTTYPE=text/html:<b>old</b>")
    same = render_event(parse_event(base, "i"), base)
    assert b"X-ALT-DESC" in same
    changed = render_event(parse_event(base, "i").replace(text="new"), base)
    assert b"X-ALT-DESC" not in changed


def test_broken_base_is_overwritten_not_fatal() -> None:
    event = parse_event(vevent(), "i")
    assert parse_event(render_event(event, b"\x00 not a calendar"), "i") == event


# -- time zones -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "key"),
    [
        ("Europe/Stockholm", "Europe/Stockholm"),
        ("W. Europe Standard Time", "Europe/Berlin"),
        ("Eastern Standard Time", "America/New_York"),
        # CLDR's Windows table names the old spelling; tzdata still ships it as a link
        ("India Standard Time", "Asia/Calcutta"),
        ("/mozilla.org/20050126_1/Europe/Stockholm", "Europe/Stockholm"),
        (
            "/freeassociation.sourceforge.net/Tzfile/America/Argentina/Buenos_Aires",
            "America/Argentina/Buenos_Aires",
        ),
        ("/citadel.org/20190914_1/Asia/Kolkata", "Asia/Kolkata"),
        ('"Europe/Stockholm"', "Europe/Stockholm"),
    ],
)
def test_resolve_tzid_names(name: str, key: str) -> None:
    assert getattr(resolve_tzid(name), "key", None) == key


@pytest.mark.parametrize("name", ["UTC", "Etc/UTC", "GMT", "Z", "/mozilla.org/UTC"])
def test_resolve_tzid_utc_spellings(name: str) -> None:
    assert datetime(2026, 1, 1, tzinfo=resolve_tzid(name)).utcoffset() == timedelta(0)


@pytest.mark.parametrize("name", ["Mars/Olympus_Mons", "", "../../etc/passwd", "Not A Zone Time"])
def test_resolve_tzid_unknown(name: str) -> None:
    with pytest.raises(UnknownTimezone) as info:
        resolve_tzid(name)
    assert isinstance(info.value, ValueError)


def test_windows_zone_in_an_item() -> None:
    event = parse_event(
        vevent(
            "DTEND;TZID=Pacific Standard Time:20260302T100000",
            dtstart="DTSTART;TZID=W. Europe Standard Time:20260302T090000",
        ),
        "i",
    )
    assert event.start == datetime(2026, 3, 2, 8, tzinfo=UTC)
    assert getattr(event.end.tzinfo, "key", None) == "America/Los_Angeles"


CUSTOM_ZONE = (
    "BEGIN:VTIMEZONE\r\nTZID:Customized Time Zone\r\n"
    "BEGIN:STANDARD\r\nDTSTART:16010101T030000\r\nTZOFFSETFROM:+0200\r\nTZOFFSETTO:+0100\r\n"
    "RRULE:FREQ=YEARLY;BYDAY=-1SU;BYMONTH=10\r\nEND:STANDARD\r\n"
    "BEGIN:DAYLIGHT\r\nDTSTART:16010101T020000\r\nTZOFFSETFROM:+0100\r\nTZOFFSETTO:+0200\r\n"
    "RRULE:FREQ=YEARLY;BYDAY=-1SU;BYMONTH=3\r\nEND:DAYLIGHT\r\nEND:VTIMEZONE\r\n"
)


def test_custom_vtimezone_only_tzid_resolves() -> None:
    body = CUSTOM_ZONE + (
        "BEGIN:VEVENT\r\nUID:c\r\nDTSTART;TZID=Customized Time Zone:20260702T090000\r\n"
        "DTEND;TZID=Customized Time Zone:20260102T090000\r\nEND:VEVENT\r\n"
    ).replace("20260102", "20260702")
    event = parse_event(CAL.format(body=body), "i")
    assert event.start == datetime(2026, 7, 2, 7, tzinfo=UTC)  # summer: +02:00
    # a calendar without that VTIMEZONE must not see it (no process-wide cache)
    with pytest.raises(MalformedItem, match="Customized Time Zone"):
        parse_event(vevent(dtstart="DTSTART;TZID=Customized Time Zone:20260702T090000"), "j")


# -- malformed input --------------------------------------------------------------------

MALFORMED = {
    "empty": b"",
    "not text": b"\xff\xfe\x00\x01binary",
    "plain text": b"hello world",
    "json": b'{"uid": "x"}',
    "no vevent": CAL.format(body=""),
    "vtodo only": CAL.format(body="BEGIN:VTODO\r\nUID:t\r\nEND:VTODO\r\n"),
    "missing dtstart": vevent(dtstart=None),
    "missing uid": CAL.format(body="BEGIN:VEVENT\r\nDTSTART:20260302T090000Z\r\nEND:VEVENT\r\n"),
    "bad dtstart": vevent(dtstart="DTSTART:2026-13-45"),
    "bad dtend": vevent("DTEND:20261345T250000"),
    "bad date value": vevent(dtstart="DTSTART;VALUE=DATE:20260231"),
    "bad duration": vevent("DURATION:soon"),
    "unknown tzid": vevent(dtstart="DTSTART;TZID=Mars/Olympus_Mons:20260302T090000"),
    "end before start": vevent("DTEND:20260302T080000Z"),
    "date end before start": vevent(
        "DTEND;VALUE=DATE:20260301", dtstart="DTSTART;VALUE=DATE:20260302"
    ),
    "mixed date types": vevent("DTEND;VALUE=DATE:20260303"),
    "two dtstarts": vevent("DTSTART:20260303T090000Z"),
    "truncated": vevent()[:60],
    "garbage line": CAL.format(body="BEGIN:VEVENT\r\nthis is not a content line\r\nEND:VEVENT\r\n"),
}


@pytest.mark.parametrize("case", sorted(MALFORMED))
def test_malformed_input_raises_malformed_item(case: str) -> None:
    with pytest.raises(MalformedItem) as info:
        parse_event(MALFORMED[case], f"item-{case}")
    assert info.value.item_id == f"item-{case}"
    assert f"item-{case}" in str(info.value)
    assert info.value.reason and "\n" not in str(info.value)


def test_google_style_timezone_only_calendar_names_the_cause() -> None:
    data = CAL.format(body=CUSTOM_ZONE.replace("Customized Time Zone", "Europe/Stockholm"))
    with pytest.raises(MalformedItem, match="only time zone definitions"):
        parse_event(data, "g-1")


@given(st.binary(max_size=300))
def test_arbitrary_bytes_never_escape_as_other_errors(data: bytes) -> None:
    try:
        parse_event(b"BEGIN:VCALENDAR\r\nBEGIN:VEVENT\r\n" + data, "fuzz")
    except MalformedItem as exc:
        assert exc.item_id == "fuzz"


@given(st.text(max_size=200))
def test_arbitrary_text_inside_an_event_never_escapes(junk: str) -> None:
    try:
        parse_event(vevent(junk), "fuzz")
    except MalformedItem as exc:
        assert exc.item_id == "fuzz"


def test_vendor_prefixed_tzid_prints_no_warning() -> None:
    """icalendar's TZID-guess warning must not reach an operator's terminal."""
    code = (
        "from sync.ical import parse_event\n"
        f"parse_event({vevent(dtstart='DTSTART;TZID=/mozilla.org/2005/Europe/Oslo:20260302T090000')!r}, 'i')\n"
    )
    done = subprocess.run(
        [sys.executable, "-W", "default", "-c", code],
        capture_output=True,
        text=True,
        check=True,
        cwd=Path(__file__).resolve().parents[2],
    )
    assert done.stderr == ""
