"""Issue 7 flows on the users screen, on the demo's folder calendars, driven by keys."""

from __future__ import annotations

import shutil
import threading

from storage.state import UserFiles
from storage.workspace import Workspace
from tests.tui import calendars as cal
from tests.tui.conftest import make_app, settle, text_of
from tui.messages import RunProgressed, RunRequest
from tui.screens.confirm import ConfirmDialog
from tui.screens.plan import PlanScreen
from tui.screens.users import UsersScreen
from tui.services import IDENTITY_QUESTION
from tui.widgets.users_table import UsersTable


def _screen(app) -> UsersScreen:  # type: ignore[no-untyped-def]
    return app.users_screen


def _notes(app) -> list[str]:  # type: ignore[no-untyped-def]
    return [n.message for n in app._notifications]


async def test_table_lists_users_with_state(demo: Workspace) -> None:
    app = make_app(demo)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        table = app.screen.query_one(UsersTable)
        assert table.shown == ["anna", "bertil", "cecilia", "david"]
        assert all(table.summaries[n].last_result == "ok" for n in table.shown)
        assert all(table.summaries[n].initialized for n in table.shown)
        row = table.get_row("anna")
        assert str(row[1]) == "folder"
        assert str(row[2]) == "calendars/anna/remote"  # short, relative to the workspace


async def test_select_user_sync_updates_table(demo: Workspace) -> None:
    cal.put(demo, "bertil", "remote", "Offsite planning")
    app = make_app(demo)
    progress: list[RunProgressed] = []

    def hook(message: object) -> None:
        if isinstance(message, RunProgressed):
            progress.append(message)

    async with app.run_test(size=(120, 40), message_hook=hook) as pilot:
        await settle(pilot)
        await pilot.press("down")  # bertil
        screen = _screen(app)
        assert screen.table.selected_name == "bertil"
        before = cal.runs(demo, "bertil")
        await pilot.press("s")
        await settle(pilot)
        assert "Offsite planning" in cal.items(demo, "bertil", "crm")
        assert cal.runs(demo, "bertil") == before + 1
        # the applier reported each write; the last report is the finished total
        assert progress and progress[-1].done == progress[-1].total == 1
        assert progress[-1].label.startswith("bertil: ")
        summary = screen.table.summaries["bertil"]
        assert summary.last_result == "ok"
        assert summary.counts["crm"]["create"] == 1
        assert str(screen.table.get_row("bertil")[7]).startswith("+1 ~0 -0")
        assert any("bertil: CRM: 1 created" in n for n in _notes(app))
        assert "Changes   CRM +1 ~0 -0" in text_of(screen.detail.query_one("#detail-body"))


async def test_preview_then_apply(demo: Workspace) -> None:
    cal.put(demo, "anna", "crm", "Pricing workshop")
    app = make_app(demo)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await pilot.press("p")
        await settle(pilot)
        plan = app.screen
        assert isinstance(plan, PlanScreen)
        assert [(a.op, a.side) for a in plan.result.plan.writes] == [("create", "remote")]
        assert "Pricing workshop" not in cal.items(demo, "anna", "remote")  # nothing yet
        await pilot.press("a")
        await settle(pilot)
        assert isinstance(app.screen, UsersScreen)
        assert "Pricing workshop" in cal.items(demo, "anna", "remote")


async def test_preview_cancel_writes_nothing(demo: Workspace) -> None:
    cal.put(demo, "anna", "crm", "Pricing workshop")
    app = make_app(demo)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await pilot.press("p")
        await settle(pilot)
        assert isinstance(app.screen, PlanScreen)
        await pilot.press("escape")
        await settle(pilot)
        assert isinstance(app.screen, UsersScreen)
        assert "Pricing workshop" not in cal.items(demo, "anna", "remote")
        assert "anna: nothing applied." in _notes(app)


async def test_preview_of_uninitialized_user_plans_init(demo: Workspace, tmp_path) -> None:  # type: ignore[no-untyped-def]
    from sync.users import add_user

    for folder in ("dcrm", "drem"):  # calsync never creates a calendar folder
        (tmp_path / folder).mkdir()
    add_user(demo, "dora", f"folder:{tmp_path / 'dcrm'}", f"folder:{tmp_path / 'drem'}")
    cal.put(demo, "dora", "remote", "Kickoff")
    app = make_app(demo)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await pilot.press("slash", *"dora", "enter")
        await pilot.press("p")
        await settle(pilot)
        assert isinstance(app.screen, PlanScreen)
        assert app.screen.init
        await pilot.press("a")
        await settle(pilot)
        assert UserFiles(demo, "dora").read_state().initialized
        assert "Kickoff" in cal.items(demo, "dora", "crm")


def _point_remote_elsewhere(ws: Workspace, tmp_path) -> str:  # type: ignore[no-untyped-def]
    from sync.users import set_user

    other = tmp_path / "new-remote"
    other.mkdir()
    set_user(ws, "anna", {"remote": f"folder:{other}"})
    return str(other)


async def test_identity_changed_no_leaves_user_untouched(demo: Workspace, tmp_path) -> None:  # type: ignore[no-untyped-def]
    _point_remote_elsewhere(demo, tmp_path)
    old_identity = cal.identity(demo, "anna")
    pairs = len(UserFiles(demo, "anna").read_state().pairs)
    app = make_app(demo)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await pilot.press("s")
        await settle(pilot)
        dialog = app.screen
        assert isinstance(dialog, ConfirmDialog)
        assert dialog.question == IDENTITY_QUESTION
        assert IDENTITY_QUESTION == (
            "The current remote calendar is not the one used in earlier syncs. "
            "Initialize sync against the current calendar?"
        )
        await pilot.press("n")
        await settle(pilot)
        assert isinstance(app.screen, UsersScreen)
    state = UserFiles(demo, "anna").read_state()
    assert state.identity == old_identity
    assert len(state.pairs) == pairs
    assert cal.items(demo, "anna", "remote") == {}


async def test_identity_changed_yes_initializes(demo: Workspace, tmp_path) -> None:  # type: ignore[no-untyped-def]
    _point_remote_elsewhere(demo, tmp_path)
    old_identity = cal.identity(demo, "anna")
    crm_subjects = set(cal.items(demo, "anna", "crm"))
    app = make_app(demo)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await pilot.press("s")
        await settle(pilot)
        assert isinstance(app.screen, ConfirmDialog)
        await pilot.press("y")
        await settle(pilot)
        assert isinstance(app.screen, UsersScreen)
        assert _screen(app).table.summaries["anna"].last_result == "ok"
    assert cal.identity(demo, "anna") not in (None, old_identity)
    # the new calendar got the CRM's items (multi-day titles aside), nothing was duplicated
    remote = cal.items(demo, "anna", "remote")
    assert len(remote) == len(crm_subjects)


async def test_mass_deletion_guard_asks_and_force_deletes(demo: Workspace) -> None:
    remote_dir = cal.url(demo, "cecilia", "remote").removeprefix("folder:")
    for ics in list(__import__("pathlib").Path(remote_dir).glob("*.ics")):
        ics.unlink()
    crm_before = len(cal.items(demo, "cecilia", "crm"))
    app = make_app(demo)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await pilot.press("slash", *"cecilia", "enter", "s")
        await settle(pilot)
        dialog = app.screen
        assert isinstance(dialog, ConfirmDialog)
        assert dialog.question.startswith("This sync would delete ")
        assert dialog.question.endswith(" items in the CRM calendar. Continue?")
        await pilot.press("n")
        await settle(pilot)
        assert len(cal.items(demo, "cecilia", "crm")) == crm_before
        await pilot.press("s")
        await settle(pilot)
        assert isinstance(app.screen, ConfirmDialog)
        await pilot.press("y")
        await settle(pilot)
        assert isinstance(app.screen, UsersScreen)
    assert len(cal.items(demo, "cecilia", "crm")) < crm_before
    assert UserFiles(demo, "cecilia").trash.entries()


async def test_provider_error_is_shown_and_app_keeps_running(demo: Workspace) -> None:
    remote_dir = cal.url(demo, "anna", "remote").removeprefix("folder:")
    shutil.rmtree(remote_dir)
    with open(remote_dir, "w") as fh:  # a file where the calendar folder was
        fh.write("not a calendar\n")
    app = make_app(demo)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await pilot.press("s")
        await settle(pilot)
        screen = _screen(app)
        assert app.screen is screen
        assert screen.table.summaries["anna"].last_result == "failed"
        notes = [n for n in app._notifications if n.severity == "error"]
        assert notes and "anna: error" in notes[-1].title
        body = text_of(screen.detail.query_one("#detail-body"))
        assert "Last error" in body and remote_dir.split("/")[-1] in body
        # still usable: another user syncs fine
        await pilot.press("down", "s")
        await settle(pilot)
        assert screen.table.summaries["bertil"].last_result == "ok"


async def test_sync_all_skips_disabled_users(demo: Workspace) -> None:
    from sync.users import set_user

    set_user(demo, "bertil", {"enabled": "no"})
    before = {n: cal.runs(demo, n) for n in ("anna", "bertil", "cecilia", "david")}
    app = make_app(demo)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await pilot.press("a")
        await settle(pilot)
        assert any(n.startswith("Sync all: 3 user(s)") for n in _notes(app))
    after = {n: cal.runs(demo, n) for n in before}
    assert after == {
        "anna": before["anna"] + 1,
        "bertil": before["bertil"],
        "cecilia": before["cecilia"] + 1,
        "david": before["david"] + 1,
    }


async def test_autosync_runs_enabled_users_when_due(demo: Workspace) -> None:
    cal.put(demo, "anna", "remote", "Auto item")
    app = make_app(demo, autosync=True)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        screen = _screen(app)
        label = text_of(screen.query_one("#autosync-label")).strip()
        assert label.startswith("next auto-sync in 9:") or label.startswith("next auto-sync in 10:")
        screen._next_auto = 0.0  # due now
        screen._tick()
        await settle(pilot)
        assert "Auto item" in cal.items(demo, "anna", "crm")
        assert screen._next_auto is not None and screen._next_auto > 0


async def test_autosync_off_says_so(demo: Workspace) -> None:
    app = make_app(demo, autosync=False)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        assert text_of(_screen(app).query_one("#autosync-label")).strip() == "auto-sync off"


async def test_cancelled_run_is_reported(demo: Workspace) -> None:
    cal.put(demo, "anna", "remote", "Never copied")
    app = make_app(demo)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        screen = _screen(app)
        cancel = threading.Event()
        cancel.set()  # the operator pressed ctrl+x before the first write
        request = RunRequest("sync", ("anna",))
        screen._current = request
        screen.run_users(request, cancel)
        await settle(pilot)
        assert screen._current is None
        assert "Never copied" not in cal.items(demo, "anna", "crm")
        assert any("cancelled" in n for n in _notes(app))


async def test_second_run_is_refused_while_one_runs(demo: Workspace) -> None:
    app = make_app(demo)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        screen = _screen(app)
        assert screen.check_action("cancel_run", ()) is False  # no "cancel" in the footer
        screen._current = RunRequest("sync", ("bertil",))
        assert screen.check_action("cancel_run", ()) is True
        assert not screen.start_run(RunRequest("sync", ("anna",)))
        await pilot.pause()
        assert any("still running" in n for n in _notes(app))
        screen._current = None


async def test_check_connection_shows_results(demo: Workspace) -> None:
    from tui.screens.check import CheckScreen

    app = make_app(demo)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await pilot.press("c")
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, CheckScreen)
        assert screen.rows and all(r.ok for r in screen.rows)
        assert {r.side for r in screen.rows} == {"crm", "remote"}
        await pilot.press("escape")
        assert isinstance(app.screen, UsersScreen)


async def test_quit_cancels_a_running_sync(demo: Workspace) -> None:
    app = make_app(demo)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        screen = _screen(app)
        cancel = threading.Event()
        screen._cancel = cancel  # as start_run leaves it while a run goes on
        await pilot.press("q")
        assert cancel.is_set()
