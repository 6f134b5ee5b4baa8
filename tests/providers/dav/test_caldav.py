"""The CalDAV adapter against a real Radicale server (tests/providers/dav/radicale_server.py)."""

from __future__ import annotations

import base64
import os
import urllib.request
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any
from xml.sax.saxutils import escape as xml_escape

import pytest

from sync.model import Event
from sync.providers.base import (
    AuthFailed,
    CalendarNotFound,
    ConfigError,
    ConnectionFailed,
    EtagMismatch,
    ItemNotFound,
    ItemRefused,
    NotifyRefused,
    Provider,
    Window,
)
from sync.providers.dav.config import server_table
from sync.providers.dav.provider import CalDAVProvider
from tests.providers.contract import MALFORMED_RAW, ProviderContract
from tests.providers.dav.dav_front import dav_front
from tests.providers.dav.radicale_server import RADICALE_USER, RadicaleServer

PASSWORD_ENV = "CALSYNC_TEST_CALDAV_PASSWORD"
T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
WINDOW = Window(datetime(2026, 1, 1, tzinfo=UTC), datetime(2027, 1, 1, tzinfo=UTC))


def settings(**extra: Any) -> dict[str, Any]:
    return {"caldav": {"username": "calsync", "password_env": PASSWORD_ENV, **extra}}


@pytest.fixture(autouse=True)
def _password(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(PASSWORD_ENV, "x")  # Radicale's auth type none takes any password


def open_caldav(url: str, **extra: Any) -> CalDAVProvider:
    return CalDAVProvider(f"caldav:{url}", settings=settings(**extra))


@pytest.fixture
def provider(radicale_calendar: str) -> Iterator[CalDAVProvider]:
    with open_caldav(radicale_calendar) as p:
        yield p  # type: ignore[misc]


def event(n: int = 0, **changes: Any) -> Event:
    start = T0 + timedelta(days=n)
    base = Event(
        uid=f"ev-{n}-{uuid.uuid4().hex[:8]}",
        subject=f"Meeting {n}",
        start=start,
        end=start + timedelta(hours=1),
    )
    return base.replace(**changes)


class RequestCounter:
    """Counts HTTP requests at the provider's session: the truth, not a timing guess."""

    def __init__(self, provider: CalDAVProvider) -> None:
        self.calls: list[tuple[str, str]] = []
        session = provider.client.session
        original = session.request

        def counting(method: str, url: str, *args: Any, **kwargs: Any) -> Any:
            self.calls.append((method, url))
            return original(method, url, *args, **kwargs)

        session.request = counting

    def __len__(self) -> int:
        return len(self.calls)


def bulk_upload(server: RadicaleServer, n: int) -> str:
    """A calendar of n events, made with one Radicale PUT of a whole collection."""
    import caldav

    name = f"bulk-{uuid.uuid4().hex[:10]}"
    url = f"{server.url}calsync/{name}/"
    lines = ["BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//calsync tests//EN"]
    for i in range(n):
        start = T0 + timedelta(hours=i)
        lines += [
            "BEGIN:VEVENT",
            f"UID:bulk-{i}",
            "DTSTAMP:20260101T000000Z",
            f"DTSTART:{start:%Y%m%dT%H%M%SZ}",
            f"DTEND:{start + timedelta(minutes=30):%Y%m%dT%H%M%SZ}",
            f"SUMMARY:Item {i}",
            "END:VEVENT",
        ]
    lines.append("END:VCALENDAR")
    with caldav.DAVClient(
        url=server.url, username="calsync", password="x", auth_type="basic"
    ) as client:
        response = client.put(url, "\r\n".join(lines) + "\r\n", {"Content-Type": "text/calendar"})
        assert response.status in (201, 204), response.status
    return url


# -- the provider contract, on Radicale directly (sync-collection) and behind a front
# -- that refuses sync-collection (the time-range fallback) -----------------------------


def _raw_injector(p: CalDAVProvider) -> Any:
    def inject(raw: bytes) -> str:
        name = f"raw-{uuid.uuid4().hex[:10]}.ics"
        response = p.client.put(p._href(name), raw, {"Content-Type": "text/calendar"})
        if response.status not in (201, 204):
            pytest.skip(f"Radicale refuses to store this item (HTTP {response.status})")
        return name

    return inject


class TestContractSyncCollection(ProviderContract):
    @pytest.fixture
    def inject_raw(self, provider: CalDAVProvider) -> Any:
        return _raw_injector(provider)


class TestContractTimeRangeFallback(ProviderContract):
    # a CalDAV time-range query also returns items that start before the window but
    # overlap it; the engine filters on start
    window_exact = False

    @pytest.fixture
    def provider(self, radicale_calendar: str) -> Iterator[CalDAVProvider]:
        with (
            dav_front(radicale_calendar, refuse_sync=507) as front,
            open_caldav(front.calendar_url) as p,
        ):
            yield p

    @pytest.mark.parametrize("kind", sorted(MALFORMED_RAW))
    def test_malformed_item_is_listed_as_broken(
        self, provider: Provider, request: pytest.FixtureRequest, kind: str
    ) -> None:
        if kind == "unknown tzid":
            pytest.skip(
                "the server cannot place this item in time, so no time-range query lists it"
            )
        super().test_malformed_item_is_listed_as_broken(provider, request, kind)

    @pytest.fixture
    def inject_raw(self, provider: CalDAVProvider) -> Any:
        return _raw_injector(provider)


# -- configuration ----------------------------------------------------------------------


def test_url_needs_http_scheme() -> None:
    with pytest.raises(ConfigError, match="expected caldav:https://"):
        CalDAVProvider("caldav:host/cal", settings={})


def test_normalized_url_ends_in_slash() -> None:
    assert CalDAVProvider.normalize_url("caldav:https://h/x/cal") == "caldav:https://h/x/cal/"


def test_per_server_table_overrides_by_longest_prefix() -> None:
    table = {
        "caldav": {
            "username": "default",
            "timeout": 30,
            "servers": {
                "https://a.example/": {"username": "a"},
                "https://a.example/team/": {"username": "team", "timeout": 5},
            },
        }
    }
    assert server_table(table, "caldav", "https://a.example/team/cal/") == {
        "username": "team",
        "timeout": 5,
    }
    assert server_table(table, "caldav", "https://a.example/me/")["username"] == "a"
    assert server_table(table, "caldav", "https://b.example/")["username"] == "default"


def test_missing_password_reference_is_a_config_error(radicale_calendar: str) -> None:
    p = CalDAVProvider(f"caldav:{radicale_calendar}", settings={"caldav": {"username": "x"}})
    with pytest.raises(ConfigError, match=r"\[caldav\] needs password_env"):
        p.identity()


def test_password_never_in_repr_or_errors(radicale_calendar: str) -> None:
    os.environ[PASSWORD_ENV] = "s3cret-value"
    p = open_caldav(radicale_calendar)
    p.identity()
    assert "s3cret-value" not in repr(vars(p))


# -- reading and writing ---------------------------------------------------------------------


def test_round_trip_create_list_fetch_update_delete(provider: CalDAVProvider) -> None:
    ev = event(1, location="Room 4", text="agenda")
    created = provider.create(ev)
    listing = provider.list_window(WINDOW, {})
    assert listing.etags == {created.id: created.etag}
    got = provider.fetch([created.id])[created.id]
    assert got.event.replace(last_modified=None) == ev  # type: ignore[union-attr]
    assert got.event.last_modified is not None  # type: ignore[union-attr]

    changed = ev.replace(
        subject="Moved", start=ev.start + timedelta(hours=2), end=ev.end + timedelta(hours=2)
    )
    updated = provider.update(created.id, created.etag, changed)
    assert updated.etag != created.etag
    refetched = provider.fetch([created.id])[created.id].event  # type: ignore[union-attr]
    assert refetched.replace(last_modified=None) == changed

    provider.delete(created.id, updated.etag)
    assert provider.fetch([created.id]) == {}
    assert provider.list_window(WINDOW, {}).etags == {}


def test_stale_etag_is_refused_on_update_and_delete(provider: CalDAVProvider) -> None:
    item = provider.create(event(2))
    newer = provider.update(item.id, item.etag, item.event.replace(subject="v2"))
    with pytest.raises(EtagMismatch):
        provider.update(item.id, item.etag, item.event.replace(subject="v3"))
    with pytest.raises(EtagMismatch):
        provider.delete(item.id, item.etag)
    provider.delete(item.id, newer.etag)
    with pytest.raises(ItemNotFound):
        provider.delete(item.id, newer.etag)


def test_412_from_another_writer_between_read_and_write(radicale_calendar: str) -> None:
    with open_caldav(radicale_calendar) as a, open_caldav(radicale_calendar) as b:
        item = a.create(event(3))
        listed = b.list_window(WINDOW, {})
        b.fetch(list(listed.etags))
        a.update(item.id, item.etag, item.event.replace(subject="changed by a"))
        with pytest.raises(EtagMismatch):
            b.update(item.id, listed.etags[item.id], item.event.replace(subject="by b"))


def test_create_never_overwrites_an_existing_uid(provider: CalDAVProvider) -> None:
    ev = event(4)
    provider.create(ev)
    with pytest.raises(ItemRefused) as info:
        provider.create(ev.replace(subject="again"))
    assert info.value.uid_conflict
    (item,) = provider.fetch(list(provider.list_window(WINDOW, {}).etags)).values()
    assert item.event.subject == ev.subject  # type: ignore[union-attr]


def test_odd_uids_get_safe_hrefs(provider: CalDAVProvider) -> None:
    ev = event(5, uid="040000008200E00074C5B7101A82E008/with slash & space")
    item = provider.create(ev)
    assert "/" not in item.id and item.id.endswith(".ics")
    assert provider.fetch([item.id])[item.id].event.uid == ev.uid  # type: ignore[union-attr]


def test_update_keeps_properties_calsync_does_not_map(provider: CalDAVProvider) -> None:
    ev = event(6)
    item = provider.create(ev)
    raw = (
        "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//x//EN\r\nBEGIN:VEVENT\r\n"
        f"UID:{ev.uid}\r\nDTSTAMP:20260101T000000Z\r\nSEQUENCE:7\r\n"
        "DTSTART:20260303T090000Z\r\nDTEND:20260303T100000Z\r\nSUMMARY:Original\r\n"
        "CATEGORIES:Customer\r\nORGANIZER:mailto:boss@example.com\r\n"
        "ATTENDEE;CN=Anna:mailto:anna@example.com\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"
    )
    put = provider.client.put(
        provider._href(item.id), raw, {"Content-Type": "text/calendar", "If-Match": item.etag}
    )
    assert put.status in (201, 204)
    fresh = open_caldav(provider.collection_url)
    etag = fresh.list_window(WINDOW, {}).etags[item.id]
    fresh.update(item.id, etag, ev.replace(subject="Renamed"))
    data = fresh.client.request(fresh._href(item.id)).raw
    assert "SUMMARY:Renamed" in data
    assert "CATEGORIES:Customer" in data
    assert "SEQUENCE:7" in data  # never bumped: no iTIP
    assert "SCHEDULE-AGENT=CLIENT" in data  # and the server is told not to schedule
    fresh.close()


def test_update_without_a_listing_reads_the_base_once(provider: CalDAVProvider) -> None:
    ev = event(16)
    item = provider.create(ev)
    raw = (
        "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//x//EN\r\nBEGIN:VEVENT\r\n"
        f"UID:{ev.uid}\r\nDTSTAMP:20260101T000000Z\r\nDTSTART:20260303T090000Z\r\n"
        "DTEND:20260303T100000Z\r\nSUMMARY:Original\r\nCATEGORIES:Customer\r\n"
        "END:VEVENT\r\nEND:VCALENDAR\r\n"
    )
    put = provider.client.put(
        provider._href(item.id), raw, {"Content-Type": "text/calendar", "If-Match": item.etag}
    )
    etag = put.headers["ETag"]
    with open_caldav(provider.collection_url) as fresh:
        counter = RequestCounter(fresh)
        updated = fresh.update(item.id, etag, ev.replace(subject="Renamed"))
        assert [m for m, _ in counter.calls] == ["GET", "PUT"]
        with pytest.raises(EtagMismatch):  # the GET already shows the etag moved on
            fresh.update(item.id, etag, ev.replace(subject="Again"))
        assert [m for m, _ in counter.calls] == ["GET", "PUT", "GET"]
    data = provider.client.request(provider._href(item.id)).raw
    assert "SUMMARY:Renamed" in data and "CATEGORIES:Customer" in data
    assert provider.list_window(WINDOW, {}).etags[item.id] == updated.etag


def test_writes_refuse_to_notify(provider: CalDAVProvider) -> None:
    with pytest.raises(NotifyRefused):
        provider.create(event(7), notify=True)


def test_malformed_item_is_listed_as_broken(provider: CalDAVProvider) -> None:
    good = provider.create(event(8))
    bad = (
        "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//x//EN\r\nBEGIN:VEVENT\r\n"
        "UID:broken-1\r\nDTSTAMP:20260101T000000Z\r\nSUMMARY:ends first\r\n"
        "DTSTART:20260301T100000Z\r\nDTEND:20260301T090000Z\r\n"
        "END:VEVENT\r\nEND:VCALENDAR\r\n"
    )
    put = provider.client.put(
        provider._href("broken-1.ics"), bad, {"Content-Type": "text/calendar"}
    )
    assert put.status == 201
    listing = provider.list_window(WINDOW, {})
    assert set(listing.etags) == {good.id}
    assert "before it starts" in listing.broken["broken-1.ics"].error
    assert (
        provider.fetch(["broken-1.ics"])["broken-1.ics"].error
        == listing.broken["broken-1.ics"].error
    )


def test_window_filters_on_start(provider: CalDAVProvider) -> None:
    inside = provider.create(event(10))
    provider.create(event(-400))
    assert set(provider.list_window(WINDOW, {}).etags) == {inside.id}


# -- incremental listing -------------------------------------------------------------------


def test_sync_token_lists_changes_incrementally(radicale_calendar: str) -> None:
    cache: dict[str, Any] = {}
    with open_caldav(radicale_calendar) as writer:
        a = writer.create(event(11))
        b = writer.create(event(12))
    with open_caldav(radicale_calendar) as run1:
        assert set(run1.list_window(WINDOW, cache).etags) == {a.id, b.id}
    assert cache["mode"] == "sync" and cache["token"]
    with open_caldav(radicale_calendar) as writer:
        a2 = writer.update(a.id, a.etag, a.event.replace(subject="new"))
        writer.delete(b.id, b.etag)
        c = writer.create(event(13))
    with open_caldav(radicale_calendar) as run2:
        counter = RequestCounter(run2)
        listing = run2.list_window(WINDOW, cache)
        assert listing.etags == {a2.id: a2.etag, c.id: c.etag}
        # the changed items came with the sync reply: fetching them costs nothing, and
        # identity() reuses the collection properties the listing read
        fetched = run2.fetch([a2.id, c.id])
        assert fetched[a2.id].event.subject == "new"  # type: ignore[union-attr]
        run2.identity()
        assert [method for method, _ in counter.calls] == ["PROPFIND", "REPORT"]


def test_expired_sync_token_falls_back_to_a_full_listing(provider: CalDAVProvider) -> None:
    item = provider.create(event(14))
    cache: dict[str, Any] = {}
    provider.list_window(WINDOW, cache)
    cache["token"] = "http://radicale.org/ns/sync/" + "0" * 64
    cache["index"] = {"ghost.ics": ['"x"', T0.isoformat(), None]}
    listing = provider.list_window(WINDOW, cache)
    assert listing.etags == {item.id: item.etag}
    assert cache["mode"] == "sync" and cache["token"] != "http://radicale.org/ns/sync/" + "0" * 64


def test_no_change_sync_of_1000_items_costs_at_most_two_requests(
    radicale_server: RadicaleServer,
) -> None:
    url = bulk_upload(radicale_server, 1000)
    cache: dict[str, Any] = {}
    with open_caldav(url) as first:
        assert len(first.list_window(WINDOW, cache).etags) == 1000
        first.identity()
    with open_caldav(url) as second:
        counter = RequestCounter(second)
        # the engine's order: list, then check the identity
        listing = second.list_window(WINDOW, cache)
        second.identity()
        second.fetch([])
        assert len(listing.etags) == 1000
        assert [method for method, _ in counter.calls] == ["PROPFIND"]
        # the identity PROPFIND read the unchanged sync token: no REPORT was needed
        assert [m for m, _ in counter.calls] == ["PROPFIND"]
    with open_caldav(url) as third:  # listing without an identity check first
        counter = RequestCounter(third)
        third.list_window(WINDOW, cache)
        assert len(counter) == 1


def test_fetch_is_one_multiget_not_a_get_per_item(radicale_server: RadicaleServer) -> None:
    url = bulk_upload(radicale_server, 300)
    with open_caldav(url) as p:
        ids = [f"bulk-{i}.ics" for i in range(300)]
        # Radicale names items of an uploaded collection itself; learn the real ids
        listing = p.list_window(WINDOW, {})
    with open_caldav(url) as p:
        counter = RequestCounter(p)
        got = p.fetch([*listing.etags, "missing.ics"])
        assert len(got) == 300 and "missing.ics" not in got
        assert {m for m, _ in counter.calls} == {"REPORT"}
        assert len(counter) == 2  # 300 hrefs in chunks of 250
    assert len(ids) == 300


def test_fallback_when_sync_collection_is_refused(radicale_calendar: str) -> None:
    with open_caldav(radicale_calendar) as writer:
        a = writer.create(event(15))
        writer.create(event(-400))  # outside the window: the time-range query skips it
    with dav_front(radicale_calendar, refuse_sync=507) as front:
        cache: dict[str, Any] = {}
        with open_caldav(front.calendar_url) as p:
            listing = p.list_window(WINDOW, cache)  # its PROPFIND also reads the ctag
            p.identity()
            assert listing.etags == {a.id: a.etag}
            assert cache["mode"] == "query" and "sync_retry_at" in cache
            assert p.fetch([a.id])[a.id].event.uid == a.event.uid  # type: ignore[union-attr]
        with open_caldav(front.calendar_url) as p:
            counter = RequestCounter(p)
            assert p.list_window(WINDOW, cache).etags == {a.id: a.etag}
            p.identity()
            # Radicale's getctag is unchanged: the listing's PROPFIND is the only request
            assert len(counter) == 1
        syncs = [s for s in front.seen if b"sync-collection" in s.body]
        assert len(syncs) == 1  # not retried on the second run


def test_rate_limit_is_retried_honouring_retry_after(radicale_calendar: str) -> None:
    with dav_front(
        radicale_calendar,
        canned=[(429, {"Retry-After": "0"}, b""), (503, {"Retry-After": "0"}, b"")],
    ) as front:
        with open_caldav(front.calendar_url) as p:
            p.identity()
        assert [s.method for s in front.seen] == ["PROPFIND"] * 3


def test_rate_limit_gives_up_after_bounded_retries(radicale_calendar: str) -> None:
    with dav_front(radicale_calendar, canned=[(503, {}, b"")] * 5) as front:
        p = open_caldav(front.calendar_url, retries=2, retry_backoff=0)
        with pytest.raises(ConnectionFailed, match="gave up after 2 retries"):
            p.identity()
        assert len(front.seen) == 3


def test_too_long_retry_after_fails_with_a_clear_line(radicale_calendar: str) -> None:
    with dav_front(radicale_calendar, canned=[(429, {"Retry-After": "3600"}, b"")]) as front:
        p = open_caldav(front.calendar_url)
        with pytest.raises(ConnectionFailed, match="retry after 3600 s"):
            p.identity()


# -- errors and checks -------------------------------------------------------------------------


def test_unknown_calendar_is_calendar_not_found(radicale_server: RadicaleServer) -> None:
    p = open_caldav(f"{radicale_server.url}calsync/nope/")
    with pytest.raises(CalendarNotFound):
        p.identity()


def test_dead_server_is_connection_failed() -> None:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    p = open_caldav(f"http://127.0.0.1:{port}/cal/", timeout=2)
    with pytest.raises(ConnectionFailed, match=r"cannot reach 127\.0\.0\.1"):
        p.identity()


def test_tls_failure_is_one_clear_line(radicale_server: RadicaleServer) -> None:
    https = radicale_server.url.replace("http://", "https://")
    p = open_caldav(f"{https}calsync/x/", timeout=5)
    with pytest.raises(ConnectionFailed) as info:
        p.identity()
    assert "\n" not in str(info.value)
    assert "127.0.0.1" in str(info.value)


def test_refused_credentials_are_auth_failed(radicale_calendar: str) -> None:
    with dav_front(radicale_calendar, bearer_tokens={"right"}) as front:
        os.environ["CALSYNC_TEST_TOKEN"] = "wrong"
        p = CalDAVProvider(
            f"caldav:{front.calendar_url}", settings={"caldav": {"token_env": "CALSYNC_TEST_TOKEN"}}
        )
        with pytest.raises(AuthFailed, match="credentials refused"):
            p.identity()
        checks = p.check()
        assert [(name, ok) for name, ok, _ in checks] == [
            ("server reachable", True),
            ("credentials accepted", False),
        ]
        os.environ["CALSYNC_TEST_TOKEN"] = "right"
        with CalDAVProvider(
            f"caldav:{front.calendar_url}", settings={"caldav": {"token_env": "CALSYNC_TEST_TOKEN"}}
        ) as ok:
            assert ok.identity().startswith("caldav:")
        del os.environ["CALSYNC_TEST_TOKEN"]


def test_check_names_each_access_step(provider: CalDAVProvider) -> None:
    checks = provider.check()
    assert [(name, ok) for name, ok, _ in checks] == [
        ("server reachable", True),
        ("credentials accepted", True),
        ("calendar exists", True),
        ("write permission", True),
    ]


def test_check_missing_calendar(radicale_server: RadicaleServer) -> None:
    checks = open_caldav(f"{radicale_server.url}calsync/nope/").check()
    assert checks[-1][:2] == ("calendar exists", False)


def test_check_forbidden_calendar(radicale_calendar: str) -> None:
    with dav_front(radicale_calendar, canned=[(403, {}, b"")]) as front:
        checks = open_caldav(front.calendar_url).check()
    assert [(name, ok) for name, ok, _ in checks] == [
        ("server reachable", True),
        ("credentials accepted", True),
        ("calendar exists", False),
    ]
    assert "access denied" in checks[-1][2]


READ_ONLY = (
    b'<?xml version="1.0"?><d:multistatus xmlns:d="DAV:" '
    b'xmlns:c="urn:ietf:params:xml:ns:caldav"><d:response><d:href>/dav/cal/</d:href>'
    b"<d:propstat><d:prop><d:resourcetype><d:collection/><c:calendar/></d:resourcetype>"
    b"<d:current-user-privilege-set><d:privilege><d:read/></d:privilege>"
    b"<d:privilege><d:read-current-user-privilege-set/></d:privilege>"
    b"</d:current-user-privilege-set></d:prop><d:status>HTTP/1.1 200 OK</d:status>"
    b"</d:propstat></d:response></d:multistatus>"
)


def test_check_read_only_calendar(radicale_calendar: str) -> None:
    reply = (207, {"Content-Type": "application/xml"}, READ_ONLY)
    with dav_front(radicale_calendar, canned=[reply]) as front:
        checks = open_caldav(front.calendar_url).check()
    assert checks[-1][:2] == ("write permission", False)
    assert "read" in checks[-1][2]


def test_credentials_in_the_url_are_refused_without_echoing_them() -> None:
    with pytest.raises(ConfigError) as info:
        CalDAVProvider("caldav:https://anna:hunter2@dav.example/cal/", settings={})
    assert "hunter2" not in str(info.value)


def test_identity_names_the_collection(provider: CalDAVProvider) -> None:
    assert provider.identity() == f"caldav:{provider.collection_url}"


def test_calendar_name_is_the_displayname_read_with_the_listing(
    radicale_server: RadicaleServer,
) -> None:
    url = radicale_server.new_calendar()  # MKCALENDAR sets DAV:displayname to its name
    hostile = "予定表 [bold]Team[/bold] & <Ops>"
    body = (
        '<?xml version="1.0" encoding="utf-8"?><d:propertyupdate xmlns:d="DAV:"><d:set>'
        f"<d:prop><d:displayname>{xml_escape(hostile)}</d:displayname></d:prop>"
        "</d:set></d:propertyupdate>"
    ).encode()
    basic = base64.b64encode(f"{RADICALE_USER}:x".encode()).decode()
    request = urllib.request.Request(
        url, data=body, method="PROPPATCH", headers={"Authorization": f"Basic {basic}"}
    )
    with urllib.request.urlopen(request) as reply:
        assert reply.status == 207
    with dav_front(url) as front, open_caldav(front.calendar_url) as p:
        p.list_window(WINDOW, {})
        asked = len(front.seen)
        assert p.calendar_name() == hostile
        assert len(front.seen) == asked  # the listing's PROPFIND brought it along


def test_calendar_without_a_displayname_has_no_name(radicale_calendar: str) -> None:
    reply = (207, {"Content-Type": "application/xml"}, READ_ONLY)  # no displayname in it
    with dav_front(radicale_calendar, canned=[reply]) as front:
        assert open_caldav(front.calendar_url).calendar_name() is None
