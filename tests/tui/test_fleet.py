"""Issue 16's fleet view: the summary line and its filters, search, sort, the attention
view with its fixes, item errors across users, and following outside changes."""

from __future__ import annotations

import json
import shutil
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from storage.state import UserFiles
from storage.workspace import Workspace
from sync.users import set_user
from tests.cli.test_sync_cli import calsync
from tests.tui import calendars as cal
from tests.tui.conftest import make_app, settle
from tests.tui.fleet_data import LONG_NAME, LONG_TITLE, TRANSIENT, build_fleet
from tests.tui.test_snapshots import NOW
from tui.app import CalsyncApp
from tui.fleet import FIX_CHECK, FIX_FORCE, FIX_IDENTITY, FIX_SYNC, FIX_WAIT
from tui.screens import users as users_module
from tui.screens.attention import AttentionScreen
from tui.screens.check import CheckScreen
from tui.screens.confirm import ConfirmDialog
from tui.screens.item_errors import ItemErrorsScreen
from tui.screens.plan import PlanScreen
from tui.screens.users import UsersScreen
from tui.services import IDENTITY_QUESTION, Services

SIZE = (120, 40)


@pytest.fixture
def fleet(tmp_path: Path) -> Workspace:
    return build_fleet(tmp_path / "ws")


def fleet_app(ws: Workspace) -> CalsyncApp:
    return CalsyncApp(Services(ws, clock=lambda: NOW), autosync=False, subtitle="fleet")


def users(app: CalsyncApp) -> UsersScreen:
    return app.users_screen


async def test_summary_line_counts_and_keys_filter(fleet: Workspace) -> None:
    app = fleet_app(fleet)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        screen = users(app)
        assert screen.table.counts() == {
            "0": 9, "1": 2, "2": 1, "3": 3, "4": 1, "5": 1, "6": 1
        }  # fmt: skip
        chip = screen.query_one("#state-2")
        assert str(chip.render()) == "2 failing 1"
        expected = {
            "1": ["anna", "hanna"],
            "2": [LONG_NAME],
            "3": ["bertil", "cecilia", "fatima"],  # refused credentials: no retry fixes them
            "4": ["gustav"],
            "5": ["dora"],
            "6": ["erik"],
        }
        for key, names in expected.items():
            await pilot.press(key)
            await settle(pilot)
            assert screen.table.shown == names, key
            assert screen.query_one(f"#state-{key}").has_class("-active")
        await pilot.press("0")
        assert len(screen.table.shown) == 9
        assert screen.table.states["gustav"].state == "throttled"


async def test_summary_line_filters_by_click(fleet: Workspace) -> None:
    app = fleet_app(fleet)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        screen = users(app)
        await pilot.click("#state-3")
        await settle(pilot)
        assert screen.table.shown == ["bertil", "cecilia", "fatima"]
        assert screen.detail.shown_name == "bertil"
        await pilot.click("#state-0")
        assert len(screen.table.shown) == 9


async def test_search_by_name_and_calendar(fleet: Workspace) -> None:
    app = fleet_app(fleet)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        screen = users(app)
        await pilot.press("slash", *"cecil")
        assert screen.table.shown == ["cecilia"]
        await pilot.press(*["backspace"] * 5, *"example.jp")  # a calendar's address
        assert screen.table.shown == ["hanna"]
        await pilot.press(*["backspace"] * 10, *"ews:", "enter")
        assert screen.table.shown == ["cecilia", "gustav"]
        await pilot.press("3")  # the search and a state filter together
        assert screen.table.shown == ["cecilia"]
        await pilot.press("escape", "0")
        assert len(screen.table.shown) == 9


async def test_letters_typed_right_after_slash_go_to_the_search(demo: Workspace) -> None:
    from textual import events

    app = make_app(demo)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        screen = users(app)
        # all queued at once, as a fast typist's keys arrive: none may reach the table,
        # where "d" would disable a user and "a" sync every user
        for key, char in [("slash", "/"), *((c, c) for c in "david")]:
            app.post_message(events.Key(key, char))
        await settle(pilot)
        assert screen.query_one("#filter").value == "david"  # type: ignore[attr-defined]
        for _ in range(100):  # the box's Changed messages may still be queued on a busy machine
            if screen.table.shown == ["david"]:
                break
            await pilot.pause(0.02)
        assert screen.table.shown == ["david"]
        assert not [n for n in app._notifications if "disabled" in n.message.lower()]
    assert all(UserFiles(demo, n).read_state().initialized for n in ("anna", "david"))


def _header(screen: UsersScreen) -> str:
    return screen.table.render_line(0).text


async def test_sort_by_any_column_both_ways(fleet: Workspace) -> None:
    app = fleet_app(fleet)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        screen = users(app)
        table = screen.table
        assert "User ▲" in _header(screen)
        spans = {key: x for key, _, x, _ in table._spans()}
        await pilot.click("#users", offset=(spans["state"] + 1, 0))  # the header
        assert "State ▲" in _header(screen) and "User ▲" not in _header(screen)
        assert table.shown[:3] == ["bertil", "cecilia", "fatima"]  # worst first
        assert table.shown[-1] == "dora"
        await pilot.click("#users", offset=(spans["state"] + 1, 0))
        assert "State ▼" in _header(screen)
        assert table.shown[0] == "dora"
        # by keys: o moves to the next column, O turns the order round
        await pilot.press("o")
        assert "Last run" in _header(screen) and "▲" in _header(screen)
        assert table.shown[0] in ("anna", "hanna")  # the most changes
        await pilot.press("O")
        assert "▼" in _header(screen)
        for key in ("name", "kind", "address", "enabled", "initialized", "last_sync"):
            table.sort_by(key, reverse=False)
            up = list(table.shown)
            table.sort_by(key)
            assert table.shown != up or len(set(up)) < 2, key
        table.sort_by("name", reverse=True)
        assert table.shown[0] == "hanna" and table.shown[-1] == LONG_NAME


async def test_attention_lists_who_needs_what(fleet: Workspace) -> None:
    app = fleet_app(fleet)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("f")
        await settle(pilot)
        view = app.screen
        assert isinstance(view, AttentionScreen)
        fixes = {name: state.action for name, state in view.entries}
        assert list(fixes) == ["bertil", "cecilia", "fatima", LONG_NAME, "gustav"]
        assert fixes == {
            "bertil": FIX_CHECK,  # credentials refused: permanent, needs an operator
            "cecilia": FIX_FORCE,
            "fatima": FIX_IDENTITY,
            LONG_NAME: FIX_SYNC,  # a network failure: try again
            "gustav": FIX_WAIT,
        }
        # the TUI says which key, never "pass --force" or a command line
        for _ in ("cecilia", "fatima"):
            await pilot.press("down")
            reason = str(view.query_one("#attention-reason").render())
            assert "--force" not in reason and "calsync" not in reason
        await pilot.press(*["down"] * 2)  # gustav: throttled, nothing to press but to wait
        await pilot.press("enter")
        await settle(pilot)
        assert app.screen is view
        assert "Wait until" in list(app._notifications)[-1].title
        await pilot.press("escape")
        assert isinstance(app.screen, UsersScreen)


async def test_attention_preview_then_force_fixes_the_deletion_guard(demo: Workspace) -> None:
    remote_dir = Path(cal.url(demo, "cecilia", "remote").removeprefix("folder:"))
    for ics in remote_dir.glob("*.ics"):
        ics.unlink()
    assert Services(demo).run("cecilia").needs == "mass_delete"  # a cron run met the guard
    crm_before = len(cal.items(demo, "cecilia", "crm"))
    app = make_app(demo)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("f")
        await settle(pilot)
        view = app.screen
        assert isinstance(view, AttentionScreen)
        assert [(n, s.action) for n, s in view.entries] == [("cecilia", FIX_FORCE)]
        await pilot.press("enter")
        await settle(pilot)
        plan = app.screen
        assert isinstance(plan, PlanScreen)  # the preview first: nothing deleted yet
        assert len(cal.items(demo, "cecilia", "crm")) == crm_before
        await pilot.press("a")
        await settle(pilot)
        guard = app.screen  # the deletion is asked for once more, by name
        assert isinstance(guard, ConfirmDialog) and "would delete" in guard.question
        await pilot.press("y")
        await settle(pilot)
        assert isinstance(app.screen, UsersScreen)
        assert users(app).table.states["cecilia"].state == "ok"
    assert len(cal.items(demo, "cecilia", "crm")) < crm_before


async def test_attention_identity_question_then_initialize(demo: Workspace, tmp_path: Path) -> None:
    other = tmp_path / "new-remote"
    other.mkdir()
    set_user(demo, "anna", {"remote": f"folder:{other}"})
    assert Services(demo).run("anna").needs == "identity_changed"
    old = cal.identity(demo, "anna")
    app = make_app(demo)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("f")
        await settle(pilot)
        await pilot.press("enter")
        await settle(pilot)
        dialog = app.screen
        assert isinstance(dialog, ConfirmDialog) and dialog.question == IDENTITY_QUESTION
        await pilot.press("y")
        await settle(pilot)
        assert users(app).table.states["anna"].state == "ok"
    assert cal.identity(demo, "anna") not in (None, old)


async def test_attention_check_for_refused_credentials(demo: Workspace) -> None:
    with UserFiles(demo, "bertil").open_state() as state:
        state.add_run(
            {
                "id": "r-auth",
                "started": datetime.now(UTC).isoformat(timespec="seconds"),
                "finished": datetime.now(UTC).isoformat(timespec="seconds"),
                "result": "failed",
                "reason": "caldav.example.com: credentials refused (HTTP 401)",
            }
        )
        state.flush()
    app = make_app(demo)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("f")
        await settle(pilot)
        view = app.screen
        assert isinstance(view, AttentionScreen)
        assert [(n, s.action) for n, s in view.entries] == [("bertil", FIX_CHECK)]
        await pilot.press("enter")
        await settle(pilot)
        check = app.screen
        assert isinstance(check, CheckScreen) and check.user == "bertil"
        assert users(app).table.selected_name == "bertil"


async def test_item_errors_across_users(fleet: Workspace) -> None:
    with UserFiles(fleet, "anna").open_state() as state:
        run = dict(state.last_run or {})
        run["errors"] = [{"side": "crm", "op": "create", "item": "Demo", "error": "HTTP 507"}]
        state.add_run(run)
        state.flush()
    app = fleet_app(fleet)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("x")
        await settle(pilot)
        view = app.screen
        assert isinstance(view, ItemErrorsScreen)
        rows = [(n, e.side, e.item, e.error) for n, e in view.entries]
        assert rows[0] == ("anna", "crm", "Demo", "HTTP 507")
        assert [(n, side) for n, side, _, _ in rows[1:]] == [
            ("hanna", "remote"),
            ("hanna", "crm"),
            ("hanna", "remote"),
        ]
        assert rows[1][2] == LONG_TITLE  # whole in the record, cut on screen
        # a run-level failure (bertil's) names no item: it is the attention view's
        assert "bertil" not in {n for n, *_ in rows}
        await pilot.press("down", "down", "enter")
        await settle(pilot)
        assert isinstance(app.screen, UsersScreen)
        assert users(app).table.selected_name == "hanna"


async def test_outside_changes_show_up_on_their_own(
    demo: Workspace, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(users_module, "WATCH_SECONDS", 0.1)
    app = make_app(demo)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        screen = users(app)
        await pilot.pause(0.3)  # the first look at the workspace
        set_user(demo, "bertil", {"enabled": "no"})  # `calsync user set`, elsewhere
        cal.put(demo, "cecilia", "remote", "Board meeting")
        Services(demo).run("cecilia")  # a cron run
        for _ in range(50):
            await pilot.pause(0.1)
            await settle(pilot)
            table = screen.table
            if table.states["bertil"].state == "disabled" and (
                table.summaries["cecilia"].counts.get("crm", {}).get("create") == 1
            ):
                break
        assert screen.table.states["bertil"].state == "disabled"
        assert screen.table.summaries["cecilia"].counts["crm"]["create"] == 1
        assert screen.table.counts()["5"] == 1
        shutil.rmtree(UserFiles(demo, "david").dir)  # a state file gone: read again, no crash
        await pilot.pause(0.5)
        await settle(pilot)
        assert screen.table.states["david"].state == "never"


async def test_rows_by_keys_and_clicks(fleet: Workspace) -> None:
    app = fleet_app(fleet)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        screen = users(app)
        table = screen.table
        await pilot.click("#users", offset=(2, 3))  # the third row under the header
        await settle(pilot)
        assert table.selected_name == table.shown[2] == "bertil"
        assert screen.detail.shown_name == "bertil"
        await pilot.press("end")
        assert table.selected_name == "hanna"
        await pilot.press("home", "pagedown")
        assert table.cursor_row > 1
        await pilot.press("up")
        await settle(pilot)
        assert screen.detail.shown_name == table.selected_name


async def test_the_state_of_every_user_is_what_calsync_status_says(fleet: Workspace) -> None:
    """One source of truth: for the same workspace at the same time, the users table
    (and so its summary line and filters) shows each user in `calsync status`'s state."""
    now = datetime.now(UTC)
    stamp = now.isoformat(timespec="seconds")
    with UserFiles(fleet, "gustav").open_state() as state:  # throttled for another hour
        retry = (now + timedelta(hours=1)).isoformat(timespec="seconds")
        state.add_run({"id": "r-busy", "started": stamp, "finished": stamp, "result": "deferred",
                       "reason": "ErrorServerBusy", "retry_after": retry})  # fmt: skip
        state.flush()
    with UserFiles(fleet, LONG_NAME).open_state() as state:  # failed again: backing off
        state.add_run({"id": "r-net", "started": stamp, "finished": stamp, "result": "failed",
                       "reason": "cannot reach x", **TRANSIENT})  # fmt: skip
        state.flush()
    with UserFiles(fleet, "anna").open_state() as state:  # failed an hour ago: due again
        hour = (now - timedelta(hours=1)).isoformat(timespec="seconds")
        state.add_run({"id": "r-old", "started": hour, "finished": hour, "result": "failed",
                       "reason": "cannot reach y", **TRANSIENT})  # fmt: skip
        state.flush()
    status = json.loads(calsync(fleet.root, "status", "--json").stdout)
    expected = {row["name"]: row["health"]["state"] for row in status}
    assert set(expected.values()) == {
        "ok", "failing", "needs_operator", "throttled", "deferred", "disabled", "never"
    }  # fmt: skip
    app = CalsyncApp(Services(fleet), autosync=False, subtitle="fleet")  # status's clock
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        table = users(app).table
        assert {n: s.state for n, s in table.states.items()} == expected
        tally = {state: list(expected.values()).count(state) for state in expected.values()}
        assert table.counts()["3"] == tally["needs_operator"]
        assert table.counts()["4"] == tally["throttled"] + tally["deferred"]
