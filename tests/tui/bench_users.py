"""How fast the users screen is usable with 1,000 users (issue 7).

    uv run python -m tests.tui.bench_users [USERS]

Prints the time until the table shows every row (names, calendars, enabled: from
users.json alone) and until every user's state has been read in the background.
Not a pytest test: timings are reported, never asserted.
"""

from __future__ import annotations

import asyncio
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from storage.state import UserFiles, UserState
from storage.tinystore import open_db
from storage.workspace import Workspace
from tui.app import CalsyncApp
from tui.messages import SummariesLoaded, UsersLoaded
from tui.services import Services

PAIRS_PER_USER = 200


def build(root: Path, count: int) -> Workspace:
    """users.json in one write, and a state file per user with pairs and a last run."""
    ws = Workspace(root).ensure()
    db = open_db(ws.users_path)
    db.table("users").insert_multiple(
        {
            "name": f"user{n:04d}",
            "crm": f"folder:{root}/cal/user{n:04d}/crm",
            "remote": f"caldav:https://cal.example.com/dav/user{n:04d}/",
            "enabled": n % 10 != 0,
            "skip_private": None,
            "reminders": None,
            "multiday": None,
            "window_past_days": None,
            "window_future_days": None,
        }
        for n in range(count)
    )
    now = datetime.now(UTC)
    pair = {
        "crm": {"id": "x" * 40, "etag": "1-2", "hash": "h" * 64},
        "remote": {"id": "y" * 40, "etag": "3-4", "hash": "h" * 64},
    }
    for n in range(count):
        files = UserFiles(ws, f"user{n:04d}")
        files.dir.mkdir(parents=True, exist_ok=True)
        state = UserState(files.state_path, writable=True)
        state.meta.update(identity="caldav:x", initialized_at=now.isoformat())
        for p in range(PAIRS_PER_USER):
            state.pairs[f"k{p}"] = {"key": f"k{p}", **pair}
        finished = (now - timedelta(minutes=n)).isoformat(timespec="seconds")
        state.add_run({"id": "r", "started": finished, "finished": finished, "result": "ok"})
        state.flush()
    return ws


async def measure(ws: Workspace) -> tuple[float, float]:
    marks: dict[str, float] = {}
    loaded = asyncio.Event()
    total = 0

    def hook(message: object) -> None:
        nonlocal total
        if isinstance(message, UsersLoaded):
            marks.setdefault("users-message", time.perf_counter())
        if isinstance(message, SummariesLoaded):
            total += len(message.summaries)

    app = CalsyncApp(Services(ws), autosync=False)
    start = time.perf_counter()
    async with app.run_test(size=(120, 40), message_hook=hook) as pilot:
        table = None
        while table is None or table.row_count == 0:
            await pilot.pause(0.01)
            screens = [s for s in app.screen_stack if s.query("#users")]
            table = screens[0].query_one("#users") if screens else None
        rows_at = time.perf_counter() - start
        users = len(table.rows_by_name)  # type: ignore[attr-defined]
        while total < users:
            await pilot.pause(0.05)
        states_at = time.perf_counter() - start
        loaded.set()
    return rows_at, states_at


def main() -> None:
    count = int(sys.argv[1]) if len(sys.argv) > 1 else 1000
    with tempfile.TemporaryDirectory() as tmp:
        t0 = time.perf_counter()
        ws = build(Path(tmp) / "ws", count)
        print(f"built {count} users in {time.perf_counter() - t0:.1f} s")
        rows_at, states_at = asyncio.run(measure(ws))
        print(f"table shows {count} rows after {rows_at:.2f} s (app start included)")
        print(f"every user's state read after {states_at:.2f} s")


if __name__ == "__main__":
    main()
