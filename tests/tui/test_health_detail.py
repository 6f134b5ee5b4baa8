"""The user detail shows the health (class, failures in a row, next retry) first, and
its fix as the keys of the users screen: never a command line, never "pass --force"."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from storage.config import Config
from sync.engine.runner import identity_changed_reason
from sync.health import judge, read_runs
from tests.job.helpers import Site
from tui.services import Services
from tui.widgets.user_detail import health_lines, keyed

NOW = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)
USER = {"name": "anna", "crm": "folder:/c", "remote": "folder:/r"}


def run(result: str, reason: str, minutes_ago: int = 1, **extra: str) -> dict[str, object]:
    when = (NOW - timedelta(minutes=minutes_ago)).isoformat()
    return {"started": when, "finished": when, "result": result, "reason": reason, **extra}


GUARD = (
    "this sync would delete 7 of 9 item(s) in the CRM calendar: run `calsync sync anna "
    "--dry-run` to see them, then `calsync sync anna --force` to apply"
)
CASES = {
    "never": ({}, []),
    "disabled": ({"enabled": False}, []),
    "no mailbox": ({"remote": ""}, []),
    "identity": ({}, [run("needs_operator", identity_changed_reason("anna"))]),
    "guard": ({}, [run("needs_operator", GUARD, needs="mass_delete")]),
    "refused": ({}, [run("failed", "refused", error_class="permanent", error_type="AuthFailed")]),
    "not found": (
        {},
        [run("failed", "gone", error_class="permanent", error_type="CalendarNotFound")],
    ),
    "transient": ({}, [run("failed", "cannot reach host", error_class="transient")]),
    "ten in a row": (
        {},
        [run("failed", "timeout", 10 - i, error_class="transient") for i in range(10)],
    ),
    "item errors": (
        {},
        [{**run("failed", "1 item(s) failed"), "errors": [{"item": "x", "error": "e"}]}],
    ),
    "throttled": (
        {},
        [run("deferred", "throttled", retry_after=(NOW + timedelta(minutes=4)).isoformat())],
    ),
}


@pytest.mark.parametrize("case", list(CASES))
def test_every_fix_in_the_tui_names_a_key_not_a_command(case: str) -> None:
    changes, runs = CASES[case]
    health = judge({**USER, **changes}, runs, Config(), NOW)
    lines = [line.plain for line in health_lines(health, NOW)]
    text = " ".join(lines) + " " + keyed(str(runs[-1]["reason"]) if runs else "")
    assert "calsync " not in text and "--force" not in text, (case, text)
    assert lines[0].startswith("Health    ")
    if health.state not in ("ok",):
        assert lines[1].startswith("Fix       ") and ("press" in lines[1] or "wait" in lines[1]), (
            lines
        )


def test_the_health_line_has_the_class_the_count_and_the_next_retry() -> None:
    runs = [run("failed", "cannot reach host", 3, error_class="transient") for _ in range(2)]
    health = judge(USER, runs, Config(), NOW)
    assert (health.state, health.failures) == ("deferred", 2)
    head = health_lines(health, NOW)[0].plain
    assert "deferred, transient ×2, next retry" in head and "(in 7 min)" in head


def test_auto_sync_leaves_a_held_user_alone_and_an_operators_run_still_runs_them(
    tmp_path: Path,
) -> None:
    site = Site(tmp_path)
    site.add("anna")
    assert site.cli("init", "anna").code == 0
    remote = Path(str(site.user("anna")["remote"]).removeprefix("folder:"))
    remote.rename(remote.with_name("gone"))
    services = Services(site.ws)
    assert services.run("anna", scheduled=True).result == "failed"  # found out: permanent
    runs = len(read_runs(site.ws, "anna"))
    held = services.run("anna", scheduled=True)
    assert held.result == "skipped" and held.reason.startswith("needs_operator: calendar folder")
    assert len(read_runs(site.ws, "anna")) == runs  # not run, nothing recorded
    detail = services.detail("anna")
    assert detail.health is not None and detail.health.error_class == "permanent"
    assert services.run("anna").result == "failed"  # the operator's own run does run
    assert read_runs(site.ws, "anna")[-1]["by"] == "operator"
