"""Change-log browser (revert) and trash (restore), on the demo's folder calendars."""

from __future__ import annotations

from storage.state import UserFiles
from storage.workspace import Workspace
from sync import service
from sync.engine.runner import SyncOptions
from tests.tui import calendars as cal
from tests.tui.conftest import make_app, settle, text_of
from tui.screens.confirm import ConfirmDialog
from tui.screens.log import LogScreen
from tui.screens.trash import TrashScreen
from tui.screens.users import UsersScreen
from tui.widgets.item_view import ItemView


def _sync(ws: Workspace, name: str) -> None:
    from storage.config import load_config

    result = service.sync_user(ws, load_config(ws.config_path), name, SyncOptions())
    assert result.result == "ok", result.reason


def _shared_item(ws: Workspace, name: str, subject: str = "Quarterly review") -> None:
    """An item in both calendars with a subject no demo item has."""
    cal.put(ws, name, "remote", subject)
    _sync(ws, name)


async def test_log_shows_newest_first_with_diff_and_reverts(demo: Workspace) -> None:
    _shared_item(demo, "anna")
    cal.edit(demo, "anna", "remote", "Quarterly review", location="Room Vasa", reminder=5)
    _sync(demo, "anna")
    newest = UserFiles(demo, "anna").log.entries(1)[0]
    assert newest["action"] == "update" and newest["side"] == "crm"
    app = make_app(demo)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await pilot.press("l")
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, LogScreen)
        assert screen.shown[0]["id"] == newest["id"]  # newest first
        times = [e["time"] for e in screen.shown]
        assert times == sorted(times, reverse=True)
        before = text_of(screen.query_one("#log-before", ItemView))
        after = text_of(screen.query_one("#log-after", ItemView))
        assert "location ●" in before and "Room Vasa" in after
        assert "reminder ●" in after and "subject ●" not in after
        await pilot.press("r")
        await pilot.pause()
        assert isinstance(app.screen, ConfirmDialog)
        await pilot.press("y")
        await settle(pilot)
        assert app.screen is screen
        assert screen.shown[0]["action"] == "revert"
        assert screen.shown[0]["reason"] == f"revert of {newest['id']}"
    crm = cal.items(demo, "anna", "crm")["Quarterly review"]
    assert crm.event.location == "Room 1"
    assert crm.event.reminder is None


async def test_log_revert_declined_changes_nothing(demo: Workspace) -> None:
    _shared_item(demo, "anna")
    cal.edit(demo, "anna", "remote", "Quarterly review", location="Room Vasa")
    _sync(demo, "anna")
    count = len(UserFiles(demo, "anna").log.entries())
    app = make_app(demo)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await pilot.press("l")
        await settle(pilot)
        await pilot.press("r", "n")
        await settle(pilot)
        assert isinstance(app.screen, LogScreen)
    assert len(UserFiles(demo, "anna").log.entries()) == count
    assert cal.items(demo, "anna", "crm")["Quarterly review"].event.location == "Room Vasa"


async def test_log_filters_by_side_action_and_text(demo: Workspace) -> None:
    app = make_app(demo)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await pilot.press("l")
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, LogScreen)
        total = len(screen.entries)
        assert total > 0 and len(screen.shown) == total
        screen.query_one("#log-side").value = "remote"
        await pilot.pause()
        assert screen.shown and all(e["side"] == "remote" for e in screen.shown)
        screen.query_one("#log-side").value = "all"
        screen.query_one("#log-action").value = "create"
        await pilot.pause()
        assert all(e["action"] == "create" for e in screen.shown)
        await pilot.press("slash", *"dentist")
        await pilot.pause()
        # skip_private is off for anna: the private dentist visit was copied to the CRM
        assert [e["side"] for e in screen.shown] == ["crm"]
        await pilot.press("escape")
        await pilot.pause()
        assert isinstance(app.screen, LogScreen)  # escape in the text box leaves it first


async def test_trash_preview_and_restore(demo: Workspace) -> None:
    _shared_item(demo, "bertil", "Lunch with Nordvik AB")
    cal.remove(demo, "bertil", "remote", "Lunch with Nordvik AB")
    _sync(demo, "bertil")
    assert "Lunch with Nordvik AB" not in cal.items(demo, "bertil", "crm")
    app = make_app(demo)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await pilot.press("down", "t")
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, TrashScreen)
        assert [e["item"]["subject"] for e in screen.shown] == ["Lunch with Nordvik AB"]
        preview = text_of(screen.query_one("#trash-item", ItemView))
        assert "Room 1" in preview and "show as" in preview
        await pilot.press("r")
        await pilot.pause()
        dialog = app.screen
        assert isinstance(dialog, ConfirmDialog)
        assert "Restore “Lunch with Nordvik AB” to the CRM calendar?" in dialog.question
        await pilot.press("y")
        await settle(pilot)
        assert app.screen is screen
        assert screen.shown == []  # restored entries leave the list
        await pilot.press("escape")
        await pilot.pause()
        assert isinstance(app.screen, UsersScreen)
        await pilot.press("l")
        await settle(pilot)
        log = app.screen
        assert isinstance(log, LogScreen)
        assert log.shown[0]["action"] == "restore"
    assert "Lunch with Nordvik AB" in cal.items(demo, "bertil", "crm")


async def test_empty_trash_says_so(demo: Workspace) -> None:
    app = make_app(demo)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await pilot.press("t")
        await settle(pilot)
        assert isinstance(app.screen, TrashScreen)
        assert "empty" in text_of(app.screen.query_one("#trash-title"))
        await pilot.press("r")
        await pilot.pause()
        assert isinstance(app.screen, TrashScreen)  # nothing to confirm
