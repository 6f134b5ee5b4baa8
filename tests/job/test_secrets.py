"""No secret in the run log or the --json summary, even when a connection fails."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from storage.config import load_config
from sync.runlog import MASK, Redactor, referenced_secrets
from tests.job.echo_server import echo_server
from tests.job.helpers import Site, by_user

SECRET = "Sup3r-Secret-Passw0rd"
ENV = "CALSYNC_TEST_JOB_PASSWORD"
CONFIG = f"""
[caldav]
username = "anna"
password_env = "{ENV}"
timeout = 5
"""


def pretend_initialized(site: Site, name: str) -> None:
    """Let `sync --all` go to the server: init against it would fail the same way."""
    with site.files(name).open_state() as state:
        state.meta["initialized_at"] = "2026-01-01T00:00:00+00:00"


def test_a_password_thrown_back_by_a_server_stays_out_of_log_and_json(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(ENV, SECRET)
    site = Site(tmp_path, CONFIG)
    with echo_server() as echo, echo_server(redirect=True) as redirect:
        site.add("echo", remote=f"caldav:{echo.url}/cal/anna/")
        site.add("redirect", remote=f"caldav:{redirect.url}/cal/anna/")
        site.add("closed", remote="caldav:http://127.0.0.1:9/cal/anna/")
        for name in ("echo", "redirect", "closed"):
            pretend_initialized(site, name)
        run = site.cli("sync", "--all", "--json")
        # the job would leave them alone now (sync/health.py): given back, they run again
        retry = site.cli("retry", "echo", "redirect", "closed")
        plain = site.cli("sync", "--all")
    # the password really was sent, and thrown back
    assert f"anna:{SECRET}" in echo.seen and f"anna:{SECRET}" in redirect.seen
    assert run.code == 1, run
    users = by_user(run.json())
    assert {u["result"] for u in users.values()} == {"failed"}
    # the redirect's connection error quotes the URL, password and all: masked
    assert MASK in users["redirect"]["error"], users["redirect"]
    log = site.log_text()
    assert "user=redirect" in log and MASK in log
    assert retry.code == 0 and retry.out.count("failures cleared") == 3, retry
    assert plain.err.count("failed") == 3, plain
    for text in (run.out, run.err, retry.out, plain.out, plain.err, log):
        assert SECRET not in text
    for path in site.ws.logs_dir.iterdir():
        assert SECRET not in path.read_text(encoding="utf-8")
        assert path.stat().st_mode & 0o777 == 0o600


def test_a_password_thrown_back_by_a_server_stays_out_of_the_state_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(ENV, SECRET)
    site = Site(tmp_path, CONFIG)
    with echo_server(redirect=True) as redirect:
        site.add("redirect", remote=f"caldav:{redirect.url}/cal/anna/")
        pretend_initialized(site, "redirect")
        site.cli("sync", "--all", "--json")
    assert SECRET not in json.dumps(site.files("redirect").read_state().runs)


def test_referenced_secrets_are_read_from_env_and_private_files(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    secret_file = tmp_path / "token"
    secret_file.write_text("file-held-token-123\n", encoding="utf-8")
    secret_file.chmod(0o600)
    monkeypatch.setenv(ENV, SECRET)
    monkeypatch.setenv("CALSYNC_TEST_SHORT", "abc")
    config_path = tmp_path / "calsync.toml"
    config_path.write_text(
        f"""
[caldav]
password_env = "{ENV}"
[caldav.servers."https://x/"]
token_file = "{secret_file}"
[exchange]
password_env = "CALSYNC_TEST_UNSET_VARIABLE"
client_secret_env = "CALSYNC_TEST_SHORT"
""",
        encoding="utf-8",
    )
    config = load_config(config_path)
    # too short a value is left alone: masking "abc" would garble the whole log
    assert referenced_secrets(config) == {SECRET, "file-held-token-123"}
    redact = Redactor.for_config(config)
    assert redact(f"x {SECRET} y file-held-token-123 abc") == f"x {MASK} y {MASK} abc"
    assert redact.value({"a": [SECRET], "b": 1}) == {"a": [MASK], "b": 1}


def test_a_database_urls_password_is_masked_on_its_own_too(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = "postgresql+psycopg://calsync:p%40ss-w0rd-9@db.example.com/crm"
    monkeypatch.setenv("CALSYNC_TEST_DB_URL", url)
    config_path = tmp_path / "calsync.toml"
    config_path.write_text('[sql.crm]\nurl_env = "CALSYNC_TEST_DB_URL"\n', encoding="utf-8")
    redact = Redactor.for_config(load_config(config_path))
    assert redact(f"connect {url} failed") == f"connect {MASK} failed"
    assert redact("driver said: password p@ss-w0rd-9 refused") == (
        f"driver said: password {MASK} refused"
    )
