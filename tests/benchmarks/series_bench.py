"""Benchmark 6: a calendar of recurring series as Exchange 2010 exports them (issue 21.10).

Each series is the real file tests/data/corpus/recurrence/
icalevents_cest_every_day_for_one_year.ics (a daily series over a year, TZID
"W. Europe Standard Time" with a VTIMEZONE whose rules start in 1601), moved to
start 30 days ago, with a UID and subject of its own. They go to Radicale as one
resource each (as Exchange's CalDAV export and a calendar app's import leave them).
Timed: `calsync init` into an empty folder (fresh workspace each round), then the
no-change `calsync sync` of the last round's pair. calsync only: vdirsyncer copies
the 50 resources as they are and never expands a series.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

from tests.benchmarks.data import Dav
from tests.benchmarks.report import Report, median, secs, verdict
from tests.benchmarks.tools import Calsync, RequestCounter
from tests.providers.dav.radicale_server import RadicaleServer

USER_NAME = "series"
CORPUS = Path(__file__).resolve().parents[1] / "data" / "corpus" / "recurrence"
EXCHANGE_FILE = "icalevents_cest_every_day_for_one_year.ics"


def exchange_series(n: int) -> str:
    """Series `n`: the Exchange 2010 export moved to start 30 days ago, UID exch-N."""
    start = datetime.now(UTC).date() - timedelta(days=30)
    end = start + timedelta(days=365)
    text = (CORPUS / EXCHANGE_FILE).read_text(encoding="utf-8")
    text = text.replace("20211111T1030", f"{start:%Y%m%d}T1030")
    text = text.replace("20211111T1100", f"{start:%Y%m%d}T1100")
    text = text.replace("UNTIL=20221111T093000Z", f"UNTIL={end:%Y%m%d}T093000Z")
    text = re.sub(r"UID:0400[^\n]*\n [0-9A-F]+\n", f"UID:exch-{n}\n", text)
    text = text.replace("SUMMARY:Busy", f"SUMMARY:Busy {n}")
    return text.replace("\r\n", "\n").replace("\n", "\r\n")


class SeriesBench:
    def __init__(
        self,
        root: Path,
        server: RadicaleServer,
        counter: RequestCounter,
        *,
        series: int,
        rounds: int,
    ) -> None:
        self.root = root
        self.counter = counter
        self.series = series
        self.rounds = rounds
        self.dav = Dav(server.url)
        self.path = "/calsync/series/"
        self.url = server.url.rstrip("/") + self.path

    def setup(self) -> None:
        print(f"  · uploading {self.series} Exchange 2010 series to Radicale", flush=True)
        status, body = self.dav.request("MKCALENDAR", self.path)
        if status not in (200, 201):
            raise RuntimeError(f"MKCALENDAR {self.path} answered {status}: {body[:200]!r}")
        for n in range(self.series):
            self.dav.put_item(f"{self.path}exch-{n}.ics", exchange_series(n))
        self.dav.warm(self.path)

    def run(self, report: Report) -> None:
        init: list[float] = []
        calsync: Calsync | None = None
        for n in range(self.rounds):
            calsync = Calsync(self.root / f"calsync-{n}")
            calsync.add_user(USER_NAME, calsync.root / "crm", self.url)
            got = calsync("init", USER_NAME)
            init.append(got.seconds)
            print(f"  · round {n + 1}: init {secs(got.seconds)}", flush=True)
        assert calsync is not None
        items = len(list((calsync.root / "crm").glob("*.ics")))
        calsync("sync", USER_NAME)  # warm-up
        none: list[float] = []
        cpu: list[float] = []
        requests: list[int] = []
        for n in range(self.rounds):
            self.counter.start()
            got = calsync("sync", USER_NAME)
            requests.append(self.counter.count())
            none.append(got.seconds)
            # its own CPU from wait4, in a run of its own: the launcher adds to the wall
            cpu.append(calsync("sync", USER_NAME, memory=True).cpu)
            print(
                f"  · round {n + 1}: no-change sync {secs(got.seconds)}, CPU {secs(cpu[-1])}",
                flush=True,
            )
        what = f"{self.series} Exchange series, {items} occurrences, median of {self.rounds}"
        report.add("6 series: init", what, secs(median(init)))
        c = median(none)
        report.add(
            "6 series: no-change",
            what,
            secs(c),
            "",
            "",
            "< 1 s",
            verdict(c < 1.0, f"{1.0 / c:.1f}× under") if c < 1.0 else verdict(False),
        )
        report.add("6 series: no-change", "calsync's own CPU (user+sys)", secs(median(cpu)))
        report.add("6 series: no-change", "calsync HTTP requests", str(max(requests)))
