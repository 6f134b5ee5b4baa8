"""The sync state machine (test_state_machine.py) with Microsoft 365 as the remote:
the strict Graph test server (Windows zone names only, real delta shapes, etags that
change on every write) instead of a folder."""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

from hypothesis import HealthCheck, settings

from tests.engine.test_state_machine import SyncMachine
from tests.providers.graph.server.env import graph_env


class GraphSyncMachine(SyncMachine):
    def __init__(self) -> None:  # the parent's folder set-up is replaced, not extended
        super(SyncMachine, self).__init__()
        self.root = Path(tempfile.mkdtemp(prefix="calsync-sm-graph-"))
        self.env, self.mailbox = graph_env(self.root)
        self.env.add_user(skip_private=False)
        assert self.env.init().result == "ok"
        self.counter = 0
        self.deleted: set[str] = set()
        self.synced = True

    def teardown(self) -> None:
        shutil.rmtree(self.root, ignore_errors=True)


GraphSyncMachine.TestCase.settings = settings(
    max_examples=8,
    stateful_step_count=12,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)
TestGraphSyncMachine = GraphSyncMachine.TestCase
