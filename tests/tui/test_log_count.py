"""The log screen's count is the log's true size (issue 15 item 6): not "5000 of 5000"
for a log of 8,180 entries, not "0 of 0" while it is still being read."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

from storage.state import UserFiles
from storage.workspace import Workspace
from tests.tui.conftest import make_app, settle, text_of
from tui.app import CalsyncApp
from tui.screens.log import LogScreen
from tui.services import LOG_LIMIT, LogPage, Services


def _fill(ws: Workspace, name: str, count: int) -> int:
    """Add `count` entries to the user's log; return how many it holds now."""
    log = UserFiles(ws, name).log
    start = datetime(2025, 1, 1, tzinfo=UTC)
    for n in range(count):
        log.add(
            {
                "id": f"bulk-{n:05d}",
                "time": (start + timedelta(hours=n)).isoformat(),
                "side": "crm",
                "action": "update",
                "reason": "changed on remote",
                "before": {"subject": f"Item {n}"},
                "after": {"subject": f"Item {n}", "location": "Room 2"},
            }
        )
    log.flush()
    return len(log.entries())  # the reader, not the count under test


async def test_log_count_is_the_logs_true_size(demo: Workspace) -> None:
    total = _fill(demo, "anna", 8180)
    assert total > LOG_LIMIT
    app = make_app(demo)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await pilot.press("l")
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, LogScreen)
        assert len(screen.shown) == LOG_LIMIT
        title = text_of(screen.query_one("#log-title")).strip()
        assert title == f"Change log of anna: {LOG_LIMIT:,} of {total:,}"
        assert screen.sub_title == f"change log · anna · newest {LOG_LIMIT:,} loaded"


async def test_log_count_of_a_small_log(demo: Workspace) -> None:
    total = _fill(demo, "anna", 3)
    app = make_app(demo)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await pilot.press("l")
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, LogScreen)
        assert text_of(screen.query_one("#log-title")).strip() == (
            f"Change log of anna: {total} of {total}"
        )
        assert screen.sub_title == "change log · anna"


class GatedServices(Services):
    """Reading the log waits until the test opens the gate."""

    def __init__(self, ws: Workspace) -> None:
        super().__init__(ws)
        self.gate = threading.Event()

    def log(self, name: str, limit: int = LOG_LIMIT) -> LogPage:
        assert self.gate.wait(60)
        return super().log(name, limit)


async def test_log_says_loading_until_the_entries_are_in(demo: Workspace) -> None:
    total = _fill(demo, "anna", 2)
    services = GatedServices(demo)
    app = CalsyncApp(services, autosync=False, subtitle="test workspace")
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await pilot.press("l")
        for _ in range(5):
            await pilot.pause()
        screen = app.screen
        assert isinstance(screen, LogScreen)
        assert text_of(screen.query_one("#log-title")).strip() == "Change log of anna: loading…"
        services.gate.set()
        await settle(pilot)
        assert text_of(screen.query_one("#log-title")).strip() == (
            f"Change log of anna: {total} of {total}"
        )
        # a reload says "loading" again rather than a count it no longer knows to be true
        services.gate.clear()
        await pilot.press("ctrl+r")
        for _ in range(5):
            await pilot.pause()
        assert text_of(screen.query_one("#log-title")).strip() == "Change log of anna: loading…"
        services.gate.set()
        await settle(pilot)
        assert "loading" not in text_of(screen.query_one("#log-title"))
