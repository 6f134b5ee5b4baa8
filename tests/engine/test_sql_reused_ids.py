"""A database that gives a deleted row's id to a new row (SQLite: the highest id plus
one) must not make calsync take the new row for an edit of the deleted one: the old
item's copy goes to the trash and the new row gets a copy of its own.

Found by the SQL state machine (test_sql_state_machine.py): delete the CRM row with
the highest id, create one, sync; the new row's content overwrote the deleted
row's remote copy under the old UID, and the deleted item was never removed.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

from sync.engine.pairs import Pair, Side, Synced
from sync.engine.sideview import SideView
from sync.engine.views import fetch_views
from sync.providers.base import Provider
from sync.providers.folder.provider import FolderProvider
from tests.engine.harness import EVERYTHING, Env, ev
from tests.engine.test_sql_state_machine import sql_config_text
from tests.providers.sql import schemas
from tests.providers.sql.test_contract import open_sql


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Env]:
    url = schemas.sqlite_url(tmp_path / "crm.sqlite")
    schemas.create(url, schemas.activities)
    monkeypatch.setenv(schemas.ENV, url)
    env = Env(tmp_path, crm_url="sql:crm/anna", config_text=sql_config_text())
    env.add_user(skip_private=False)
    assert env.init().result == "ok"
    yield env


def _uids(env: Env, side: str) -> dict[str, str]:
    """uid -> subject on one side."""
    return {i.event.uid: i.event.subject for i in env.items(side)}


def test_a_new_row_under_a_deleted_rows_id_is_a_new_item(env: Env) -> None:
    env.put("crm", ev("a", "Visit", days=1))
    last = env.put("crm", ev("b", "Call", days=2))
    assert env.sync().result == "ok"
    assert set(_uids(env, "remote")) == {"a", "b"}

    env.remove("crm", "Call")
    new = env.put("crm", ev("c", "Demo", days=3))
    assert new.id == last.id  # the database gave the deleted row's id to the new one

    assert env.sync().result == "ok"
    assert _uids(env, "crm") == {"a": "Visit", "c": "Demo"}
    assert _uids(env, "remote") == {"a": "Visit", "c": "Demo"}
    assert [t["item"]["uid"] for t in env.trash()] == ["b"]
    env.assert_converged()


def test_an_edited_row_keeps_its_pair(env: Env) -> None:
    """The UID tells a new row from an edit: an edit of every other column is an edit."""
    env.put("crm", ev("a", "Visit", days=1))
    assert env.sync().result == "ok"
    engine = sa.create_engine(os.environ[schemas.ENV])
    with engine.begin() as conn:
        conn.execute(sa.text("UPDATE activities SET title = 'Visit 2', place = 'Lund'"))
    engine.dispose()

    assert env.sync().result == "ok"
    assert _uids(env, "remote") == {"a": "Visit 2"}
    assert env.trash() == []
    env.assert_converged()


def test_a_new_row_under_a_deleted_rows_id_outside_the_window(env: Env) -> None:
    """The new row starts beyond the window: the lookup that finds the paired id
    gone from the listing finds the new row, which is not the paired item either."""
    env.put("crm", ev("a", "Visit", days=1))
    last = env.put("crm", ev("b", "Call", days=2))
    assert env.sync().result == "ok"
    env.remove("crm", "Call")
    new = env.put("crm", ev("c", "Far off", days=400))
    assert new.id == last.id

    assert env.sync().result == "ok"
    assert _uids(env, "remote") == {"a": "Visit"}
    assert [t["item"]["uid"] for t in env.trash()] == ["b"]
    env.assert_converged()


def test_a_pair_that_holds_the_listed_uid_keeps_the_id(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two pairs on one id (a state two pairs share an item): the row is the item of
    the pair with its UID, so the id is not a new item and neither pair is gone."""
    url = schemas.sqlite_url(tmp_path / "crm.sqlite")
    schemas.create(url, schemas.activities)
    (tmp_path / "remote").mkdir()
    with open_sql(url, monkeypatch) as crm, FolderProvider(f"folder:{tmp_path / 'remote'}") as rem:
        row = crm.create(ev("new", "Demo"))
        old = Synced(row.id, "stale", "stale", ev("old", "Call"))
        stale = Pair("old", old, Synced("r1", "f1", "h1", ev("old", "Call")))
        current = Pair("new", Synced.of(row), Synced("r2", "f2", "h2", ev("new", "Demo")))
        providers: dict[Side, Provider] = {"crm": crm, "remote": rem}

        def crm_view(pairs: list[Pair]) -> SideView:
            listings = {side: p.list_window(EVERYTHING, {}) for side, p in providers.items()}
            listings["crm"].etags[row.id] = "changed"  # listed, not with a pair's etag
            return fetch_views(providers, listings, pairs, EVERYTHING)["crm"]

        alone = crm_view([stale])
        assert row.id in alone.reused and row.id in alone.gone
        shared = crm_view([current, stale])  # the last pair is the stale one
        assert not shared.reused and not shared.gone
