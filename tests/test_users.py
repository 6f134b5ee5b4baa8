"""sync/users.py directly: what the CLI tests cannot reach (typed values, rollbacks)."""

from __future__ import annotations

from pathlib import Path

import pytest

from storage.errors import StoreBusy, UnknownUser
from storage.locking import file_lock
from storage.state import UserFiles
from storage.workspace import Workspace
from sync import users
from sync.users import UsageError

CRM = "caldav:https://crm.example.com/cal/anna/"
REMOTE = "caldav:https://mail.example.com/cal/anna/"


@pytest.fixture
def ws(tmp_path: Path) -> Workspace:
    return Workspace(tmp_path / "ws")


def test_add_takes_typed_and_text_values(ws: Workspace) -> None:
    record = users.add_user(
        ws, "anna", CRM, REMOTE,
        skip_private="on", reminders="MINUTES:05", window_past_days=30,
        window_future_days="400", multiday=None, enabled=False,
    )  # fmt: skip
    assert record["skip_private"] is True
    assert record["reminders"] == "minutes:5"
    assert record["window_past_days"] == 30
    assert record["window_future_days"] == 400
    assert record["multiday"] is None
    assert record["enabled"] is False
    assert users.get_user(ws, "anna") == record


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        ({"colour": "red"}, "unknown setting 'colour'"),
        ({"skip_private": 1}, "skip_private must be true or false"),
        ({"window_past_days": True}, "window_past_days must be"),
        ({"window_past_days": 4000}, "window_past_days must be"),
    ],
)
def test_add_refuses_bad_settings(ws: Workspace, settings: dict[str, object], message: str) -> None:
    with pytest.raises(UsageError, match=message):
        users.add_user(ws, "anna", CRM, REMOTE, **settings)
    assert not ws.root.exists()


def test_add_sets_aside_a_leftover_folder(ws: Workspace) -> None:
    leftover = UserFiles(ws, "anna")
    with leftover.open_state() as state:
        state.meta["identity"] = "someone else's calendar"
    users.add_user(ws, "anna", CRM, REMOTE)
    assert UserFiles(ws, "anna").read_state().identity is None
    (kept,) = ws.removed_dir.iterdir()
    assert (kept / "state.json").exists()


def test_add_puts_the_leftover_back_when_the_add_fails(
    ws: Workspace, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("storage.users.LOCK_TIMEOUT", 0.05)
    with UserFiles(ws, "anna").open_state() as state:
        state.meta["identity"] = "old"
    with file_lock(ws.users_path, "held", 1.0), pytest.raises(StoreBusy):
        users.add_user(ws, "anna", CRM, REMOTE)
    assert UserFiles(ws, "anna").read_state().identity == "old"
    assert list(ws.removed_dir.iterdir()) == []


def test_remove_waits_for_a_running_sync(ws: Workspace, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("sync.users.REMOVE_LOCK_TIMEOUT", 0.05)
    users.add_user(ws, "anna", CRM, REMOTE)
    files = UserFiles(ws, "anna")
    with files.open_state() as state:
        state.meta["identity"] = "x"
        with pytest.raises(StoreBusy, match="user anna"):
            users.remove_user(ws, "anna")
    assert users.get_user(ws, "anna")["name"] == "anna"
    assert files.read_state().identity == "x"


def test_remove_puts_the_folder_back_when_the_users_file_is_busy(
    ws: Workspace, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("storage.users.LOCK_TIMEOUT", 0.05)
    users.add_user(ws, "anna", CRM, REMOTE)
    files = UserFiles(ws, "anna")
    with files.open_state() as state:
        state.meta["identity"] = "x"
    with file_lock(ws.users_path, "held", 1.0), pytest.raises(StoreBusy):
        users.remove_user(ws, "anna")
    assert users.get_user(ws, "anna")["name"] == "anna"
    assert files.read_state().identity == "x"
    assert list(ws.removed_dir.iterdir()) == []


def test_set_checks_everything_before_writing(ws: Workspace) -> None:
    users.add_user(ws, "anna", CRM, REMOTE)
    before = ws.users_path.read_bytes()
    with pytest.raises(UsageError, match="multiday"):
        users.set_user(ws, "anna", {"enabled": "no", "multiday": "both"})
    with pytest.raises(UsageError, match="nothing to set"):
        users.set_user(ws, "anna", {})
    with pytest.raises(UnknownUser):
        users.set_user(ws, "bert", {"enabled": "no"})
    assert ws.users_path.read_bytes() == before


def test_show_and_list(ws: Workspace) -> None:
    assert users.list_users(ws) == []
    users.add_user(ws, "anna", CRM, REMOTE, reminders="off")
    users.add_user(ws, "bert", REMOTE, CRM)
    assert [u["name"] for u in users.list_users(ws)] == ["anna", "bert"]
    shown = users.show_user(ws, "anna")
    assert shown["settings"]["reminders"] == {"value": "off", "source": "user"}
    assert shown["state"] == {
        "initialized": False,
        "initialized_at": None,
        "identity": None,
        "pairs": 0,
        "last_run": None,
    }
