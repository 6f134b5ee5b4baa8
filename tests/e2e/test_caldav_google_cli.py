"""End to end through the CLI: the server job syncs several users' Google calendars
through one service account with domain-wide delegation (SPEC R13).

A loopback Google stand-in serves each user's `/caldav/v2/<email>/events/` from a
Radicale calendar and only accepts the access token issued for that user (the JWT
subject), so a run that mixed up whom it acts as would fail. Delegation for carl is
not granted: he is named as failing while the others sync.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from sync.model import Event
from sync.providers.base import Item, Window
from sync.providers.registry import open_provider
from tests.providers.dav.dav_front import DavFront, dav_front
from tests.providers.dav.radicale_server import RadicaleServer
from tests.providers.google.test_google_caldav import service_account_key
from tui.cli import _register, app

_register()

EVERYTHING = Window(datetime(2000, 1, 1, tzinfo=UTC), datetime(2100, 1, 1, tzinfo=UTC))
USERS = ("anna", "bert")
NOT_DELEGATED = "Client is unauthorized to retrieve access tokens using this method"


def prefix(who: str) -> str:
    return f"/caldav/v2/{who}@example.com/events/"


class Google:
    def __init__(self, root: Path, radicale: RadicaleServer) -> None:
        self.root = root
        self.radicale = radicale
        self.subjects: list[str] = []
        self.public = b""
        self.calendars = {who: radicale.new_calendar() for who in USERS}

    def token(self, form: dict[str, str]) -> tuple[int, dict[str, Any]]:
        from google.auth import jwt

        claims = jwt.decode(form["assertion"], certs=self.public, audience=None)
        self.subjects.append(claims["sub"])
        if claims["sub"].startswith("carl@"):
            return 401, {"error": "unauthorized_client", "error_description": NOT_DELEGATED}
        return 200, {"access_token": f"sa-{claims['sub']}", "expires_in": 3600}


@pytest.fixture
def google(tmp_path: Path, radicale_server: RadicaleServer) -> Iterator[tuple[Google, DavFront]]:
    g = Google(tmp_path, radicale_server)
    routes: dict[str, tuple[str, str | None]] = {
        prefix(who): (url, f"sa-{who}@example.com") for who, url in g.calendars.items()
    }
    with dav_front(
        g.calendars["anna"], prefix=prefix("anna"), routes=routes, token_endpoint=g.token
    ) as front:
        yield g, front


def cli(ws: Path, *args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(app, ["--workspace", str(ws), *args])
    return result.exit_code, result.stdout, result.stderr


def test_one_service_account_syncs_every_users_calendar(
    google: tuple[Google, DavFront], tmp_path: Path
) -> None:
    g, front = google
    info, g.public = service_account_key(front.url + "/token")
    key = tmp_path / "sa.json"
    key.write_text(json.dumps(info))
    key.chmod(0o600)
    ws = tmp_path / "ws"
    ws.mkdir()
    (ws / "calsync.toml").write_text(
        f'[google]\nbase_url = "{front.url}/caldav/v2"\nservice_account_file = "{key}"\n',
        encoding="utf-8",
    )
    settings = {"google": {"base_url": front.url + "/caldav/v2", "service_account_file": str(key)}}
    start = datetime.now(UTC).replace(microsecond=0) + timedelta(days=2)
    for who in (*USERS, "carl"):
        crm = tmp_path / "crm" / who
        crm.mkdir(parents=True)
        code, out, err = cli(
            ws,
            "user",
            "add",
            who,
            "--crm",
            f"folder:{crm}",
            "--remote",
            f"google-caldav:{who}@example.com",
        )
        assert code == 0, (out, err)
        with open_provider(f"folder:{crm}", settings) as p:
            p.create(Event(uid=f"crm-{who}", subject=f"Visit {who}", start=start, end=start))

    for who in USERS:
        code, out, err = cli(ws, "init", who)
        assert code == 0, (who, out, err)
    code, out, err = cli(ws, "init", "carl")
    assert code != 0 and NOT_DELEGATED in " ".join((out + err).split())

    code, out, err = cli(ws, "check", "carl", "--json")
    failed = [c for c in json.loads(out)["checks"] if not c["ok"]]
    assert [c["check"] for c in failed] == ["credentials accepted"]
    assert NOT_DELEGATED in failed[0]["detail"]

    code, out, err = cli(ws, "sync", "--all", "--json")
    users = {u["user"]: u for u in json.loads(out)["users"]}
    assert users["anna"]["result"] == users["bert"]["result"] == "ok"
    assert users["carl"]["result"] != "ok"
    assert code != 0

    for who in USERS:
        with open_provider(f"google-caldav:{who}@example.com", settings) as remote:
            got = remote.fetch(list(remote.list_window(EVERYTHING, {}).etags))
        assert [i.event.subject for i in got.values() if isinstance(i, Item)] == [f"Visit {who}"]
    assert set(g.subjects) == {"anna@example.com", "bert@example.com", "carl@example.com"}
    # every CalDAV request carried the token issued for the calendar's own user
    for seen in front.seen:
        if seen.path.startswith("/caldav/"):
            who = seen.path.split("/")[3]
            assert seen.headers["Authorization"] == f"Bearer sa-{who}", seen.path
