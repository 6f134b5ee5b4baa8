"""Run the performance benchmarks of issue 8 and print a table.

    uv run --group bench python -m tests.benchmarks                 # full sizes
    uv run --group bench python -m tests.benchmarks --quick         # a few minutes
    uv run --group bench python -m tests.benchmarks --only sync --events 2000
    uv run --group bench python -m tests.benchmarks --only users --latency-ms 100 --servers 2

Radicale runs on loopback for the run (request lines logged, so calsync's HTTP
requests are counted at the server); calsync and vdirsyncer run as processes.
"""

from __future__ import annotations

import argparse
import compileall
import os
import platform
import shutil
import sys
import tempfile
import time
from pathlib import Path

from tests.benchmarks.report import Report
from tests.benchmarks.tools import RequestCounter, executable

BENCHES = ("sync", "users", "scale", "tui", "series")


def _args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m tests.benchmarks",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--quick",
        action="store_true",
        help="small sizes (500 events, 64×50 users, 1000×20 scale users, 1000 TUI users, 2 rounds)",
    )
    parser.add_argument(
        "--latency-ms",
        type=float,
        default=100.0,
        help="delay the proxy adds to every request of benchmarks 4 and 7 (default 100)",
    )
    parser.add_argument(
        "--servers",
        type=int,
        default=1,
        help="Radicale processes behind the proxy in benchmarks 4 and 7 (default 1)",
    )
    parser.add_argument("--scale-users", type=int, help="users of benchmark 7 (default 10000)")
    parser.add_argument(
        "--scale-items", type=int, help="items per user of benchmark 7 (default 20)"
    )
    parser.add_argument(
        "--scale-jobs", type=int, default=32, help="--jobs of benchmark 7 (default 32)"
    )
    parser.add_argument(
        "--events", type=int, help="events in the calendar of benchmarks 1-3 (default 5000)"
    )
    parser.add_argument(
        "--log-entries", type=int, help="change-log entries of benchmark 3 (default 100000)"
    )
    parser.add_argument("--users", type=int, help="users of benchmark 4 (default 500)")
    parser.add_argument("--items", type=int, help="items per user of benchmark 4 (default 200)")
    parser.add_argument(
        "--run-records",
        type=int,
        default=0,
        help="run records each user of benchmarks 4 and 7 starts with (default: the settling "
        "runs'; 200, the most kept, is a fleet after ~33 hours of 10-minute cycles)",
    )
    parser.add_argument("--tui-users", type=int, help="users of benchmark 5 (default 1000)")
    parser.add_argument(
        "--series", type=int, help="Exchange-exported series of benchmark 6 (default 50)"
    )
    parser.add_argument("--rounds", type=int, help="timed runs per tool and case (default 3)")
    parser.add_argument(
        "--only", choices=BENCHES, action="append", help="run only these (repeatable)"
    )
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder")
    args = parser.parse_args(argv)
    quick = args.quick
    args.events = args.events or (500 if quick else 5000)
    args.log_entries = args.log_entries or (20000 if quick else 100_000)
    args.users = args.users or (64 if quick else 500)
    args.scale_users = args.scale_users or (1000 if quick else 10_000)
    args.scale_items = args.scale_items or 20
    args.items = args.items or (50 if quick else 200)
    args.tui_users = args.tui_users or 1000
    args.series = args.series or (10 if quick else 50)
    args.rounds = args.rounds or (2 if quick else 3)
    args.only = args.only or list(BENCHES)
    return args


def compile_bytecode() -> None:
    """Byte-compile the environment both tools run from, as an installation would.

    pip and `uv sync --compile-bytecode` write bytecode at install time; a plain
    `uv sync` does not, and with PYTHONDONTWRITEBYTECODE set (as on the CI
    machines) every process would compile its ~500 modules from source again —
    a start-up cost of the checkout, not of either tool.
    """
    import sysconfig

    project = Path(__file__).resolve().parents[2]
    targets = [
        sysconfig.get_paths()["purelib"],
        *(str(project / d) for d in ("sync", "storage", "tui")),
    ]
    for target in dict.fromkeys(targets):
        compileall.compile_dir(target, quiet=1, workers=0)


def main(argv: list[str] | None = None) -> None:
    args = _args(argv)
    print("byte-compiling the environment (as an installation does)", flush=True)
    compile_bytecode()
    from tests.providers.dav.radicale_server import start_radicale, stop_radicale

    report = Report()
    root = Path(tempfile.mkdtemp(prefix="calsync-bench-"))
    started = time.monotonic()
    print(f"benchmarks in {root}", flush=True)
    if executable("vdirsyncer") is None:
        report.notes.append(
            "vdirsyncer is not installed (uv run --group bench ...): no comparisons"
        )
    server_dir = root / "radicale"
    server_dir.mkdir()
    proc = None
    try:
        if {"sync", "users", "scale", "series"} & set(args.only):
            proc, server = start_radicale(server_dir, log_level="info")
            counter = RequestCounter(server_dir / "radicale.log")
        if "sync" in args.only:
            from tests.benchmarks.sync_bench import SyncBench

            print("benchmarks 1-3: initial, no-change and one-change sync", flush=True)
            bench = SyncBench(
                root / "sync",
                server,
                counter,
                events=args.events,
                rounds=args.rounds,
                log_entries=args.log_entries,
            )
            bench.setup()
            calsync = bench.initial_and_nochange(report)
            bench.one_change(report, calsync)
        for bench_name, users_n, items_n in (
            ("users", args.users, args.items),
            ("scale", args.scale_users, args.scale_items),
        ):
            if bench_name not in args.only:
                continue
            from tests.benchmarks.network import DelayedServer
            from tests.benchmarks.users_bench import UsersBench

            print(
                f"benchmark {'4: many users' if bench_name == 'users' else '7: scale'}, "
                f"sync --all, {args.latency_ms:.0f} ms per request, {args.servers} server(s)",
                flush=True,
            )
            with DelayedServer(
                root / f"{bench_name}-net", server, latency_ms=args.latency_ms, servers=args.servers
            ) as net:
                users = UsersBench(
                    root / bench_name,
                    server,
                    users=users_n,
                    items=items_n,
                    rounds=args.rounds,
                    jobs=(1, 16, 32) if bench_name == "users" else (args.scale_jobs,),
                    remote_base=net.url,
                    latency_ms=args.latency_ms,
                    run_records=args.run_records,
                    prefix="u" if bench_name == "users" else "s",
                )
                users.setup()
                if bench_name == "users":
                    users.run(report)
                else:
                    users.scale(report, args.scale_jobs)
        if "series" in args.only:
            from tests.benchmarks.series_bench import SeriesBench

            print("benchmark 6: recurring series exported by Exchange 2010", flush=True)
            series = SeriesBench(
                root / "series", server, counter, series=args.series, rounds=args.rounds
            )
            series.setup()
            series.run(report)
        if "tui" in args.only:
            from tests.benchmarks import tui_bench

            print("benchmark 5: TUI", flush=True)
            tui_bench.run(root / "tui", report, users=args.tui_users, rounds=args.rounds)
            from tests.benchmarks import fleet_bench

            print("benchmark 5: the fleet view (states, search, filter, sort)", flush=True)
            fleet_bench.add_to(report, root / "tui" / "tui-ws", args.tui_users)
    finally:
        if proc is not None:
            stop_radicale(proc)
        if not args.keep:
            shutil.rmtree(root, ignore_errors=True)
    print()
    print(
        f"machine: {platform.machine()}, {os.cpu_count()} CPUs, Python {platform.python_version()}, {platform.system()} {platform.release()}"
    )
    print(
        f"sizes: --series {args.series} --events {args.events} --log-entries {args.log_entries} --users {args.users} --items {args.items} --scale-users {args.scale_users} --scale-items {args.scale_items} --latency-ms {args.latency_ms:g} --servers {args.servers} --tui-users {args.tui_users} --rounds {args.rounds}; took {time.monotonic() - started:.0f} s"
    )
    print()
    print(report.table())


if __name__ == "__main__":
    sys.exit(main())
