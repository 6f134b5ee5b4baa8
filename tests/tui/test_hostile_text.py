"""Calendar and user data that looks like Rich markup is shown as typed, everywhere
(issue 15 item 11): `Budget [/b] review` once ended the app with a MarkupError, and
`[i]val[/i]` came out in italics. Every screen gets hostile titles, locations,
descriptions and calendar addresses: brackets, very long titles, Arabic, CJK, emoji."""

from __future__ import annotations

import shutil
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

from textual.app import App
from textual.widgets import Input

from storage.workspace import Workspace
from sync import users
from sync.model import Event
from sync.providers.registry import open_provider
from tests.tui import calendars as cal
from tests.tui.conftest import make_app, settle, text_of
from tui.screens.check import CheckScreen
from tui.screens.confirm import ConfirmDialog
from tui.screens.log import LogScreen
from tui.screens.plan import PlanScreen
from tui.screens.trash import TrashScreen
from tui.screens.user_form import UserFormScreen
from tui.screens.users import UsersScreen

#: each shown whole somewhere; markup would eat its brackets or fail on them
SUBJECTS = (
    "Budget [/b] review",
    "[i]val[/i]",
    "[link=x]go[/link]",
    "lone [ bracket",
    "[bold red]alarm",
    "C:\\temp\\[x]\\",
    "اجتماع [/i] الميزانية",
    "予算会議 [b]確認",
    "📅 party 🎉 [/]",
)
LONG = "Quarterly " + "very " * 80 + "long [/b] title"
LOCATION = "[/link] Room [1]"
TEXT = "Agenda:\n[/b] numbers\n[i]not italic"
SIZE = (160, 50)


def screen_text(app: App[None]) -> str:
    """Every character the active screen shows (a modal with what is behind it)."""
    return "\n".join(strip.text for strip in app.screen._compositor.render_strips())


def _put(ws: Workspace, name: str, subject: str, days: int) -> None:
    start = datetime.now(UTC).replace(hour=9, minute=0, second=0, microsecond=0)
    start += timedelta(days=days)
    event = Event(
        uid=f"{uuid.uuid4()}@test",
        subject=subject,
        start=start,
        end=start + timedelta(hours=1),
        location=LOCATION,
        text=TEXT,
    )
    with open_provider(cal.url(ws, name, "crm")) as p:
        p.create(event)


def _hostile_items(ws: Workspace) -> None:
    for n, subject in enumerate((*SUBJECTS, LONG)):
        _put(ws, "anna", subject, days=2 + n)


def _assert_shown(app: App[None], *texts: str) -> None:
    shown = screen_text(app)
    for text in texts:
        assert text in shown, f"{text!r} not shown as typed:\n{shown}"


async def _pause(pilot) -> None:  # type: ignore[no-untyped-def]
    await settle(pilot)
    await pilot.pause()


async def test_preview_sync_log_revert_trash_restore(demo: Workspace) -> None:
    _hostile_items(demo)
    app = make_app(demo)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await _pause(pilot)
        await pilot.press("p")  # preview: every hostile subject is a create on remote
        await _pause(pilot)
        assert isinstance(app.screen, PlanScreen)
        _assert_shown(app, *SUBJECTS, "Quarterly very very")
        await pilot.press("a")  # apply
        await _pause(pilot)
        assert isinstance(app.screen, UsersScreen)
        assert {*SUBJECTS, LONG} <= set(cal.items(demo, "anna", "remote"))

        await pilot.press("l")
        await _pause(pilot)
        log = app.screen
        assert isinstance(log, LogScreen)
        _assert_shown(app, *SUBJECTS)
        # the long title is cut in its cell, so the reason column stays on screen
        long_row = next(line for line in screen_text(app).splitlines() if "Quarterly" in line)
        assert "very very…" in long_row and long_row.rstrip().endswith("new in CRM")
        for row in range(len(SUBJECTS) + 1):  # each entry's item in the after pane
            log.query_one("#log-table").move_cursor(row=row)
            await _pause(pilot)
            after = text_of(log.query_one("#log-after"), width=200)
            assert f"location      {LOCATION}" in after
            assert all(line in after for line in TEXT.splitlines())
            subject = log.shown[row]["after"]["subject"]
            assert subject in after.replace("\n", "") or subject == LONG
        await pilot.press("slash")
        await pilot.press(*"budget [/b]")  # the filter box takes markup as plain words too
        await _pause(pilot)
        assert [e["after"]["subject"] for e in log.shown] == ["Budget [/b] review"]
        _assert_shown(app, "Budget [/b] review", "Change log of anna: 1 of ")
        await pilot.press("escape")
        await pilot.press("r")  # the revert question names the item
        await _pause(pilot)
        assert isinstance(app.screen, ConfirmDialog)
        _assert_shown(app, "“Budget [/b] review”")
        await pilot.press("y")
        await _pause(pilot)
        assert app.screen is log
        await pilot.press("escape")
        await _pause(pilot)

        # the revert deleted the CRM copy; sync carries that across: remote copy to trash
        await pilot.press("s")
        await _pause(pilot)
        await pilot.press("t")
        await _pause(pilot)
        assert isinstance(app.screen, TrashScreen)
        _assert_shown(app, "Budget [/b] review", "[/link] Room [1]")
        assert "[/b] numbers" in text_of(app.screen.query_one("#trash-item"), width=200)
        await pilot.press("r")
        await _pause(pilot)
        assert isinstance(app.screen, ConfirmDialog)
        _assert_shown(app, "Restore “Budget [/b] review”")
        await pilot.press("y")
        await _pause(pilot)
        assert isinstance(app.screen, TrashScreen)
        _assert_shown(app, "Restored “Budget [/b] review”")  # the notification
    assert app.return_code in (None, 0)


async def test_users_with_hostile_calendar_addresses(demo: Workspace, tmp_path: Path) -> None:
    crm = tmp_path / "[/b]crm [i]x[/i]"
    remote = tmp_path / "[link=x]remote["
    crm.mkdir(parents=True)
    remote.mkdir(parents=True)
    users.add_user(demo, "zed", f"folder:{crm}", f"folder:{remote}")
    app = make_app(demo)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await _pause(pilot)
        screen = app.screen
        assert isinstance(screen, UsersScreen)
        screen.table.move_cursor(row=screen.table.shown.index("zed"))
        await _pause(pilot)
        _assert_shown(app, "_calend0/[link=x]remote[ ")  # the table's address column
        detail = text_of(screen.detail.query_one("#detail-body"), width=300)
        assert f"folder  {crm}" in detail and f"folder  {remote}" in detail
        await pilot.press("c")
        await _pause(pilot)
        assert isinstance(app.screen, CheckScreen)
        _assert_shown(app, "[link=x]remote[")
        await pilot.press("escape")
        await pilot.press("e")
        await _pause(pilot)
        assert isinstance(app.screen, UserFormScreen)
        assert app.screen.query_one("#f-crm", Input).value == f"folder:{crm}"
        await pilot.press("escape")
        await _pause(pilot)
        # a run that fails on the address: the error notification and the detail pane
        shutil.rmtree(remote)
        remote.write_text("not a folder")
        await pilot.press("i")
        await _pause(pilot)
        assert isinstance(app.screen, UsersScreen)
        _assert_shown(app, "[link=x]remote[: [Errno 20]")  # the notification
        detail = text_of(screen.detail.query_one("#detail-body"), width=300)
        assert f"cannot read calendar folder {remote}: [Errno 20]" in detail
    assert app.return_code in (None, 0)
