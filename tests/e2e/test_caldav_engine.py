"""The engine's folder scenarios again, with a real CalDAV server (Radicale) as the remote.

Each scenario of tests/engine/test_engine_folder.py that runs on the `env` fixture is
re-run here unchanged against a fresh Radicale calendar: init with matching, two-way
changes, conflicts, edit-beats-delete, the window, multi-day items, the mass-deletion
guard, trash/restore/revert, stale etags during apply and broken items.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.engine import test_engine_folder as scenarios
from tests.engine.harness import Env

PASSWORD_ENV = "CALSYNC_E2E_CALDAV_PASSWORD"
CONFIG = f'[caldav]\nusername = "calsync"\npassword_env = "{PASSWORD_ENV}"\ntimeout = 20\n'


@pytest.fixture
def env(tmp_path: Path, radicale_calendar: str, monkeypatch: pytest.MonkeyPatch) -> Env:
    monkeypatch.setenv(PASSWORD_ENV, "x")
    e = Env(tmp_path, remote_url=f"caldav:{radicale_calendar}", config_text=CONFIG)
    e.add_user()
    return e


globals().update(scenarios.portable_scenarios())


def test_no_change_sync_costs_one_request_to_the_server(
    tmp_path: Path, radicale_calendar: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tests.engine.harness import ev
    from tests.providers.dav.dav_front import dav_front

    monkeypatch.setenv(PASSWORD_ENV, "x")
    with dav_front(radicale_calendar) as front:
        e = Env(tmp_path, remote_url=f"caldav:{front.calendar_url}", config_text=CONFIG)
        e.add_user()
        for n in range(20):
            e.put("crm", ev(f"c{n}", f"Item {n}", days=n))
        assert e.init().result == "ok"
        assert e.sync().result == "ok"
        before = len(front.seen)
        r = e.sync()
        assert r.result == "ok" and all(v == 0 for c in r.counts.values() for v in c.values())
        # the identity PROPFIND reads the unchanged sync token; no listing REPORT follows
        assert [s.method for s in front.seen[before:]] == ["PROPFIND"]
