"""Reading a user's run records (runs.json) without the state file.

The records are written by `UserState` (storage/state.py); `sync/health.py` judges a
user's health from them.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from storage.run_history import RunHistory, read_tail
from storage.state import UserFiles
from storage.workspace import Workspace


def runs_file(ws: Workspace, name: str) -> Path:
    """The user's runs.json, beside the state file."""
    return UserFiles(ws, name).state_path.with_name("runs.json")


def read_runs(ws: Workspace, name: str) -> list[dict[str, Any]]:
    """The user's run records, oldest first, from runs.json and last-run.json alone
    (cheap: the state file is read only for a workspace from before the split).
    StoreError if unreadable; [] for a user with no files yet."""
    files = UserFiles(ws, name)
    history = RunHistory(runs_file(ws, name))
    if not history.runs_path.exists() and history.last is None:
        if not files.state_path.exists():
            return []
        return list(files.read_state().runs)
    return history.runs


def newest_quiet_run(ws: Workspace, name: str) -> dict[str, Any] | None:
    """The newest record where it is a quiet run kept in last-run.json, else None:
    reading it costs a few hundred bytes, not the whole history (issue 17)."""
    return read_tail(runs_file(ws, name).with_name("last-run.json"))
