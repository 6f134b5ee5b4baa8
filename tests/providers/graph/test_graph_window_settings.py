"""A sync window Microsoft Graph cannot serve (over 1825 days) is refused where it is
set — `user add/set`, or a `[job]` setting before a run — never as a failed run of
every Graph user (issue 14, item 3)."""

from __future__ import annotations

import json
from pathlib import Path

from storage.state import UserFiles
from tests.cli.test_sync_cli import calsync
from tests.engine.harness import Env
from tests.providers.graph.server.env import graph_env


def _cli(env: Env, *args: str) -> tuple[int, str, str]:
    proc = calsync(env.ws.root, *args)  # the real entry point: its error handling too
    return proc.returncode, proc.stdout, proc.stderr


def test_user_set_refuses_a_window_graph_cannot_serve(tmp_path: Path) -> None:
    env, mailbox = graph_env(tmp_path)
    env.add_user()
    users_before = (env.ws.root / "users.json").read_bytes()
    code, _, err = _cli(env, "user", "set", "anna", "window_future_days=2000")
    assert code == 2
    (line,) = err.strip().splitlines()
    assert "Microsoft Graph serves at most 1825" in line and mailbox.address in line
    assert (env.ws.root / "users.json").read_bytes() == users_before
    # within the limit it is taken
    assert _cli(env, "user", "set", "anna", "window_future_days=1500")[0] == 0


def test_a_job_window_graph_cannot_serve_stops_the_run_before_anything_is_written(
    tmp_path: Path,
) -> None:
    env, _ = graph_env(tmp_path)
    env.add_user()
    config = env.ws.config_path.read_text(encoding="utf-8")
    env.ws.config_path.write_text(config + "\n[job]\nwindow_future_days = 2000\n")
    for args in (["sync", "--all", "--json"], ["sync", "anna"], ["init", "anna"]):
        code, out, err = _cli(env, *args)
        assert code == 2, (args, out, err)
        (line,) = err.strip().splitlines()
        assert "1825" in line and "anna" in line, line
    assert not UserFiles(env.ws, "anna").state_path.exists()  # nothing recorded, no run


def test_calendars_without_a_limit_take_any_window(tmp_path: Path) -> None:
    env = Env(tmp_path)
    env.add_user()
    code, out, err = _cli(env, "user", "set", "anna", "window_future_days=3000", "--json")
    assert code == 0, err
    assert json.loads(out)["window_future_days"] == 3000
