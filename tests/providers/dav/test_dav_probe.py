"""The collection PROPFIND over the standard library (sync/providers/dav/probe.py).

Against Radicale (directly, or behind tests/providers/dav/dav_front.py for the statuses
Radicale does not send) and a small loopback server for TLS and redirects: the
probe must read what the DAVClient reads, fail with the same one-line errors, and
hand over to the DAVClient where it cannot do what the configuration asks.
"""

from __future__ import annotations

import base64
import socket
import ssl
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from sync.providers.base import (
    AuthFailed,
    CalendarNotFound,
    ConnectionFailed,
    ProviderError,
    Window,
)
from sync.providers.dav.http import Forbidden
from sync.providers.dav.provider import CalDAVProvider
from tests.providers.dav.dav_front import dav_front
from tests.providers.dav.dav_helpers import (
    NOT_ON_A_NO_CHANGE_SYNC,
    PASSWORD_ENV,
    SECRET,
    clean_http_environment,
    open_caldav,
    run_cli_reporting_imports,
)
from tests.providers.graph.server.tls import make_server_tls

CALENDAR = "urn:ietf:params:xml:ns:caldav"
WINDOW = Window(datetime(2026, 1, 1, tzinfo=UTC), datetime(2027, 1, 1, tzinfo=UTC))


@pytest.fixture(autouse=True)
def _environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    clean_http_environment(monkeypatch, tmp_path)
    monkeypatch.setenv("CALSYNC_TEST_PROBE_TOKEN", "t0ken")


def multistatus(href: str, token: str = "http://example.com/sync/1") -> bytes:
    return (
        '<?xml version="1.0"?><d:multistatus xmlns:d="DAV:" '
        f'xmlns:c="{CALENDAR}" xmlns:cs="http://calendarserver.org/ns/">'
        f"<d:response><d:href>{href}</d:href><d:propstat><d:prop>"
        "<d:resourcetype><d:collection/><c:calendar/></d:resourcetype>"
        f"<d:sync-token>{token}</d:sync-token><cs:getctag>ctag-1</cs:getctag>"
        "<d:resource-id><d:href>urn:uuid:6f1d0c2e</d:href></d:resource-id>"
        "<d:displayname>Work</d:displayname>"
        "<d:current-user-privilege-set><d:privilege><d:read/></d:privilege>"
        "<d:privilege><d:write/></d:privilege></d:current-user-privilege-set>"
        "</d:prop><d:status>HTTP/1.1 200 OK</d:status></d:propstat></d:response>"
        "</d:multistatus>"
    ).encode()


Answer = tuple[int, dict[str, str], bytes]


@contextmanager
def loopback(
    answer: Callable[[str, str, dict[str, str]], Answer], tls: ssl.SSLContext | None = None
) -> Iterator[tuple[str, list[tuple[str, str, dict[str, str]]]]]:
    """A one-purpose DAV server: `answer(method, path, headers)`; yields (base URL, seen)."""
    seen: list[tuple[str, str, dict[str, str]]] = []

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: Any) -> None:
            pass

        def _handle(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            if length:
                self.rfile.read(length)
            headers = dict(self.headers.items())
            seen.append((self.command, self.path, headers))
            status, extra, body = answer(self.command, self.path, headers)
            self.send_response(status)
            for key, value in extra.items():
                self.send_header(key, value)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        do_PROPFIND = do_REPORT = do_OPTIONS = do_GET = _handle

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    if tls is not None:
        server.socket = tls.wrap_socket(server.socket, server_side=True)
    scheme = "https" if tls is not None else "http"
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield f"{scheme}://127.0.0.1:{server.server_address[1]}", seen
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


def calendar_at(path: str) -> Callable[[str, str, dict[str, str]], Answer]:
    def answer(method: str, got: str, headers: dict[str, str]) -> Answer:
        if got != path:
            return 404, {}, b""
        return 207, {"Content-Type": "application/xml; charset=utf-8"}, multistatus(path)

    return answer


# -- against Radicale -------------------------------------------------------------------------


def test_probe_reads_the_properties_the_dav_client_reads(radicale_calendar: str) -> None:
    for mode, marker in (
        ("sync", "{DAV:}sync-token"),
        ("query", "{http://calendarserver.org/ns/}getctag"),
    ):
        with open_caldav(radicale_calendar) as probed:
            by_probe = probed._collection_props(mode)
            assert probed._client is None  # no DAVClient was needed
        with open_caldav(radicale_calendar) as client:
            client.client  # noqa: B018 - an open DAVClient takes the PROPFIND
            by_client = client._collection_props(mode)
        assert by_probe == by_client
        assert f"{{{CALENDAR}}}calendar" in by_probe["{DAV:}resourcetype"]
        assert by_probe[marker]
        assert "{DAV:}write" in by_probe["{DAV:}current-user-privilege-set"]


def test_no_change_run_is_one_stdlib_request(radicale_calendar: str) -> None:
    with dav_front(radicale_calendar) as front:
        cache: dict[str, Any] = {}
        with open_caldav(front.calendar_url) as first:
            first.list_window(WINDOW, cache)
        front.seen.clear()
        with open_caldav(front.calendar_url) as second:
            # the engine's order: list, check the identity, fetch what changed
            second.list_window(WINDOW, cache)
            second.identity()
            second.fetch([])
            assert second._client is None
    assert [s.method for s in front.seen] == ["PROPFIND"]
    sent = front.seen[0].headers
    assert sent["Depth"] == "0" and sent["User-Agent"] == "calsync"
    assert (
        sent["Authorization"] == "Basic " + base64.b64encode(f"calsync:{SECRET}".encode()).decode()
    )


def test_unknown_calendar_is_calendar_not_found(radicale_calendar: str) -> None:
    with pytest.raises(CalendarNotFound, match="HTTP 404"):
        open_caldav(radicale_calendar.rstrip("/") + "-nope/").identity()


# -- statuses Radicale does not send (dav_front answers them first) ------------------------------


def test_401_is_auth_failed_without_the_secret(radicale_calendar: str) -> None:
    with (
        dav_front(radicale_calendar, canned=[(401, {"WWW-Authenticate": "Basic"}, b"")]) as front,
        pytest.raises(AuthFailed, match="credentials refused") as info,
    ):
        open_caldav(front.calendar_url).identity()
    assert SECRET not in str(info.value) and "\n" not in str(info.value)


def test_403_carries_the_dav_error_preconditions(radicale_calendar: str) -> None:
    body = b'<?xml version="1.0"?><d:error xmlns:d="DAV:"><d:need-privileges/></d:error>'
    canned = [(403, {"Content-Type": "application/xml"}, body)]
    with (
        dav_front(radicale_calendar, canned=canned) as front,
        pytest.raises(Forbidden, match="access denied to /dav/cal/") as info,
    ):
        open_caldav(front.calendar_url).identity()
    assert info.value.preconditions == ["{DAV:}need-privileges"]


def test_429_then_503_are_retried_honouring_retry_after(radicale_calendar: str) -> None:
    canned = [(429, {"Retry-After": "0"}, b""), (503, {"Retry-After": "0"}, b"")]
    with (
        dav_front(radicale_calendar, canned=canned) as front,
        open_caldav(front.calendar_url) as p,
    ):
        assert p.identity().startswith("caldav:")
        assert p._client is None
    assert [s.method for s in front.seen] == ["PROPFIND"] * 3


def test_503_gives_up_after_the_configured_retries(radicale_calendar: str) -> None:
    with dav_front(radicale_calendar, canned=[(503, {}, b"")] * 5) as front:
        p = open_caldav(front.calendar_url, retries=2, retry_backoff=0)
        with pytest.raises(ConnectionFailed, match=r"overloaded \(HTTP 503\); gave up after 2"):
            p.identity()
    assert len(front.seen) == 3


def test_too_long_retry_after_fails_at_once(radicale_calendar: str) -> None:
    with (
        dav_front(radicale_calendar, canned=[(429, {"Retry-After": "3600"}, b"")]) as front,
        pytest.raises(ConnectionFailed, match="retry after 3600 s"),
    ):
        open_caldav(front.calendar_url).identity()


def test_garbage_labelled_xml_is_a_provider_error(radicale_calendar: str) -> None:
    canned = [(207, {"Content-Type": "application/xml"}, b"<d:multistatus xmlns:d='DAV:'><oops")]
    with (
        dav_front(radicale_calendar, canned=canned) as front,
        pytest.raises(
            ProviderError, match=r"^127\.0\.0\.1:\d+: unreadable reply to PROPFIND: "
        ) as info,
    ):
        open_caldav(front.calendar_url).identity()
    assert not isinstance(info.value, CalendarNotFound)


def test_an_html_page_is_an_unreadable_reply(radicale_calendar: str) -> None:
    # a web page at the URL, or a proxy's error page: not "no such calendar" (issue 20)
    canned = [(200, {"Content-Type": "text/html"}, b"<html><body>Welcome</body>")]
    with (
        dav_front(radicale_calendar, canned=canned) as front,
        pytest.raises(ProviderError, match=r"could not be read \(not XML\)") as exc,
    ):
        open_caldav(front.calendar_url).identity()
    assert not isinstance(exc.value, CalendarNotFound)


def test_a_dtd_in_the_reply_is_refused(radicale_calendar: str) -> None:
    body = b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "aaaa">]><d:multistatus xmlns:d="DAV:"/>'
    with (
        dav_front(radicale_calendar, canned=[(207, {"Content-Type": "text/xml"}, body)]) as front,
        pytest.raises(ProviderError, match="declares a DTD"),
    ):
        open_caldav(front.calendar_url).identity()


def test_bearer_token_header(radicale_calendar: str) -> None:
    with dav_front(radicale_calendar, bearer_tokens={"t0ken"}) as front:
        p = CalDAVProvider(
            f"caldav:{front.calendar_url}",
            settings={"caldav": {"token_env": "CALSYNC_TEST_PROBE_TOKEN"}},
        )
        assert p.identity().startswith("caldav:")
        assert p._client is None
    assert front.seen[0].headers["Authorization"] == "Bearer t0ken"


def test_check_reports_each_step_through_the_probe(radicale_calendar: str) -> None:
    with dav_front(radicale_calendar, canned=[(401, {}, b"")]) as front:
        checks = open_caldav(front.calendar_url).check()
    assert [(name, ok) for name, ok, _ in checks] == [
        ("server reachable", True),
        ("credentials accepted", False),
    ]


# -- transport failures -----------------------------------------------------------------------


def test_a_silent_server_times_out_with_one_line() -> None:
    with socket.socket() as listener:  # accepts connections (backlog) and never answers
        listener.bind(("127.0.0.1", 0))
        listener.listen(1)
        port = listener.getsockname()[1]
        p = open_caldav(f"http://127.0.0.1:{port}/cal/", timeout=0.3)
        with pytest.raises(ConnectionFailed) as info:
            p.identity()
    assert str(info.value) == f"127.0.0.1:{port} did not answer within 0.3 s (PROPFIND /cal/)"


def test_a_refused_connection_is_cannot_reach() -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    with pytest.raises(ConnectionFailed, match=rf"^cannot reach 127\.0\.0\.1:{port}: "):
        open_caldav(f"http://127.0.0.1:{port}/cal/", timeout=2).identity()


@pytest.fixture(scope="module")
def server_tls(tmp_path_factory: pytest.TempPathFactory) -> Any:
    return make_server_tls(tmp_path_factory.mktemp("tls"))


def _server_context(tls: Any) -> ssl.SSLContext:
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(tls.cert_file, tls.key_file)
    return context


def test_tls_with_the_ca_file_from_verify_tls(server_tls: Any) -> None:
    with (
        loopback(calendar_at("/cal/"), tls=_server_context(server_tls)) as (url, seen),
        open_caldav(f"{url}/cal/", verify_tls=str(server_tls.ca_file)) as p,
    ):
        assert p.identity() == f"caldav:{url}/cal/#urn:uuid:6f1d0c2e"
        assert p._client is None
    assert len(seen) == 1


def test_tls_with_an_unknown_ca_is_one_clear_line(
    server_tls: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("REQUESTS_CA_BUNDLE", raising=False)
    monkeypatch.delenv("CURL_CA_BUNDLE", raising=False)
    with (
        loopback(calendar_at("/cal/"), tls=_server_context(server_tls)) as (url, _),
        pytest.raises(ConnectionFailed, match=r"^TLS failure talking to 127\.0\.0\.1") as info,
    ):
        open_caldav(f"{url}/cal/").identity()
    assert 'verify_tls = "/path/to/ca.pem"' in str(info.value) and "\n" not in str(info.value)


def test_verify_tls_false_skips_verification(server_tls: Any) -> None:
    with (
        loopback(calendar_at("/cal/"), tls=_server_context(server_tls)) as (url, _),
        open_caldav(f"{url}/cal/", verify_tls=False) as p,
    ):
        assert p.identity().endswith("#urn:uuid:6f1d0c2e")


def test_a_missing_ca_file_is_one_clear_line(server_tls: Any, tmp_path: Path) -> None:
    with (
        loopback(calendar_at("/cal/"), tls=_server_context(server_tls)) as (url, _),
        pytest.raises(ConnectionFailed, match="cannot use the CA file"),
    ):
        open_caldav(f"{url}/cal/", verify_tls=str(tmp_path / "none.pem")).identity()


# -- where the DAVClient takes over --------------------------------------------------------------


def test_a_redirect_is_followed_by_the_dav_client() -> None:
    def answer(method: str, path: str, headers: dict[str, str]) -> Answer:
        if path == "/old/":
            return 301, {"Location": "/cal/"}, b""
        return calendar_at("/cal/")(method, path, headers)

    with loopback(answer) as (url, seen), open_caldav(f"{url}/old/") as p:
        assert p.identity().endswith("#urn:uuid:6f1d0c2e")
        assert p._client is not None
    assert [path for _, path, _ in seen] == ["/old/", "/old/", "/cal/"]


def test_digest_auth_goes_through_the_dav_client() -> None:
    with (
        loopback(calendar_at("/cal/")) as (url, seen),
        open_caldav(f"{url}/cal/", auth="digest") as p,
    ):
        p.identity()
        assert p._client is not None
    assert len(seen) == 1


def test_a_proxy_in_the_environment_goes_through_the_dav_client(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("http_proxy", "http://127.0.0.1:9")
    monkeypatch.setenv("no_proxy", "127.0.0.1")  # niquests bypasses it; the probe stays out
    with loopback(calendar_at("/cal/")) as (url, seen), open_caldav(f"{url}/cal/") as p:
        p.identity()
        assert p._client is not None
    assert len(seen) == 1


def test_anonymous_request_sends_no_authorization() -> None:
    with (
        loopback(calendar_at("/cal/")) as (url, seen),
        CalDAVProvider(f"caldav:{url}/cal/", settings={"caldav": {}}) as p,
    ):
        p.identity()
        assert p._client is None
    assert "Authorization" not in seen[0][2]


# -- the whole process ----------------------------------------------------------------------------


def test_no_change_cli_sync_loads_no_http_nor_ical_library(
    radicale_calendar: str, tmp_path: Path
) -> None:
    """Nor icalendar, nor Typer: tests/cli/test_lazy_imports.py says why."""
    from typer.testing import CliRunner

    from tui.cli import _register, app

    _register()
    ws, crm = tmp_path / "ws", tmp_path / "crm"
    ws.mkdir()
    crm.mkdir()
    (ws / "calsync.toml").write_text(
        f'[caldav]\nusername = "calsync"\npassword_env = "{PASSWORD_ENV}"\n', encoding="utf-8"
    )
    with dav_front(radicale_calendar) as front:
        for args in (
            [
                "user",
                "add",
                "anna",
                "--crm",
                f"folder:{crm}",
                "--remote",
                f"caldav:{front.calendar_url}",
            ],
            ["init", "anna"],
        ):
            result = CliRunner().invoke(app, ["--workspace", str(ws), *args])
            assert result.exit_code == 0, result.output
        front.seen.clear()
        proc = run_cli_reporting_imports(ws, "sync", "anna", watch=NOT_ON_A_NO_CHANGE_SYNC)
    assert proc.returncode == 0, proc.stderr
    assert "crm +0 ~0 -0, remote +0 ~0 -0" in proc.stdout
    assert "LOADED []" in proc.stderr, proc.stderr
    assert [s.method for s in front.seen] == ["PROPFIND"]


# -- the reply parser, side by side with caldav's ------------------------------------------------


def _ms(*responses: str) -> bytes:
    return (
        '<?xml version="1.0"?><d:multistatus xmlns:d="DAV:" '
        f'xmlns:c="{CALENDAR}" xmlns:cs="http://calendarserver.org/ns/">'
        + "".join(responses)
        + "</d:multistatus>"
    ).encode()


_FOUND = "<d:status>HTTP/1.1 200 OK</d:status>"
_MISSING = "<d:status>HTTP/1.1 404 Not Found</d:status>"
REPLIES = {
    "full": multistatus("/cal/"),
    "absolute href, escaped": _ms(
        "<d:response><d:href>https://example.com/dav/anna%2540example.com/my%20cal/</d:href>"
        f"<d:propstat><d:prop><d:resourcetype><d:collection/><c:calendar/></d:resourcetype>"
        f"<d:displayname>Anna's</d:displayname></d:prop>{_FOUND}</d:propstat></d:response>"
    ),
    "absent properties": _ms(
        "<d:response><d:href>/cal/</d:href>"
        f"<d:propstat><d:prop><d:resourcetype><d:collection/><c:calendar/></d:resourcetype>"
        f"<d:sync-token>tok</d:sync-token></d:prop>{_FOUND}</d:propstat>"
        f"<d:propstat><d:prop><d:resource-id/><cs:getctag/></d:prop>{_MISSING}</d:propstat>"
        "</d:response>"
    ),
    "empty privilege set, plain collection": _ms(
        "<d:response><d:href>/cal/</d:href><d:propstat><d:prop>"
        "<d:resourcetype><d:collection/></d:resourcetype>"
        f"<d:current-user-privilege-set/></d:prop>{_FOUND}</d:propstat></d:response>"
    ),
    "two responses": _ms(
        f"<d:response><d:href>/cal/</d:href><d:propstat><d:prop><d:displayname>A</d:displayname>"
        f"</d:prop>{_FOUND}</d:propstat></d:response>",
        f"<d:response><d:href>/cal/x.ics</d:href>{_MISSING}</d:response>",
    ),
}


@pytest.mark.parametrize("name", sorted(REPLIES))
def test_the_parser_reads_replies_as_caldav_does(name: str) -> None:
    import http.client

    from caldav.response import DAVResponse

    from sync.providers.dav.probe import Reply

    body = REPLIES[name]
    headers = http.client.HTTPMessage()
    headers["Content-Type"] = "application/xml"
    theirs = DAVResponse.from_bytes(body, 207).parse_propfind()
    ours = Reply(207, headers, body).parse_propfind()
    assert [(r.href, r.properties) for r in ours] == [(r.href, r.properties) for r in theirs]


def test_a_failed_propstat_is_an_unreadable_reply(radicale_calendar: str) -> None:
    body = _ms(
        "<d:response><d:href>/dav/cal/</d:href><d:propstat><d:prop><d:sync-token/></d:prop>"
        "<d:status>HTTP/1.1 500 Internal Server Error</d:status></d:propstat></d:response>"
    )
    with (
        dav_front(radicale_calendar, canned=[(207, {"Content-Type": "text/xml"}, body)]) as front,
        pytest.raises(ProviderError, match=r"unreadable PROPFIND reply: status HTTP/1\.1 500"),
    ):
        open_caldav(front.calendar_url).identity()
