"""The series state machine (test_series_machine.py) with Microsoft 365 as the remote:
series made in the strict Graph test server's store as Outlook makes them, listed in
`calendarView/delta` as the real service lists them (sparse occurrences, the master
listed too, deleted occurrences without an entry, a deleted series as one tombstone)."""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

from hypothesis import HealthCheck, settings

from tests.providers.graph.server.env import graph_env
from tests.recurring.series import SeriesSpec
from tests.recurring.test_graph import GraphRemote
from tests.recurring.test_series_machine import SeriesMachine


class GraphSeriesMachine(SeriesMachine):
    def __init__(self) -> None:  # the parent's folder set-up is replaced, not extended
        super(SeriesMachine, self).__init__()
        self.root = Path(tempfile.mkdtemp(prefix="calsync-series-graph-"))
        self.env, mailbox = graph_env(self.root)
        self.env.add_user(skip_private=False)
        self.remote = GraphRemote(mailbox)  # type: ignore[assignment]
        assert self.env.init().result == "ok"
        self.series: dict[str, SeriesSpec] = {}
        self.counter = 0
        self.synced = True

    def teardown(self) -> None:
        shutil.rmtree(self.root, ignore_errors=True)


GraphSeriesMachine.TestCase.settings = settings(
    max_examples=8,
    stateful_step_count=12,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)
TestGraphSeriesMachine = GraphSeriesMachine.TestCase
