"""Benchmark calendars: generated iCalendar, uploaded the way a server imports a calendar.

The same text goes to Radicale for both tools. Events have mixed fields (locations,
descriptions, reminders, show-as, privacy, time zones), 10 % are all-day and some
span several days; all of them start inside calsync's default window, so calsync
and vdirsyncer (which has no window) move the same items.
"""

from __future__ import annotations

import base64
import http.client
import random
from datetime import UTC, date, datetime, timedelta
from urllib.parse import urlsplit

USER = "calsync"
PASSWORD = "bench"

VTIMEZONE = (
    "BEGIN:VTIMEZONE\r\nTZID:Europe/Stockholm\r\n"
    "BEGIN:DAYLIGHT\r\nTZOFFSETFROM:+0100\r\nTZOFFSETTO:+0200\r\nTZNAME:CEST\r\n"
    "DTSTART:19700329T020000\r\nRRULE:FREQ=YEARLY;BYMONTH=3;BYDAY=-1SU\r\nEND:DAYLIGHT\r\n"
    "BEGIN:STANDARD\r\nTZOFFSETFROM:+0200\r\nTZOFFSETTO:+0100\r\nTZNAME:CET\r\n"
    "DTSTART:19701025T030000\r\nRRULE:FREQ=YEARLY;BYMONTH=10;BYDAY=-1SU\r\nEND:STANDARD\r\n"
    "END:VTIMEZONE\r\n"
)
_SUBJECTS = ("Customer meeting", "Demo", "Follow-up call", "Lunch", "Site visit", "Review")
_PLACES = ("", "", "Room 4", "Stockholm office", "Teams", "Café Linné, Götgatan 12")
_BUSY = ("", "", "FREE", "TENTATIVE", "OOF", "WORKINGELSEWHERE")
_CLASS = ("", "", "", "PUBLIC", "PRIVATE", "CONFIDENTIAL")


def _stamp(value: datetime) -> str:
    return value.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")


def _fold(line: str) -> str:
    """RFC 5545 line folding at 74 octets-ish (characters suffice for this text)."""
    out = []
    while len(line) > 74:
        out.append(line[:74])
        line = " " + line[74:]
    out.append(line)
    return "\r\n".join(out)


def vevent(n: int, *, prefix: str, today: date, rng: random.Random, rev: int = 0) -> str:
    """One VEVENT; `rev` > 0 gives a changed version of the same item."""
    uid = f"{prefix}-{n:06d}@bench.example"
    day = today + timedelta(days=rng.randrange(-80, 330))
    subject = f"{rng.choice(_SUBJECTS)} #{n}" + (f" (rev {rev})" if rev else "")
    lines = [
        "BEGIN:VEVENT",
        f"UID:{uid}",
        f"DTSTAMP:{_stamp(datetime(2026, 1, 1, tzinfo=UTC))}",
        f"LAST-MODIFIED:{_stamp(datetime(2026, 1, 1, tzinfo=UTC) + timedelta(minutes=rev))}",
        f"SUMMARY:{subject}",
    ]
    kind = n % 20
    if kind < 2:  # 10 % all-day
        lines += [
            f"DTSTART;VALUE=DATE:{day:%Y%m%d}",
            f"DTEND;VALUE=DATE:{day + timedelta(1):%Y%m%d}",
        ]
    elif kind == 2:  # 5 % span several days
        span = rng.randrange(2, 5)
        lines += [
            f"DTSTART;TZID=Europe/Stockholm:{day:%Y%m%d}T090000",
            f"DTEND;TZID=Europe/Stockholm:{day + timedelta(span):%Y%m%d}T170000",
        ]
    else:
        hour = rng.randrange(7, 18)
        start = datetime(day.year, day.month, day.day, hour, rng.choice((0, 15, 30)))
        if n % 3:
            lines.append(f"DTSTART;TZID=Europe/Stockholm:{start:%Y%m%dT%H%M%S}")
            lines.append(
                f"DTEND;TZID=Europe/Stockholm:{start + timedelta(minutes=45):%Y%m%dT%H%M%S}"
            )
        else:
            lines.append(f"DTSTART:{start:%Y%m%dT%H%M%S}Z")
            lines.append(f"DURATION:PT{rng.choice((30, 60, 90))}M")
    place = rng.choice(_PLACES)
    if place:
        lines.append(f"LOCATION:{place.replace(',', chr(92) + ',')}")
    if n % 2:
        text = " ".join(
            rng.choice(("agenda", "offer", "contract", "notes", "budget"))
            for _ in range(rng.randrange(5, 60))
        )
        lines.append(f"DESCRIPTION:{text}\\nCall back before Friday.")
    busy = rng.choice(_BUSY)
    if busy:
        lines.append(f"X-MICROSOFT-CDO-BUSYSTATUS:{busy}")
        if busy == "FREE":
            lines.append("TRANSP:TRANSPARENT")
    cls = rng.choice(_CLASS)
    if cls:
        lines.append(f"CLASS:{cls}")
    if n % 4 == 0:
        lines += [
            "BEGIN:VALARM",
            "ACTION:DISPLAY",
            "DESCRIPTION:Reminder",
            f"TRIGGER:-PT{rng.choice((5, 15, 30, 60))}M",
            "END:VALARM",
        ]
    lines.append("END:VEVENT")
    return "\r\n".join(_fold(line) for line in lines) + "\r\n"


def calendar_text(count: int, *, prefix: str, seed: int = 8) -> str:
    today = datetime.now(UTC).date()
    rng = random.Random(seed)
    body = "".join(vevent(n, prefix=prefix, today=today, rng=rng) for n in range(count))
    return f"BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//calsync bench//EN\r\n{VTIMEZONE}{body}END:VCALENDAR\r\n"


def changed_item(n: int, rev: int, *, prefix: str, seed: int = 8) -> tuple[str, str]:
    """(href name, single-item calendar) for a new revision of event `n`."""
    rng = random.Random(seed * 1_000_003 + n)
    event = vevent(n, prefix=prefix, today=datetime.now(UTC).date(), rng=rng, rev=rev)
    text = f"BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//calsync bench//EN\r\n{VTIMEZONE}{event}END:VCALENDAR\r\n"
    return f"{prefix}-{n:06d}@bench.example.ics", text


class Dav:
    """A bare HTTP client for setup (uploads, edits, warm-up); not what is measured."""

    def __init__(self, base_url: str) -> None:
        parts = urlsplit(base_url)
        self.host = parts.hostname or "127.0.0.1"
        self.port = parts.port or 80
        token = base64.b64encode(f"{USER}:{PASSWORD}".encode()).decode()
        self.auth = f"Basic {token}"

    def request(
        self, method: str, path: str, body: str | bytes = b"", **headers: str
    ) -> tuple[int, bytes]:
        conn = http.client.HTTPConnection(self.host, self.port, timeout=600)
        try:
            data = body.encode() if isinstance(body, str) else body
            conn.request(method, path, data, {"Authorization": self.auth, **headers})
            response = conn.getresponse()
            return response.status, response.read()
        finally:
            conn.close()

    def upload_calendar(self, path: str, text: str) -> None:
        """PUT a whole VCALENDAR on a collection path: Radicale creates it with every item."""
        status, body = self.request("PUT", path, text, **{"Content-Type": "text/calendar"})
        if status not in (200, 201, 204):
            raise RuntimeError(f"uploading {path} answered {status}: {body[:200]!r}")
        self.warm(path)

    def warm(self, path: str) -> None:
        """Listings, untimed: Radicale builds its item cache on first access."""
        status, _ = self.request(
            "PROPFIND",
            path,
            '<?xml version="1.0"?><d:propfind xmlns:d="DAV:"><d:prop><d:getetag/></d:prop></d:propfind>',
            Depth="1",
        )
        if status != 207:
            raise RuntimeError(f"PROPFIND {path} answered {status}")
        # and one sync-collection listing with the items' data: Radicale's first one
        # on a collection builds its sync state (seconds on 5,000 items), a one-time
        # server cost that would otherwise land on whichever tool runs first
        status, _ = self.request(
            "REPORT",
            path,
            '<?xml version="1.0"?><d:sync-collection xmlns:d="DAV:" '
            'xmlns:c="urn:ietf:params:xml:ns:caldav"><d:sync-token/><d:sync-level>1'
            "</d:sync-level><d:prop><d:getetag/><c:calendar-data/></d:prop></d:sync-collection>",
            Depth="0",
        )
        if status != 207:
            raise RuntimeError(f"REPORT sync-collection {path} answered {status}")

    def put_item(self, path: str, text: str) -> None:
        status, body = self.request("PUT", path, text, **{"Content-Type": "text/calendar"})
        if status not in (200, 201, 204):
            raise RuntimeError(f"PUT {path} answered {status}: {body[:200]!r}")
