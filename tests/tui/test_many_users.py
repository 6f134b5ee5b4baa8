"""1,000 users: every row is on screen before any state file has been read."""

from __future__ import annotations

from pathlib import Path

from storage.tinystore import open_db
from storage.workspace import Workspace
from tests.tui.conftest import make_app, settle
from tui.messages import SummariesLoaded, UsersLoaded
from tui.screens.users import UsersScreen

COUNT = 1000


def _workspace(root: Path) -> Workspace:
    ws = Workspace(root).ensure()
    open_db(ws.users_path).table("users").insert_multiple(
        {
            "name": f"user{n:04d}",
            "crm": f"folder:{root}/cal/user{n:04d}/crm",
            "remote": f"caldav:https://cal.example.com/dav/user{n:04d}/",
            "enabled": True,
        }
        for n in range(COUNT)
    )
    return ws


async def test_rows_come_first_then_states(tmp_path: Path) -> None:
    ws = _workspace(tmp_path / "ws")
    seen: list[str] = []
    rows_when_states_arrived: list[int] = []
    app = make_app(ws)

    def hook(message: object) -> None:
        if isinstance(message, UsersLoaded):
            seen.append("users")
        elif isinstance(message, SummariesLoaded):
            seen.append("states")
            screen = app.screen
            if isinstance(screen, UsersScreen):
                rows_when_states_arrived.append(screen.table.row_count)

    async with app.run_test(size=(120, 40), message_hook=hook) as pilot:
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, UsersScreen)
        assert seen[0] == "users" and "states" in seen
        # the table was complete before the first state file was read into it
        assert rows_when_states_arrived[0] == COUNT
        assert screen.table.row_count == COUNT
        assert len(screen.table.summaries) == COUNT
        assert all(s.initialized is False for s in screen.table.summaries.values())
        screen.table.move_cursor(row=COUNT - 1)
        await settle(pilot)
        assert screen.detail.shown_name == "user0999"
        await pilot.press("slash", *"user0500", "enter")
        await settle(pilot)
        assert screen.table.shown == ["user0500"]
        assert screen.detail.shown_name == "user0500"
