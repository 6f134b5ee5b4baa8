"""Error classes against the strict EWS test server: Exchange refusing the service
account's credentials is permanent (the job stops asking until `calsync check`
passes); ErrorServerBusy is throttling, a transient state with the server's own
retry time."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from sync import service
from sync.health import health_of, read_runs
from sync.job import Job
from tests.engine.harness import Env
from tests.providers.ews.server.fixtures import PASSWORD_ENV, SERVICE_PASSWORD, ews, new_mailbox
from tests.providers.ews.server.server import EWSTestServer
from tests.providers.ews.server.store import BACK_OFF_MS

__all__ = ["ews"]


def _env(tmp_path: Path, ews: EWSTestServer, monkeypatch: pytest.MonkeyPatch) -> Env:
    mailbox, config = new_mailbox(ews, monkeypatch)
    env = Env(tmp_path, remote_url=f"ews:{mailbox}", config_text=config)
    env.add_user()
    assert env.init().result == "ok"
    return env


def test_refused_credentials_wait_for_an_operator_until_check_passes(
    tmp_path: Path, ews: EWSTestServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    env = _env(tmp_path, ews, monkeypatch)
    # the service account's password was rotated and calsync.toml not yet updated
    monkeypatch.setenv(PASSWORD_ENV, "rotated-elsewhere")
    first = Job(env.ws, env.config).run()
    assert first.results[0].result == "failed"
    health = first.health["anna"]
    assert (health.state, health.error_class, health.failures) == ("needs_operator", "permanent", 1)
    assert "refused the credentials" in health.reason
    assert "fix the credentials" in health.action and "`calsync check anna`" in health.action
    assert read_runs(env.ws, "anna")[-1]["error_type"] == "AuthFailed"

    # later runs do not ask Exchange again (no run, no lockout of the service account)
    runs = len(read_runs(env.ws, "anna"))
    later = Job(env.ws, env.config, clock=lambda: datetime.now(UTC) + timedelta(days=2)).run()
    assert later.results[0].result == "needs_operator" and "anna" in later.repeats
    assert len(read_runs(env.ws, "anna")) == runs

    cleared: list[str] = []
    failed = service.check_user(env.ws, env.config, "anna", cleared)
    assert not all(r["ok"] for r in failed) and cleared == []
    monkeypatch.setenv(PASSWORD_ENV, SERVICE_PASSWORD)  # the operator fixed it
    passed = service.check_user(env.ws, env.config, "anna", cleared)
    assert all(r["ok"] for r in passed) and cleared == ["anna"]
    again = Job(env.ws, env.config).run()
    assert again.results[0].result == "ok" and again.health["anna"].state == "ok"


def test_server_busy_is_throttling_with_the_servers_retry_time(
    tmp_path: Path, ews: EWSTestServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    env = _env(tmp_path, ews, monkeypatch)
    ews.org.busy(1, service="FindItem", mailbox=env.remote_url.partition(":")[2])
    before = datetime.now(UTC)
    summary = Job(env.ws, env.config).run()
    assert summary.results[0].result == "deferred"
    health = summary.health["anna"]
    assert (health.state, health.error_class) == ("throttled", "transient")
    assert health.next_retry is not None
    wait = health.next_retry - before
    # the server's BackOffMilliseconds, to the second the record keeps
    assert timedelta(milliseconds=BACK_OFF_MS) - timedelta(seconds=1) <= wait
    assert wait <= timedelta(milliseconds=BACK_OFF_MS) + timedelta(minutes=1)
    assert "wait" in health.action
    user = {"name": "anna", "crm": env.crm_url, "remote": env.remote_url}
    assert (
        health_of(env.ws, env.config, user, health.next_retry + timedelta(seconds=1)).state == "ok"
    )
