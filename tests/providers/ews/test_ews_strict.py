"""Exchange as it really behaves (issue 14), against the strict EWS test server.

Throttling with real back-off values defers a user instead of failing them, a 401
sent as throttling is retried once, calendar views longer than two years are read
in spans, and an unrelated CRM edit leaves an Outlook HTML body alone.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from storage.state import UserState
from storage.users import UserStore
from sync import service
from sync.job import Job
from sync.providers.base import AuthFailed, Throttled, Window
from sync.providers.ews.provider import EWSProvider
from tests.engine.harness import Env, at, ev
from tests.providers.ews.server.fixtures import SERVICE_ACCOUNT, ews, new_mailbox
from tests.providers.ews.server.server import EWSTestServer
from tests.providers.ews.server.store import BACK_OFF_MS
from tui.widgets.format import result_text

__all__ = ["ews"]


def _env(tmp_path: Path, ews: EWSTestServer, monkeypatch: pytest.MonkeyPatch, name: str) -> Env:
    mailbox, config = new_mailbox(ews, monkeypatch)
    env = Env(tmp_path / name, remote_url=f"ews:{mailbox}", config_text=config, name=name)
    env.add_user()
    return env


def _provider(env: Env) -> Any:
    return env.provider("remote")


def _finds(ews: EWSTestServer, mailbox: str) -> int:
    return sum(mailbox in call.body for call in ews.org.calls("FindItem"))


def test_a_real_server_busy_defers_the_user_and_later_runs_skip_them(
    tmp_path: Path, ews: EWSTestServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    env = _env(tmp_path, ews, monkeypatch, "anna")
    assert env.init().result == "ok"
    # a second user in the same workspace, on another mailbox
    bert, _config = new_mailbox(ews, monkeypatch)
    (tmp_path / "bert-crm").mkdir()  # calsync never creates a calendar folder
    UserStore(env.ws).add(
        {"name": "bert", "crm": f"folder:{tmp_path / 'bert-crm'}", "remote": f"ews:{bert}"}
    )
    assert service.init_user(env.ws, env.config, "bert").result == "ok"
    anna = env.remote_url.partition(":")[2]

    # Exchange asks anna's run for five minutes (exchangelib's recorded 297749 ms)
    ews.org.busy(1, service="FindItem", mailbox=anna)
    before = datetime.now(UTC)
    summary = Job(env.ws, env.config).run()
    results = {r.user: r for r in summary.results}
    assert results["bert"].result == "ok"
    assert results["anna"].result == "deferred"
    retry = before + timedelta(milliseconds=BACK_OFF_MS)
    assert results["anna"].reason.startswith("throttled by Exchange at ")
    assert results["anna"].reason.endswith(f"retry after {retry:%H:%M} UTC") or results[
        "anna"
    ].reason.endswith(f"retry after {retry + timedelta(minutes=1):%H:%M} UTC")
    status = {s["name"]: s for s in service.status(env.ws, env.config)}
    assert status["anna"]["last_result"] == "deferred"
    assert "retry after" in status["anna"]["last_reason"]
    assert result_text("deferred").plain == "throttled"  # the TUI's label

    # the next run (cron, watch) does not ask Exchange for anna at all
    asked = _finds(ews, anna)
    summary = Job(env.ws, env.config).run()
    assert {r.user: r.result for r in summary.results} == {"anna": "deferred", "bert": "ok"}
    assert _finds(ews, anna) == asked

    # once the time has passed, anna syncs again
    state = UserState(env.files.state_path, writable=True)
    state.runs[-1]["retry_after"] = (datetime.now(UTC) - timedelta(seconds=1)).isoformat()
    state.flush_runs()
    assert env.sync().result == "ok"
    assert _finds(ews, anna) > asked


def test_a_401_sent_as_throttling_is_retried_once(
    tmp_path: Path, ews: EWSTestServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    env = _env(tmp_path, ews, monkeypatch, "carl")
    window = Window(datetime.now(UTC) - timedelta(days=1), datetime.now(UTC) + timedelta(days=30))
    with _provider(env) as p:
        p.create(ev("t-1", "Kept"))
        ews.org.throttle_with_401(1)
        assert len(p.list_window(window, {}).etags) == 1
        ews.org.throttle_with_401(2)
        with pytest.raises(AuthFailed, match="refused the credentials"):
            p.list_window(window, {})


def test_a_window_over_two_years_is_read_in_spans(
    tmp_path: Path, ews: EWSTestServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    env = _env(tmp_path, ews, monkeypatch, "dora")
    now = datetime.now(UTC)
    with _provider(env) as p:
        near = p.create(ev("near", "Near", days=2))
        far = p.create(ev("far", "Far", days=1000))
        listing = p.list_window(Window(now - timedelta(days=400), now + timedelta(days=1200)), {})
    assert {near.id, far.id} <= set(listing.etags)


def test_an_unrelated_crm_edit_leaves_the_outlook_html_body_alone(
    tmp_path: Path, ews: EWSTestServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    env = _env(tmp_path, ews, monkeypatch, "eva")
    mailbox = env.remote_url.partition(":")[2]
    html = "<html><body><p><b>Agenda</b></p><div>Join Teams</div></body></html>"
    start = at(2).astimezone(UTC)
    seeded = ews.org.seed(
        mailbox,
        Subject="Teams call",
        Start=start,
        End=start + timedelta(hours=1),
        Body=("HTML", html),
    )
    assert env.init().result == "ok"
    env.edit(
        "crm",
        "Teams call",
        location="Room 4",
        last_modified=datetime.now(UTC) + timedelta(seconds=5),
    )
    result = env.sync()
    assert result.result == "ok" and result.counts["remote"]["update"] == 1, result
    stored = ews.org.mailbox(mailbox).items[seeded.id]  # type: ignore[union-attr]
    assert stored.fields["Location"] == "Room 4"
    assert stored.fields["Body"] == ("HTML", html)


def test_the_impersonation_hint_does_not_suggest_full_mailbox_access(
    tmp_path: Path, ews: EWSTestServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CALSYNC_E2E_EWS_PASSWORD", "x")
    smtp = f"nobody-{uuid.uuid4().hex[:6]}@example.com"
    ews.org.add_mailbox(smtp)
    _mailbox, config = new_mailbox(ews, monkeypatch)
    env = Env(tmp_path, remote_url=f"ews:{smtp}", config_text=config)
    with env.provider("remote") as p, pytest.raises(AuthFailed) as info:
        p.identity()
    assert isinstance(p, EWSProvider)
    text = str(info.value)
    assert f"{SERVICE_ACCOUNT} may not impersonate {smtp}: grant ApplicationImpersonation" in text
    assert "not impersonation" in text


def test_throttled_names_the_time(tmp_path: Path) -> None:
    when = datetime(2026, 3, 1, 14, 5, 30, tzinfo=UTC)
    assert (
        str(Throttled("Exchange at x", when)) == "throttled by Exchange at x, retry after 14:05 UTC"
    )
