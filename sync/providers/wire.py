"""Small pieces the HTTP providers share (CalDAV, Graph, Google's Calendar API).

`parse_retry_after` reads a server's Retry-After; `month_floor` / `month_ceil` widen a
listing window to whole months (so a cached listing serves every run of a month) and
`iso_utc` writes an instant as the APIs want it.
"""

from __future__ import annotations

from datetime import UTC, datetime
from email.utils import parsedate_to_datetime


def parse_retry_after(value: object) -> float | None:
    """Seconds from now for a Retry-After value (delta-seconds or an HTTP-date, RFC 9110)."""
    if not value:
        return None
    text = str(value).strip()
    if text.isdigit():
        return float(text)
    try:
        when = parsedate_to_datetime(text)
    except (TypeError, ValueError):
        return None
    return max(0.0, (when - datetime.now(UTC)).total_seconds())


def month_floor(value: datetime) -> datetime:
    value = value.astimezone(UTC)
    return datetime(value.year, value.month, 1, tzinfo=UTC)


def month_ceil(value: datetime) -> datetime:
    floor = month_floor(value)
    if floor == value.astimezone(UTC):
        return floor
    return datetime(floor.year + floor.month // 12, floor.month % 12 + 1, 1, tzinfo=UTC)


def iso_utc(value: datetime) -> str:
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
