"""A record that stands for many quiet runs says so in the user detail: `×N since`
(sync/engine/record.py `coalesced`, issue 17)."""

from __future__ import annotations

from storage.config import load_config
from storage.runs import read_runs
from storage.workspace import Workspace
from sync import service
from sync.engine.runner import SyncOptions
from tests.tui.conftest import make_app, settle, text_of
from tui.widgets.format import local_time, repeats_text


async def test_the_detail_shows_how_many_quiet_runs_the_last_record_stands_for(
    demo: Workspace,
) -> None:
    config = load_config(demo.config_path)
    for _ in range(3):
        assert service.sync_user(demo, config, "anna", SyncOptions(by_job=True)).result == "ok"
    last = read_runs(demo, "anna")[-1]
    assert last["repeats"] == 3
    app = make_app(demo)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        screen = app.users_screen
        assert screen.table.selected_name == "anna"
        body = text_of(screen.detail.query_one("#detail-body"), width=160)
        assert f"ok · ×3 since {local_time(last['since'])}" in body


def test_repeats_text_takes_only_what_it_can_read() -> None:
    assert repeats_text({}) == "" and repeats_text({"repeats": 1}) == ""
    assert repeats_text({"repeats": "many"}) == ""  # a hand-edited file: no count, no crash
    assert repeats_text({"repeats": 5}) == " · ×5"
    # a `since` that is not a time is shown as it is, as plain text (Text.append, no markup)
    assert repeats_text({"repeats": 2, "since": "[bold]x"}) == " · ×2 since [bold]x"
