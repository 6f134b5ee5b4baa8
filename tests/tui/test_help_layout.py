"""`?` help, the command palette, and the log, trash and forms at 80×24 (issue 16).

Every key added for it is pressed here; the help is checked against the screens'
BINDINGS themselves, so a key added later is checked too.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from textual.binding import Binding
from textual.command import CommandPalette
from textual.widgets import DataTable, Input, Select

from storage.short_ids import short_id
from tests.tui.conftest import settle, text_of
from tests.tui.hostile_data import EXTRA_LOG, HOSTILE, build_hostile, hostile_plan
from tests.tui.test_snapshots import NOW
from tui.app import CalsyncApp
from tui.screens.confirm import ConfirmDialog
from tui.screens.help import HelpScreen, key_rows
from tui.screens.log import PAGE, LogScreen
from tui.screens.plan import PlanScreen
from tui.screens.trash import TrashScreen
from tui.screens.user_form import UserFormScreen
from tui.screens.users import UsersScreen
from tui.services import Services
from tui.widgets.keys_footer import HelpKey

SMALL = (80, 24)


@pytest.fixture
def app(tmp_path: Path) -> CalsyncApp:
    ws = build_hostile(tmp_path / "ws")
    return CalsyncApp(Services(ws, clock=lambda: NOW), autosync=False, subtitle="demo")


def help_text(app: CalsyncApp) -> str:
    assert isinstance(app.screen, HelpScreen)
    return text_of(app.screen.query_one("#help-keys"), width=76)


def bound_actions(screen_type: type) -> dict[str, str]:
    """Each action a screen class binds itself, with its description."""
    return {b.action: b.description for b in Binding.make_bindings(screen_type.BINDINGS)}


# -- help -----------------------------------------------------------------------------------


async def test_question_mark_lists_every_key_of_the_users_screen(app: CalsyncApp) -> None:
    async with app.run_test(size=SMALL) as pilot:
        await settle(pilot)
        await pilot.press("question_mark")
        await pilot.pause()
        text = help_text(app)
        for action, description in bound_actions(UsersScreen).items():
            assert description in text, action  # hidden keys (r, esc) too
        assert "del" in text and "^x" in text
        assert "Everywhere" in text and "Quit" in text and "^p" in text
        assert "Keys: Users" in text_of(app.screen.query_one("#help-title"))
        await pilot.press("question_mark")  # ? again closes it, as esc does
        assert isinstance(app.screen, UsersScreen)
        # the footer keeps "? Help" in sight at 80 columns, and a click on it opens the help
        key = app.screen.query_one(HelpKey)
        assert key.region.right <= 80 and key.region.y == 23
        await pilot.click(HelpKey)
        await pilot.pause()
        assert isinstance(app.screen, HelpScreen)


async def test_users_screen_footer_at_80_shows_the_keys_a_new_operator_needs(
    app: CalsyncApp,
) -> None:
    async with app.run_test(size=SMALL) as pilot:
        await settle(pilot)
        shown = {
            str(getattr(key, "description", ""))
            for key in app.screen.query("FooterKey")
            if key.region.width and key.region.right <= 79  # the pinned "? Help" from 79
        }
        wanted = {"Attention", "Sync", "Init", "Preview", "Check", "Log", "Quit"}
        assert wanted <= shown, shown
        assert app.screen.query_one(HelpKey).region.right <= 80
        # every key of the screen explains itself in `?`, the hidden ones too
        for binding in Binding.make_bindings(UsersScreen.BINDINGS):
            assert binding.tooltip, binding.action
        await pilot.press("question_mark")
        await pilot.pause()
        assert "every user that needs an operator" in " ".join(help_text(app).split())


@pytest.mark.parametrize("keys", [["l"], ["t"]])
async def test_help_of_the_log_and_trash_has_their_keys_and_explanations(
    app: CalsyncApp, keys: list[str]
) -> None:
    async with app.run_test(size=SMALL) as pilot:
        await settle(pilot)
        await pilot.press(*keys)
        await settle(pilot)
        screen_type = type(app.screen)
        await pilot.press("question_mark")
        await pilot.pause()
        text = " ".join(help_text(app).split())
        for binding in Binding.make_bindings(screen_type.BINDINGS):
            assert binding.description in text
            assert " ".join(binding.tooltip.split()) in text  # the longer explanation
        assert "Tab" in text or "tab" in text  # inherited keys are listed too
        await pilot.press("escape")
        assert type(app.screen) is screen_type


async def test_help_over_a_dialog_lists_the_dialogs_keys(app: CalsyncApp) -> None:
    async with app.run_test(size=SMALL) as pilot:
        await settle(pilot)
        await pilot.press("delete")
        await pilot.pause()
        assert isinstance(app.screen, ConfirmDialog)
        await pilot.press("question_mark")
        await pilot.pause()
        rows = key_rows(app, app.screen.for_screen)  # type: ignore[attr-defined]
        assert {r.description for r in rows} >= {"Yes", "No"}
        text = help_text(app)
        assert "n / esc" in text and "Keys: Confirm" in text_of(app.screen.query_one("#help-title"))
        # of the app's keys only those a dialog lets through: ^q quits, q does not
        assert "^q" in text and "q / ^q" not in text
        await pilot.press("escape", "n")
        assert isinstance(app.screen, UsersScreen)


async def test_the_command_palette_offers_every_action_of_the_screen(app: CalsyncApp) -> None:
    async with app.run_test(size=SMALL) as pilot:
        await settle(pilot)
        titles = {c.title for c in app.get_system_commands(app.screen)}
        wanted = set(bound_actions(UsersScreen).values()) - {"Cancel"}  # nothing to cancel
        assert wanted <= titles and "Help" in titles
        await pilot.press("ctrl+p")
        await pilot.pause()
        assert isinstance(app.screen, CommandPalette)
        await pilot.press(*"Trash")
        await pilot.pause(0.5)
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, TrashScreen)


# -- the log ----------------------------------------------------------------------------------


async def test_log_at_80x24_ids_whole_rows_enough_and_pages(app: CalsyncApp) -> None:
    async with app.run_test(size=SMALL) as pilot:
        await settle(pilot)
        await pilot.press("l")
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, LogScreen)
        table = screen.query_one(DataTable)
        assert table.size.height - 1 > 3  # more than three rows of entries in sight
        id_column = table.ordered_columns[0]
        assert id_column.label.plain == "ID" and id_column.width >= 8
        first = screen.page_rows[0]
        assert table.get_cell_at((0, 0)).plain == short_id(str(first["id"]))
        total = 4 + EXTRA_LOG
        assert len(screen.page_rows) == PAGE
        assert "page 1/2" in text_of(screen.query_one("#log-page"))
        await pilot.press("n")
        await pilot.pause()
        assert screen.page == 1 and len(screen.page_rows) == total - PAGE
        assert "page 2/2" in text_of(screen.query_one("#log-page"))
        await pilot.press("n")  # no further: it says so and stays
        await pilot.pause()
        assert screen.page == 1
        await pilot.press("p")
        await pilot.pause()
        assert screen.page == 0
        # the revert question names the entry by the id the table shows
        entry = screen.selected
        assert entry is not None
        await pilot.press("r")
        await pilot.pause()
        assert isinstance(app.screen, ConfirmDialog)
        assert f"log entry {short_id(str(entry['id']))}" in app.screen.detail
        await pilot.press("n")


async def test_log_filters_by_action_and_date_from_their_keys(app: CalsyncApp) -> None:
    async with app.run_test(size=SMALL) as pilot:
        await settle(pilot)
        await pilot.press("l")
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, LogScreen)
        await pilot.press("a")
        assert app.focused is screen.query_one("#log-action", Select)
        await pilot.press("escape")
        await pilot.press("D")
        date_box = screen.query_one("#log-date", Input)
        assert app.focused is date_box
        await pilot.press(*"2026-03")
        date_box.value = "2026-03-02"  # the rest at once: a key each is slow to no purpose
        await pilot.press("enter")
        await pilot.pause()
        assert len(screen.shown) == 4  # the snapshot workspace's four of that day
        assert all(str(e["time"]).startswith("2026-03-02") for e in screen.shown)
        assert isinstance(app.focused, DataTable)  # enter went back to the table
        await pilot.press("D")
        date_box.value = "2026-03-05..2026-03-01"
        await pilot.press("enter")
        assert date_box.has_class("invalid")
        assert "ends before it starts" in text_of(screen.query_one("#log-page"))
        assert len(screen.shown) == len(screen.entries)  # a bad date filters nothing out
        # the short id is searchable as text
        wanted = screen.entries[10]
        await pilot.press("slash")
        screen.query_one("#log-text", Input).value = short_id(str(wanted["id"]))
        await pilot.press("enter")
        assert screen.shown == [wanted]


# -- the trash --------------------------------------------------------------------------------


async def test_trash_newest_first_with_short_ids_under_the_table_at_80(app: CalsyncApp) -> None:
    async with app.run_test(size=SMALL) as pilot:
        await settle(pilot)
        await pilot.press("t")
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, TrashScreen)
        stamps = [str(e["deleted_at"]) for e in screen.shown]
        assert stamps == sorted(stamps, reverse=True)
        table = screen.query_one(DataTable)
        assert table.get_cell_at((0, 0)).plain == short_id(str(screen.shown[0]["id"]))
        assert screen.has_class("-narrow")
        item = screen.query_one("#trash-item")
        assert item.region.y > table.region.y and item.region.width == table.region.width
        assert "7 item(s), newest first" in text_of(screen.query_one("#trash-title"))
        await pilot.press("r")
        await pilot.pause()
        assert isinstance(app.screen, ConfirmDialog)
        assert f"trash entry {short_id(str(screen.shown[0]['id']))}" in app.screen.detail
        await pilot.press("n")


async def test_an_empty_trash_says_so_in_the_table_area(app: CalsyncApp) -> None:
    async with app.run_test(size=SMALL) as pilot:
        await settle(pilot)
        await pilot.press("down", "t")  # bertil: nothing deleted
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, TrashScreen)
        empty = screen.query_one("#trash-empty")
        assert empty.display and not screen.query_one(DataTable).display
        assert "The trash of bertil is empty" in text_of(empty, width=70)


# -- forms, check, preview at 80×24 -------------------------------------------------------------


async def test_forms_focus_their_first_field_and_fit_80x24(app: CalsyncApp) -> None:
    async with app.run_test(size=SMALL) as pilot:
        await settle(pilot)
        for key, first in (("n", "#f-name"), ("e", "#f-crm")):
            await pilot.press(key)
            await settle(pilot)
            form = app.screen
            assert isinstance(form, UserFormScreen)
            assert app.focused is form.query_one(first)
            for widget in form.query("Input, Select"):
                assert widget.region.y >= 0 and widget.region.bottom <= 24, widget.id
            assert form.query_one("#save").region.bottom <= 24
            await pilot.press("escape")
            await pilot.pause()


async def test_a_tall_terminal_keeps_the_roomy_form(app: CalsyncApp) -> None:
    async with app.run_test(size=(160, 50)) as pilot:
        await settle(pilot)
        await pilot.press("n")
        await settle(pilot)
        form = app.screen
        assert isinstance(form, UserFormScreen) and not form.has_class("-short")
        assert not form.query_one("#f-name", Input).compact


async def test_the_preview_fits_80_columns_with_hostile_titles(app: CalsyncApp) -> None:
    async with app.run_test(size=SMALL) as pilot:
        await settle(pilot)
        app.push_screen(PlanScreen(hostile_plan(), init=False))
        await pilot.pause()
        table = app.screen.query_one(DataTable)
        assert table.region.right <= 80
        assert sum(c.get_render_width(table) for c in table.ordered_columns) <= table.size.width
        assert table.get_cell_at((0, 2)).plain.startswith(HOSTILE[0][:10])
        assert app.screen.query_one("#apply").region.bottom <= 24
