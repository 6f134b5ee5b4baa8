"""`calsync init / sync / status / log / trash / restore / revert / check / demo`
through the real entry point in a subprocess: exit codes, --json, one-line errors."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.engine.harness import Env, ev


def calsync(
    ws: Path, *args: str, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    proc = subprocess.run(
        [sys.executable, "-m", "tui", "--workspace", str(ws), *args],
        capture_output=True,
        text=True,
        stdin=subprocess.DEVNULL,
        timeout=120,
        env={**os.environ, "COLUMNS": "200", **(env or {})},
    )
    assert "Traceback" not in proc.stderr, proc.stderr
    return proc


def calsync_here(
    capsys: pytest.CaptureFixture[str], ws: Path, *args: str
) -> subprocess.CompletedProcess[str]:
    """`calsync` through the same entry point (`tui.cli.main`) in this process.

    For tests that run many commands: a Python process per command costs seconds.
    Every command family here still runs as a real process in another test.
    """
    from tui.cli import main

    capsys.readouterr()
    argv, command = sys.argv, ["calsync", "--workspace", str(ws), *args]
    sys.argv = command
    try:
        main()
        code = 0
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else 1
    finally:
        sys.argv = argv
    out, err = capsys.readouterr()
    assert "Traceback" not in err, err
    return subprocess.CompletedProcess(command, code, out, err)


@pytest.fixture
def env(tmp_path):
    e = Env(tmp_path)
    e.add_user()
    for n in range(6):
        e.put("crm", ev(f"c{n}", f"Visit {n}", days=n + 1))
    e.put("remote", ev("r1", "Team meeting", days=2))
    return e


def test_sync_before_init_exits_3(env):
    proc = calsync(env.ws.root, "sync", "anna")
    assert proc.returncode == 3
    assert "not initialized" in proc.stdout


def test_init_sync_status_log_json(env):
    proc = calsync(env.ws.root, "init", "anna", "--json")
    assert proc.returncode == 0, proc.stderr
    result = json.loads(proc.stdout)
    assert result["result"] == "ok"
    assert result["counts"]["remote"]["create"] == 6 and result["counts"]["crm"]["create"] == 1

    env.edit("remote", "Visit 1", location="Kungsgatan 2")
    proc = calsync(env.ws.root, "sync", "anna", "--json")
    assert proc.returncode == 0
    assert json.loads(proc.stdout)["counts"]["crm"]["update"] == 1

    status = json.loads(calsync(env.ws.root, "status", "--json").stdout)
    assert status[0]["name"] == "anna" and status[0]["initialized"] is True
    assert status[0]["last_result"] == "ok"

    log = json.loads(calsync(env.ws.root, "log", "anna", "--limit", "1", "--json").stdout)
    assert len(log) == 1
    entry = log[0]
    assert set(entry) >= {"id", "time", "side", "action", "reason", "before", "after"}
    assert entry["action"] == "update" and entry["side"] == "crm"
    assert entry["reason"] == "changed in remote"
    assert entry["before"]["location"] == "" and entry["after"]["location"] == "Kungsgatan 2"
    assert set(entry["after"]) >= {
        "uid",
        "subject",
        "start",
        "end",
        "all_day",
        "location",
        "show_as",
        "privacy",
        "reminder",
        "text",
    }


def test_dry_run_prints_the_plan_and_writes_nothing(env):
    calsync(env.ws.root, "init", "anna")
    env.put("crm", ev("new", "Brand new", days=3))
    before = sorted(p.name for p in (env.ws.root.parent / "remote").iterdir())
    state_before = env.files.state_path.read_bytes()
    proc = calsync(env.ws.root, "sync", "anna", "--dry-run")
    assert proc.returncode == 0
    assert "Brand new" in proc.stdout and "new in CRM" in proc.stdout
    assert sorted(p.name for p in (env.ws.root.parent / "remote").iterdir()) == before
    assert env.files.state_path.read_bytes() == state_before
    plan = json.loads(calsync(env.ws.root, "sync", "anna", "--dry-run", "--json").stdout)["plan"]
    assert [(a["op"], a["side"], a["subject"]) for a in plan] == [("create", "remote", "Brand new")]


def test_mass_deletion_guard_exit_3_then_force(env):
    calsync(env.ws.root, "init", "anna")
    for n in range(5):
        env.remove("remote", f"Visit {n}")
    proc = calsync(env.ws.root, "sync", "anna")
    assert proc.returncode == 3 and "--force" in proc.stdout
    assert len(env.items("crm")) == 7
    assert calsync(env.ws.root, "sync", "anna", "--force").returncode == 0
    assert len(env.items("crm")) == 2


def test_identity_change_headless_exit_3_and_init_yes(env, tmp_path):
    calsync(env.ws.root, "init", "anna")
    other = tmp_path / "other"
    other.mkdir()
    calsync(env.ws.root, "user", "set", "anna", f"remote=folder:{other}")
    proc = calsync(env.ws.root, "sync", "anna")
    assert proc.returncode == 3
    assert "not the one used in earlier syncs" in proc.stdout
    assert calsync(env.ws.root, "init", "anna").returncode == 3  # no terminal: no answer
    proc = calsync(env.ws.root, "init", "anna", "--yes")
    assert proc.returncode == 0
    assert len(list(other.glob("*.ics"))) == 7


def test_trash_restore_revert(env, capsys, monkeypatch):
    monkeypatch.setenv("COLUMNS", "200")
    ws = env.ws.root
    calsync_here(capsys, ws, "init", "anna")
    env.remove("remote", "Visit 0")
    assert calsync_here(capsys, ws, "sync", "anna").returncode == 0
    trash = json.loads(calsync_here(capsys, ws, "trash", "anna", "--json").stdout)
    assert [t["item"]["subject"] for t in trash] == ["Visit 0"]
    assert set(trash[0]) >= {"id", "deleted_at", "side", "item"}
    proc = calsync(ws, "restore", "anna", trash[0]["id"])  # a real process
    assert proc.returncode == 0 and "restored" in proc.stdout
    assert "Visit 0" in env.by_subject("crm")
    again = calsync_here(capsys, ws, "restore", "anna", trash[0]["id"])
    assert again.returncode == 2 and "already restored" in again.stderr
    calsync_here(capsys, ws, "sync", "anna")
    assert "Visit 0" in env.by_subject("remote")

    env.edit("crm", "Visit 2", text="oops")
    calsync_here(capsys, ws, "sync", "anna")
    log = json.loads(calsync_here(capsys, ws, "log", "anna", "--json").stdout)
    update = next(e for e in log if e["action"] == "update")
    assert calsync_here(capsys, ws, "revert", "anna", update["id"]).returncode == 0
    assert env.by_subject("remote")["Visit 2"].event.text == ""
    assert calsync_here(capsys, ws, "revert", "anna", "no-such-id").returncode == 2


def test_unreachable_remote_fails_with_one_line(env):
    env.set(remote="caldav:http://127.0.0.1:9/calendars/anna/")
    proc = calsync(env.ws.root, "init", "anna")
    assert proc.returncode == 1
    assert "anna: failed" in proc.stdout


def test_corrupt_state_file_is_named_and_left_alone(env):
    calsync(env.ws.root, "init", "anna")
    env.files.state_path.write_text("{not json")
    proc = calsync(env.ws.root, "sync", "anna")
    # a problem with one user's own files fails that user (exit 1), as in `sync --all`
    assert proc.returncode == 1
    assert f"state unreadable: {env.files.state_path}: not valid JSON" in proc.stdout
    assert "StoreCorrupt" not in proc.stdout + proc.stderr
    assert env.files.state_path.read_text() == "{not json"


def test_broken_config_is_one_line(env):
    env.ws.config_path.write_text("[job\nskip_private = 1\n")
    proc = calsync(env.ws.root, "status")
    assert proc.returncode == 2 and "calsync.toml" in proc.stderr


def test_unknown_user_and_log_of_unknown(env):
    assert calsync(env.ws.root, "sync", "bob").returncode == 2
    proc = calsync(env.ws.root, "log", "bob")
    assert proc.returncode == 2 and "no user named 'bob'" in proc.stderr


def test_demo_no_tui_on_fresh_workspace_and_refuses_real_ones(tmp_path, env, capsys, monkeypatch):
    monkeypatch.setenv("COLUMNS", "200")
    ws = tmp_path / "demo"
    proc = calsync(ws, "demo", "--no-tui")
    assert proc.returncode == 0, proc.stderr
    for name in ("anna", "bertil", "cecilia", "david"):
        assert f"{name}: ok" in proc.stdout
    status = json.loads(calsync_here(capsys, ws, "status", "--json").stdout)
    fine = {"anna", "bertil", "cecilia", "david"}
    # erik and frida show a user held by the deletion guard and a failing one (issue 16)
    assert {s["name"] for s in status} == fine | {"erik", "frida"}
    david = next(s for s in status if s["name"] == "david")
    assert david["crm"] == "sql:demo/david"  # the CRM database user
    assert all(s["initialized"] and s["last_result"] == "ok" for s in status if s["name"] in fine)
    # a second run re-syncs and plans nothing new
    proc = calsync_here(capsys, ws, "demo", "--no-tui")
    assert "crm +0 ~0 -0, remote +0 ~0 -0" in proc.stdout
    # never mixes into a workspace with real users
    proc = calsync_here(capsys, env.ws.root, "demo", "--no-tui")
    assert proc.returncode == 2 and "real users" in proc.stderr


def test_a_workspace_that_cannot_be_created_is_one_line(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    proc = calsync(
        blocker / "ws",
        "user",
        "add",
        "y",
        "--crm",
        f"folder:{tmp_path}/a",
        "--remote",
        f"folder:{tmp_path}/b",
    )
    assert proc.returncode == 2
    assert proc.stderr.startswith("calsync: ") and proc.stderr.count("\n") == 1
