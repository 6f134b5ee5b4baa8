"""Everything calsync writes into a workspace is private: files 0600, folders 0700."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from storage.atomic import atomic_write, ensure_dir
from storage.state import UserFiles
from storage.users import UserStore
from storage.workspace import Workspace


@pytest.fixture
def open_umask() -> Iterator[None]:
    # the most permissive umask: modes must come from calsync, not from the umask
    old = os.umask(0)
    try:
        yield
    finally:
        os.umask(old)


def _modes(root: Path) -> dict[str, int]:
    modes = {".": root.stat().st_mode & 0o777}
    for path in root.rglob("*"):
        modes[str(path.relative_to(root))] = path.stat().st_mode & 0o777
    return modes


def test_every_file_0600_and_folder_0700(tmp_path: Path, open_umask: None) -> None:
    ws = Workspace(tmp_path / "deep" / "ws")
    UserStore(ws).add({"name": "anna", "crm": "folder:/a", "remote": "folder:/b"})
    files = UserFiles(ws, "anna")
    with files.open_state() as state:
        state.meta["identity"] = "x"
    files.trash.put(side="crm", item_id="c1", item={"uid": "u"}, reason="r")
    log = files.log
    log.add({"id": "e1", "time": "2026-01-01T00:00:00+00:00"})
    log.flush()

    modes = _modes(ws.root)
    expected = {
        "users.json",
        "users.json.lock",
        "users/anna/state.json",
        "users/anna/state.json.lock",
        "users/anna/trash.json",
        "users/anna/trash.json.lock",
        "users/anna/log/2026-01.jsonl",
    }
    assert expected <= set(modes)
    for name, mode in modes.items():
        path = ws.root / name
        want = 0o700 if path.is_dir() else 0o600
        assert mode == want, f"{name} has mode {oct(mode)}"
    # parents made on the way to a new workspace are private too
    assert (tmp_path / "deep").stat().st_mode & 0o777 == 0o700


def test_atomic_write_and_ensure_dir(tmp_path: Path, open_umask: None) -> None:
    target = tmp_path / "a" / "b" / "file.bin"
    atomic_write(target, b"one")
    atomic_write(target, b"two")
    assert target.read_bytes() == b"two"
    assert target.stat().st_mode & 0o777 == 0o600
    assert (tmp_path / "a").stat().st_mode & 0o777 == 0o700
    assert [p.name for p in target.parent.iterdir()] == ["file.bin"]
    # an existing folder keeps the mode its owner chose
    shared = tmp_path / "shared"
    shared.mkdir(mode=0o755)
    ensure_dir(shared / "inner")
    assert shared.stat().st_mode & 0o777 == 0o755
    assert (shared / "inner").stat().st_mode & 0o777 == 0o700


def test_archive_moves_the_user_folder(tmp_path: Path) -> None:
    ws = Workspace(tmp_path / "ws")
    files = UserFiles(ws, "anna")
    with files.open_state() as state:
        state.meta["identity"] = "cal-1"
    first = files.archive()
    assert first is not None
    assert first.parent == ws.removed_dir
    assert first.name.startswith("anna-")
    assert not files.dir.exists()
    assert (first / "state.json").exists()
    assert files.archive() is None
    # removed twice within a second: a second, distinct folder
    with files.open_state() as state:
        state.meta["identity"] = "cal-2"
    second = files.archive()
    assert second is not None
    assert second != first
    files.unarchive(second)
    assert files.read_state().identity == "cal-2"
