"""`calsync demo` shows every state (issue 16): a user held by the deletion guard, a
failing one, and a job setting that overrides a user's, each visible in the TUI."""

from __future__ import annotations

from pathlib import Path

from storage.workspace import Workspace
from sync.demo import create_demo
from tests.tui.conftest import make_app, settle, text_of
from tui.screens.deletion_guard import DeletionGuardDialog


async def test_the_demo_shows_every_state(tmp_path: Path) -> None:
    ws = Workspace(tmp_path / "demo")
    create_demo(ws, every_state=True)
    app = make_app(ws)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        screen = app.users_screen
        results = {n: s.last_result for n, s in screen.table.summaries.items()}
        assert results["erik"] == "needs_operator"
        assert results["frida"] == "failed"
        assert {results[n] for n in ("anna", "bertil", "cecilia", "david")} == {"ok"}
        # the first screen says that two need an operator, and the key that says why
        hint = str(screen.query_one("#run-count").content)  # type: ignore[attr-defined]
        assert hint.strip() == "2 users need you: f shows why and the fix"
        await pilot.press("slash", *"bertil", "enter")
        await settle(pilot)
        body = text_of(screen.detail.query_one("#detail-body"), width=160)
        assert "multiday" in body and "title" in body
        assert "job (overrides user: keep)" in body
        # erik's guard leads to the dialog that lists what would be deleted
        await pilot.press("escape", "slash", *"erik", "enter", "s")
        await settle(pilot)
        assert isinstance(app.screen, DeletionGuardDialog)
        assert len(app.screen.items) > 5
