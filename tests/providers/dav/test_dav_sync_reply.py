"""The sync-collection REPORT over the standard library (dav/probe.py + dav/sync_reply.py).

Real Radicale replies are read by both parsers - caldav's DAVResponse and ours -
and must give the same result through the adapter's `_parse_sync`; the listing a
run builds over the probe must equal the one it builds over the DAVClient; and a
small loopback server plays what Radicale does not send (an expired token, a
refused or truncated sync, a broken or compressed reply).
"""

from __future__ import annotations

import gzip
import http.client
import threading
import uuid
import zlib
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

from sync.model import Event
from sync.providers.base import ProviderError, Window
from sync.providers.dav.http import RetryPolicy
from sync.providers.dav.listing import SyncUnsupported
from sync.providers.dav.probe import Reply, request
from sync.providers.dav.provider import CACHE_VERSION, CalDAVProvider
from sync.providers.dav.sync_reply import SyncResult
from tests.providers.dav.dav_helpers import (
    PASSWORD_ENV,
    SECRET,
    clean_http_environment,
    open_caldav,
    run_cli_reporting_imports,
)

CALENDAR = "urn:ietf:params:xml:ns:caldav"
WINDOW = Window(datetime(2026, 1, 1, tzinfo=UTC), datetime(2027, 1, 1, tzinfo=UTC))
T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
REPORT_HEADERS = {"Depth": "0", "Content-Type": "application/xml; charset=utf-8"}


@pytest.fixture(autouse=True)
def _environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    clean_http_environment(monkeypatch, tmp_path)


def event(n: int, **changes: Any) -> Event:
    start = T0 + timedelta(days=n)
    base = Event(
        uid=f"ev-{n}-{uuid.uuid4().hex[:8]}",
        subject=f"Meeting {n}",
        start=start,
        end=start + timedelta(hours=1),
    )
    return base.replace(**changes)


def sync_body(token: str | None) -> str:
    return (
        '<?xml version="1.0" encoding="utf-8"?>'
        f'<d:sync-collection xmlns:d="DAV:" xmlns:c="{CALENDAR}">'
        f"<d:sync-token>{token or ''}</d:sync-token><d:sync-level>1</d:sync-level>"
        "<d:prop><d:getetag/><c:calendar-data/></d:prop></d:sync-collection>"
    )


def raw_report(url: str, token: str | None, *, gzipped: bool = False) -> tuple[bytes, str]:
    """The REPORT reply's body as Radicale sends it, and its Content-Encoding."""
    parts = urlsplit(url)
    connection = http.client.HTTPConnection(parts.hostname or "", parts.port, timeout=30)
    headers = {**REPORT_HEADERS, **({"Accept-Encoding": "gzip"} if gzipped else {})}
    try:
        connection.request("REPORT", parts.path, sync_body(token).encode(), headers)
        response = connection.getresponse()
        body = response.read()
    finally:
        connection.close()
    assert response.status == 207, body[:200]
    return body, response.headers.get("Content-Encoding", "identity")


def both_parses(body: bytes, token: str | None, provider: CalDAVProvider) -> tuple[Any, Any]:
    """`_parse_sync` of one reply read by caldav's parser and by the stdlib one."""
    from caldav.response import DAVResponse

    headers = http.client.HTTPMessage()
    headers["Content-Type"] = "text/xml; charset=utf-8"
    return (
        _outcome(lambda: provider._parse_sync(DAVResponse.from_bytes(body, 207), token)),
        _outcome(lambda: provider._parse_sync(Reply(207, headers, body), token)),
    )


def _outcome(parse: Callable[[], Any]) -> Any:
    try:
        result = parse()
    except SyncUnsupported:
        return "unsupported"
    except (ValueError, SyntaxError):  # the transport makes it "unreadable reply to REPORT"
        return "unreadable"
    return (
        [(e.href, e.etag, e.calendar_data, e.status) for e in result.changed],
        list(result.deleted),
        result.sync_token,
        result.truncated,
    )


def put_raw(url: str, name: str, text: str) -> None:
    parts = urlsplit(url)
    connection = http.client.HTTPConnection(parts.hostname or "", parts.port, timeout=30)
    try:
        connection.request(
            "PUT", parts.path + name, text.encode(), {"Content-Type": "text/calendar"}
        )
        response = connection.getresponse()
        response.read()
    finally:
        connection.close()
    assert response.status in (201, 204), response.status


SERIES = (
    "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//t//EN\r\nBEGIN:VEVENT\r\n"
    "UID:series-1\r\nDTSTAMP:20260101T000000Z\r\nDTSTART:20260302T080000Z\r\n"
    "DTEND:20260302T090000Z\r\nRRULE:FREQ=WEEKLY;COUNT=3\r\n"
    "SUMMARY:Weekly & <co> \u00e9t\u00e9 \U0001f600\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"
)


# -- the parsers side by side on Radicale's replies ---------------------------------------


def test_radicale_replies_read_the_same_by_both_parsers(radicale_calendar: str) -> None:
    with open_caldav(radicale_calendar) as writer:
        keep = writer.create(event(1, subject="a & b <c> \u00fcber", location="Room 1"))
        change = writer.create(event(2, text="line one\nline two"))
        gone = writer.create(event(3))
        put_raw(radicale_calendar, "odd%20name%40x.ics", SERIES)
        initial, _ = raw_report(radicale_calendar, None)
        theirs, ours = both_parses(initial, None, writer)
        assert ours == theirs
        assert len(ours[0]) == 4 and ours[1] == [] and ours[2]
        token = ours[2]

        writer.update(change.id, change.etag, change.event.replace(subject="moved"))
        writer.delete(gone.id, gone.etag)
        writer.create(event(4))
        incremental, _ = raw_report(radicale_calendar, token)
        theirs, ours = both_parses(incremental, token, writer)
        assert ours == theirs
        changed_ids = {writer._id_of(href) for href, *_ in ours[0]}
        assert change.id in changed_ids and keep.id not in changed_ids
        assert [writer._id_of(href) for href in ours[1]] == [gone.id]
        assert ours[2] not in (None, token)

        nothing, _ = raw_report(radicale_calendar, ours[2])
        theirs, ours = both_parses(nothing, ours[2], writer)
        assert ours == theirs and ours[0] == [] and ours[1] == []


def test_radicale_compresses_when_asked_and_the_probe_unpacks_it(radicale_calendar: str) -> None:
    with open_caldav(radicale_calendar) as writer:
        for n in range(3):
            writer.create(event(n))
        plain, _ = raw_report(radicale_calendar, None)
        packed, encoding = raw_report(radicale_calendar, None, gzipped=True)
        assert encoding == "gzip" and gzip.decompress(packed) == plain
        reply = request(
            "REPORT",
            radicale_calendar,
            sync_body(None),
            REPORT_HEADERS,
            verify=True,
            timeout=30,
            retry=RetryPolicy(),
        )
        assert reply is not None
        theirs, _ = both_parses(plain, None, writer)
        assert _outcome(lambda: writer._parse_sync(reply, None)) == theirs


def _ms(*parts: str) -> bytes:
    return (
        f'<?xml version="1.0"?><d:multistatus xmlns:d="DAV:" xmlns:c="{CALENDAR}">'
        + "".join(parts)
        + "</d:multistatus>"
    ).encode()


def _item(href: str, etag: str | None = '"e1"', data: str | None = "BEGIN:VCALENDAR") -> str:
    props = (f"<d:getetag>{etag}</d:getetag>" if etag is not None else "") + (
        f"<c:calendar-data>{data}</c:calendar-data>" if data is not None else ""
    )
    return (
        f"<d:response><d:href>{href}</d:href><d:propstat><d:prop>{props}</d:prop>"
        "<d:status>HTTP/1.1 200 OK</d:status></d:propstat></d:response>"
    )


_GONE = "<d:response><d:href>/cal/gone.ics</d:href><d:status>HTTP/1.1 404 Not Found</d:status></d:response>"
_MARKER = "<d:response><d:href>/cal/</d:href><d:status>HTTP/1.1 507 Insufficient Storage</d:status></d:response>"
SYNTHETIC = {
    "truncated": _ms(_item("/cal/a.ics"), _MARKER, "<d:sync-token>t2</d:sync-token>"),
    "507 without a token is no marker": _ms(_item("/cal/a.ics"), _MARKER),
    "wrapped in <xml>": b'<xml><d:multistatus xmlns:d="DAV:" xmlns:c="urn:ietf:params:xml:ns:caldav">'
    + _item("/cal/a.ics").encode()
    + b"<d:sync-token>t</d:sync-token></d:multistatus></xml>",
    "a bare response, absolute href": _item("https://h.example/cal/a%2540b.ics")
    .replace("<d:response>", f'<d:response xmlns:d="DAV:" xmlns:c="{CALENDAR}">')
    .encode(),
    "no data, no etag, 201": _ms(
        "<d:response><d:href>/cal/a.ics</d:href>"
        "<d:status>HTTP/1.1 201 Created</d:status></d:response>",
        _GONE,
        "<d:sync-token>t</d:sync-token>",
    ),
    "404 propstat empties the data": _ms(
        "<d:response><d:href>/cal/a.ics</d:href>"
        '<d:propstat><d:prop><d:getetag>"e"</d:getetag><c:calendar-data>X</c:calendar-data>'
        "</d:prop><d:status>HTTP/1.1 200 OK</d:status></d:propstat>"
        "<d:propstat><d:prop><c:calendar-data/></d:prop>"
        "<d:status>HTTP/1.1 404 Not Found</d:status></d:propstat></d:response>"
    ),
    "CDATA and character references": _ms(
        _item("/cal/a.ics", data="<![CDATA[BEGIN:VCALENDAR\r\nX:<&>\r\n]]>&#13;&#10;done")
    ),
    "two tokens, the last counts": _ms(
        "<d:sync-token>t1</d:sync-token>",
        _item("/cal/%E2%82%AC.ics"),
        "<d:sync-token>t2</d:sync-token>",
    ),
    "a failed response": _ms(
        "<d:response><d:href>/cal/a.ics</d:href>"
        "<d:status>HTTP/1.1 500 Server Error</d:status></d:response>"
    ),
    "empty": b"",
}


#: what the stdlib parser must make of some of them (caldav must agree, see below)
EXPECTED: dict[str, Callable[[Any], bool]] = {
    "truncated": lambda got: got[3] is True and got[2] == "t2",
    "507 without a token is no marker": lambda got: got == "unsupported",
    "a failed response": lambda got: got == "unsupported",
    "a bare response, absolute href": lambda got: got[0][0][0] == "/cal/a@b.ics",
    "404 propstat empties the data": lambda got: got[0] == [("/cal/a.ics", '"e"', None, 200)],
    "CDATA and character references": lambda got: (
        got[0][0][2] == "BEGIN:VCALENDAR\nX:<&>\n\r\ndone"
    ),
    "two tokens, the last counts": lambda got: got[2] == "t2" and got[0][0][0] == "/cal/€.ics",
    "no data, no etag, 201": lambda got: (
        got[0] == [("/cal/a.ics", None, None, 201)] and got[1] == ["/cal/gone.ics"]
    ),
    "empty": lambda got: got == ([], [], None, False),
    "wrapped in <xml>": lambda got: got[2] == "t" and len(got[0]) == 1,
}


@pytest.mark.parametrize("name", sorted(SYNTHETIC))
def test_odd_replies_read_the_same_by_both_parsers(name: str) -> None:
    provider = open_caldav("http://127.0.0.1:9/cal/")
    theirs, ours = both_parses(SYNTHETIC[name], None, provider)
    assert ours == theirs
    assert EXPECTED[name](ours), ours


def test_the_result_has_the_fields_caldav_gives() -> None:
    from caldav.response import CalendarQueryResult, SyncCollectionResult

    def names(cls: type) -> list[str]:
        return list(cls.__dataclass_fields__)

    from sync.providers.dav.sync_reply import SyncEntry

    assert names(SyncResult) == names(SyncCollectionResult)
    assert names(SyncEntry) == names(CalendarQueryResult)


# -- whole listings: the probe and the DAVClient give the same -------------------------------


def _listing(
    url: str, cache: dict[str, Any], *, probe: bool, before: dict[str, str] | None = None
) -> tuple[Any, dict[str, Any]]:
    with open_caldav(url) as p:
        if not probe:
            p.client  # noqa: B018 - an open DAVClient takes every request
        listing = p.list_window(WINDOW, cache)
        # what the engine fetches: the new and changed items, which the listing read
        changed = [i for i, etag in listing.etags.items() if (before or {}).get(i) != etag]
        fetched = p.fetch(changed)
        assert (p._client is None) is probe
    return (listing.etags, listing.broken, fetched), cache


def test_a_listing_over_the_probe_equals_one_over_the_dav_client(radicale_calendar: str) -> None:
    with open_caldav(radicale_calendar) as writer:
        items = [writer.create(event(n)) for n in range(4)]
        put_raw(radicale_calendar, "series.ics", SERIES)
    by_probe, probe_cache = _listing(radicale_calendar, {}, probe=True)
    by_client, client_cache = _listing(radicale_calendar, {}, probe=False)
    assert by_probe == by_client and probe_cache == client_cache
    assert len(by_probe[0]) == 4 + 3  # the series is listed as its occurrences

    with open_caldav(radicale_calendar) as writer:
        writer.update(items[0].id, items[0].etag, items[0].event.replace(subject="moved"))
        writer.delete(items[1].id, items[1].etag)
        writer.create(event(9))
    before = by_probe[0]
    by_probe, probe_cache = _listing(
        radicale_calendar, dict(probe_cache), probe=True, before=before
    )
    by_client, client_cache = _listing(
        radicale_calendar, dict(client_cache), probe=False, before=before
    )
    assert by_probe == by_client and probe_cache == client_cache
    assert items[1].id not in by_probe[0] and len(by_probe[0]) == 4 + 3
    assert len(by_probe[2]) == 2  # the changed and the new item


# -- what Radicale does not send: a loopback server ----------------------------------------------

Answer = tuple[int, dict[str, str], bytes]
Seen = list[tuple[str, dict[str, str], bytes]]


@contextmanager
def loopback(answer: Callable[[str, bytes], Answer]) -> Iterator[tuple[str, Seen]]:
    """A calendar at /cal/ answered by `answer(method, body)`; yields (URL, requests seen)."""
    seen: Seen = []

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: Any) -> None:
            pass

        def _handle(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            seen.append((self.command, dict(self.headers.items()), body))
            status, extra, data = answer(self.command, body)
            self.send_response(status)
            for key, value in extra.items():
                self.send_header(key, value)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        do_PROPFIND = do_REPORT = _handle

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/cal/", seen
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


XML = {"Content-Type": "application/xml; charset=utf-8"}


def _collection(token: str) -> bytes:
    return _ms(
        "<d:response><d:href>/cal/</d:href><d:propstat><d:prop>"
        "<d:resourcetype><d:collection/><c:calendar/></d:resourcetype>"
        f"<d:sync-token>{token}</d:sync-token></d:prop>"
        "<d:status>HTTP/1.1 200 OK</d:status></d:propstat></d:response>"
    )


def _ics(n: int) -> str:
    start = T0 + timedelta(days=n)
    return (
        "BEGIN:VCALENDAR&#13;\nVERSION:2.0&#13;\nPRODID:-//t//EN&#13;\nBEGIN:VEVENT&#13;\n"
        f"UID:u{n}&#13;\nDTSTAMP:20260101T000000Z&#13;\nDTSTART:{start:%Y%m%dT%H%M%SZ}&#13;\n"
        f"SUMMARY:Item {n}&#13;\nEND:VEVENT&#13;\nEND:VCALENDAR&#13;\n"
    )


def _items(*ns: int, token: str) -> bytes:
    return _ms(
        *(_item(f"/cal/{n}.ics", f'"e{n}"', _ics(n)) for n in ns),
        f"<d:sync-token>{token}</d:sync-token>",
    )


def _serve(reports: Callable[[bytes], Answer], token: str = "t2") -> Callable[[str, bytes], Answer]:
    def answer(method: str, body: bytes) -> Answer:
        if method == "PROPFIND":
            return 207, XML, _collection(token)
        return reports(body)

    return answer


@pytest.mark.parametrize("status", [403, 409])
def test_an_expired_token_lists_everything_afresh(status: int) -> None:
    expired = b'<?xml version="1.0"?><d:error xmlns:d="DAV:"><d:valid-sync-token/></d:error>'

    def reports(body: bytes) -> Answer:
        if b">t1<" in body:
            return status, XML, expired
        return 207, XML, _items(1, 2, token="t2")

    cache: dict[str, Any] = {}
    with loopback(_serve(reports)) as (url, seen), open_caldav(url) as p:
        p.list_window(WINDOW, {})  # learns the cache layout
        cache = {
            "v": CACHE_VERSION,
            "url": url,
            "index": {"ghost.ics": ['"x"', T0.isoformat(), None]},
        }
        cache.update(token="t1", mode="sync", series={})
        seen.clear()
        listing = p.list_window(WINDOW, cache)
        assert p._client is None
    assert sorted(listing.etags) == ["1.ics", "2.ics"]
    assert cache["token"] == "t2" and cache["mode"] == "sync"
    assert [method for method, _, _ in seen] == ["PROPFIND", "REPORT", "REPORT"]


def test_a_refused_sync_falls_back_to_the_time_range_query() -> None:
    def reports(body: bytes) -> Answer:
        if b"sync-collection" in body:
            return 507, {"Content-Type": "text/plain"}, b""
        if b"calendar-query" in body:
            return 207, XML, _ms(_item("/cal/1.ics", '"e1"', None))
        return 207, XML, _items(1, token="t2")  # the multiget of the new item

    cache: dict[str, Any] = {}
    with loopback(_serve(reports)) as (url, seen), open_caldav(url) as p:
        listing = p.list_window(WINDOW, cache)
    assert listing.etags == {"1.ics": '"e1"'}
    assert cache["mode"] == "query" and "sync_retry_at" in cache
    bodies = [body for method, _, body in seen if method == "REPORT"]
    assert [b"sync-collection" in b for b in bodies] == [True, False, False]


def test_a_truncated_reply_is_asked_again_with_its_token() -> None:
    def reports(body: bytes) -> Answer:
        if b">t2<" in body:
            return 207, XML, _items(3, token="t3")
        return (
            207,
            XML,
            _ms(
                _item("/cal/1.ics", '"e1"', _ics(1)),
                _item("/cal/2.ics", '"e2"', _ics(2)),
                _MARKER,
                "<d:sync-token>t2</d:sync-token>",
            ),
        )

    cache: dict[str, Any] = {}
    with loopback(_serve(reports, token="t3")) as (url, seen), open_caldav(url) as p:
        listing = p.list_window(WINDOW, cache)
        assert p._client is None
    assert sorted(listing.etags) == ["1.ics", "2.ics", "3.ics"] and cache["token"] == "t3"
    assert [method for method, _, _ in seen] == ["PROPFIND", "REPORT", "REPORT"]


@pytest.mark.parametrize(
    "body",
    [b"<d:multistatus xmlns:d='DAV:'><d:response><oops", b"<d:multistatus xmlns:d='DAV:'/>\x00"],
    ids=["cut off", "junk after the document"],
)
def test_garbage_xml_is_one_line(body: bytes) -> None:
    with (
        loopback(_serve(lambda _: (207, XML, body))) as (url, _),
        open_caldav(url) as p,
        pytest.raises(ProviderError) as info,
    ):
        p.list_window(WINDOW, {})
    text = str(info.value)
    assert text.startswith(f"127.0.0.1:{urlsplit(url).port}: unreadable reply to REPORT: ")
    assert "\n" not in text and SECRET not in text


@pytest.mark.parametrize("encoding", ["gzip", "x-gzip", "deflate"])
def test_a_compressed_reply_is_unpacked(encoding: str) -> None:
    plain = _items(1, 2, token="t2")
    packed = gzip.compress(plain) if "gzip" in encoding else zlib.compress(plain)

    def reports(body: bytes) -> Answer:
        return 207, {**XML, "Content-Encoding": encoding}, packed

    with loopback(_serve(reports)) as (url, seen), open_caldav(url) as p:
        listing = p.list_window(WINDOW, {})
        assert p._client is None
    assert sorted(listing.etags) == ["1.ics", "2.ics"]
    assert all(headers["Accept-Encoding"] == "gzip" for _, headers, _ in seen)


def test_a_broken_compressed_reply_is_one_line() -> None:
    def reports(body: bytes) -> Answer:
        return 207, {**XML, "Content-Encoding": "gzip"}, b"\x1f\x8b\x08\x00garbage"

    with (
        loopback(_serve(reports)) as (url, _),
        open_caldav(url) as p,
        pytest.raises(
            ProviderError, match=r"^127\.0\.0\.1:\d+: unreadable reply to REPORT: "
        ) as info,
    ):
        p.list_window(WINDOW, {})
    assert "\n" not in str(info.value)


def test_an_encoding_not_asked_for_goes_through_the_dav_client() -> None:
    asked: list[bytes] = []

    def reports(body: bytes) -> Answer:
        asked.append(body)
        if len(asked) == 1:  # the probe's: an encoding only the DAVClient can undo
            return 207, {**XML, "Content-Encoding": "br"}, b"\x0b\x00\x80"
        return 207, XML, _items(1, token="t2")

    with loopback(_serve(reports)) as (url, seen), open_caldav(url) as p:
        listing = p.list_window(WINDOW, {})
        assert p._client is not None  # the DAVClient asked again
    assert sorted(listing.etags) == ["1.ics"]
    assert [method for method, _, _ in seen] == ["PROPFIND", "REPORT", "REPORT"]


# -- the whole process -------------------------------------------------------------------------


def test_initial_cli_init_loads_no_http_library(radicale_calendar: str, tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from tui.cli import _register, app

    soon = datetime.now(UTC).replace(hour=9, minute=0, second=0, microsecond=0)
    with open_caldav(radicale_calendar) as writer:
        for n in range(1, 4):  # inside the sync window, which follows today
            start = soon + timedelta(days=n)
            writer.create(event(n, start=start, end=start + timedelta(hours=1)))
    _register()
    ws, crm = tmp_path / "ws", tmp_path / "crm"
    ws.mkdir()
    crm.mkdir()
    (ws / "calsync.toml").write_text(
        f'[caldav]\nusername = "calsync"\npassword_env = "{PASSWORD_ENV}"\n', encoding="utf-8"
    )
    add = [
        "user",
        "add",
        "anna",
        "--crm",
        f"folder:{crm}",
        "--remote",
        f"caldav:{radicale_calendar}",
    ]
    result = CliRunner().invoke(app, ["--workspace", str(ws), *add])
    assert result.exit_code == 0, result.output
    proc = run_cli_reporting_imports(ws, "init", "anna")
    assert proc.returncode == 0, proc.stderr
    assert "LOADED []" in proc.stderr, proc.stderr
    assert SECRET not in proc.stdout + proc.stderr
    assert len([p for p in crm.rglob("*") if p.is_file() and p.suffix == ".ics"]) == 3, proc.stdout
