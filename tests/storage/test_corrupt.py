"""A corrupt or unreadable store file is reported by name and never overwritten."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest

from storage.errors import StoreCorrupt, StoreTooNew
from storage.state import STATE_SCHEMA, UserFiles
from storage.users import UserStore
from storage.workspace import Workspace

BAD_CONTENTS = {
    "not json": b'{"users": {"1": {"name": "anna"',
    "empty file": b"",
    "not utf-8": b'{"users": {"1": {"name": "\xff\xfe"}}}',
    "json array": b"[1, 2, 3]",
    "table is a list": b'{"users": [{"name": "anna"}]}',
    "record is a string": b'{"users": {"1": "anna"}}',
    "schema not a number": b'{"_meta": {"1": {"schema": "one"}}}',
}


def _users_writes(ws: Workspace) -> Callable[[], object]:
    return lambda: UserStore(ws).add({"name": "bert", "crm": "folder:/a", "remote": "folder:/b"})


def _state_writes(ws: Workspace) -> Callable[[], object]:
    def write() -> None:
        with UserFiles(ws, "anna").open_state() as state:
            state.meta["x"] = 1

    return write


def _trash_writes(ws: Workspace) -> Callable[[], object]:
    return lambda: UserFiles(ws, "anna").trash.put(side="crm", item_id="1", item={}, reason="r")


def _paths(ws: Workspace) -> dict[str, tuple[Path, Callable[[Workspace], Callable[[], object]]]]:
    files = UserFiles(ws, "anna")
    return {
        "users.json": (ws.users_path, _users_writes),
        "state.json": (files.state_path, _state_writes),
        "trash.json": (files.dir / "trash.json", _trash_writes),
    }


def _readers(ws: Workspace) -> dict[str, Callable[[], object]]:
    files = UserFiles(ws, "anna")
    return {
        "users.json": UserStore(ws).all,
        "state.json": files.read_state,
        "trash.json": files.trash.entries,
    }


@pytest.mark.parametrize("which", ["users.json", "state.json", "trash.json"])
@pytest.mark.parametrize("content", list(BAD_CONTENTS.values()), ids=list(BAD_CONTENTS))
def test_corrupt_file_is_named_and_left_untouched(
    ws: Workspace, which: str, content: bytes
) -> None:
    path, writer = _paths(ws)[which]
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(content)

    with pytest.raises(StoreCorrupt) as read_error:
        _readers(ws)[which]()
    assert str(path) in str(read_error.value)
    assert read_error.value.path == path

    with pytest.raises(StoreCorrupt) as write_error:
        writer(ws)()
    assert str(path) in str(write_error.value)
    assert "left untouched" in str(write_error.value)
    assert path.read_bytes() == content


@pytest.mark.parametrize("which", ["users.json", "state.json", "trash.json"])
def test_unreadable_file_is_store_corrupt(ws: Workspace, which: str) -> None:
    # a folder where the file should be: unreadable even for root, unlike chmod 000
    path, writer = _paths(ws)[which]
    path.mkdir(parents=True)
    with pytest.raises(StoreCorrupt, match=str(path)):
        _readers(ws)[which]()
    with pytest.raises(StoreCorrupt, match=str(path)):
        writer(ws)()
    assert path.is_dir()


@pytest.mark.parametrize("which", ["users.json", "state.json", "trash.json"])
def test_newer_schema_is_store_too_new(ws: Workspace, which: str) -> None:
    path, writer = _paths(ws)[which]
    path.parent.mkdir(parents=True, exist_ok=True)
    content = json.dumps({"_meta": {"1": {"schema": 99}}}).encode()
    path.write_bytes(content)
    with pytest.raises(StoreTooNew) as error:
        writer(ws)()
    assert error.value.version == 99
    assert str(path) in str(error.value)
    assert "upgrade calsync" in str(error.value)
    assert path.read_bytes() == content


def test_user_record_without_name_is_corrupt(ws: Workspace) -> None:
    ws.users_path.write_text(json.dumps({"users": {"1": {"crm": "folder:/a"}}}))
    with pytest.raises(StoreCorrupt, match="has no name"):
        UserStore(ws).all()


def test_written_files_carry_current_schema(ws: Workspace) -> None:
    _users_writes(ws)()
    _state_writes(ws)()
    _trash_writes(ws)()
    for path, _ in _paths(ws).values():
        data = json.loads(path.read_text())
        expected = STATE_SCHEMA if path.name == "state.json" else 1
        assert data["_meta"] == {"1": {"schema": expected}}
