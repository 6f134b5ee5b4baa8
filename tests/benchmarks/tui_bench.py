"""Benchmark 5: time until the users screen shows its first rows, start-up included.

A child process (`python -m tests.benchmarks.tui_bench WORKSPACE T0`) imports the
app, runs it headless and reports the wall-clock time from T0 (taken by the
parent just before spawning it) to the first poll that finds rows in the users
table, so interpreter start-up and imports count as they do for an operator.
"""

from __future__ import annotations

import asyncio
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from tests.benchmarks.report import Report, median, secs, verdict

PAIRS_PER_USER = 200


def build(root: Path, count: int) -> Path:
    """users.json in one write and a state file per user with pairs and a last run."""
    from storage.state import UserFiles, UserState
    from storage.tinystore import open_db
    from storage.users import USER_KEYS
    from storage.workspace import Workspace

    ws = Workspace(root).ensure()
    db = open_db(ws.users_path)
    db.table("users").insert_multiple(
        {
            **dict.fromkeys(USER_KEYS),
            "name": f"user{n:04d}",
            "crm": f"folder:{root}/cal/user{n:04d}/crm",
            "remote": f"caldav:https://cal.example.com/dav/user{n:04d}/",
            "enabled": n % 10 != 0,
        }
        for n in range(count)
    )
    now = datetime.now(UTC)
    event = {
        "uid": "u",
        "subject": "Customer meeting",
        "start": "2026-12-01T09:00:00+00:00",
        "end": "2026-12-01T10:00:00+00:00",
        "all_day": False,
    }
    side = {"id": "x" * 30 + ".ics", "etag": '"' + "e" * 64 + '"', "hash": "h" * 32, "event": event}
    for n in range(count):
        files = UserFiles(ws, f"user{n:04d}")
        files.dir.mkdir(parents=True, exist_ok=True)
        state = UserState(files.state_path, writable=True)
        state.meta.update(identity="caldav:x", initialized_at=now.isoformat())
        for p in range(PAIRS_PER_USER):
            state.pairs[f"k{p}"] = {"key": f"k{p}", "origin": "remote", "crm": side, "remote": side}
        finished = (now - timedelta(minutes=n)).isoformat(timespec="seconds")
        state.add_run(
            {
                "id": "r",
                "started": finished,
                "finished": finished,
                "kind": "sync",
                "result": "ok",
                "reason": "",
                "counts": {},
                "errors": [],
                "warnings": [],
            }
        )
        state.flush()
    return root


def run(root: Path, report: Report, *, users: int, rounds: int) -> None:
    print(f"  · building a workspace with {users} users", flush=True)
    ws = build(root / "tui-ws", users)
    times: list[float] = []
    for n in range(rounds):
        t0 = time.time()
        proc = subprocess.run(
            [sys.executable, "-m", "tests.benchmarks.tui_bench", str(ws), repr(t0)],
            capture_output=True,
            text=True,
            timeout=300,
        )
        if proc.returncode != 0:
            raise RuntimeError(f"TUI probe failed:\n{proc.stderr[-3000:]}")
        seconds, rows = proc.stdout.split()
        times.append(float(seconds))
        print(f"  · round {n + 1}: first rows ({rows}) after {secs(float(seconds))}", flush=True)
    t = median(times)
    report.add(
        "5 TUI",
        f"{users} users, first rows (start-up included)",
        secs(t),
        "",
        "",
        "< 1 s",
        verdict(t < 1.0, f"{1.0 / t:.1f}× under") if t < 1 else verdict(False),
    )


async def _probe(ws: Path, t0: float) -> tuple[float, int]:
    from storage.workspace import Workspace
    from tui.app import CalsyncApp
    from tui.services import Services
    from tui.widgets.users_table import UsersTable

    app = CalsyncApp(Services(Workspace(ws)), autosync=False)
    async with app.run_test(size=(120, 40)) as pilot:
        while True:
            tables = [t for t in app.screen.query(UsersTable) if t.row_count]
            if tables:
                return time.time() - t0, tables[0].row_count
            await pilot.pause(0.005)


def main() -> None:
    seconds, rows = asyncio.run(_probe(Path(sys.argv[1]), float(sys.argv[2])))
    print(f"{seconds:.4f} {rows}")


if __name__ == "__main__":
    main()
