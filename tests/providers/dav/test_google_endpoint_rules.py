"""`caldav:` against what Google's CalDAV endpoint does that Radicale does not (issue 22, part 5).

Items live in a real Radicale; where a test needs an answer Radicale never gives
(Google's usage-limit 403, its 409s), `dav_front` gives it first. Each rule names
its source. Both transports are run where the rule lives in both: the standard
library (basic auth) and the caldav library (digest auth, which only it does).
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from sync.model import Event
from sync.providers.base import AuthFailed, ConnectionFailed, ItemRefused, Window
from sync.providers.dav.http import Forbidden
from sync.providers.dav.provider import CalDAVProvider
from sync.providers.google.auth import store_token
from sync.providers.google.caldav import GoogleCalDAVProvider as GoogleProvider
from tests.providers.dav.dav_front import DavFront, dav_front

PASSWORD_ENV = "CALSYNC_TEST_CALDAV_PASSWORD"
WINDOW = Window(datetime(2026, 1, 1, tzinfo=UTC), datetime(2027, 1, 1, tzinfo=UTC))
TRANSPORTS = {"stdlib": "basic", "caldav-library": "digest"}
JSON = {"Content-Type": "application/json; charset=UTF-8"}


def google_error(reason: str, domain: str = "usageLimits", code: int = 403) -> bytes:
    """A Google error body, as its Calendar API error reference shows one
    (developers.google.com/calendar/api/guides/errors: 403 rateLimitExceeded,
    userRateLimitExceeded, quotaExceeded under the usageLimits domain)."""
    error = {"domain": domain, "reason": reason, "message": "Rate Limit Exceeded"}
    return json.dumps({"error": {"errors": [error], "code": code, "message": "x"}}).encode()


@pytest.fixture(autouse=True)
def _password(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(PASSWORD_ENV, "x")


@pytest.fixture(params=list(TRANSPORTS))
def transport(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def front(radicale_calendar: str) -> Iterator[DavFront]:
    with dav_front(radicale_calendar) as f:
        yield f


def open_caldav(url: str, transport: str = "stdlib", **extra: Any) -> CalDAVProvider:
    table = {"username": "calsync", "password_env": PASSWORD_ENV, "auth": TRANSPORTS[transport]}
    return CalDAVProvider(f"caldav:{url}", settings={"caldav": {**table, "timeout": 10, **extra}})


def event(n: int = 0, **fields: Any) -> Event:
    start = datetime(2026, 5, 4, 9, tzinfo=UTC) + timedelta(days=n)
    return Event(
        uid=f"e-{uuid.uuid4().hex[:10]}",
        subject=f"E {n}",
        start=start,
        end=start + timedelta(hours=1),
        **fields,
    )


def sync_reports(front: DavFront) -> list[bytes]:
    return [s.body for s in front.seen if s.method == "REPORT" and b"sync-collection" in s.body]


# -- 403 with a usage limit is throttling -------------------------------------------------------


@pytest.mark.parametrize("reason", ["rateLimitExceeded", "userRateLimitExceeded", "quotaExceeded"])
def test_a_usage_limit_403_is_retried_not_access_denied(
    front: DavFront, transport: str, reason: str
) -> None:
    front.canned.append((403, JSON, google_error(reason)))
    with open_caldav(front.calendar_url, transport, retry_backoff=0) as p:
        assert p.identity().startswith("caldav:")
    assert [s.method for s in front.seen] == ["PROPFIND", "PROPFIND"]


def test_a_usage_limit_403_honours_retry_after(front: DavFront, transport: str) -> None:
    # the same rule as a 429: a wait longer than calsync's limit fails the run, naming it
    front.canned.append((403, {**JSON, "Retry-After": "3600"}, google_error("rateLimitExceeded")))
    with (
        open_caldav(front.calendar_url, transport) as p,
        pytest.raises(ConnectionFailed, match=r"retry after 3600 s \(HTTP 403, usage limit\)"),
    ):
        p.identity()


def test_usage_limits_that_never_clear_give_up_as_overloaded(front: DavFront) -> None:
    front.canned.extend([(403, JSON, google_error("rateLimitExceeded", "usageLimits"))] * 3)
    with (
        open_caldav(front.calendar_url, retries=2, retry_backoff=0) as p,
        pytest.raises(ConnectionFailed, match=r"overloaded \(HTTP 403, usage limit\)"),
    ):
        p.identity()


def test_a_403_without_a_usage_limit_is_still_access_denied(
    front: DavFront, transport: str
) -> None:
    front.canned.append((403, JSON, google_error("forbidden", domain="global")))
    with open_caldav(front.calendar_url, transport) as p, pytest.raises(Forbidden):
        p.identity()


def test_a_usage_limit_403_on_the_sync_report_keeps_the_token(front: DavFront) -> None:
    with open_caldav(front.calendar_url) as p:
        first = p.create(event(1))
        cache: dict[str, Any] = {}
        p.list_window(WINDOW, cache)
    token = cache["token"]
    with open_caldav(front.calendar_url) as writer:
        second = writer.create(event(2))
    # one throttled answer, then the retry goes through: still the incremental sync
    front.canned_sync.append((403, JSON, google_error("rateLimitExceeded")))
    front.seen.clear()
    with open_caldav(front.calendar_url, retry_backoff=0) as p:
        listing = p.list_window(WINDOW, cache)
    assert set(listing.etags) == {first.id, second.id}
    assert cache["mode"] == "sync"
    assert [token.encode() in body for body in sync_reports(front)] == [True, True]


def test_a_sync_report_that_stays_throttled_fails_the_run_and_keeps_the_token(
    front: DavFront,
) -> None:
    with open_caldav(front.calendar_url) as p:
        p.create(event(1))
        cache: dict[str, Any] = {}
        p.list_window(WINDOW, cache)
    before = json.loads(json.dumps(cache))
    with open_caldav(front.calendar_url) as writer:
        writer.create(event(2))  # a change, so the next run sends the REPORT
    front.canned_sync.extend([(403, JSON, google_error("userRateLimitExceeded"))] * 2)
    with (
        open_caldav(front.calendar_url, retries=1, retry_backoff=0) as p,
        pytest.raises(ConnectionFailed, match="usage limit"),
    ):
        p.list_window(WINDOW, cache)
    assert cache["token"] == before["token"] and cache["index"] == before["index"]
    assert "sync_retry_at" not in cache  # not taken for "sync-collection unsupported"
    front.seen.clear()
    with open_caldav(front.calendar_url) as p:
        p.list_window(WINDOW, cache)
    assert [before["token"].encode() in body for body in sync_reports(front)] == [True]


def test_an_expired_token_403_still_starts_over(front: DavFront) -> None:
    # RFC 6578 §3.2: 403 with DAV:valid-sync-token is "list everything afresh"
    with open_caldav(front.calendar_url) as p:
        made = p.create(event(1))
        cache: dict[str, Any] = {}
        p.list_window(WINDOW, cache)
    expired = b'<?xml version="1.0"?><d:error xmlns:d="DAV:"><d:valid-sync-token/></d:error>'
    front.canned_sync.append((403, {"Content-Type": "application/xml"}, expired))
    with open_caldav(front.calendar_url) as p:
        cache["token"] = cache["token"] + "-old"  # the front's answer says it expired
        assert set(p.list_window(WINDOW, cache).etags) == {made.id}
    assert cache["mode"] == "sync"


# -- sync-collection with Depth: 0 ------------------------------------------------------------


def test_sync_collection_is_sent_with_depth_0(front: DavFront, transport: str) -> None:
    # RFC 6578 §3.2 allows Depth 0 only; the front answers any other with 400, which
    # would leave the provider in the time-range fallback
    with open_caldav(front.calendar_url, transport) as p:
        made = p.create(event(1))
        cache: dict[str, Any] = {}
        assert set(p.list_window(WINDOW, cache).etags) == {made.id}
    reports = [s for s in front.seen if s.method == "REPORT" and b"sync-collection" in s.body]
    assert reports and all(s.headers.get("Depth") == "0" for s in reports)
    assert cache["mode"] == "sync"


# -- cancelled events are deletions -----------------------------------------------------------

SINGLE = (
    "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//Google Inc//Google Calendar 70.9054//EN\r\n"
    "BEGIN:VEVENT\r\nUID:{uid}\r\nDTSTAMP:20260101T000000Z\r\n"
    "DTSTART:20260504T090000Z\r\nDTEND:20260504T100000Z\r\nSUMMARY:Standup\r\n"
    "{status}END:VEVENT\r\nEND:VCALENDAR\r\n"
)
SERIES = (
    "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//Google Inc//Google Calendar 70.9054//EN\r\n"
    "BEGIN:VEVENT\r\nUID:{uid}\r\nDTSTAMP:20260101T000000Z\r\n"
    "DTSTART:20260504T090000Z\r\nDTEND:20260504T100000Z\r\nRRULE:FREQ=DAILY;COUNT=3\r\n"
    "SUMMARY:Daily\r\n{status}END:VEVENT\r\n"
    # Google keeps a deleted instance as a cancelled override of the series
    "BEGIN:VEVENT\r\nUID:{uid}\r\nDTSTAMP:20260101T000000Z\r\n"
    "RECURRENCE-ID:20260505T090000Z\r\nDTSTART:20260505T090000Z\r\n"
    "DTEND:20260505T100000Z\r\nSUMMARY:Daily\r\nSTATUS:CANCELLED\r\nEND:VEVENT\r\n"
    "END:VCALENDAR\r\n"
)


def put(p: CalDAVProvider, name: str, text: str) -> None:
    response = p.client.put(p._href(name), text, {"Content-Type": "text/calendar"})
    assert response.status in (201, 204), response.status


@pytest.fixture(params=["sync-collection", "calendar-query"])
def listing_url(request: pytest.FixtureRequest, radicale_calendar: str) -> Iterator[str]:
    if request.param == "sync-collection":
        yield radicale_calendar
    else:
        with dav_front(radicale_calendar, refuse_sync=507) as f:
            yield f.calendar_url


def test_a_cancelled_event_is_not_listed(listing_url: str) -> None:
    with open_caldav(listing_url) as p:
        put(p, "live.ics", SINGLE.format(uid="live", status=""))
        put(p, "gone.ics", SINGLE.format(uid="gone", status="STATUS:CANCELLED\r\n"))
        assert set(p.list_window(WINDOW, {}).etags) == {"live.ics"}
        assert set(p.fetch(["live.ics", "gone.ics"])) == {"live.ics"}


def test_an_event_cancelled_after_it_was_synced_is_a_deletion(listing_url: str) -> None:
    cache: dict[str, Any] = {}
    with open_caldav(listing_url) as p:
        put(p, "meet.ics", SINGLE.format(uid="meet", status="STATUS:CONFIRMED\r\n"))
        assert set(p.list_window(WINDOW, cache).etags) == {"meet.ics"}
    with open_caldav(listing_url) as p:
        put(p, "meet.ics", SINGLE.format(uid="meet", status="STATUS:CANCELLED\r\n"))
    with open_caldav(listing_url) as p:
        assert p.list_window(WINDOW, cache).etags == {}


def test_a_cancelled_occurrence_of_a_series_is_not_listed(listing_url: str) -> None:
    with open_caldav(listing_url) as p:
        put(p, "daily.ics", SERIES.format(uid="daily", status=""))
        listed = sorted(p.list_window(WINDOW, {}).etags)
        assert listed == ["daily.ics#20260504T090000Z", "daily.ics#20260506T090000Z"]
        cancelled = "daily.ics#20260505T090000Z"
        assert set(p.fetch([*listed, cancelled])) == set(listed)
    with open_caldav(listing_url) as fresh:  # no expansion of this run to answer from
        assert set(fresh.fetch([cancelled, listed[0]])) == {listed[0]}


def test_a_cancelled_series_lists_nothing(listing_url: str) -> None:
    with open_caldav(listing_url) as p:
        put(p, "off.ics", SERIES.format(uid="off", status="STATUS:CANCELLED\r\n"))
        assert p.list_window(WINDOW, {}).etags == {}


# -- a 409 is reported as what it is ------------------------------------------------------------


def listed(p: CalDAVProvider, item_id: str) -> str:
    """The item's etag from a listing (which also keeps its text: a write sends only PUT)."""
    return p.list_window(WINDOW, {}).etags[item_id]


def test_a_409_to_a_delete_says_what_the_server_said(front: DavFront) -> None:
    # caldav4j #47: Google answered a DELETE "409 Can't delete a recurring event except
    # on its organizer's calendar"
    # (the status line's words reach the standard library only: told here in the body)
    why = "Can't delete a recurring event except on its organizer's calendar"
    with open_caldav(front.calendar_url) as p:
        item = p.create(event(1))
        etag = listed(p, item.id)
        front.reasons[409] = why
        front.canned.append((409, {"Content-Type": "text/plain"}, why.encode()))
        with pytest.raises(ItemRefused) as info:
            p.delete(item.id, etag)
    assert not info.value.uid_conflict
    assert f"refused the delete as a conflict (HTTP 409: {why})" in str(info.value)
    assert "deleted event" not in str(info.value)


def test_a_409_to_an_update_is_no_uid_conflict(front: DavFront, transport: str) -> None:
    # vdirsyncer #963: Google answers 409 to an update of an event it holds; the
    # DAV:error precondition (RFC 4918 §16), when there is one, says why
    body = b'<?xml version="1.0"?><d:error xmlns:d="DAV:"><d:need-privileges/></d:error>'
    with open_caldav(front.calendar_url, transport) as p:
        item = p.create(event(1))
        etag = listed(p, item.id)
        front.canned.append((409, {"Content-Type": "application/xml"}, body))
        with pytest.raises(ItemRefused) as info:
            p.update(item.id, etag, item.event.replace(subject="moved"))
    assert not info.value.uid_conflict
    assert "refused the update as a conflict (HTTP 409: {DAV:}need-privileges)" in str(info.value)


def test_a_409_to_an_occurrence_write_is_no_uid_conflict(front: DavFront) -> None:
    with open_caldav(front.calendar_url) as p:
        put(p, "daily.ics", SERIES.format(uid="daily", status=""))
        etag = listed(p, "daily.ics#20260504T090000Z")
        front.canned.append((409, {}, b""))
        with pytest.raises(ItemRefused) as info:
            p.delete("daily.ics#20260504T090000Z", etag)
    assert not info.value.uid_conflict
    # deleting an occurrence is a PUT of the series with an EXDATE: an update of it
    assert "refused the update as a conflict (HTTP 409: a recurring event" in str(info.value)


def test_a_409_to_a_create_with_no_uid_conflict_asks_for_a_fresh_uid(front: DavFront) -> None:
    # RFC 4791 §5.3.2.1: CALDAV:no-uid-conflict - another resource holds the UID
    body = (
        b'<?xml version="1.0"?><d:error xmlns:d="DAV:" xmlns:c="urn:ietf:params:xml:ns:caldav">'
        b"<c:no-uid-conflict><d:href>/other.ics</d:href></c:no-uid-conflict></d:error>"
    )
    with open_caldav(front.calendar_url) as p:
        p.identity()
        front.canned.append((409, {"Content-Type": "application/xml"}, body))
        with pytest.raises(ItemRefused) as info:
            p.create(event(1))
    assert info.value.uid_conflict


def test_a_bare_409_to_a_create_is_a_conflict(front: DavFront) -> None:
    with open_caldav(front.calendar_url) as p:
        p.identity()
        front.canned.append((409, {}, b""))
        with pytest.raises(ItemRefused, match=r"conflict with an existing item \(HTTP 409\)"):
            p.create(event(1))


def test_access_denied_is_still_auth_failed(front: DavFront) -> None:
    front.canned.append((403, {}, b""))
    with open_caldav(front.calendar_url) as p, pytest.raises(AuthFailed, match="access denied"):
        p.identity()


# -- the same rules through the Google flavour of the provider (`google-caldav:`) ----------------

GOOGLE_CALENDAR = "anna@example.com"


@pytest.fixture
def google(
    radicale_calendar: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[tuple[GoogleProvider, DavFront]]:
    """Google's URL layout and bearer tokens in front of Radicale (as tests/providers/
    test_google.py builds it), with sync-collection answered as Google answers it."""
    monkeypatch.setenv("CALSYNC_TEST_GOOGLE_SECRET", "not-so-secret")
    token_file = tmp_path / "google-tokens.json"
    store_token(token_file, GOOGLE_CALENDAR, "refresh-anna")

    def tokens(form: dict[str, str]) -> tuple[int, dict[str, Any]]:
        return 200, {"access_token": "access-1", "expires_in": 3600, "token_type": "Bearer"}

    with dav_front(
        radicale_calendar,
        prefix=f"/caldav/v2/{GOOGLE_CALENDAR}/events/",
        bearer_tokens={"access-1"},
        token_endpoint=tokens,
    ) as front:
        table = {
            "base_url": front.url + "/caldav/v2",
            "token_uri": front.url + "/token",
            "client_id": "calsync-test.apps.googleusercontent.com",
            "client_secret_env": "CALSYNC_TEST_GOOGLE_SECRET",
            "token_file": str(token_file),
            "retry_backoff": 0,
        }
        with GoogleProvider(f"google-caldav:{GOOGLE_CALENDAR}", settings={"google": table}) as g:
            yield g, front


def test_google_409s_to_updates_and_deletes_are_no_deleted_uid(
    google: tuple[GoogleProvider, DavFront],
) -> None:
    g, front = google
    item = g.create(event(1))
    etag = g.list_window(WINDOW, {}).etags[item.id]
    front.canned.append((409, {}, b""))
    with pytest.raises(ItemRefused) as updating:
        g.update(item.id, etag, item.event.replace(subject="moved"))
    front.canned.append((409, {}, b""))
    with pytest.raises(ItemRefused) as deleting:
        g.delete(item.id, etag)
    for refused in (updating.value, deleting.value):
        assert not refused.uid_conflict
        assert "deleted event" not in str(refused)
        assert "as a conflict (HTTP 409: a recurring event" in str(refused)
    # a create still reads Google's 409 as the UID of a deleted event (calcurse #470)
    front.canned.append((409, {}, b""))
    with pytest.raises(ItemRefused, match="deleted event") as creating:
        g.create(event(2))
    assert creating.value.uid_conflict


def test_google_usage_limit_403_is_retried_without_a_token_refresh(
    google: tuple[GoogleProvider, DavFront],
) -> None:
    g, front = google
    g.identity()
    front.canned.append((403, JSON, google_error("rateLimitExceeded")))
    front.seen.clear()
    g.create(event(1))
    assert [s.method for s in front.seen if s.path != "/token"][:2] == ["PUT", "PUT"]
    assert not [s for s in front.seen if s.path == "/token"]
