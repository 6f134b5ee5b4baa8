"""Whole-request and whole-run deadlines on every HTTP path (issue 20, item 5).

Each server here drips its reply a byte at a time, every byte well inside the
client's per-read `timeout`: without a deadline on the whole request each of these
requests would take minutes. What is asserted is the outcome (a timeout naming the
host), never a duration.
"""

from __future__ import annotations

import ssl
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

from storage.config import load_config
from storage.errors import ConfigInvalid
from sync.providers import deadline
from sync.providers.base import Window
from sync.providers.dav.provider import CalDAVProvider
from sync.providers.deadline import DeadlineExceeded
from sync.providers.ews.provider import EWSProvider
from sync.providers.google.auth import store_token
from sync.providers.google.caldav import GoogleCalDAVProvider as GoogleProvider
from sync.providers.google.provider import GoogleProvider as GoogleAPIProvider
from sync.providers.graph.client import GraphClient
from sync.providers.graph.settings import read_settings
from sync.providers.graph.tokens import TokenSource
from tests.engine.harness import Env
from tests.providers.dav.dav_front import dav_front
from tests.providers.dav.drip_server import DripServer
from tests.providers.google.server.fixtures import google_server  # noqa: F401
from tests.providers.google.server.server import GoogleTestServer
from tests.providers.graph.server.fixtures import graph_app, graph_server, graph_settings  # noqa: F401
from tests.providers.graph.server.server import GraphTestServer

WINDOW = Window(datetime(2026, 1, 1, tzinfo=UTC), datetime(2027, 1, 1, tzinfo=UTC))
SECRET_ENV = "CALSYNC_TEST_DEADLINE_SECRET"


@pytest.fixture(autouse=True)
def _secret(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(SECRET_ENV, "not-so-secret")


@pytest.fixture
def drip() -> Iterator[DripServer]:
    with DripServer() as server:
        yield server


def _host(server: DripServer) -> str:
    return str(urlsplit(server.url).netloc)


def _request_timeout(exc: pytest.ExceptionInfo[DeadlineExceeded], server: DripServer) -> None:
    text = str(exc.value)
    assert text.startswith(f"{_host(server)} timed out: no complete reply to "), text
    assert "within 1 s ([job] request_deadline)" in text


# -- CalDAV: the standard-library listing and the caldav library -------------------------


def test_caldav_listing_over_the_standard_library(drip: DripServer) -> None:
    provider = CalDAVProvider(f"caldav:{drip.url}/cal/", settings={"caldav": {"timeout": 5}})
    with deadline.run_deadline(600, 1), pytest.raises(DeadlineExceeded) as exc:
        provider.list_window(WINDOW, {})
    _request_timeout(exc, drip)
    assert "PROPFIND /cal/" in str(exc.value)
    assert provider._client is None  # the probe's path, not the library's


def test_caldav_through_the_caldav_library(drip: DripServer) -> None:
    table = {"timeout": 5, "username": "anna", "password_env": SECRET_ENV, "auth": "digest"}
    provider = CalDAVProvider(f"caldav:{drip.url}/cal/", settings={"caldav": table})
    with deadline.run_deadline(600, 1), pytest.raises(DeadlineExceeded) as exc:
        provider.list_window(WINDOW, {})
    _request_timeout(exc, drip)
    assert provider._client is not None  # digest auth: only the library logs in
    provider.close()


def test_the_run_deadline_ends_a_run_of_requests_each_within_its_own(drip: DripServer) -> None:
    provider = CalDAVProvider(f"caldav:{drip.url}/cal/", settings={"caldav": {"timeout": 5}})
    with deadline.run_deadline(1, 600), pytest.raises(DeadlineExceeded) as exc:
        provider.list_window(WINDOW, {})
    assert str(exc.value).startswith(
        f"{_host(drip)} timed out: the run passed its 1 s deadline ([job] run_deadline) "
        "during PROPFIND /cal/"
    )
    # and nothing more is sent in that run
    seen = len(drip.seen)
    with deadline.run_deadline(1, 600):
        deadline.check("x", "y")  # a fresh run starts with time left
    assert len(drip.seen) == seen


# -- Microsoft 365: Graph requests and the Entra token endpoint --------------------------


@pytest.fixture
def tls_drip(graph_server: GraphTestServer) -> Iterator[DripServer]:  # noqa: F811
    # the Graph test server's certificate (issued for 127.0.0.1 by its test CA), so the
    # one verify_tls CA file covers both servers
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    tls = graph_server.tls
    context.load_cert_chain(str(tls.cert_file), str(tls.key_file))
    with DripServer(
        body=b'{"value": []}' + b" " * 400,
        status="200 OK",
        content_type="application/json",
        tls=context,
    ) as server:
        yield server


def test_graph_request(
    tls_drip: DripServer,
    graph_settings: Callable[..., dict[str, Any]],  # noqa: F811
) -> None:
    conf = read_settings(graph_settings(graph_url=tls_drip.url, timeout=5))
    client = GraphClient(conf, "anna@example.com")
    with deadline.run_deadline(600, 1), pytest.raises(DeadlineExceeded) as exc:
        client.request("GET", "/users/anna@example.com/calendar")
    _request_timeout(exc, tls_drip)
    client.close()


def test_graph_token_endpoint(
    tls_drip: DripServer,
    graph_settings: Callable[..., dict[str, Any]],  # noqa: F811
) -> None:
    conf = read_settings(graph_settings(authority=tls_drip.url, timeout=5))
    with deadline.run_deadline(600, 1), pytest.raises(DeadlineExceeded) as exc:
        TokenSource(conf).token()
    _request_timeout(exc, tls_drip)


# -- Exchange (exchangelib) and Google's token endpoint ----------------------------------


def test_exchange_request(drip: DripServer) -> None:
    drip.content_type = "text/xml; charset=utf-8"
    table = {
        "service_endpoint": f"{drip.url}/EWS/Exchange.asmx",
        "auth": "basic",
        "username": "svc-calsync",
        "password_env": SECRET_ENV,
        "version": "Exchange2016",
        "timeout": 5,
    }
    provider = EWSProvider("ews:anna@example.com", settings={"exchange": table})
    with deadline.run_deadline(600, 1), pytest.raises(DeadlineExceeded) as exc:
        provider.list_window(WINDOW, {})
    _request_timeout(exc, drip)
    assert "POST /EWS/Exchange.asmx" in str(exc.value)
    provider.close()


def test_google_token_endpoint(drip: DripServer, tmp_path: Path) -> None:
    drip.content_type, drip.status = "application/json", "200 OK"
    tokens = tmp_path / "google-tokens.json"
    store_token(tokens, "anna@example.com", "refresh-anna")
    table = {
        "base_url": f"{drip.url}/caldav/v2",
        "token_uri": f"{drip.url}/token",
        "client_id": "calsync-test.apps.googleusercontent.com",
        "client_secret_env": SECRET_ENV,
        "token_file": str(tokens),
    }
    provider = GoogleProvider("google-caldav:anna@example.com", settings={"google": table})
    with deadline.run_deadline(600, 1), pytest.raises(DeadlineExceeded) as exc:
        provider.list_window(WINDOW, {})
    _request_timeout(exc, drip)
    assert "POST /token" in str(exc.value)


def test_google_calendar_api(
    drip: DripServer,
    google_server: GoogleTestServer,  # noqa: F811
    tmp_path: Path,
) -> None:
    """The token comes from the Google test server; the Calendar API drips."""
    drip.content_type, drip.status = "application/json", "200 OK"
    calendar = google_server.add_user()
    tokens = tmp_path / "google-tokens.json"
    store_token(tokens, calendar.id, google_server.consent(calendar.id))
    table = {
        "api_url": f"{drip.url}/calendar/v3",
        "token_uri": google_server.token_uri,
        "client_id": "calsync-test.apps.googleusercontent.com",
        "client_secret_env": SECRET_ENV,
        "token_file": str(tokens),
    }
    provider = GoogleAPIProvider(f"google:{calendar.id}", settings={"google": table})
    with deadline.run_deadline(600, 1), pytest.raises(DeadlineExceeded) as exc:
        provider.list_window(WINDOW, {})
    _request_timeout(exc, drip)
    assert "GET /calendar/v3/calendars/" in str(exc.value)
    provider.close()


# -- the settings ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("request_deadline = 0", "request_deadline must be a number of seconds from 1"),
        ("run_deadline = true", "run_deadline must be a number of seconds from 1"),
        ('run_deadline = "10"', "run_deadline must be a number of seconds from 1"),
        ("run_deadline = inf", "run_deadline must be a number of seconds from 1"),
    ],
)
def test_deadline_settings_are_checked(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "calsync.toml"
    path.write_text(f"[job]\n{text}\n")
    with pytest.raises(ConfigInvalid, match=message):
        load_config(path)


def test_deadline_settings_reach_the_run(tmp_path: Path, drip: DripServer) -> None:
    path = tmp_path / "calsync.toml"
    path.write_text("[job]\nrequest_deadline = 1\nrun_deadline = 900.5\n")
    job = load_config(path).job
    provider = CalDAVProvider(f"caldav:{drip.url}/cal/", settings={"caldav": {"timeout": 5}})
    with deadline.for_job(job), pytest.raises(DeadlineExceeded) as exc:
        remaining = deadline.remaining()
        assert remaining is not None and 800 < remaining <= 900.5
        provider.list_window(WINDOW, {})
    _request_timeout(exc, drip)


@pytest.mark.parametrize(
    ("job", "expected"),
    [
        ("request_deadline = 1", "timed out: no complete reply to PROPFIND /cal/ within 1 s"),
        ("run_deadline = 1", "timed out: the run passed its 1 s deadline ([job] run_deadline)"),
    ],
)
def test_a_sync_reports_the_timeout_naming_the_host(
    tmp_path: Path, drip: DripServer, job: str, expected: str
) -> None:
    env = Env(
        tmp_path,
        remote_url=f"caldav:{drip.url}/cal/",
        config_text=f"[job]\n{job}\n[caldav]\ntimeout = 5\n",
    )
    env.add_user()
    result = env.init()
    assert result.result == "failed"
    assert result.reason.startswith(f"{_host(drip)} {expected}"), result.reason


def test_a_retry_wait_past_the_run_deadline_fails_at_once() -> None:
    busy = [(503, {"Retry-After": "30"}, b"")]
    with dav_front("http://127.0.0.1:9/cal/", canned=busy) as front:
        provider = CalDAVProvider(f"caldav:{front.calendar_url}", settings={"caldav": {}})
        with deadline.run_deadline(5, 5), pytest.raises(DeadlineExceeded) as exc:
            provider.list_window(WINDOW, {})
    assert "during a wait of 30 s to retry (HTTP 503)" in str(exc.value)
    assert len(front.seen) == 1  # not sent again after a wait past the deadline
