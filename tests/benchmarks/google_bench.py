"""Benchmark: a first sync of N items to Google Calendar under Google's per-user limit.

    uv run python -m tests.benchmarks.google_bench                  # 5,000 items
    uv run python -m tests.benchmarks.google_bench --items 1000 --speed 30
    uv run python -m tests.benchmarks.google_bench --no-budget      # what Google would see

The Google test server enforces the documented 600 requests per minute per user
(403 rateLimitExceeded / 429 over it). calsync inserts the items as a first sync
does (one `events.insert` each, then one listing) through its request budget
(default 500 a minute). Both clocks run `--speed` times faster than real time, so
a 10-minute sync takes a minute of wall time; the report gives Google-time (what
the sync would take against Google, request latency aside: each request costs
`speed` × the loopback latency, a few milliseconds, in Google-time).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import tempfile
import time
from pathlib import Path

from sync.model import Event
from sync.providers.base import Item, Window
from sync.providers.google.budget import Clock
from sync.providers.google.provider import GoogleProvider
from tests.providers.google.server.fixtures import FastClock, google_table, make_key
from tests.providers.google.server.server import GoogleTestServer

START = dt.datetime(2026, 1, 5, 8, tzinfo=dt.UTC)


def run(items: int, speed: float, budget: bool) -> dict[str, float | int]:
    fast = FastClock(speed)
    server = GoogleTestServer(clock=fast.now).start()
    try:
        key = make_key(server)
        calendar = server.add_user()
        extra = {} if budget else {"requests_per_minute": 100_000, "quota_raised": True}
        table = google_table(server, key, Path(tempfile.mkdtemp()), **extra)
        g = GoogleProvider(f"google:{calendar.id}", settings={"google": table})
        g.clock = Clock(fast.now, fast.sleep)
        events = (
            Event(
                uid=f"bench-{n}",
                subject=f"Visit {n}",
                start=START + dt.timedelta(hours=3 * n),
                end=START + dt.timedelta(hours=3 * n, minutes=45),
            )
            for n in range(items)
        )
        began, real = fast.now(), time.perf_counter()
        made = g.create_many(events)
        window = Window(START - dt.timedelta(days=1), START + dt.timedelta(hours=3 * items + 24))
        listed = len(g.list_window(window, {}).etags)
        took, wall = fast.now() - began, time.perf_counter() - real
        return {
            "items": items,
            "created": sum(isinstance(i, Item) for i in made),
            "listed": listed,
            "google_minutes": round(took / 60, 2),
            "wall_seconds": round(wall, 1),
            "requests": g.client.sent,
            "throttled_answers": server.throttled,
            "busiest_minute": server.busiest_minute(calendar.id),
            "budget_wait_minutes": round(g.client.budget.waited / 60, 2),
        }
    finally:
        server.stop()


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--items", type=int, default=5000)
    parser.add_argument("--speed", type=float, default=20.0)
    parser.add_argument("--no-budget", action="store_true", help="send as fast as Google answers")
    args = parser.parse_args()
    print(json.dumps(run(args.items, args.speed, not args.no_budget), indent=2))


if __name__ == "__main__":
    main()
