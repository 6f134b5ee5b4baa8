"""The sync state machine (test_state_machine.py) with Google Calendar as the remote:
the strict Google test server (sync tokens, etags that change on every write,
`sendUpdates` checked on every write) instead of a folder."""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

from hypothesis import HealthCheck, settings

from tests.engine.test_state_machine import SyncMachine
from tests.providers.google.server.env import google_env, shared_server


class GoogleSyncMachine(SyncMachine):
    # Google keeps a deleted event's iCalUID and refuses it to a new event (409
    # duplicate, tests/providers/google/server/store.py): an item the CRM edits after
    # Google's copy was deleted comes back under a new UID (sync/providers/google/
    # provider.py `create`, uid_conflict), one copy on each side, paired. So the
    # sides are compared item by item, not UID by UID.
    same_uids = False

    def __init__(self) -> None:  # the parent's folder set-up is replaced, not extended
        super(SyncMachine, self).__init__()
        self.root = Path(tempfile.mkdtemp(prefix="calsync-sm-google-"))
        self.env, self.calendar = google_env(self.root)
        self.mails = len(shared_server()[0].mail_sent)
        self.env.add_user(skip_private=False)
        assert self.env.init().result == "ok"
        self.counter = 0
        self.deleted: set[str] = set()
        self.synced = True

    def teardown(self) -> None:
        shutil.rmtree(self.root, ignore_errors=True)
        # whatever the engine did, Google was never asked to send mail
        assert shared_server()[0].mail_sent[self.mails :] == []


GoogleSyncMachine.TestCase.settings = settings(
    max_examples=6,
    stateful_step_count=12,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)
TestGoogleSyncMachine = GoogleSyncMachine.TestCase
