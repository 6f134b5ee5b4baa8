"""Reading a user's run records (runs.json) without the state file.

The records are written by `UserState` (storage/state.py); `sync/health.py` judges a
user's health from them.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from storage.state import UserFiles
from storage.tinystore import check_tables, read_json_file
from storage.workspace import Workspace


def runs_file(ws: Workspace, name: str) -> Path:
    """The user's runs.json, beside the state file."""
    return UserFiles(ws, name).state_path.with_name("runs.json")


def read_runs(ws: Workspace, name: str) -> list[dict[str, Any]]:
    """The user's run records, oldest first, from runs.json alone (cheap: the state
    file, with a copy of every item, is read only for a workspace from before the
    split). StoreError if unreadable; [] for a user with no files yet."""
    files = UserFiles(ws, name)
    path = runs_file(ws, name)
    data = read_json_file(path)
    if data is None:
        if not files.state_path.exists():
            return []
        return list(files.read_state().runs)
    check_tables(path, data)
    runs = [r for r in data.get("runs", {}).values() if isinstance(r, dict)]
    return sorted(runs, key=lambda r: str(r.get("started", "")))
