"""The fleet view with many users (issue 17): first rows, states, filter, sort, scroll.

    uv run python -m tests.benchmarks.fleet_bench [USERS] [--workspace DIR]

Runs the app headless in this process on a workspace built as benchmark 5 builds
it (tests/benchmarks/tui_bench.py: a state file with 200 pairs per user), or on
DIR if given, and prints how long each step takes until the screen has been
redrawn: the first rows, every user's state read, one keystroke in the search
box, a state filter (a key of the summary line), a sort both ways, and a page
down. Start-up with interpreter and imports is benchmark 5
(`python -m tests.benchmarks --only tui --tui-users 10000`). Figures only: no
test asserts a time.
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
import time
from pathlib import Path

from tests.benchmarks.report import Report, secs
from tests.benchmarks.tui_bench import build


async def _measure(root: Path) -> list[tuple[str, float, float]]:
    from storage.workspace import Workspace
    from tui.app import CalsyncApp
    from tui.screens.users import UsersScreen
    from tui.services import Services

    # wall-clock and CPU time (this process, all threads, after the imports): on a shared
    # machine the wall clock says more about the neighbours than about calsync
    figures: list[tuple[str, float, float]] = []
    t0, c0 = time.perf_counter(), time.process_time()
    app = CalsyncApp(Services(Workspace(root)), autosync=False)
    async with app.run_test(size=(160, 50)) as pilot:
        screen = None
        while not (isinstance(screen, UsersScreen) and screen.table.row_count):
            await pilot.pause(0.002)
            screen = app.screen
        await pilot.pause()
        assert isinstance(screen, UsersScreen)
        table = screen.table
        figures.append(("first rows on screen", time.perf_counter() - t0, time.process_time() - c0))
        while len(table.summaries) < len(table.rows_by_name):
            await pilot.pause(0.01)
        await pilot.pause()
        figures.append(
            ("every user's state read", time.perf_counter() - t0, time.process_time() - c0)
        )

        async def step(label: str, *keys: str) -> None:
            start, cpu = time.perf_counter(), time.process_time()
            await pilot.press(*keys)
            await pilot.pause()
            figures.append((label, time.perf_counter() - start, time.process_time() - cpu))

        await pilot.press("slash")
        await step("search: first keystroke (`u`)", "u")
        await step("search: a keystroke that narrows to 1 in 10 (`1`)", "1")
        await step("search: cleared (escape)", "escape")
        await step("state filter: disabled (5)", "5")
        await step("state filter: all (0)", "0")
        await step("sort: next column (o)", "o")
        await step("sort: reversed (O)", "O")
        await step("scroll: page down", "pagedown")
        await step("scroll: to the end", "end")
    return figures


def add_to(report: Report, root: Path, users: int) -> None:
    """Benchmark 5's workspace, measured again in process: the steps after start-up."""
    for label, seconds, cpu in asyncio.run(_measure(root)):
        report.add("5 TUI", f"{users} users, {label}", secs(seconds), f"CPU {secs(cpu)}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("users", nargs="?", type=int, default=10_000)
    parser.add_argument("--workspace", type=Path, help="an existing workspace to open instead")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        root = args.workspace
        if root is None:
            print(f"building a workspace with {args.users} users…", flush=True)
            root = build(Path(tmp) / "ws", args.users)
        print(f"{'':<52} {'wall':>9}    {'CPU':>9}")
        for label, seconds, cpu in asyncio.run(_measure(root)):
            print(f"{label:<52} {seconds * 1000:9.1f} ms {cpu * 1000:9.1f} ms")


if __name__ == "__main__":
    main()
