"""Issue 16 dialogs: the deletion guard lists what would go, the identity question shows
both calendars, initializing again asks first, an empty preview offers no Apply."""

from __future__ import annotations

from pathlib import Path

from textual.widgets import Button, DataTable

from storage.state import UserFiles
from storage.workspace import Workspace
from sync.users import set_user
from tests.tui import calendars as cal
from tests.tui.conftest import make_app, settle, text_of
from tui.screens.confirm import ConfirmDialog
from tui.screens.deletion_guard import DeletionGuardDialog
from tui.screens.identity import IdentityDialog
from tui.screens.plan import PlanScreen
from tui.screens.users import UsersScreen
from tui.widgets.item_view import ItemView


async def test_deletion_guard_lists_the_items_with_a_preview(demo: Workspace) -> None:
    cal.put(demo, "cecilia", "crm", "Budget [bold]x[/] 予算会議 " + "long " * 30)
    await _sync_quietly(demo)
    remote = Path(cal.url(demo, "cecilia", "remote").removeprefix("folder:"))
    for ics in remote.glob("*.ics"):
        ics.unlink()
    crm_before = set(cal.items(demo, "cecilia", "crm"))
    app = make_app(demo)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("slash", *"cecilia", "enter", "s")
        await settle(pilot)
        dialog = app.screen
        assert isinstance(dialog, DeletionGuardDialog)
        table = dialog.query_one("#guard-table", DataTable)
        # every item the run would delete is listed, none other
        listed = {item["item"]["subject"] for item in dialog.items}
        assert listed == crm_before
        assert table.row_count == len(dialog.items) > 5
        assert {i["side"] for i in dialog.items} == {"crm"}
        preview = dialog.query_one("#guard-preview", ItemView)
        first = text_of(preview)
        assert dialog.items[0]["item"]["subject"][:20] in first
        await pilot.press("down", "down")
        assert table.cursor_row == 2
        third = text_of(preview)
        assert third != first and dialog.items[2]["item"]["subject"][:20] in third
        await pilot.press("ctrl+end")
        assert table.cursor_row == len(dialog.items) - 1
        assert dialog.items[-1]["item"]["subject"][:20] in text_of(preview)
        await pilot.press("n")
        await settle(pilot)
        assert isinstance(app.screen, UsersScreen)
    assert set(cal.items(demo, "cecilia", "crm")) == crm_before
    assert not UserFiles(demo, "cecilia").trash.entries()


async def _sync_quietly(ws: Workspace) -> None:
    app = make_app(ws)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await pilot.press("slash", *"cecilia", "enter", "s")
        await settle(pilot)


async def test_identity_dialog_shows_the_recorded_and_the_current_calendar(
    demo: Workspace, tmp_path: Path
) -> None:
    old_url = cal.url(demo, "anna", "remote")
    # a hostile name (a folder: no "/"): markup, another script, longer than the dialog is wide
    hostile = "予定表 [bold]Team[red] " + "very-long-name-" * 8
    other = tmp_path / hostile
    other.mkdir()
    set_user(demo, "anna", {"remote": f"folder:{other}"})
    app = make_app(demo)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("s")
        await settle(pilot)
        dialog = app.screen
        assert isinstance(dialog, IdentityDialog)
        shown = text_of(dialog.query_one("#identity-calendars"), width=400)
        assert "Recorded" in shown and "Answering now" in shown
        assert "calendars/anna/remote" in shown  # short: relative to the workspace
        assert str(other)[:40] in shown  # folded at its spaces
        assert "Initialized" in shown and "not yet" in shown
        # the names, literally: the recorded folder's and the hostile one, cut with …
        # to the dialog's width at 80 columns rather than folded over many rows
        static = dialog.query_one("#identity-calendars")
        narrow = text_of(static, width=static.size.width)
        name_line = next(line for line in narrow.splitlines() if line.startswith("Name"))
        assert "remote" in name_line and "予定表 [bold]Team[red] v" in name_line
        assert name_line.rstrip().endswith("…") and static.size.width <= 80
        assert dialog.result.calendars["recorded"]["name"] == "remote"
        assert dialog.result.calendars["current"]["name"] == hostile.strip()
        recorded = dialog.result.calendars["recorded"]
        assert recorded["address"] == old_url
        assert (
            recorded["initialized"] == UserFiles(demo, "anna").read_state().meta["initialized_at"]
        )
        assert dialog.result.calendars["current"]["address"] == f"folder:{other}"
        await pilot.press("escape")
        await settle(pilot)
        assert isinstance(app.screen, UsersScreen)


async def test_initializing_again_asks_first(demo: Workspace) -> None:
    runs = cal.runs(demo, "anna")
    app = make_app(demo)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("i")
        await settle(pilot)
        dialog = app.screen
        assert isinstance(dialog, ConfirmDialog)
        assert dialog.question.startswith("anna was initialized on ")
        await pilot.press("n")
        await settle(pilot)
        assert isinstance(app.screen, UsersScreen)
        assert cal.runs(demo, "anna") == runs
        await pilot.press("i")
        await settle(pilot)
        await pilot.press("y")
        await settle(pilot)
        assert isinstance(app.screen, UsersScreen)
    assert cal.runs(demo, "anna") == runs + 1
    assert UserFiles(demo, "anna").read_state().runs[-1]["kind"] == "init"


async def test_a_new_user_is_initialized_without_a_question(
    demo: Workspace, tmp_path: Path
) -> None:
    from sync.users import add_user

    for folder in ("dcrm", "drem"):
        (tmp_path / folder).mkdir()
    add_user(demo, "dora", f"folder:{tmp_path / 'dcrm'}", f"folder:{tmp_path / 'drem'}")
    app = make_app(demo)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await pilot.press("slash", *"dora", "enter", "i")
        await settle(pilot)
        assert isinstance(app.screen, UsersScreen)
    assert UserFiles(demo, "dora").read_state().initialized


async def test_an_empty_preview_offers_no_apply(demo: Workspace) -> None:
    runs = cal.runs(demo, "anna")
    app = make_app(demo)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("p")
        await settle(pilot)
        plan = app.screen
        assert isinstance(plan, PlanScreen)
        assert not plan.result.plan.writes
        assert [b.id for b in plan.query(Button)] == ["cancel"]
        assert "Close" in str(plan.query_one("#cancel", Button).label)
        assert not [b for b in app.active_bindings.values() if b.binding.action == "apply"]
        await pilot.press("a")  # nothing happens: there is nothing to apply
        await settle(pilot)
        assert app.screen is plan
        await pilot.press("escape")
        await settle(pilot)
        assert isinstance(app.screen, UsersScreen)
        # the preview said "Nothing to change"; closing it needs no "nothing applied" after
        assert not [n for n in app._notifications if "applied" in n.message]
    assert cal.runs(demo, "anna") == runs
