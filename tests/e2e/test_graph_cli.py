"""End to end through the CLI: `folder:` CRM calendars, Microsoft 365 (the Graph test server) remote.

One app registration reaches two mailboxes; a third mailbox is outside the
application access policy and is skipped with the named error while the others
sync. A sync with nothing to do costs each mailbox one delta request; no request ever carries attendees.
"""

from __future__ import annotations

import json
import uuid
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
from tests.providers.graph.server.fixtures import SECRET, graph_app, graph_server, write_private
from tests.providers.graph.server.server import App, GraphTestServer
from tests.providers.graph.server.store import Mailbox, outlook_body
from tui.cli import _register, app

_register()

__all__ = ["graph_app", "graph_server"]

ZONE = ZoneInfo("Europe/Stockholm")
#: as wide as Graph serves (a calendar view of at most 1825 days)
EVERYTHING = Window(
    datetime.now(UTC) - timedelta(days=700), datetime.now(UTC) + timedelta(days=1000)
)


def soon(days: int, hour: int = 10) -> datetime:
    today = datetime.now(UTC).astimezone(ZONE).date()
    return datetime(today.year, today.month, today.day, hour, tzinfo=ZONE) + timedelta(days=days)


def ev(uid: str, subject: str, days: int, **kw: Any) -> Event:
    start = soon(days)
    return Event(uid=uid, subject=subject, start=start, end=start + timedelta(hours=1), **kw)


class World:
    """A workspace whose users sync folder CRM calendars with Microsoft 365 mailboxes."""

    def __init__(self, root: Path, graph: GraphTestServer, app_reg: App) -> None:
        self.root = root
        self.graph = graph
        self.ws = root / "ws"
        secret = write_private(root / "graph.secret", SECRET)
        self.config = {
            "graph": {
                "tenant_id": graph.tenant,
                "client_id": app_reg.client_id,
                "client_secret_file": str(secret),
                "authority": graph.url,
                "graph_url": graph.url,
                "verify_tls": str(graph.tls.ca_file),
                "timeout": 10,
            }
        }
        tag = uuid.uuid4().hex[:8]
        self.boxes: dict[str, Mailbox] = {
            "anna": graph.add_mailbox(f"anna-{tag}@example.com"),
            "bert": graph.add_mailbox(f"bert-{tag}@example.com"),
            # not a member of the group the access policy is scoped to
            "carl": graph.add_mailbox(f"carl-{tag}@example.com", allowed=False),
        }

    def cli(self, *args: str) -> tuple[int, str, str]:
        result = CliRunner().invoke(app, ["--workspace", str(self.ws), *args])
        return result.exit_code, result.stdout, result.stderr

    def ok(self, *args: str) -> str:
        code, out, err = self.cli(*args)
        assert code == 0, (args, out, err)
        return out

    def write_config(self) -> None:
        lines = ["[graph]"] + [f"{k} = {json.dumps(v)}" for k, v in self.config["graph"].items()]
        self.ws.mkdir(parents=True, exist_ok=True)
        (self.ws / "calsync.toml").write_text("\n".join(lines) + "\n", encoding="utf-8")

    def add_user(self, name: str) -> None:
        (self.root / "crm" / name).mkdir(parents=True, exist_ok=True)
        remote = f"graph:{self.boxes[name].address}"
        self.ok("user", "add", name, "--crm", self.crm_url(name), "--remote", remote)

    def crm_url(self, name: str) -> str:
        return f"folder:{self.root / 'crm' / name}"

    def crm(self, name: str) -> Provider:
        return open_provider(self.crm_url(name), self.config)

    def crm_items(self, name: str) -> dict[str, Item]:
        with self.crm(name) as p:
            got = p.fetch(list(p.list_window(EVERYTHING, {}).etags))
        return {i.event.subject: i for i in got.values() if isinstance(i, Item)}

    def outlook_items(self, name: str) -> dict[str, dict[str, Any]]:
        return {e["subject"]: e for e in self.boxes[name].events.values()}

    def outlook_create(self, name: str, subject: str, days: int, **extra: Any) -> dict[str, Any]:
        start = soon(days)
        return self.boxes[name].create(
            outlook_body(subject, start, start + timedelta(hours=1), **extra)
        )

    def denied(self, name: str) -> str:
        return (
            f"the app may not access {self.boxes[name].address}: add the mailbox to the "
            "application access policy"
        )


@pytest.fixture
def world(tmp_path: Path, graph_server: GraphTestServer, graph_app: App) -> Iterator[World]:
    w = World(tmp_path, graph_server, graph_app)
    w.write_config()
    for who in ("anna", "bert", "carl"):
        w.add_user(who)
    yield w


def assert_no_attendees_written(world: World) -> None:
    for box in world.boxes.values():
        for event in box.events.values():
            if event.get("transactionId"):  # created by calsync
                assert event["attendees"] == []


def test_two_mailboxes_under_one_app_and_one_outside_the_policy(world: World) -> None:
    with world.crm("anna") as p:
        p.create(ev("crm-a1", "Customer visit", 2, location="Storgatan 1", reminder=30))
    with world.crm("bert") as p:
        p.create(ev("crm-b1", "Quote review", 3))
    world.outlook_create("anna", "Dentist", 4, showAs="oof", sensitivity="normal")

    world.ok("init", "anna")
    world.ok("init", "bert")
    code, out, err = world.cli("init", "carl", "--json")
    assert code == 1, (out, err)
    assert world.denied("carl") in out

    # each user's items went to their own mailbox only, and came back from it
    assert set(world.outlook_items("anna")) == {"Customer visit", "Dentist"}
    assert set(world.outlook_items("bert")) == {"Quote review"}
    assert world.outlook_items("carl") == {}
    visit = world.outlook_items("anna")["Customer visit"]
    assert visit["location"]["displayName"] == "Storgatan 1"
    assert visit["isReminderOn"] and visit["reminderMinutesBeforeStart"] == 30
    assert world.crm_items("anna")["Dentist"].event.show_as is ShowAs.OOF
    assert "Dentist" not in world.crm_items("bert")

    # the admin adds carl to the policy's group: he initializes; later he is taken out again
    world.boxes["carl"].allowed = True
    world.ok("init", "carl")
    world.boxes["carl"].allowed = False

    # the server job: carl is reported with the named fix, the others sync
    world.outlook_create("bert", "Board", 5)
    code, out, err = world.cli("sync", "--all", "--json")
    assert code == 1, (out, err)
    users = {u["user"]: u for u in json.loads(out)["users"]}
    assert users["anna"]["result"] == "ok" and users["bert"]["result"] == "ok"
    assert users["carl"]["result"] != "ok"
    assert world.denied("carl") in json.dumps(users["carl"])
    assert "Board" in world.crm_items("bert")

    # nothing changed since: one delta request per mailbox (a delta link that still
    # works proves the calendar is the recorded one, so no identity request)
    before = {who: world.boxes[who].requests for who in ("anna", "bert")}
    code, out, err = world.cli("sync", "--all", "--json")
    # carl's refused access is permanent: left for an operator, Graph is not asked again
    assert code == 3, (out, err)
    assert {u["user"]: u["result"] for u in json.loads(out)["users"]}["carl"] == "needs_operator"
    spent = {who: world.boxes[who].requests - before[who] for who in ("anna", "bert")}
    assert spent == {"anna": 1, "bert": 1}
    anna = world.boxes["anna"].address
    calls = [line for line in world.graph.log if anna in line.replace("%40", "@")][-1:]
    assert "$deltatoken=" in calls[0]
    assert_no_attendees_written(world)


def test_changes_both_ways_and_deletions_land_in_the_trash(world: World) -> None:
    with world.crm("anna") as p:
        p.create(ev("crm-1", "Kickoff", 1))
        p.create(ev("crm-2", "Follow-up", 5))
    world.ok("init", "anna")
    box = world.boxes["anna"]

    # Outlook edits one, deletes the other; the CRM creates a third
    items = world.outlook_items("anna")
    box.update(
        items["Kickoff"]["id"], {"location": {"displayName": "Room 7"}, "showAs": "tentative"}
    )
    box.delete(items["Follow-up"]["id"])
    with world.crm("anna") as p:
        p.create(ev("crm-3", "Demo", 6, text="Bring the laptop"))
    world.ok("sync", "anna")
    crm = world.crm_items("anna")
    assert crm["Kickoff"].event.location == "Room 7"
    assert crm["Kickoff"].event.show_as is ShowAs.TENTATIVE
    assert "Follow-up" not in crm
    demo = world.outlook_items("anna")["Demo"]
    assert demo["body"] == {"contentType": "text", "content": "Bring the laptop"}
    assert box.extended[demo["id"]]  # the CRM's UID rides along in calsync's property
    assert "crm-3" in box.extended[demo["id"]].values()
    trash = json.loads(world.ok("trash", "anna", "--json"))
    assert "Follow-up" in json.dumps(trash)

    # the CRM edits an item: Graph gets a PATCH with If-Match on the stored etag
    with world.crm("anna") as p:
        item = crm["Kickoff"]
        p.update(item.id, item.etag, item.event.replace(subject="Kickoff (moved)"))
    world.ok("sync", "anna")
    assert "Kickoff (moved)" in world.outlook_items("anna")
    assert_no_attendees_written(world)


def test_a_meeting_anna_organizes_is_left_alone(world: World) -> None:
    attendees = [{"type": "required", "emailAddress": {"address": "guest@fabrikam.example"}}]
    world.outlook_create("anna", "Steering group", 2, attendees=attendees)
    world.ok("init", "anna")
    item = world.crm_items("anna")["Steering group"]
    with world.crm("anna") as p:
        p.update(item.id, item.etag, item.event.replace(subject="Steering group (CRM edit)"))
    code, out, err = world.cli("sync", "anna", "--json")
    assert "would notify" in out, (code, out, err)
    assert set(world.outlook_items("anna")) == {"Steering group"}


def test_check_names_what_is_missing_per_mailbox(world: World) -> None:
    code, out, _ = world.cli("check", "anna", "--json")
    assert code == 0, out
    remote = [(c["check"], c["ok"]) for c in json.loads(out)["checks"] if c["side"] == "remote"]
    assert remote == [
        ("token acquired", True),
        ("mailbox reachable", True),
        ("calendar writable", True),
    ]
    code, out, _ = world.cli("check", "carl", "--json")
    assert code == 1
    failed = [c for c in json.loads(out)["checks"] if not c["ok"]]
    assert [c["check"] for c in failed] == ["mailbox reachable"]
    assert world.denied("carl") in failed[0]["detail"]


def test_an_expired_delta_link_and_throttling_are_taken_in_stride(world: World) -> None:
    with world.crm("anna") as p:
        p.create(ev("crm-1", "Kickoff", 1))
    world.ok("init", "anna")
    world.boxes["anna"].expire_sync_state()
    world.outlook_create("anna", "Lunch", 2)
    world.graph.inject(429, times=1, retry_after="0", mailbox=world.boxes["anna"].address)
    world.ok("sync", "anna")
    assert set(world.crm_items("anna")) == {"Kickoff", "Lunch"}
    assert set(world.outlook_items("anna")) == {"Kickoff", "Lunch"}
