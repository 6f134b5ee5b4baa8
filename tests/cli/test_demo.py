"""`calsync demo`: a workspace of its own, every user state visible, `--reset` (issue 16).

The demo itself runs as the operator runs it (a subprocess with no --workspace, the
platform data folder moved by XDG_DATA_HOME); everything around it runs in-process,
each `calsync` start costing seconds on a busy machine.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from storage.config import load_config
from storage.users import UserStore
from storage.workspace import Workspace
from sync import service
from sync.engine.runner import SyncOptions
from sync.settings import effective_settings
from sync.users import add_user


def run(*args: str, xdg: Path, **env: str) -> subprocess.CompletedProcess[str]:
    base = {k: v for k, v in os.environ.items() if k != "CALSYNC_WORKSPACE"}
    proc = subprocess.run(
        [sys.executable, "-m", "tui", *args],
        capture_output=True,
        text=True,
        stdin=subprocess.DEVNULL,
        timeout=120,
        env={**base, "XDG_DATA_HOME": str(xdg), "COLUMNS": "200", **env},
    )
    assert "Traceback" not in proc.stderr, proc.stderr
    return proc


def _real_workspace(root: Path, tmp_path: Path) -> Path:
    add_user(Workspace(root), "olle", f"folder:{tmp_path / 'crm'}", f"folder:{tmp_path / 'rem'}")
    return root


def _results(ws: Workspace) -> dict[str, str]:
    return {s["name"]: s["last_result"] for s in service.status(ws, load_config(ws.config_path))}


def test_demo_has_its_own_workspace_every_state_and_resets(tmp_path: Path) -> None:
    xdg = tmp_path / "xdg"
    # the operator's real workspaces: one named by CALSYNC_WORKSPACE, one at the default place
    operator = _real_workspace(tmp_path / "operator-ws", tmp_path)
    default = _real_workspace(xdg / "calsync", tmp_path)
    snapshot = {p: p.read_bytes() for p in (operator / "users.json", default / "users.json")}

    proc = run("demo", "--no-tui", xdg=xdg, CALSYNC_WORKSPACE=str(operator))
    assert proc.returncode == 0, proc.stderr
    demo = Workspace(default / "demo")
    assert f"demo workspace: {demo.root}" in proc.stdout
    assert {p: p.read_bytes() for p in snapshot} == snapshot  # neither was touched
    assert sorted(p.name for p in operator.iterdir()) == ["users.json", "users.json.lock"]
    assert _results(demo) == {
        "anna": "ok",
        "bertil": "ok",
        "cecilia": "ok",
        "david": "ok",
        "erik": "needs_operator",
        "frida": "failed",
    }
    assert "frida: failed" in proc.stdout and "not found" in proc.stdout
    # the job's setting overrides bertil's own
    bertil = UserStore(demo).get("bertil")
    settings, sources = effective_settings(bertil, load_config(demo.config_path))
    assert bertil["multiday"] == "keep"
    assert (settings.multiday, sources["multiday"]) == ("title", "job")

    # the operator tried things: forced erik through the guard, left a file behind
    forced = service.sync_user(demo, load_config(demo.config_path), "erik", SyncOptions(force=True))
    assert forced.result == "ok"
    (demo.root / "notes.txt").write_text("left behind")
    proc = run("demo", "--no-tui", "--reset", xdg=xdg)
    assert proc.returncode == 0, proc.stderr
    assert not (demo.root / "notes.txt").exists()
    assert _results(demo)["erik"] == "needs_operator"
    assert {p: p.read_bytes() for p in snapshot} == snapshot


def test_reset_never_deletes_a_workspace_the_demo_did_not_make(tmp_path: Path) -> None:
    real = _real_workspace(tmp_path / "real", tmp_path)
    before = sorted(p.name for p in real.iterdir())
    proc = run("--workspace", str(real), "demo", "--no-tui", "--reset", xdg=tmp_path / "xdg")
    assert proc.returncode == 2
    assert proc.stderr.count("\n") == 1 and "not a demo workspace" in proc.stderr
    assert sorted(p.name for p in real.iterdir()) == before
