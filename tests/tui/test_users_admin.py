"""Add, edit, enable/disable and remove users; filter and sort the table."""

from __future__ import annotations

from pathlib import Path

from textual.widgets import Input, Select

from storage.users import UserStore
from storage.workspace import Workspace
from tests.tui.conftest import make_app, settle, text_of
from tui.screens.confirm import ConfirmDialog
from tui.screens.user_form import UserForm, UserFormScreen
from tui.screens.users import UsersScreen


def _record(ws: Workspace, name: str) -> dict[str, object]:
    return UserStore(ws).get(name)


async def _type(pilot, selector: str, text: str) -> None:  # type: ignore[no-untyped-def]
    box = pilot.app.screen.query_one(selector, Input)
    box.value = text
    await pilot.pause()


async def test_edit_settings_rejects_invalid_input_then_saves(demo: Workspace) -> None:
    app = make_app(demo)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await pilot.press("e")
        await pilot.pause()
        form = app.screen
        assert isinstance(form, UserFormScreen)
        await _type(pilot, "#f-reminders", "sometimes")
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert app.screen is form  # still open
        error = text_of(form.query_one("#form-error"))
        assert "reminders must be sync, off or minutes:N" in error
        assert form.query_one("#f-reminders").has_class("invalid")
        await _type(pilot, "#f-reminders", "minutes:15")
        await _type(pilot, "#f-window_past_days", "-3")
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert app.screen is form
        assert "window_past_days" in text_of(form.query_one("#form-error"))
        assert _record(demo, "anna").get("reminders") is None  # nothing written yet
        await _type(pilot, "#f-window_past_days", "30")
        form.query_one("#f-multiday", Select).value = "keep"
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert isinstance(app.screen, UsersScreen)
        detail = text_of(app.screen.detail.query_one("#detail-body"))
        assert "minutes:15" in detail
    record = _record(demo, "anna")
    assert record["reminders"] == "minutes:15"
    assert record["window_past_days"] == 30
    assert record["multiday"] == "keep"
    assert record["skip_private"] is None or record["skip_private"] is False


async def test_edit_rejects_a_bad_calendar_url(demo: Workspace) -> None:
    app = make_app(demo)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await pilot.press("e")
        await pilot.pause()
        form = app.screen
        assert isinstance(form, UserFormScreen)
        await _type(pilot, "#f-remote", "gopher:somewhere")
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert app.screen is form
        assert "gopher" in text_of(form.query_one("#form-error"))
        await pilot.press("escape")
        await pilot.pause()
        assert isinstance(app.screen, UsersScreen)
    assert str(_record(demo, "anna")["remote"]).startswith("folder:")


async def test_add_user_validates_and_adds(demo: Workspace, tmp_path: Path) -> None:
    app = make_app(demo)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await pilot.press("n")
        await pilot.pause()
        form = app.screen
        assert isinstance(form, UserFormScreen)
        await _type(pilot, "#f-name", "bad name!")
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert app.screen is form
        assert "bad user name" in text_of(form.query_one("#form-error"))
        await _type(pilot, "#f-name", "dora")
        await _type(pilot, "#f-crm", f"folder:{tmp_path / 'dora-crm'}")
        await _type(pilot, "#f-remote", f"folder:{tmp_path / 'dora-remote'}")
        await _type(pilot, "#f-reminders", "off")
        await pilot.press("ctrl+s")
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, UsersScreen)
        assert "dora" in screen.table.shown
        assert screen.table.selected_name == "dora"
        assert screen.table.summaries["dora"].initialized is False
    assert _record(demo, "dora")["reminders"] == "off"


async def test_add_existing_user_is_refused_in_the_form(demo: Workspace, tmp_path: Path) -> None:
    """Issue 15 item 1: `n`, name `anna` (exists), other calendars, ctrl+s overwrote anna."""
    users_json = (demo.root / "users.json").read_bytes()
    app = make_app(demo)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await pilot.press("n")
        await pilot.pause()
        form = app.screen
        assert isinstance(form, UserFormScreen)
        await _type(pilot, "#f-crm", f"folder:{tmp_path / 'x-crm'}")
        await _type(pilot, "#f-remote", f"folder:{tmp_path / 'x-remote'}")
        for name, shown in (("anna", "anna"), ("Anna", "anna")):  # case-blind, like the CLI
            await _type(pilot, "#f-name", name)
            await pilot.press("ctrl+s")
            await settle(pilot)
            assert app.screen is form  # still open: nothing was saved
            assert text_of(form.query_one("#form-error")).strip() == (
                f"a user named '{shown}' already exists"
            )
            assert form.query_one("#f-name").has_class("invalid")
            assert form.focused is form.query_one("#f-name")
        await pilot.press("escape")
        await settle(pilot)
        assert isinstance(app.screen, UsersScreen)
        assert not [n for n in app._notifications if "Saved" in n.message]
    assert (demo.root / "users.json").read_bytes() == users_json


async def test_add_of_a_name_taken_meanwhile_fails_and_keeps_that_user(
    demo: Workspace, tmp_path: Path
) -> None:
    """The form checked the name, then someone added it (the CLI): still no overwrite."""
    users_json = (demo.root / "users.json").read_bytes()
    app = make_app(demo)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, UsersScreen)
        values = {"crm": f"folder:{tmp_path / 'x-crm'}", "remote": f"folder:{tmp_path / 'x'}"}
        screen._form_done(UserForm("anna", values, adding=True))
        await settle(pilot)
        errors = [n for n in app._notifications if n.severity == "error"]
        assert errors and errors[-1].message == "a user named 'anna' already exists"
        assert screen.table.shown == ["anna", "bertil", "cecilia", "david"]
    assert (demo.root / "users.json").read_bytes() == users_json


async def test_disable_and_enable(demo: Workspace) -> None:
    app = make_app(demo)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await pilot.press("d")
        await settle(pilot)
        assert _record(demo, "anna")["enabled"] is False
        screen = app.screen
        assert isinstance(screen, UsersScreen)
        assert str(screen.table.get_row("anna")[3]) == "no"
        assert screen.table.selected_name == "anna"
        await pilot.press("d")
        await settle(pilot)
        assert _record(demo, "anna")["enabled"] is True


async def test_remove_user_asks_first(demo: Workspace) -> None:
    app = make_app(demo)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await pilot.press("down", "delete")
        await pilot.pause()
        dialog = app.screen
        assert isinstance(dialog, ConfirmDialog)
        assert dialog.question.startswith("Remove user bertil?")
        await pilot.press("n")
        await settle(pilot)
        assert UserStore(demo).exists("bertil")
        await pilot.press("delete", "y")
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, UsersScreen)
        assert screen.table.shown == ["anna", "cecilia", "david"]
    assert not UserStore(demo).exists("bertil")
    assert list((demo.root / "removed").glob("bertil-*"))


async def test_filter_and_sort(demo: Workspace) -> None:
    from sync.users import set_user

    set_user(demo, "bertil", {"enabled": "no"})
    app = make_app(demo)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, UsersScreen)
        await pilot.press("slash", *"cil")
        await pilot.pause()
        assert screen.table.shown == ["cecilia"]
        assert screen.detail.shown_name is None or screen.detail.shown_name == "cecilia"
        await pilot.press("escape")  # clears the filter
        await pilot.pause()
        await pilot.press("escape")
        await pilot.pause()
        assert screen.table.shown == ["anna", "bertil", "cecilia", "david"]
        screen.table.sort_by("enabled")
        assert screen.table.shown == ["anna", "cecilia", "david", "bertil"]
        screen.table.sort_by("enabled")  # again: reversed
        assert screen.table.shown == ["bertil", "david", "cecilia", "anna"]
        await pilot.press("slash", *"zzz", "enter")
        await settle(pilot)
        assert screen.table.shown == []
        assert "No user matches" in text_of(screen.detail.query_one("#detail-body"))
