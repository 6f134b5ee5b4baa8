"""sync/providers/wire.py: what CalDAV, Graph and Google's API share."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from email.utils import format_datetime

from sync.providers.wire import iso_utc, month_ceil, month_floor, parse_retry_after


def test_retry_after_reads_seconds_and_http_dates_and_refuses_the_rest() -> None:
    assert parse_retry_after("120") == 120.0
    assert parse_retry_after(" 7 ") == 7.0
    soon = datetime.now(UTC) + timedelta(seconds=90)
    wait = parse_retry_after(format_datetime(soon, usegmt=True))
    assert wait is not None and 80 <= wait <= 91
    assert parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT") == 0.0  # already past
    for bad in (None, "", "soon", "-5", "1.5e3"):
        assert parse_retry_after(bad) is None


def test_months_widen_a_window_and_keep_month_starts() -> None:
    stockholm = timezone(timedelta(hours=1))
    assert month_floor(datetime(2026, 3, 1, 0, 30, tzinfo=stockholm)) == datetime(
        2026, 2, 1, tzinfo=UTC
    )
    assert month_ceil(datetime(2026, 12, 5, tzinfo=UTC)) == datetime(2027, 1, 1, tzinfo=UTC)
    assert month_ceil(datetime(2026, 4, 1, tzinfo=UTC)) == datetime(2026, 4, 1, tzinfo=UTC)
    assert iso_utc(datetime(2026, 4, 1, 2, 0, tzinfo=stockholm)) == "2026-04-01T01:00:00Z"
