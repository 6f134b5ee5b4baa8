"""Replies that cannot be read, and a refusal that is no UID clash, say what happened
(issue 20, item 6): never "calendar does not exist", "cannot reach host" or "already
exists (outside the sync window?)". Both transports: the standard-library listing
(`probe`) and the caldav library (chosen here by digest auth, which only it does).
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest

from sync.model import Event
from sync.providers.base import CalendarNotFound, ItemRefused, ProviderError, Window
from sync.providers.dav.provider import CalDAVProvider
from tests.providers.dav.dav_front import dav_front
from tests.providers.dav.drip_server import DripServer

PASSWORD_ENV = "CALSYNC_TEST_CALDAV_PASSWORD"
WINDOW = Window(datetime(2026, 1, 1, tzinfo=UTC), datetime(2027, 1, 1, tzinfo=UTC))
TRANSPORTS = {"stdlib": "basic", "caldav-library": "digest"}


@pytest.fixture(autouse=True)
def _password(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(PASSWORD_ENV, "x")


def open_caldav(url: str, transport: str) -> CalDAVProvider:
    table = {"username": "calsync", "password_env": PASSWORD_ENV, "auth": TRANSPORTS[transport]}
    return CalDAVProvider(f"caldav:{url}", settings={"caldav": {**table, "timeout": 10}})


@pytest.fixture(params=list(TRANSPORTS))
def transport(request: pytest.FixtureRequest) -> str:
    return str(request.param)


def _expect_library(p: CalDAVProvider, transport: str) -> None:
    assert (p._client is not None) == (transport == "caldav-library")


def test_a_207_that_is_not_xml_is_an_unreadable_reply(radicale_calendar: str, transport: str):
    page = b"<html><body>Down for maintenance</body></html>"  # well-formed XML, even
    with dav_front(radicale_calendar, canned=[(207, {"Content-Type": "text/html"}, page)]) as f:
        p = open_caldav(f.calendar_url, transport)
        with pytest.raises(ProviderError) as exc:
            p.list_window(WINDOW, {})
        _expect_library(p, transport)
        p.close()
    assert not isinstance(exc.value, CalendarNotFound)
    host = f.url.removeprefix("http://")
    assert str(exc.value) == (
        f"{host}: the server's reply to PROPFIND /dav/cal/ could not be read "
        "(not a WebDAV multistatus but <html>)"
    )


CALENDAR_PROPS = (
    b'<d:multistatus xmlns:d="DAV:" xmlns:c="urn:ietf:params:xml:ns:caldav"><d:response>'
    b"<d:href>/dav/cal/</d:href><d:propstat><d:prop><d:resourcetype><d:collection/>"
    b"<c:calendar/></d:resourcetype></d:prop><d:status>HTTP/1.1 200 OK</d:status>"
    b"</d:propstat></d:response></d:multistatus>"
)


def test_a_sync_report_that_is_not_xml_is_unreadable(radicale_calendar: str) -> None:
    xml = {"Content-Type": "application/xml"}
    canned = [(207, xml, CALENDAR_PROPS), (207, {"Content-Type": "text/plain"}, b"resting")]
    with dav_front(radicale_calendar, canned=canned) as f:
        p = open_caldav(f.calendar_url, "stdlib")
        with pytest.raises(ProviderError) as exc:
            p.list_window(WINDOW, {})
    host = f.url.removeprefix("http://")
    assert str(exc.value) == (
        f"{host}: the server's reply to REPORT sync-collection could not be read (not XML)"
    )


@pytest.fixture
def cut() -> Iterator[DripServer]:
    with DripServer(cut_after=50, interval=0, piece=4096) as server:
        yield server


def test_a_reply_cut_short_is_unreadable_not_unreachable(cut: DripServer, transport: str):
    p = open_caldav(f"{cut.url}/cal/", transport)
    with pytest.raises(ProviderError) as exc:
        p.list_window(WINDOW, {})
    _expect_library(p, transport)
    p.close()
    text = str(exc.value)
    host = cut.url.removeprefix("http://")
    assert text.startswith(f"{host}: the server's reply to PROPFIND could not be read (cut short")
    assert "cannot reach" not in text and "IncompleteRead" not in text
    if transport == "stdlib":
        assert text.endswith(f"(cut short: 50 of {len(cut.body)} bytes)")


def _event() -> Event:
    start = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
    return Event(uid="spurious-412", subject="Visit", start=start, end=start + timedelta(hours=1))


def test_a_412_on_create_with_nothing_there_is_a_conflict_to_retry(
    radicale_calendar: str, transport: str
) -> None:
    with dav_front(radicale_calendar, canned=[(412, {"Content-Type": "text/plain"}, b"")]) as f:
        p = open_caldav(f.calendar_url, transport)
        with pytest.raises(ProviderError) as exc:
            p.create(_event())
        assert not isinstance(exc.value, ItemRefused)  # not "already exists"
        assert "refused the write of spurious-412.ics as a conflict (HTTP 412)" in str(exc.value)
        assert str(exc.value).endswith("retried next run")
        # the next attempt (the next run) goes through
        created = p.create(_event())
        assert p.fetch([created.id])[created.id].event.subject == "Visit"  # type: ignore[union-attr]
        p.close()


def test_a_412_on_create_over_a_real_item_is_still_a_uid_clash(radicale_calendar: str) -> None:
    p = open_caldav(radicale_calendar, "stdlib")
    p.create(_event())
    with pytest.raises(ItemRefused) as exc:
        p.create(_event())
    assert exc.value.uid_conflict


@pytest.mark.parametrize(
    "text",
    ["", "plain", "a&b<c>d", "&amp;&lt;", '/cal/it\'s "quoted".ics', "<<&&>>", "Ærø/Köln ♥.ics"],
)
def test_request_text_is_escaped_as_the_standard_library_does(text: str) -> None:
    from xml.sax.saxutils import escape

    from sync.providers.dav.listing import xml_text

    assert xml_text(text) == escape(text)
