"""End to end through the CLI: a CRM database table (SQLite and a real PostgreSQL) on
the CRM side, Radicale (real CalDAV) on the remote side."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from tests.e2e.test_caldav_cli import PASSWORD_ENV, ev
from tests.e2e.test_caldav_cli import World as CalDAVWorld
from tests.providers.dav.radicale_server import RadicaleServer
from tests.providers.sql import schemas

OWNER = "6f1c2a9e-0000-4000-8000-00000000a11a"


class World(CalDAVWorld):
    """The CalDAV end-to-end world with a CRM database table as the CRM calendar."""

    def __init__(self, root: Path, radicale: RadicaleServer, db_url: str) -> None:
        self.ws = root / "ws"
        self.ws.mkdir()
        self.db_url = db_url
        self.table = schemas.create(db_url, schemas.meetings)
        columns = "\n".join(f'{k} = "{v}"' for k, v in schemas.MEETINGS_TABLE["columns"].items())
        show_as = ", ".join(
            f'{k} = "{v}"' for k, v in schemas.MEETINGS_TABLE["show_as_values"].items()
        )
        (self.ws / "calsync.toml").write_text(
            f'[caldav]\nusername = "calsync"\npassword_env = "{PASSWORD_ENV}"\ntimeout = 20\n\n'
            f'[sql.crm]\nurl_env = "{schemas.ENV}"\ntable = "meetings"\n'
            f'owner_column = "assigned_user_id"\ntimezone = "Europe/Stockholm"\n'
            f"show_as_values = {{ {show_as} }}\n\n[sql.crm.columns]\n{columns}\n",
            encoding="utf-8",
        )
        self.config = {
            "caldav": {"username": "calsync", "password_env": PASSWORD_ENV},
            "sql": {"crm": schemas.MEETINGS_TABLE},
        }
        self.remote_url = f"caldav:{radicale.new_calendar()}"
        self.crm_url = f"sql:crm/{OWNER}"
        self.ok("user", "add", "anna", "--crm", self.crm_url, "--remote", self.remote_url)

    def sql(self, statement: Any) -> Any:
        engine = sa.create_engine(self.db_url)
        with engine.begin() as conn:
            result = conn.execute(statement)
            rows = list(result) if result.returns_rows else result.rowcount
        engine.dispose()
        return rows


@pytest.fixture(params=["sqlite", "postgresql"])
def world(
    request: pytest.FixtureRequest,
    tmp_path: Path,
    radicale_server: RadicaleServer,
    monkeypatch: pytest.MonkeyPatch,
) -> Iterator[World]:
    if request.param == "sqlite":
        url = schemas.sqlite_url(tmp_path / "crm.sqlite")
    else:
        url = str(request.getfixturevalue("postgres_url"))
    monkeypatch.setenv(PASSWORD_ENV, "x")
    monkeypatch.setenv(schemas.ENV, url)
    yield World(tmp_path, radicale_server, url)


def test_check_init_and_two_way_changes(world: World) -> None:
    code, report = world.run("check", "anna")
    assert code == 0, report
    crm_checks = {c["check"]: c["ok"] for c in report["checks"] if c["side"] == "crm"}
    assert crm_checks["write permission"] and crm_checks["column date_start"]

    world.put("crm", ev("same-uid", "Board meeting", 2))
    world.put("remote", ev("same-uid", "Board meeting", 2))
    world.put("crm", ev("c-only", "Quote review", 4, location="Storgatan 1"))
    world.put("remote", ev("r-only", "Dentist", 5))
    code, result = world.run("init", "anna")
    assert code == 0 and result["result"] == "ok", result
    assert (
        set(world.items("crm"))
        == set(world.items("remote"))
        == {
            "Board meeting",
            "Quote review",
            "Dentist",
        }
    )
    assert world.items("remote")["Quote review"].event.location == "Storgatan 1"

    world.edit("remote", "Dentist", location="Kungsgatan 2")
    world.sql(
        sa.update(world.table).where(world.table.c.name == "Quote review").values(name="Quote")
    )
    code, result = world.run("sync", "anna")
    assert code == 0 and result["result"] == "ok", result
    assert world.items("crm")["Dentist"].event.location == "Kungsgatan 2"
    assert "Quote" in world.items("remote")

    code, result = world.run("sync", "anna")
    assert code == 0
    assert all(v == 0 for side in result["counts"].values() for v in side.values()), result


def test_conflict_goes_to_the_later_edit(world: World) -> None:
    world.put("crm", ev("c1", "Demo", 2))
    world.ok("init", "anna")
    world.edit("crm", "Demo", location="set in CRM")
    time.sleep(1.1)  # LAST-MODIFIED has one-second precision
    world.edit("remote", "Demo", location="set in remote")
    code, result = world.run("sync", "anna")
    assert code == 0, result
    for side in ("crm", "remote"):
        assert world.items(side)["Demo"].event.location == "set in remote"


def test_soft_delete_goes_to_trash_and_restore_brings_it_back(world: World) -> None:
    for n in range(8):
        world.put("crm", ev(f"c{n}", f"Item {n}", n + 1))
    world.ok("init", "anna")
    # the CRM marks a row deleted instead of removing it
    world.sql(sa.update(world.table).where(world.table.c.name == "Item 0").values(deleted=True))
    world.ok("sync", "anna")
    assert "Item 0" not in world.items("remote")
    code, trash = world.run("trash", "anna")
    (entry,) = trash
    assert entry["item"]["subject"] == "Item 0"
    world.ok("restore", "anna", entry["id"])
    world.ok("sync", "anna")
    assert "Item 0" in world.items("remote") and "Item 0" in world.items("crm")

    # a remote deletion: the CRM row is flagged, not removed
    world.remove("remote", "Item 1")
    world.ok("sync", "anna")
    flagged = world.sql(sa.select(world.table.c.deleted).where(world.table.c.name == "Item 1"))
    assert [bool(r.deleted) for r in flagged] == [True]

    # every row of the owner vanishes: the mass-deletion guard stops the run
    world.sql(sa.update(world.table).values(deleted=True))
    code, result = world.run("sync", "anna")
    assert code == 3 and result["result"] == "needs_operator", result
    assert len(world.items("remote")) == 7
