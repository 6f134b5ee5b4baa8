"""SVG snapshots of the fleet view at 80×24 and 160×50, with hostile text in every field.

Update with `uv run pytest tests/tui/test_fleet_snapshots.py --snapshot-update` and look
at the pictures before committing.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.tui.conftest import settle
from tests.tui.fleet_data import build_fleet
from tests.tui.test_snapshots import NOW
from tui.app import CalsyncApp
from tui.services import Services

SMALL, WIDE = (80, 24), (160, 50)


@pytest.fixture
def fleet_app(tmp_path: Path) -> CalsyncApp:
    ws = build_fleet(tmp_path / "ws")
    return CalsyncApp(Services(ws, clock=lambda: NOW), autosync=False, subtitle="fleet")


def _after(*keys: str):  # type: ignore[no-untyped-def]
    async def ready(pilot) -> None:  # type: ignore[no-untyped-def]
        await settle(pilot)
        for key in keys:
            await pilot.press(key)
            await settle(pilot)

    return ready


@pytest.mark.parametrize("size", [SMALL, WIDE], ids=["80x24", "160x50"])
def test_fleet_users(snap_compare, fleet_app: CalsyncApp, size) -> None:  # type: ignore[no-untyped-def]
    # hanna: a non-Latin host, and item errors in the detail pane
    assert snap_compare(fleet_app, terminal_size=size, run_before=_after(*["down"] * 8))


@pytest.mark.parametrize("size", [SMALL, WIDE], ids=["80x24", "160x50"])
def test_fleet_attention(snap_compare, fleet_app: CalsyncApp, size) -> None:  # type: ignore[no-untyped-def]
    assert snap_compare(fleet_app, terminal_size=size, run_before=_after("f", "down", "down"))


def test_fleet_item_errors(snap_compare, fleet_app: CalsyncApp) -> None:  # type: ignore[no-untyped-def]
    assert snap_compare(fleet_app, terminal_size=SMALL, run_before=_after("x"))
