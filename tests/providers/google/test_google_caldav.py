"""The Google flavour of the CalDAV adapter (`google-caldav:`), against a loopback Google stand-in.

The stand-in (tests/providers/dav/dav_front.py) serves Google's URL layout
`/caldav/v2/<calendar id>/events/` in front of a real Radicale calendar, demands a
bearer token, answers sync-collection with 507 as Google does, and runs an OAuth
token endpoint. No network: the service-account key is generated here.
"""

from __future__ import annotations

import json
import os
import stat
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from sync.model import Event
from sync.providers.base import AuthFailed, ConfigError, ItemRefused, Window
from sync.providers.google.auth import read_tokens, store_token
from sync.providers.google.caldav import GoogleCalDAVProvider as GoogleProvider
from tests.providers.dav.dav_front import DavFront, dav_front

CALENDAR = "anna@example.com"
PREFIX = "/caldav/v2/anna@example.com/events/"
WINDOW = Window(datetime(2026, 1, 1, tzinfo=UTC), datetime(2027, 1, 1, tzinfo=UTC))


def event(n: int = 0) -> Event:
    start = datetime(2026, 5, 4, 9, tzinfo=UTC) + timedelta(days=n)
    return Event(
        uid=f"g-{uuid.uuid4().hex[:10]}",
        subject=f"G {n}",
        start=start,
        end=start + timedelta(hours=1),
    )


class TokenServer:
    """The OAuth token endpoint: hands out access-1, access-2, ... and records grants."""

    def __init__(self) -> None:
        self.grants: list[dict[str, str]] = []

    def __call__(self, form: dict[str, str]) -> tuple[int, dict[str, Any]]:
        self.grants.append(form)
        if form.get("refresh_token") == "revoked":
            return 400, {"error": "invalid_grant", "error_description": "Token has been revoked."}
        return 200, {
            "access_token": f"access-{len(self.grants)}",
            "expires_in": 3600,
            "token_type": "Bearer",
        }


@pytest.fixture
def tokens() -> TokenServer:
    return TokenServer()


@pytest.fixture
def front(radicale_calendar: str, tokens: TokenServer) -> Iterator[DavFront]:
    with dav_front(
        radicale_calendar,
        prefix=PREFIX,
        refuse_sync=507,
        bearer_tokens={"access-1", "access-2", "access-3"},
        token_endpoint=tokens,
    ) as f:
        yield f


@pytest.fixture
def token_file(tmp_path: Path) -> Path:
    path = tmp_path / "google-tokens.json"
    store_token(path, CALENDAR, "refresh-anna")
    return path


def user_settings(front: DavFront, token_file: Path) -> dict[str, Any]:
    return {
        "google": {
            "base_url": front.url + "/caldav/v2",
            "token_uri": front.url + "/token",
            "client_id": "calsync-test.apps.googleusercontent.com",
            "client_secret_env": "CALSYNC_TEST_GOOGLE_SECRET",
            "token_file": str(token_file),
        }
    }


@pytest.fixture(autouse=True)
def _client_secret(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CALSYNC_TEST_GOOGLE_SECRET", "not-so-secret")


def caldav_requests(front: DavFront) -> list[Any]:
    return [s for s in front.seen if s.path != "/token"]


def test_url_form_and_refreshed_bearer_token(
    front: DavFront, tokens: TokenServer, token_file: Path
) -> None:
    with GoogleProvider(
        f"google-caldav:{CALENDAR}", settings=user_settings(front, token_file)
    ) as g:
        assert g.identity() == f"google:{CALENDAR}"
        item = g.create(event(1))
        cache: dict[str, Any] = {}
        listing = g.list_window(WINDOW, cache)
    assert listing.etags == {item.id: item.etag}
    assert cache["mode"] == "query"  # Google's 507 on sync-collection
    assert tokens.grants[0]["grant_type"] == "refresh_token"
    assert tokens.grants[0]["refresh_token"] == "refresh-anna"
    assert tokens.grants[0]["client_id"] == "calsync-test.apps.googleusercontent.com"
    sent = caldav_requests(front)
    assert all(s.path.startswith(PREFIX) for s in sent)
    assert {s.headers["Authorization"] for s in sent} == {"Bearer access-1"}
    put = next(s for s in sent if s.method == "PUT")
    assert "If-None-Match" not in put.headers  # Google honours only If-Match


def test_rejected_access_token_is_refreshed_once(
    front: DavFront, tokens: TokenServer, token_file: Path
) -> None:
    front.bearer_tokens = {"access-2"}  # Google revoked the first token early
    with GoogleProvider(
        f"google-caldav:{CALENDAR}", settings=user_settings(front, token_file)
    ) as g:
        g.identity()
    assert len(tokens.grants) == 2
    assert [s.headers["Authorization"] for s in caldav_requests(front)] == [
        "Bearer access-1",
        "Bearer access-2",
    ]


def test_revoked_refresh_token_is_auth_failed(front: DavFront, tmp_path: Path) -> None:
    path = tmp_path / "t.json"
    store_token(path, CALENDAR, "revoked")
    g = GoogleProvider(f"google-caldav:{CALENDAR}", settings=user_settings(front, path))
    with pytest.raises(AuthFailed, match="needs re-consent"):
        g.identity()
    assert [name for name, ok, _ in g.check() if not ok] == ["credentials accepted"]


def test_user_without_consent_is_told_to_run_google_auth(front: DavFront, tmp_path: Path) -> None:
    g = GoogleProvider(
        "google-caldav:bob@example.com", settings=user_settings(front, tmp_path / "none.json")
    )
    with pytest.raises(AuthFailed, match="calsync google auth"):
        g.identity()


def test_409_on_recreate_asks_for_a_fresh_uid(front: DavFront, token_file: Path) -> None:
    with GoogleProvider(
        f"google-caldav:{CALENDAR}", settings=user_settings(front, token_file)
    ) as g:
        g.identity()
        front.canned.append((409, {}, b""))
        with pytest.raises(ItemRefused) as info:
            g.create(event(2))
    assert info.value.uid_conflict


def test_vtimezone_only_objects_are_not_events(front: DavFront, token_file: Path) -> None:
    with GoogleProvider(
        f"google-caldav:{CALENDAR}", settings=user_settings(front, token_file)
    ) as g:
        g._request(
            "PUT",
            front.calendar_url + "tz-only.ics",
            "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//Google Inc//EN\r\n"
            "BEGIN:VTIMEZONE\r\nTZID:Europe/Stockholm\r\nBEGIN:STANDARD\r\n"
            "DTSTART:19701025T030000\r\nTZOFFSETFROM:+0200\r\nTZOFFSETTO:+0100\r\n"
            "END:STANDARD\r\nEND:VTIMEZONE\r\nEND:VCALENDAR\r\n",
            {"Content-Type": "text/calendar"},
        )
        assert g.fetch(["tz-only.ics"]) == {}
        assert g.list_window(WINDOW, {}).etags == {}


def test_token_file_is_private(tmp_path: Path) -> None:
    path = tmp_path / "tokens.json"
    store_token(path, CALENDAR, "r1")
    store_token(path, "bob@example.com", "r2")
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert read_tokens(path)[CALENDAR] == {"refresh_token": "r1"}
    path.chmod(0o644)
    with pytest.raises(ConfigError, match="chmod 600"):
        read_tokens(path)


def test_url_needs_a_calendar_id() -> None:
    with pytest.raises(ConfigError, match="google-caldav:CALENDAR_ID"):
        GoogleProvider("google-caldav:", settings={})
    assert (
        GoogleProvider.normalize_url("google-caldav: anna@example.com")
        == f"google-caldav:{CALENDAR}"
    )


def test_no_credentials_configured_is_a_config_error() -> None:
    g = GoogleProvider(f"google-caldav:{CALENDAR}", settings={})
    with pytest.raises(ConfigError, match="service_account_file"):
        g.identity()


# -- service account with domain-wide delegation ------------------------------------------------


def service_account_key(token_uri: str) -> tuple[dict[str, Any], bytes]:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()
    public = key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    info = {
        "type": "service_account",
        "project_id": "calsync-test",
        "private_key_id": "k1",
        "private_key": pem,
        "client_email": "sync@calsync-test.iam.gserviceaccount.com",
        "client_id": "42",
        "token_uri": token_uri,
    }
    return info, public


def test_service_account_acts_as_the_calendar_owner(radicale_calendar: str, tmp_path: Path) -> None:
    from google.auth import jwt

    claims: list[dict[str, Any]] = []
    public: bytes = b""

    def endpoint(form: dict[str, str]) -> tuple[int, dict[str, Any]]:
        assert form["grant_type"] == "urn:ietf:params:oauth:grant-type:jwt-bearer"
        claims.append(jwt.decode(form["assertion"], certs=public, audience=None))
        return 200, {"access_token": "sa-token", "expires_in": 3600, "token_type": "Bearer"}

    with dav_front(
        radicale_calendar, prefix=PREFIX, bearer_tokens={"sa-token"}, token_endpoint=endpoint
    ) as front:
        info, public = service_account_key(front.url + "/token")
        key_file = tmp_path / "sa.json"
        key_file.write_text(json.dumps(info))
        key_file.chmod(0o600)
        settings = {
            "google": {"base_url": front.url + "/caldav/v2", "service_account_file": str(key_file)}
        }
        with GoogleProvider(f"google-caldav:{CALENDAR}", settings=settings) as g:
            checks = g.check()
        assert all(ok for _, ok, _ in checks), checks
    (claim,) = claims
    assert claim["sub"] == CALENDAR
    assert claim["iss"] == info["client_email"]
    assert claim["scope"] == "https://www.googleapis.com/auth/calendar"


def test_service_account_key_must_be_private(tmp_path: Path) -> None:
    key_file = tmp_path / "sa.json"
    key_file.write_text("{}")
    key_file.chmod(0o644)
    g = GoogleProvider(
        f"google-caldav:{CALENDAR}", settings={"google": {"service_account_file": str(key_file)}}
    )
    with pytest.raises(ConfigError, match="chmod 600"):
        g.identity()


def test_bad_key_file_never_echoes_its_content(tmp_path: Path) -> None:
    key_file = tmp_path / "sa.json"
    key_file.write_text('{"private_key": "SECRET-MATERIAL"}')
    key_file.chmod(0o600)
    g = GoogleProvider(
        f"google-caldav:{CALENDAR}", settings={"google": {"service_account_file": str(key_file)}}
    )
    with pytest.raises(ConfigError) as info:
        g.identity()
    assert "SECRET-MATERIAL" not in str(info.value)
    assert os.linesep not in str(info.value)


# -- per-user consent (`calsync google auth NAME`) ---------------------------------------------


def consent_endpoint(grants: list[dict[str, str]]) -> Any:
    def endpoint(form: dict[str, str]) -> tuple[int, dict[str, Any]]:
        grants.append(form)
        if form["grant_type"] != "authorization_code" or form["code"] != "the-code":
            return 400, {"error": "invalid_grant"}
        return 200, {"access_token": "a", "refresh_token": "fresh-refresh", "expires_in": 3600}

    return endpoint


def fake_browser(url: str) -> bool:
    """What Google + the user's browser do: redirect back to calsync with a code."""
    from urllib.parse import parse_qs, urlsplit

    import requests

    query = {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()}
    assert query["code_challenge_method"] == "S256" and query["access_type"] == "offline"
    reply = requests.get(
        query["redirect_uri"], params={"code": "the-code", "state": query["state"]}, timeout=10
    )
    assert reply.status_code == 200
    return True


def test_consent_stores_the_refresh_token(tmp_path: Path) -> None:
    from sync.providers.google.consent import run_consent

    grants: list[dict[str, str]] = []
    with dav_front("http://127.0.0.1:9/x/", token_endpoint=consent_endpoint(grants)) as front:
        table = {
            "client_id": "cid",
            "client_secret_env": "CALSYNC_TEST_GOOGLE_SECRET",
            "token_uri": front.url + "/token",
        }
        path = tmp_path / "tokens.json"
        run_consent(table, CALENDAR, path, show_url=fake_browser, timeout=30)
    assert read_tokens(path) == {CALENDAR: {"refresh_token": "fresh-refresh"}}
    assert grants[0]["code_verifier"] and grants[0]["client_secret"] == "not-so-secret"


def test_google_auth_command(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from typer.testing import CliRunner

    from storage.users import UserStore
    from storage.workspace import Workspace
    from tui.cli import app, register

    register()  # adds `calsync google` with the other commands

    grants: list[dict[str, str]] = []
    monkeypatch.setattr("webbrowser.open", fake_browser)
    with dav_front("http://127.0.0.1:9/x/", token_endpoint=consent_endpoint(grants)) as front:
        ws = Workspace(tmp_path / "ws").ensure()
        token_file = tmp_path / "ws" / "google-tokens.json"
        ws.config_path.write_text(
            "[google]\n"
            'client_id = "cid"\n'
            'client_secret_env = "CALSYNC_TEST_GOOGLE_SECRET"\n'
            f'token_uri = "{front.url}/token"\n'
            f'auth_uri = "{front.url}/auth"\n'
            f'token_file = "{token_file}"\n',
            encoding="utf-8",
        )
        store = UserStore(ws)
        store.add(
            {"name": "anna", "crm": f"folder:{tmp_path / 'crm'}", "remote": f"google:{CALENDAR}"}
        )
        store.add(
            {"name": "bob", "crm": f"folder:{tmp_path / 'crm2'}", "remote": "caldav:https://x/c/"}
        )
        runner = CliRunner()
        ok = runner.invoke(app, ["--workspace", str(ws.root), "google", "auth", "anna"])
        assert ok.exit_code == 0, ok.output
        assert read_tokens(token_file)[CALENDAR] == {"refresh_token": "fresh-refresh"}
        assert "fresh-refresh" not in ok.output

        wrong = runner.invoke(app, ["--workspace", str(ws.root), "google", "auth", "bob"])
        assert wrong.exit_code == 2
        assert "not google:CALENDAR_ID" in wrong.output


def test_google_auth_warns_about_7_day_tokens(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An OAuth client in "Testing": Google says the refresh token lives 7 days."""
    from typer.testing import CliRunner

    from storage.users import UserStore
    from storage.workspace import Workspace
    from tui.cli import app, register

    register()

    def endpoint(form: dict[str, str]) -> tuple[int, dict[str, Any]]:
        assert form["code"] == "the-code"
        return 200, {
            "access_token": "a",
            "refresh_token": "weekly",
            "expires_in": 3599,
            "refresh_token_expires_in": 604799,
        }

    monkeypatch.setattr("webbrowser.open", fake_browser)
    with dav_front("http://127.0.0.1:9/x/", token_endpoint=endpoint) as front:
        ws = Workspace(tmp_path / "ws").ensure()
        token_file = tmp_path / "ws" / "google-tokens.json"
        ws.config_path.write_text(
            "[google]\n"
            'client_id = "cid"\n'
            'client_secret_env = "CALSYNC_TEST_GOOGLE_SECRET"\n'
            f'token_uri = "{front.url}/token"\n'
            f'auth_uri = "{front.url}/auth"\n'
            f'token_file = "{token_file}"\n',
            encoding="utf-8",
        )
        UserStore(ws).add(
            {"name": "anna", "crm": f"folder:{tmp_path / 'crm'}", "remote": f"google:{CALENDAR}"}
        )
        done = CliRunner().invoke(app, ["--workspace", str(ws.root), "google", "auth", "anna"])
    assert done.exit_code == 0, done.output
    text = " ".join(done.output.split())
    assert "expires in 7.0 days" in text and "Testing" in text
    assert "calsync google auth anna" in text and "weekly" not in text
