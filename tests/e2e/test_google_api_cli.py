"""End to end through the CLI on the Calendar API (`google:`): per-user consent, one
user syncing, one whose consent Google revoked. The revoked one fails in one line
that says what to do, and `calsync status` shows it for that user only."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from typer.testing import CliRunner

from sync.model import Event
from sync.providers.registry import open_provider
from tests.providers.google.server.fixtures import google_server, write_private
from tests.providers.google.server.server import GoogleTestServer
from tui.cli import _register, app

_register()
__all__ = ["google_server"]


def cli(ws: Path, *args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(app, ["--workspace", str(ws), *args])
    return result.exit_code, result.stdout, result.stderr


def test_revoked_consent_is_named_per_user(
    google_server: GoogleTestServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CALSYNC_TEST_GOOGLE_SECRET", "client-secret")
    anna, bert = google_server.add_user(), google_server.add_user()
    tokens = write_private(
        tmp_path / "tokens.json",
        json.dumps(
            {
                anna.id: {"refresh_token": google_server.consent(anna.id)},
                bert.id: {"refresh_token": "1//revoked-by-bert"},
            }
        ),
    )
    ws = tmp_path / "ws"
    ws.mkdir()
    (ws / "calsync.toml").write_text(
        "[google]\n"
        f'api_url = "{google_server.api_url}"\n'
        f'token_uri = "{google_server.token_uri}"\n'
        'client_id = "cid.apps.googleusercontent.com"\n'
        'client_secret_env = "CALSYNC_TEST_GOOGLE_SECRET"\n'
        f'token_file = "{tokens}"\n',
        encoding="utf-8",
    )
    start = datetime.now(UTC).replace(microsecond=0) + timedelta(days=2)
    for name, calendar in (("anna", anna), ("bert", bert)):
        crm = tmp_path / "crm" / name
        crm.mkdir(parents=True)
        code, out, err = cli(
            ws, "user", "add", name, "--crm", f"folder:{crm}", "--remote", f"google:{calendar.id}"
        )
        assert code == 0, (out, err)
        with open_provider(f"folder:{crm}") as p:
            p.create(Event(uid=f"crm-{name}", subject=f"Visit {name}", start=start, end=start))

    assert cli(ws, "init", "anna")[0] == 0
    code, out, err = cli(ws, "init", "bert")
    text = " ".join((out + err).split())
    assert code != 0 and "Traceback" not in text
    assert "needs re-consent" in text and "calsync google auth" in text
    assert "revoked-by-bert" not in text  # never the token itself

    code, out, _ = cli(ws, "status", "--json")
    rows = {r["name"]: r for r in json.loads(out)}
    assert rows["anna"]["last_result"] == "ok"
    assert "calsync google auth" in str(rows["bert"]["last_error"] or rows["bert"]["last_reason"])
    assert [e["summary"] for e in anna.events.values()] == ["Visit anna"]
    assert google_server.mail_sent == [] or all(
        m[1] not in anna.events for m in google_server.mail_sent
    )
