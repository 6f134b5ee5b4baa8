"""Snapshots at 80×24 and 160×50 of the log, trash, help, preview and user form, with
hostile data: markup in titles, titles longer than a screen, Arabic, Japanese, Cyrillic.

Fixed times, ids and clock (tests/tui/hostile_data.py), so the pictures only change
when the screens do: update with `uv run pytest tests/tui/test_layout_snapshots.py
--snapshot-update` and look at every changed picture before committing.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from pathlib import Path

import pytest
from textual.pilot import Pilot

from tests.tui.conftest import settle
from tests.tui.hostile_data import build_hostile, hostile_plan
from tests.tui.test_snapshots import NOW
from tui.app import CalsyncApp
from tui.screens.plan import PlanScreen
from tui.services import Services

SIZES = [pytest.param((80, 24), id="80x24"), pytest.param((160, 50), id="160x50")]


@pytest.fixture
def hostile_app(tmp_path: Path) -> CalsyncApp:
    ws = build_hostile(tmp_path / "ws")
    return CalsyncApp(Services(ws, clock=lambda: NOW), autosync=False, subtitle="demo")


def keys(*pressed: str) -> Callable[[Pilot[None]], Awaitable[None]]:
    async def run(pilot: Pilot[None]) -> None:
        await settle(pilot)
        for key in pressed:
            await pilot.press(key)
            await settle(pilot)

    return run


@pytest.mark.parametrize("size", SIZES)
def test_log(snap_compare, hostile_app: CalsyncApp, size: tuple[int, int]) -> None:  # type: ignore[no-untyped-def]
    # the second entry: a hostile update, before and after side by side
    assert snap_compare(hostile_app, terminal_size=size, run_before=keys("l", "down"))


@pytest.mark.parametrize("size", SIZES)
def test_trash(snap_compare, hostile_app: CalsyncApp, size: tuple[int, int]) -> None:  # type: ignore[no-untyped-def]
    assert snap_compare(hostile_app, terminal_size=size, run_before=keys("t", "down"))


@pytest.mark.parametrize("size", SIZES)
def test_help_of_the_log(snap_compare, hostile_app: CalsyncApp, size: tuple[int, int]) -> None:  # type: ignore[no-untyped-def]
    assert snap_compare(hostile_app, terminal_size=size, run_before=keys("l", "question_mark"))


@pytest.mark.parametrize("size", SIZES)
def test_preview(snap_compare, hostile_app: CalsyncApp, size: tuple[int, int]) -> None:  # type: ignore[no-untyped-def]
    async def run(pilot: Pilot[None]) -> None:
        await settle(pilot)
        hostile_app.push_screen(PlanScreen(hostile_plan(), init=False))
        await settle(pilot)

    assert snap_compare(hostile_app, terminal_size=size, run_before=run)


@pytest.mark.parametrize("size", SIZES)
def test_user_form(snap_compare, hostile_app: CalsyncApp, size: tuple[int, int]) -> None:  # type: ignore[no-untyped-def]
    # the add form (an edit would show the test's temporary paths), its name hostile
    assert snap_compare(hostile_app, terminal_size=size, run_before=keys("n", *"[b]会議", "tab"))
