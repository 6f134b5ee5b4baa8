"""The cheap "might this be a series?" probe looks at events, not at time zones."""

from __future__ import annotations

from sync.ical.recurrence import Series, might_be_series

VTIMEZONE = (
    "BEGIN:VTIMEZONE\r\nTZID:Europe/Stockholm\r\n"
    "BEGIN:DAYLIGHT\r\nTZOFFSETFROM:+0100\r\nTZOFFSETTO:+0200\r\nTZNAME:CEST\r\n"
    "DTSTART:19700329T020000\r\nRRULE:FREQ=YEARLY;BYMONTH=3;BYDAY=-1SU\r\nEND:DAYLIGHT\r\n"
    "BEGIN:STANDARD\r\nTZOFFSETFROM:+0200\r\nTZOFFSETTO:+0100\r\nTZNAME:CET\r\n"
    "DTSTART:19701025T030000\r\nRRULE:FREQ=YEARLY;BYMONTH=10;BYDAY=-1SU\r\nEND:STANDARD\r\n"
    "END:VTIMEZONE\r\n"
)


def _calendar(*event_lines: str) -> str:
    event = "\r\n".join(
        [
            "BEGIN:VEVENT",
            "UID:probe@example.com",
            "DTSTAMP:20260101T000000Z",
            "DTSTART;TZID=Europe/Stockholm:20261201T090000",
            "DTEND;TZID=Europe/Stockholm:20261201T100000",
            "SUMMARY:Weekly review",
            *event_lines,
            "END:VEVENT",
        ]
    )
    return f"BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//t//EN\r\n{VTIMEZONE}{event}\r\nEND:VCALENDAR\r\n"


def test_a_single_event_with_daylight_saving_rules_is_not_a_series_candidate() -> None:
    data = _calendar()
    assert not might_be_series(data)
    assert not might_be_series(data.encode())
    assert Series.parse(data, "probe.ics") is None


def test_an_event_rule_or_date_list_is_a_series_candidate() -> None:
    weekly = _calendar("RRULE:FREQ=WEEKLY;COUNT=4")
    assert might_be_series(weekly)
    assert Series.parse(weekly, "probe.ics") is not None
    assert might_be_series(_calendar("RDATE;TZID=Europe/Stockholm:20261208T090000"))
