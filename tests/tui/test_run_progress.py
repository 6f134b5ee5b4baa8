"""The users screen's run line: counts, an ETA once there is a rate, the cancel hint."""

from __future__ import annotations

from textual.widgets import Label, ProgressBar

from storage.workspace import Workspace
from tests.tui.conftest import make_app, settle
from tui.widgets.run_panel import RunPanel


def _shown(panel: RunPanel, widget_id: str) -> str:
    return str(panel.query_one(widget_id, Label).content)


async def test_counts_eta_and_cancel_hint_at_80_columns(demo: Workspace) -> None:
    app = make_app(demo)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        panel = app.screen.query_one(RunPanel)
        now = [100.0]
        panel.clock = lambda: now[0]
        panel.started("Syncing anna")
        assert _shown(panel, "#run-count").strip() == "ctrl+x cancels"
        panel.progressed(0, 0, "anna: listing both calendars")
        assert app.screen.query_one(ProgressBar).total is None  # no count yet
        panel.progressed(1, 20, "anna: create remote: [bold]x[/] 会議")
        assert _shown(panel, "#run-count").strip() == "1/20 · ctrl+x cancels"
        now[0] += 10.0
        panel.progressed(5, 20, "anna: update crm: Visit")
        await pilot.pause()
        # 4 items in 10 s since the first: 15 to go take about 37 s
        assert _shown(panel, "#run-count").strip() == "5/20 · 0:37 left · ctrl+x cancels"
        assert _shown(panel, "#run-label") == "anna: update crm: Visit"
        count = panel.query_one("#run-count", Label)
        # never squeezed: the counts and the hint fit whole in the line at 80 columns
        assert count.size.width >= len(_shown(panel, "#run-count"))
        assert count.region.right <= 80
        panel.finished("anna: ok")
        assert _shown(panel, "#run-count") == ""


async def test_sync_all_names_each_users_items(demo: Workspace) -> None:
    from tests.tui import calendars as cal
    from tui.messages import RunProgressed

    cal.put(demo, "bertil", "remote", "Offsite [b]planning[/b]")
    seen: list[RunProgressed] = []
    app = make_app(demo)

    def hook(message: object) -> None:
        if isinstance(message, RunProgressed):
            seen.append(message)

    async with app.run_test(size=(120, 40), message_hook=hook) as pilot:
        await settle(pilot)
        await pilot.press("a")
        await settle(pilot)
    # the bar counts users (bertil is the second of four); the line names his items
    bertil = [m for m in seen if ": bertil: " in m.label]
    assert any(m.label.endswith("bertil: 1/1 items") for m in bertil), [m.label for m in seen]
    assert {(m.done, m.total) for m in bertil} == {(1, 4)}


async def test_the_label_keeps_a_whole_row_beside_the_bar_at_80_columns(demo: Workspace) -> None:
    app = make_app(demo)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        panel = app.screen.query_one(RunPanel)
        panel.started("Syncing anna")
        panel.progressed(3, 20, "Planning anna: create remote: Visit 会議")
        await pilot.pause()
        label = panel.query_one("#run-label", Label).region
        bar = panel.query_one(ProgressBar).region
        count = panel.query_one("#run-count", Label).region
        # the label was squeezed to nothing by the bar; now it has the first row
        assert label.height == 1 and label.width >= 70
        assert bar.y == count.y == label.y + 1 and bar.right <= count.x
        assert count.right <= 80
        panel.finished("anna: ok")
        await pilot.pause()
        # idle, the auto-sync countdown is back on the second row
        assert panel.query_one("#autosync-label", Label).display


async def test_the_attention_hint_makes_way_for_a_run_and_comes_back(demo: Workspace) -> None:
    app = make_app(demo)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        panel = app.screen.query_one(RunPanel)
        assert _shown(panel, "#run-count") == ""  # the demo's four users are ok
        panel.attention("2 users need you: f shows why and the fix")
        await pilot.pause()
        hint = _shown(panel, "#run-count")
        assert hint.strip() == "2 users need you: f shows why and the fix"
        assert panel.query_one("#run-count", Label).region.right <= 80
        panel.started("Syncing anna")
        assert "need you" not in _shown(panel, "#run-count")  # the run's counts, then
        panel.finished("anna: ok")
        assert _shown(panel, "#run-count") == hint
