"""The engine's portable scenarios again, with sabre/dav (Nextcloud's and Baïkal's engine)
as the remote, over digest authentication and calendar-query listing (sabre/dav 1.8
has no sync-collection) — plus what sabre/dav does that Radicale does not."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.engine import test_engine_folder as scenarios
from tests.engine.harness import Env, ev
from tests.providers.dav.sabre_server import SABRE_PASSWORD, SABRE_USER

PASSWORD_ENV = "CALSYNC_E2E_SABRE_PASSWORD"
CONFIG = (
    f'[caldav]\nusername = "{SABRE_USER}"\npassword_env = "{PASSWORD_ENV}"\n'
    'auth = "digest"\ntimeout = 20\n'
)


@pytest.fixture
def env(tmp_path: Path, sabre_calendar: str, monkeypatch: pytest.MonkeyPatch) -> Env:
    monkeypatch.setenv(PASSWORD_ENV, SABRE_PASSWORD)
    e = Env(tmp_path, remote_url=f"caldav:{sabre_calendar}", config_text=CONFIG)
    e.add_user()
    return e


globals().update(scenarios.portable_scenarios())


def test_an_item_another_client_deleted_leaves_the_crm_and_syncs_go_on(env: Env) -> None:
    """sabre/dav 1.8 answers a calendar-multiget naming a deleted href with 404 for the
    whole REPORT; that is not a missing calendar (issue 21, item 17)."""
    for n in range(3):
        env.put("crm", ev(f"c{n}", f"Item {n}", days=n))
    assert env.init().result == "ok"
    env.remove("remote", "Item 1")  # another client deletes it on the server
    env.edit("remote", "Item 2", subject="Item 2 renamed")  # a change the same run fetches
    result = env.sync()
    assert result.result == "ok", result
    assert sorted(env.by_subject("crm")) == ["Item 0", "Item 2 renamed"]
    assert [entry["item"]["subject"] for entry in env.trash()] == ["Item 1"]
    again = env.sync()
    assert again.result == "ok"
    env.assert_converged()
