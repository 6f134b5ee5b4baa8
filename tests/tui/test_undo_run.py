"""Undo a whole run from the change log (issue 16): previewed first, then applied."""

from __future__ import annotations

from textual.widgets import DataTable, Label

from storage.config import load_config
from storage.workspace import Workspace
from sync import revert_run
from sync.engine.runner import SyncOptions
from sync.service import sync_user
from tests.tui import calendars as cal
from tests.tui.conftest import make_app, settle, text_of
from tui.screens.log import LogScreen
from tui.screens.revert_run import RevertRunScreen

JUNK = "Junk [bold]x[/] 予定 " + "very long title " * 12


def _bad_run(ws: Workspace) -> str:
    cal.put(ws, "anna", "remote", JUNK)
    cal.edit(ws, "anna", "remote", "Team meeting", location="nowhere")
    result = sync_user(ws, load_config(ws.config_path), "anna", SyncOptions())
    assert result.result == "ok", result
    return result.run_id


def _notes(app) -> list[str]:  # type: ignore[no-untyped-def]
    return [n.message for n in app._notifications]


async def test_undo_run_previews_then_reverts(demo: Workspace) -> None:
    run_id = _bad_run(demo)
    assert JUNK in cal.items(demo, "anna", "crm")
    app = make_app(demo)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("l")
        await settle(pilot)
        assert isinstance(app.screen, LogScreen)
        await pilot.press("u")
        await settle(pilot)
        dialog = app.screen
        assert isinstance(dialog, RevertRunScreen)
        assert dialog.run_id == run_id
        assert {(s["action"], s["subject"]) for s in dialog.steps} == {
            ("create", JUNK),
            ("update", "Team meeting"),
        }
        assert dialog.query_one(DataTable).row_count == 2
        assert "2 change(s)" in text_of(dialog.query_one("#undo-detail"))
        # the run by the 8-character id `calsync revert-run` takes, not its 23-character one
        short = revert_run.short_run_id(demo, "anna", run_id)
        assert len(short) == 8
        title = str(dialog.query_one("#undo-title", Label).content)
        assert title == f"Undo run {short} of anna"
        undo = [str(dialog.query_one(DataTable).get_row_at(i)[3]) for i in range(2)]
        assert sorted(undo) == ["delete (trash)", "put back"]  # whole at 80 columns
        assert JUNK in cal.items(demo, "anna", "crm")  # the preview wrote nothing
        await pilot.press("a")
        await settle(pilot)
        assert isinstance(app.screen, LogScreen)
        assert any(n.startswith(f"Undid 2 change(s) of run {short}.") for n in _notes(app))
    crm = cal.items(demo, "anna", "crm")
    assert JUNK not in crm
    assert crm["Team meeting"].event.location != "nowhere"


async def test_undo_run_cancelled_writes_nothing(demo: Workspace) -> None:
    _bad_run(demo)
    app = make_app(demo)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await pilot.press("l")
        await settle(pilot)
        await pilot.press("u")
        await settle(pilot)
        assert isinstance(app.screen, RevertRunScreen)
        await pilot.press("escape")
        await settle(pilot)
        assert isinstance(app.screen, LogScreen)
    assert JUNK in cal.items(demo, "anna", "crm")


async def test_undo_of_an_operator_change_is_refused_with_a_reason(demo: Workspace) -> None:
    app = make_app(demo)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await pilot.press("l")
        await settle(pilot)
        log = app.screen
        assert isinstance(log, LogScreen)
        log.entries[0]["run"] = "operator"  # as a revert or restore records it
        log.apply_filters()
        await pilot.press("u")
        await settle(pilot)
        assert app.screen is log
        assert "Select a change a sync run made." in _notes(app)


async def test_undoing_a_run_twice_says_what_could_not_be_undone(demo: Workspace) -> None:
    run_id = _bad_run(demo)
    app = make_app(demo)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        first = app.users_screen.services.revert_run("anna", run_id)
        assert len(first["reverted"]) == 2
        await pilot.press("l")
        await settle(pilot)
        log = app.screen
        assert isinstance(log, LogScreen)
        # the newest entries are the undo's own; pick one of the run's
        row = next(i for i, e in enumerate(log.shown) if e.get("run") == run_id)
        log.query_one(DataTable).move_cursor(row=row)
        await pilot.press("u")
        await settle(pilot)
        assert isinstance(app.screen, RevertRunScreen)
        await pilot.press("a")
        await settle(pilot)
        assert app.screen is log
        # the update goes back to its before-version again (a no-op); the created item
        # is gone already, and the operator is told so, item by item
        assert any("; 1 could not be undone." in n for n in _notes(app)), _notes(app)
        assert any(n.endswith("the created item is already gone") for n in _notes(app))
    assert JUNK not in cal.items(demo, "anna", "crm")


async def test_no_undo_while_a_run_is_in_progress(demo: Workspace) -> None:
    from tui.messages import RunRequest

    _bad_run(demo)
    app = make_app(demo)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await pilot.press("l")
        await settle(pilot)
        log = app.screen
        app.users_screen._current = RunRequest("sync", ("anna",))  # as while a run writes
        await pilot.press("u")
        await settle(pilot)
        assert app.screen is log
        assert any(n.startswith("A run is in progress") for n in _notes(app))
        app.users_screen._current = None
    assert JUNK in cal.items(demo, "anna", "crm")


def test_two_undos_of_one_item_log_two_entries(demo: Workspace) -> None:
    """Operator log ids are unique even for one item changed twice within a second."""
    from storage.state import UserFiles
    from sync import service

    run_id = _bad_run(demo)
    config = load_config(demo.config_path)
    update = next(
        e
        for e in UserFiles(demo, "anna").log.entries()
        if e["run"] == run_id and e["action"] == "update"
    )
    service.revert(demo, config, "anna", update["id"])
    service.revert(demo, config, "anna", update["id"])
    ids = [e["id"] for e in UserFiles(demo, "anna").log.entries() if e["run"] == "operator"]
    assert len(ids) == 2 and len(set(ids)) == 2
