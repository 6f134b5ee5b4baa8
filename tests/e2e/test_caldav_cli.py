"""End to end through the CLI: `folder:` CRM calendars, Radicale (real CalDAV) remotes.

Every step is a `calsync ...` command on a workspace whose calsync.toml holds the
[caldav] connection; calendars are inspected through the providers afterwards.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from typer.testing import CliRunner

from sync.model import Event, Privacy
from sync.providers.base import Item, Provider, Window
from sync.providers.registry import open_provider
from tests.providers.dav.radicale_server import RadicaleServer
from tui.cli import _register, app

_register()

PASSWORD_ENV = "CALSYNC_E2E_CALDAV_PASSWORD"
ZONE = ZoneInfo("Europe/Stockholm")
EVERYTHING = Window(datetime(2000, 1, 1, tzinfo=UTC), datetime(2100, 1, 1, tzinfo=UTC))


def soon(days: int, hour: int = 10) -> datetime:
    today = datetime.now(UTC).astimezone(ZONE).date()
    return datetime(today.year, today.month, today.day, hour, tzinfo=ZONE) + timedelta(days=days)


def ev(uid: str, subject: str, days: int, **kw: Any) -> Event:
    start = soon(days)
    return Event(uid=uid, subject=subject, start=start, end=start + timedelta(hours=1), **kw)


class World:
    def __init__(self, root: Path, radicale: RadicaleServer) -> None:
        self.root = root
        self.radicale = radicale
        self.ws = root / "ws"
        self.ws.mkdir()
        self.config = {"caldav": {"username": "calsync", "password_env": PASSWORD_ENV}}
        (self.ws / "calsync.toml").write_text(
            f'[caldav]\nusername = "calsync"\npassword_env = "{PASSWORD_ENV}"\ntimeout = 20\n',
            encoding="utf-8",
        )
        self.remote_url = f"caldav:{radicale.new_calendar()}"
        self.crm_url = f"folder:{root / 'crm'}"
        (root / "crm").mkdir()
        self.ok("user", "add", "anna", "--crm", self.crm_url, "--remote", self.remote_url)

    def cli(self, *args: str) -> tuple[int, str, str]:
        result = CliRunner().invoke(app, ["--workspace", str(self.ws), *args])
        return result.exit_code, result.stdout, result.stderr

    def ok(self, *args: str) -> str:
        code, out, err = self.cli(*args)
        assert code == 0, (args, code, out, err)
        return out

    def run(self, *args: str) -> tuple[int, dict[str, Any]]:
        code, out, err = self.cli(*args, "--json")
        assert out, (args, code, err)
        return code, json.loads(out)

    def provider(self, side: str) -> Provider:
        return open_provider(self.crm_url if side == "crm" else self.remote_url, self.config)

    def items(self, side: str) -> dict[str, Item]:
        with self.provider(side) as p:
            got = p.fetch(list(p.list_window(EVERYTHING, {}).etags))
        items = [i for i in got.values() if isinstance(i, Item)]
        out = {i.event.subject: i for i in items}
        assert len(out) == len(items), (
            f"duplicates on {side}: {sorted(i.event.subject for i in items)}"
        )
        return out

    def put(self, side: str, event: Event) -> Item:
        with self.provider(side) as p:
            return p.create(event)

    def edit(self, side: str, subject: str, **changes: Any) -> Item:
        item = self.items(side)[subject]
        with self.provider(side) as p:
            return p.update(item.id, item.etag, item.event.replace(**changes))

    def remove(self, side: str, subject: str) -> None:
        item = self.items(side)[subject]
        with self.provider(side) as p:
            p.delete(item.id, item.etag)


@pytest.fixture
def world(
    tmp_path: Path, radicale_server: RadicaleServer, monkeypatch: pytest.MonkeyPatch
) -> Iterator[World]:
    monkeypatch.setenv(PASSWORD_ENV, "x")
    yield World(tmp_path, radicale_server)


def test_check_init_sync_both_ways(world: World) -> None:
    code, report = world.run("check", "anna")
    assert code == 0, report
    remote_checks = {c["check"]: c["ok"] for c in report["checks"] if c["side"] == "remote"}
    assert remote_checks == {
        "server reachable": True,
        "credentials accepted": True,
        "calendar exists": True,
        "write permission": True,
    }

    world.put("crm", ev("same-uid", "Board meeting", 2))
    world.put("remote", ev("same-uid", "Board meeting", 2))
    world.put("crm", ev("crm-uid", "Lunch with Nordvik", 3))
    world.put("remote", ev("remote-uid", "Lunch with Nordvik", 3))  # same shape: a pair
    world.put("crm", ev("c-only", "Quote review", 4, location="Storgatan 1", reminder=30))
    world.put("remote", ev("r-only", "Dentist", 5))
    code, result = world.run("init", "anna")
    assert code == 0 and result["result"] == "ok", result
    assert (
        set(world.items("crm"))
        == set(world.items("remote"))
        == {
            "Board meeting",
            "Lunch with Nordvik",
            "Quote review",
            "Dentist",
        }
    )
    remote = world.items("remote")["Quote review"].event
    assert remote.location == "Storgatan 1" and remote.reminder == 30 and remote.uid == "c-only"

    world.edit("remote", "Dentist", location="Kungsgatan 2")
    world.remove("remote", "Board meeting")
    world.put("crm", ev("c2", "Customer visit", 6))
    code, result = world.run("sync", "anna")
    assert code == 0 and result["result"] == "ok", result
    crm = world.items("crm")
    assert crm["Dentist"].event.location == "Kungsgatan 2"
    assert "Board meeting" not in crm
    assert "Customer visit" in world.items("remote")

    code, result = world.run("sync", "anna")
    assert code == 0
    assert all(v == 0 for side in result["counts"].values() for v in side.values())


def test_conflict_multiday_and_private(world: World) -> None:
    world.ok("user", "set", "anna", "skip_private=true")
    start = date.today() + timedelta(days=10)
    world.put(
        "remote",
        ev("fair", "Fair", 10).replace(start=start, end=start + timedelta(days=3), all_day=True),
    )
    world.put("remote", ev("p1", "Doctor", 3, privacy=Privacy.PRIVATE))
    world.put("crm", ev("c1", "Demo", 2))
    world.ok("init", "anna")
    crm = world.items("crm")
    title = f"Fair (until {(start + timedelta(days=2)).isoformat()})"
    assert set(crm) == {title, "Demo"}  # the private item stays where it is

    world.edit("crm", "Demo", location="set in CRM")
    time.sleep(1.1)  # LAST-MODIFIED has one-second precision
    world.edit("remote", "Demo", location="set in remote")  # the later edit wins
    code, result = world.run("sync", "anna")
    assert code == 0, result
    for side in ("crm", "remote"):
        assert world.items(side)["Demo"].event.location == "set in remote"
    code, log = world.run("log", "anna")
    assert any(e["reason"] == "conflict: remote newer" for e in log)

    world.edit("crm", title, location="Elmia")
    world.ok("sync", "anna")
    fair = world.items("remote")["Fair"].event
    assert fair.location == "Elmia" and fair.end == start + timedelta(days=3)


def test_trash_restore_and_mass_deletion_guard(world: World) -> None:
    for n in range(8):
        world.put("crm", ev(f"c{n}", f"Item {n}", n + 1))
    world.ok("init", "anna")
    world.remove("remote", "Item 0")
    world.ok("sync", "anna")
    assert "Item 0" not in world.items("crm")
    code, trash = world.run("trash", "anna")
    (entry,) = trash
    assert entry["item"]["subject"] == "Item 0"
    world.ok("restore", "anna", entry["id"])
    world.ok("sync", "anna")
    assert "Item 0" in world.items("remote")

    for n in range(6):
        world.remove("remote", f"Item {n}")
    code, result = world.run("sync", "anna")
    assert code == 3 and result["needs"] == "mass_delete", result
    assert len(world.items("crm")) == 8
    code, result = world.run("sync", "anna", "--force")
    assert code == 0 and len(world.items("crm")) == 2


def test_changed_calendar_needs_a_new_init(world: World) -> None:
    world.put("crm", ev("c1", "Visit", 1))
    world.ok("init", "anna")
    other = f"caldav:{world.radicale.new_calendar()}"
    world.ok("user", "set", "anna", f"remote={other}")
    world.remote_url = other
    code, result = world.run("sync", "anna")
    assert code == 3 and result["result"] == "needs_operator", result
    assert world.items("remote") == {}
    world.ok("init", "anna", "--yes")
    assert set(world.items("remote")) == {"Visit"}


def test_missing_calendar_is_one_line_and_exit_code(world: World) -> None:
    gone = f"caldav:{world.radicale.url}calsync/does-not-exist/"
    world.ok("user", "set", "anna", f"remote={gone}")
    code, out, err = world.cli("check", "anna")
    assert code == 1
    assert out.count("FAILED") == 1
    assert "FAILED remote: calendar exists" in out and "does not exist" in " ".join(out.split())
    code, out, err = world.cli("sync", "anna")
    assert code != 0
    assert "Traceback" not in out + err
