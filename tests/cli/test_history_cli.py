"""`calsync log / trash / restore / revert` (tui/cli/history.py): short ids to type,
the log's filters and pages, the trash newest first with --limit, empty ones saying so.

In-process through Typer's runner (fast); the restore and revert act on real folder
calendars through the engine's test harness.
"""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from typer.testing import CliRunner

from storage.changelog import ChangeLog
from storage.short_ids import short_id
from sync.log_filter import BadFilter, LogFilter, parse_dates
from tests.engine.harness import Env, ev
from tui.cli import app, register

START = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)


def run(env: Env, *args: str) -> Any:
    register()
    result = CliRunner().invoke(
        app, ["--workspace", str(env.ws.root), *args], env={"COLUMNS": "200", "TZ": "UTC"}
    )
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    return result


def write_log(env: Env, ids: list[str], **fields: Any) -> None:
    log = ChangeLog(env.files.dir / "log")
    for n, entry_id in enumerate(ids):
        subject = fields.get("subject", f"Item {n}")
        log.add(
            {
                "id": entry_id,
                "time": (START + timedelta(days=n)).isoformat(),
                "side": "crm" if n % 2 else "remote",
                "action": "delete" if n % 3 == 0 else "update",
                "reason": "changed in CRM",
                "item_id": f"item-{n}",
                "before": {"subject": subject, "start": "2026-03-10T10:00:00+00:00"},
                "after": {"subject": f"{subject} [bold]moved[/]", "location": "会議室"},
            }
        )
    log.flush()


@pytest.fixture
def env(tmp_path):  # type: ignore[no-untyped-def]
    e = Env(tmp_path)
    e.add_user()
    return e


# -- the filter rules, shared with the TUI ---------------------------------------------------


def test_dates_are_a_day_a_month_a_year_or_a_range() -> None:
    assert parse_dates("2026-03-02") == (date(2026, 3, 2), date(2026, 3, 2))
    assert parse_dates("2026-02") == (date(2026, 2, 1), date(2026, 2, 28))
    assert parse_dates("2026") == (date(2026, 1, 1), date(2026, 12, 31))
    assert parse_dates("2026-03-01..2026-03-15") == (date(2026, 3, 1), date(2026, 3, 15))
    assert parse_dates("2026-03..") == (date(2026, 3, 1), None)
    assert parse_dates("..2026-02") == (None, date(2026, 2, 28))
    assert parse_dates(" ") == (None, None)


@pytest.mark.parametrize("text", ["yesterday", "2026-13", "2026-02-30", "2026-03-05..2026-03-01"])
def test_a_date_that_is_no_date_is_refused_when_the_filter_is_made(text: str) -> None:
    with pytest.raises(BadFilter):
        LogFilter(dates=text)


# -- log -----------------------------------------------------------------------------------


def test_log_shows_short_ids_that_revert_takes_and_pages(env: Env) -> None:
    ids = [f"20260301T0900{n:02d}Z-r1-{n}" for n in range(7)]
    write_log(env, ids)
    result = run(env, "log", "anna", "--limit", "3")
    assert result.exit_code == 0
    newest = [short_id(i) for i in reversed(ids)]
    assert all(s in result.stdout for s in newest[:3]) and newest[3] not in result.stdout
    assert "1–3 of 7 entries; older: calsync log anna --page 2" in result.stdout
    page3 = run(env, "log", "anna", "--limit", "3", "--page", "3")
    assert newest[6] in page3.stdout and "7–7 of 7 entries" in page3.stdout
    past = run(env, "log", "anna", "--limit", "3", "--page", "4")
    assert past.exit_code == 0 and "past the end: 7 entries make 3 page(s)" in past.stdout
    shown = json.loads(run(env, "log", "anna", "--json").stdout)
    assert [e["short_id"] for e in shown] == newest and shown[0]["id"] == ids[-1]


def test_log_filters_by_action_side_text_and_date(env: Env) -> None:
    ids = [f"20260301T0900{n:02d}Z-r1-{n}" for n in range(7)]
    write_log(env, ids)

    def shown(*args: str) -> list[str]:
        result = run(env, "log", "anna", "--json", *args)
        assert result.exit_code == 0, result.output
        return [e["id"] for e in json.loads(result.stdout)]

    assert shown("--action", "delete") == [ids[6], ids[3], ids[0]]
    assert shown("--side", "crm") == [ids[5], ids[3], ids[1]]
    assert shown("--text", "item 4") == [ids[4]]
    assert shown("--text", "[bold]moved[/]") == list(reversed(ids))  # markup is text
    assert shown("--text", "会議室", "--action", "update", "--side", "remote") == [ids[4], ids[2]]
    assert shown("--date", "2026-03-02..2026-03-03") == [ids[2], ids[1]]
    assert shown("--text", short_id(ids[5])) == [ids[5]]  # the short id is searchable
    text = run(env, "log", "anna", "--action", "delete", "--limit", "2")
    assert "1–2 of 3 matching entries" in text.stdout
    none = run(env, "log", "anna", "--text", "nothing like this")
    assert none.exit_code == 0 and "no log entry of anna matches the filter" in none.stdout


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--side", "left"], "--side must be crm or remote"),
        (["--date", "soon"], "not a date: 'soon'"),
    ],
)
def test_a_bad_filter_is_one_line_exit_2(env: Env, args: list[str], message: str) -> None:
    result = run(env, "log", "anna", *args)
    assert result.exit_code == 2
    assert message in result.stderr and len(result.stderr.strip().splitlines()) == 1


def test_an_empty_log_and_an_empty_trash_say_so(env: Env) -> None:
    log = run(env, "log", "anna")
    assert log.exit_code == 0 and "the change log of anna is empty" in log.stdout
    trash = run(env, "trash", "anna")
    assert trash.exit_code == 0 and "the trash of anna is empty" in trash.stdout
    assert json.loads(run(env, "trash", "anna", "--json").stdout) == []


def test_an_ambiguous_prefix_is_one_line_exit_2(env: Env) -> None:
    by_prefix: dict[str, str] = {}
    for n in range(100_000):
        entry_id = f"20260301T090000Z-r1-{n}"
        twin = by_prefix.setdefault(short_id(entry_id, 4), entry_id)
        if twin != entry_id:
            break
    write_log(env, [twin, entry_id])
    result = run(env, "revert", "anna", short_id(entry_id, 4))
    assert result.exit_code == 2
    (line,) = result.stderr.strip().splitlines()
    assert "ambiguous: it matches 2 entries" in line
    assert short_id(twin, 10) in line and short_id(entry_id, 10) in line
    # each one's short id, as the log shows it, is not ambiguous
    shown = run(env, "log", "anna")
    assert short_id(twin) in shown.stdout and short_id(entry_id) in shown.stdout


# -- trash, restore and revert on real calendars ------------------------------------------------


def test_trash_newest_first_with_limit_and_restore_by_short_id(env: Env) -> None:
    for n in range(3):
        env.put("crm", ev(f"c{n}", f"Visit {n}", days=n + 1))
    env.init()
    for n in range(3):
        env.remove("remote", f"Visit {n}")
        assert env.sync(force=True).result == "ok"
    entries = json.loads(run(env, "trash", "anna", "--json").stdout)
    assert [e["item"]["subject"] for e in entries] == ["Visit 2", "Visit 1", "Visit 0"]
    assert all(e["short_id"] == short_id(e["id"]) for e in entries)
    limited = run(env, "trash", "anna", "--limit", "2")
    assert entries[1]["short_id"] in limited.stdout and entries[2]["short_id"] not in limited.stdout
    assert "newest 2 of 3 entries" in limited.stdout
    assert len(json.loads(run(env, "trash", "anna", "--limit", "1", "--json").stdout)) == 1

    restored = run(env, "restore", "anna", entries[0]["short_id"].upper())
    assert restored.exit_code == 0, restored.output
    assert f"restored {entries[0]['short_id']} to the crm calendar" in restored.stdout
    assert "Visit 2" in env.by_subject("crm")
    again = run(env, "restore", "anna", entries[0]["id"])  # the full id still works
    assert again.exit_code == 2 and "already restored" in again.stderr

    log = json.loads(run(env, "log", "anna", "--json", "--action", "restore").stdout)
    reverted = run(env, "revert", "anna", log[0]["short_id"])
    assert reverted.exit_code == 0, reverted.output
    assert f"reverted {log[0]['short_id']} on the crm calendar" in reverted.stdout
    assert "Visit 2" not in env.by_subject("crm")


def test_an_unknown_short_id_is_one_line_exit_2(env: Env) -> None:
    write_log(env, ["20260301T090000Z-r1-0"])
    for command in ("revert", "restore"):
        result = run(env, command, "anna", "zzzzzzzz")
        assert result.exit_code == 2
        assert "'zzzzzzzz' for user anna" in result.stderr
