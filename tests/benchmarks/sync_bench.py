"""Benchmarks 1-3: initial sync, no-change sync, one change with a small and a large log.

calsync (`calsync init` / `calsync sync`) and vdirsyncer (`vdirsyncer sync`) run as
whole processes against the same Radicale collection, interleaved A B A B, each
into a folder of its own.
"""

from __future__ import annotations

import json
import os
import random
import shutil
from datetime import UTC, datetime, timedelta
from pathlib import Path

from tests.benchmarks.data import Dav, calendar_text, changed_item
from tests.benchmarks.report import Report, median, secs, verdict
from tests.benchmarks.tools import Calsync, RequestCounter, Vdirsyncer, executable
from tests.providers.dav.radicale_server import RadicaleServer

USER_NAME = "bench"
PREFIX = "b"


def _progress(text: str) -> None:
    print(f"  · {text}", flush=True)


class SyncBench:
    def __init__(
        self,
        root: Path,
        server: RadicaleServer,
        counter: RequestCounter,
        *,
        events: int,
        rounds: int,
        log_entries: int,
    ) -> None:
        self.root = root
        self.server = server
        self.counter = counter
        self.events = events
        self.rounds = rounds
        self.log_entries = log_entries
        self.dav = Dav(server.url)
        self.path = "/calsync/bench/"
        self.url = server.url.rstrip("/") + self.path
        self.has_vdirsyncer = executable("vdirsyncer") is not None

    def setup(self) -> None:
        _progress(f"uploading {self.events} events to Radicale")
        self.dav.upload_calendar(self.path, calendar_text(self.events, prefix=PREFIX))

    # -- 1 and 2 ------------------------------------------------------------------------

    def initial_and_nochange(self, report: Report) -> Calsync:
        init_c: list[float] = []
        init_v: list[float] = []
        init_req: list[int] = []
        calsync: Calsync | None = None
        vdir: Vdirsyncer | None = None
        for n in range(self.rounds):
            calsync = Calsync(self.root / f"calsync-{n}")
            calsync.add_user(USER_NAME, calsync.root / "crm", self.url)
            self.counter.start()
            got = calsync("init", USER_NAME)
            init_req.append(self.counter.count())
            init_c.append(got.seconds)
            _progress(f"round {n + 1}: calsync init {secs(got.seconds)}, {init_req[-1]} requests")
            if self.has_vdirsyncer:
                vdir = Vdirsyncer(self.root / f"vdirsyncer-{n}", self.url)
                vdir("discover")
                got = vdir("sync")
                init_v.append(got.seconds)
                _progress(f"round {n + 1}: vdirsyncer first sync {secs(got.seconds)}")
        assert calsync is not None
        files = len(list((calsync.root / "crm").glob("*.ics")))
        if files != self.events:
            report.notes.append(
                f"warning: calsync's CRM folder holds {files} items, expected {self.events}"
            )
        c, v = median(init_c), median(init_v)
        report.add(
            "1 initial sync",
            f"{self.events} events, median of {self.rounds}",
            secs(c),
            secs(v) if init_v else "n/a",
            f"{c / v:.2f}×" if init_v else "",
            "≤ 0.9×",
            verdict(c <= 0.9 * v, f"{c / v:.2f}×")
            if init_v and c <= 0.9 * v
            else (verdict(False) if init_v else ""),
        )
        report.add("1 initial sync", "calsync HTTP requests", f"{max(init_req)}")

        # 2: no-change, on the last round's pair (one warm-up each first)
        calsync(*("sync", USER_NAME))
        if vdir is not None:
            vdir("sync")
        # wall and each tool's own CPU (user+sys of exactly its process, from wait4):
        # the server's time is the same for any client and is left out of the CPU
        none_c: list[float] = []
        none_v: list[float] = []
        cpu_c: list[float] = []
        cpu_v: list[float] = []
        requests: list[int] = []
        for n in range(self.rounds):
            self.counter.start()
            got = calsync("sync", USER_NAME, memory=True)
            requests.append(self.counter.count())
            none_c.append(got.seconds)
            cpu_c.append(got.cpu)
            if vdir is not None:
                other = vdir("sync", memory=True)
                none_v.append(other.seconds)
                cpu_v.append(other.cpu)
            _progress(
                f"round {n + 1}: no-change calsync {secs(none_c[-1])}, CPU {cpu_c[-1]:.3f} s "
                f"({requests[-1]} requests)"
                + (f", vdirsyncer {secs(none_v[-1])}, CPU {cpu_v[-1]:.3f} s" if none_v else "")
            )
        what = f"{self.events} events, median of {self.rounds}"
        c, v = median(none_c), median(none_v)
        report.add(
            "2 no-change sync",
            f"{what}: wall",
            secs(c),
            secs(v) if none_v else "n/a",
            f"{c / v:.2f}×" if none_v else "",
        )
        c, v = median(cpu_c), median(cpu_v)
        report.add(
            "2 no-change sync",
            f"{what}: own CPU (user+sys)",
            secs(c),
            secs(v) if cpu_v else "n/a",
            f"{c / v:.2f}×" if cpu_v else "",
            "≤ 0.3×",
            verdict(c <= 0.3 * v) if cpu_v else "",
        )
        report.add(
            "2 no-change sync",
            "calsync HTTP requests",
            str(max(requests)),
            "",
            "",
            "1",
            verdict(max(requests) == 1),
        )
        return calsync

    # -- 3 ------------------------------------------------------------------------------

    def one_change(self, report: Report, calsync: Calsync) -> None:
        user_dir = calsync.user_dir(USER_NAME)
        log = user_dir / "log"
        big = self.root / "big-log"
        small = self.root / "small-log"
        _progress(f"writing a {self.log_entries}-entry change log")
        write_log(big, self.log_entries)
        if log.exists():
            shutil.rmtree(log)
        small.mkdir()
        times: dict[str, list[float]] = {"empty": [], "big": []}
        rng = random.Random(3)
        rev = 0
        for n in range(self.rounds):
            for kind in ("empty", "big"):
                source = small if kind == "empty" else big
                os.rename(source, log)
                rev += 1
                name, text = changed_item(rng.randrange(self.events), rev, prefix=PREFIX)
                self.dav.put_item(self.path + name, text)
                got = calsync("sync", USER_NAME)
                if "~1" not in got.output:
                    report.notes.append(
                        f"warning: a one-change sync did not update one item: {got.output.strip()[:200]}"
                    )
                times[kind].append(got.seconds)
                os.rename(log, source)
            _progress(
                f"round {n + 1}: one change, empty log {secs(times['empty'][-1])}, {self.log_entries} entries {secs(times['big'][-1])}"
            )
        e, b = median(times["empty"]), median(times["big"])
        report.add(
            "3 one change",
            f"{self.events} events; empty log vs {self.log_entries} entries",
            f"{secs(e)} / {secs(b)}",
            "",
            f"{b / e:.2f}×",
            "≤ 1.5×",
            verdict(b <= 1.5 * e),
        )


def write_log(directory: Path, count: int) -> None:
    """`count` realistic entries (an update with the item before and after), in monthly segments."""
    directory.mkdir(parents=True)
    now = datetime.now(UTC)
    item = {
        "uid": "x@bench.example",
        "recurrence_id": None,
        "subject": "Customer meeting #1",
        "start": "2026-12-01T09:00:00+01:00",
        "end": "2026-12-01T10:00:00+01:00",
        "all_day": False,
        "location": "Room 4",
        "show_as": "busy",
        "privacy": "normal",
        "reminder": 15,
        "text": "agenda offer contract notes budget " * 4,
        "last_modified": "2026-11-01T10:00:00+00:00",
    }
    segments: dict[str, list[str]] = {}
    for n in range(count):
        # spread over the last 150 days: inside the default 180-day retention
        when = now - timedelta(seconds=int(150 * 86400 * (count - n) / count))
        entry = {
            "id": f"{when:%Y%m%dT%H%M%SZ}-{n:06d}",
            "time": when.isoformat(timespec="seconds"),
            "run": f"{when:%Y%m%dT%H%M%SZ}-abc123",
            "side": "crm" if n % 2 else "remote",
            "action": "update",
            "reason": "changed on remote",
            "item_id": f"b-{n % 5000:06d}@bench.example.ics",
            "other_side_id": f"b-{n % 5000:06d}@bench.example.ics",
            "before": item,
            "after": {**item, "subject": f"Customer meeting #{n}"},
        }
        segments.setdefault(f"{when:%Y-%m}.jsonl", []).append(
            json.dumps(entry, separators=(",", ":"))
        )
    for name, lines in segments.items():
        (directory / name).write_text("\n".join(lines) + "\n", encoding="utf-8")
    for path in directory.iterdir():
        path.chmod(0o600)
