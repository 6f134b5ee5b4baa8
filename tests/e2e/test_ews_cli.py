"""End to end through the CLI: `folder:` CRM calendars, Exchange (the EWS test server) remote.

One service account impersonates two users' mailboxes; a third user's mailbox
denies impersonation and is skipped with the named missing right while the others
sync. Every request the run sent is inspected afterwards: none asks Exchange to
send invitations or cancellations.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from typer.testing import CliRunner

from sync.model import Event, ShowAs
from sync.providers.base import Item, Provider, Window
from sync.providers.registry import open_provider
from tests.providers.ews.server.server import EWSTestServer
from tui.cli import _register, app

_register()

PASSWORD_ENV = "CALSYNC_E2E_EWS_PASSWORD"
ZONE = ZoneInfo("Europe/Stockholm")
EVERYTHING = Window(datetime(2000, 1, 1, tzinfo=UTC), datetime(2100, 1, 1, tzinfo=UTC))
DENIED = (
    "svc-calsync may not impersonate carl@example.com: grant ApplicationImpersonation "
    "(full mailbox access allows delegate access, not impersonation)"
)


def soon(days: int, hour: int = 10) -> datetime:
    today = datetime.now(UTC).astimezone(ZONE).date()
    return datetime(today.year, today.month, today.day, hour, tzinfo=ZONE) + timedelta(days=days)


def ev(uid: str, subject: str, days: int, **kw: Any) -> Event:
    start = soon(days)
    return Event(uid=uid, subject=subject, start=start, end=start + timedelta(hours=1), **kw)


class World:
    """A workspace whose users sync folder CRM calendars with Exchange mailboxes."""

    def __init__(self, root: Path, ews: EWSTestServer) -> None:
        self.root = root
        self.ews = ews
        self.ws = root / "ws"
        self.config = {
            "exchange": {
                "service_endpoint": ews.url,
                "auth": "basic",
                "username": "svc-calsync",
                "password_env": PASSWORD_ENV,
                "timezone": "Europe/Stockholm",
                "max_backoff": 5,
                "timeout": 10,
            }
        }

    def cli(self, *args: str) -> tuple[int, str, str]:
        result = CliRunner().invoke(app, ["--workspace", str(self.ws), *args])
        return result.exit_code, result.stdout, result.stderr

    def ok(self, *args: str) -> str:
        code, out, err = self.cli(*args)
        assert code == 0, (args, out, err)
        return out

    def write_config(self) -> None:
        ex = self.config["exchange"]
        lines = ["[exchange]"] + [f"{k} = {json.dumps(v)}" for k, v in ex.items()]
        self.ws.mkdir(parents=True, exist_ok=True)
        (self.ws / "calsync.toml").write_text("\n".join(lines) + "\n", encoding="utf-8")

    def add_user(self, name: str, mailbox: str) -> None:
        (self.root / "crm" / name).mkdir(parents=True, exist_ok=True)
        self.ok("user", "add", name, "--crm", self.crm_url(name), "--remote", f"ews:{mailbox}")

    def crm_url(self, name: str) -> str:
        return f"folder:{self.root / 'crm' / name}"

    def crm(self, name: str) -> Provider:
        return open_provider(self.crm_url(name), self.config)

    def crm_items(self, name: str) -> dict[str, Item]:
        with self.crm(name) as p:
            got = p.fetch(list(p.list_window(EVERYTHING, {}).etags))
        return {i.event.subject: i for i in got.values() if isinstance(i, Item)}

    def exchange_items(self, mailbox: str) -> dict[str, Any]:
        box = self.ews.org.mailbox(mailbox)
        assert box is not None
        return {i.fields["Subject"]: i for i in box.items.values()}


@pytest.fixture
def world(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[World]:
    monkeypatch.setenv(PASSWORD_ENV, "pw-svc")
    with EWSTestServer() as ews:
        ews.org.add_account("svc-calsync", "pw-svc")
        for who in ("anna", "bert"):
            ews.org.add_mailbox(f"{who}@example.com", impersonators=("svc-calsync",))
        ews.org.add_mailbox("carl@example.com")  # no ApplicationImpersonation for svc-calsync
        w = World(tmp_path, ews)
        w.write_config()
        for who in ("anna", "bert", "carl"):
            w.add_user(who, f"{who}@example.com")
        yield w


def assert_never_notified(ews: EWSTestServer) -> None:
    for r in ews.org.requests:
        if r.service == "CreateItem":
            assert r.attrs.get("SendMeetingInvitations") == "SendToNone", r.body
        elif r.service == "UpdateItem":
            assert r.attrs.get("SendMeetingInvitationsOrCancellations") == "SendToNone", r.body
        elif r.service == "DeleteItem":
            assert r.attrs.get("SendMeetingCancellations") == "SendToNone", r.body


def test_two_mailboxes_through_one_service_account_and_a_denied_one(world: World) -> None:
    org = world.ews.org
    with world.crm("anna") as p:
        p.create(ev("crm-a1", "Customer visit", 2, location="Storgatan 1", reminder=30))
    with world.crm("bert") as p:
        p.create(ev("crm-b1", "Quote review", 3))
    start = soon(4).astimezone(UTC)
    org.seed(
        "anna@example.com",
        Subject="Dentist",
        Start=start,
        End=start + timedelta(hours=1),
        LegacyFreeBusyStatus="OOF",
        StartTimeZone="W. Europe Standard Time",
        EndTimeZone="W. Europe Standard Time",
    )

    world.ok("init", "anna")
    world.ok("init", "bert")
    code, out, err = world.cli("init", "carl", "--json")
    assert code == 1, (out, err)
    assert json.loads(out)["reason"] == DENIED or DENIED in out

    # each user's items went to their own mailbox only, and came back from it
    assert set(world.exchange_items("anna@example.com")) == {"Customer visit", "Dentist"}
    assert set(world.exchange_items("bert@example.com")) == {"Quote review"}
    assert world.exchange_items("carl@example.com") == {}
    visit = world.exchange_items("anna@example.com")["Customer visit"].fields
    assert visit["Location"] == "Storgatan 1" and visit["ReminderMinutesBeforeStart"] == 30
    assert world.crm_items("anna")["Dentist"].event.show_as is ShowAs.OOF
    assert "Dentist" not in world.crm_items("bert")

    # the admin grants the right: carl initializes; later the grant is withdrawn again
    carl = org.mailbox("carl@example.com")
    assert carl is not None
    carl.impersonators.add("svc-calsync")
    world.ok("init", "carl")
    carl.impersonators.clear()

    # the server job: the denied user is reported with the named right, the others sync
    org.seed("bert@example.com", Subject="Board", Start=start, End=start + timedelta(hours=2))
    code, out, err = world.cli("sync", "--all", "--json")
    assert code == 1, (out, err)
    users = {u["user"]: u for u in json.loads(out)["users"]}
    assert users["anna"]["result"] == "ok" and users["bert"]["result"] == "ok"
    assert users["carl"]["result"] != "ok"
    assert DENIED in json.dumps(users["carl"])
    assert "Board" in world.crm_items("bert")

    # every request for a mailbox impersonated exactly that mailbox
    for r in org.requests:
        if r.impersonated is not None:
            assert r.user == "svc-calsync"
    assert {r.impersonated for r in org.requests} >= {
        "anna@example.com",
        "bert@example.com",
        "carl@example.com",
    }
    assert_never_notified(world.ews)


def test_changes_both_ways_and_deletions_land_in_the_trash(world: World) -> None:
    org = world.ews.org
    with world.crm("anna") as p:
        p.create(ev("crm-1", "Kickoff", 1))
        p.create(ev("crm-2", "Follow-up", 5))
    world.ok("init", "anna")
    box = "anna@example.com"

    # Outlook edits one, deletes the other; the CRM creates a third
    items = world.exchange_items(box)
    org.edit(box, items["Kickoff"].id, Location="Room 7", LegacyFreeBusyStatus="Tentative")
    org.remove(box, items["Follow-up"].id)
    with world.crm("anna") as p:
        p.create(ev("crm-3", "Demo", 6, text="Bring the laptop"))
    world.ok("sync", "anna")
    crm = world.crm_items("anna")
    assert crm["Kickoff"].event.location == "Room 7"
    assert crm["Kickoff"].event.show_as is ShowAs.TENTATIVE
    assert "Follow-up" not in crm
    demo = world.exchange_items(box)["Demo"].fields
    assert demo["Body"] == ("Text", "Bring the laptop") and demo["UID"] == "crm-3"
    trash = json.loads(world.ok("trash", "anna", "--json"))
    assert "Follow-up" in json.dumps(trash)

    # the CRM edits an item: Exchange gets it through an UpdateItem on the stored changekey
    with world.crm("anna") as p:
        item = crm["Kickoff"]
        p.update(item.id, item.etag, item.event.replace(subject="Kickoff (moved)"))
    world.ok("sync", "anna")
    assert "Kickoff (moved)" in world.exchange_items(box)
    assert org.calls("UpdateItem")[-1].attrs["ConflictResolution"] == "NeverOverwrite"

    # nothing left to do: a second run writes nothing to Exchange
    writes = len([r for r in org.requests if r.service.endswith("Item") and r.service != "GetItem"])
    world.ok("sync", "anna")
    after = len([r for r in org.requests if r.service.endswith("Item") and r.service != "GetItem"])
    assert after - writes == 1  # just the FindItem listing
    assert_never_notified(world.ews)


def test_check_names_the_missing_right_per_mailbox(world: World) -> None:
    code, out, _ = world.cli("check", "anna", "--json")
    assert code == 0, out
    checks = json.loads(out)["checks"]
    remote = [c["check"] for c in checks if c["side"] == "remote"]
    assert remote == [
        "endpoint reachable",
        "service account accepted",
        "impersonation to anna@example.com",
        "calendar readable",
        "calendar writable",
    ]
    code, out, _ = world.cli("check", "carl", "--json")
    assert code == 1
    failed = [c for c in json.loads(out)["checks"] if not c["ok"]]
    assert [(c["check"], c["detail"]) for c in failed] == [
        ("impersonation to carl@example.com", DENIED)
    ]


def test_a_new_calendar_is_not_synced_until_the_operator_agrees(world: World) -> None:
    with world.crm("anna") as p:
        p.create(ev("crm-1", "Kickoff", 1))
    world.ok("init", "anna")
    world.ews.org.recreate_calendar("anna@example.com")
    code, out, err = world.cli("sync", "anna")
    assert code == 3, (out, err)
    assert world.exchange_items("anna@example.com") == {}
    world.ok("init", "anna", "--yes")
    assert set(world.exchange_items("anna@example.com")) == {"Kickoff"}


def test_a_throttled_server_is_waited_out(world: World) -> None:
    with world.crm("anna") as p:
        p.create(ev("crm-1", "Kickoff", 1))
    world.ews.org.busy(2, back_off_ms=20)
    world.ok("init", "anna")
    assert set(world.exchange_items("anna@example.com")) == {"Kickoff"}
    assert world.ews.org.take_busy("FindItem") is None  # both busy answers were given
