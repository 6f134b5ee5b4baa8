"""SVG snapshots at 120×40 of the users screen, the log diff and the trash.

The workspace is written field by field with fixed times, ids and a fixed clock,
so the pictures do not change from run to run (update them with
`uv run pytest tests/tui --snapshot-update` and look at the diff before committing).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from storage.changelog import ChangeLog
from storage.state import UserFiles, UserState
from storage.tinystore import open_db
from storage.users import UserStore
from storage.workspace import Workspace
from tests.tui.conftest import settle
from tui.app import CalsyncApp
from tui.services import Services

NOW = datetime(2026, 3, 2, 9, 30, tzinfo=UTC)
SIZE = (120, 40)


def _iso(when: datetime) -> str:
    return when.isoformat(timespec="seconds")


def _item(subject: str, start: str, **kw: Any) -> dict[str, Any]:
    item = {
        "uid": f"{subject.lower().replace(' ', '-')}@example.com",
        "recurrence_id": None,
        "subject": subject,
        "start": start,
        "end": start.replace("T10:00", "T11:00"),
        "all_day": False,
        "location": "Office",
        "show_as": "busy",
        "privacy": "normal",
        "reminder": 15,
        "text": "",
        "last_modified": "2026-03-01T08:00:00+00:00",
    }
    item.update(kw)
    return item


def _state(ws: Workspace, name: str, *, identity: str | None, runs: list[dict[str, Any]]) -> None:
    files = UserFiles(ws, name)
    files.dir.mkdir(parents=True, exist_ok=True)
    state = UserState(files.state_path, writable=True)
    if identity:
        state.meta["identity"] = identity
        state.meta["initialized_at"] = "2026-02-01T08:00:00+00:00"
        for n in range(12):
            state.pairs[f"p{n}"] = {"key": f"p{n}"}
    for run in runs:
        state.add_run(run)
    state.flush()


def _run(result: str, minutes_ago: int, reason: str = "", **kw: Any) -> dict[str, Any]:
    finished = NOW - timedelta(minutes=minutes_ago)
    return {
        "id": f"run-{minutes_ago}",
        "started": _iso(finished - timedelta(seconds=4)),
        "finished": _iso(finished),
        "kind": "sync",
        "result": result,
        "reason": reason,
        "counts": kw.pop("counts", {}),
        "errors": kw.pop("errors", []),
        "warnings": kw.pop("warnings", []),
        **kw,  # what a run records besides: needs, error_class, error_type, retry_after
    }


def build(root: Path) -> Workspace:
    ws = Workspace(root).ensure()
    ws.config_path.write_text("[job]\nskip_private = true\ninterval = 300\n", encoding="utf-8")
    store = UserStore(ws)
    cal = root / "calendars"
    store.add(
        {
            "name": "anna",
            "crm": f"folder:{cal / 'anna/crm'}",
            "remote": f"folder:{cal / 'anna/remote'}",
            "reminders": "minutes:15",
        }
    )
    store.add(
        {
            "name": "bertil",
            "crm": f"folder:{cal / 'bertil/crm'}",
            "remote": "caldav:https://cal.example.com/dav/bertil/work/",
        }
    )
    store.add(
        {
            "name": "cecilia",
            "crm": f"folder:{cal / 'cecilia/crm'}",
            "remote": "ews:cecilia@example.com",
        }
    )
    store.add(
        {
            "name": "dora",
            "crm": f"folder:{cal / 'dora/crm'}",
            "remote": "google:dora@example.com",
            "enabled": False,
        }
    )
    store.add({"name": "erik", "crm": f"folder:{cal / 'erik/crm'}", "remote": None})
    counts = {
        "crm": {"create": 2, "update": 1, "delete": 0},
        "remote": {"create": 0, "update": 3, "delete": 1},
    }
    _state(
        ws,
        "anna",
        identity="folder:calendars/anna/remote#5f1c2a9e",
        runs=[
            _run("ok", 7, counts=counts, warnings=["1 private item(s) not synced (skip_private)"])
        ],
    )
    _state(
        ws,
        "bertil",
        identity="caldav:https://cal.example.com/dav/bertil/work/",
        runs=[
            _run(
                "failed",
                95,
                "cannot reach cal.example.com: connection refused",
                errors=[{"error": "cannot reach cal.example.com: connection refused"}],
            )
        ],
    )
    _state(
        ws,
        "cecilia",
        identity="ews:cecilia@example.com#AAMkAD",
        runs=[
            _run(
                "needs_operator",
                60 * 26,
                "this sync would delete 9 of 12 item(s) in the CRM calendar",
            )
        ],
    )
    _state(ws, "dora", identity=None, runs=[])

    log = ChangeLog(UserFiles(ws, "anna").dir / "log")
    before = _item("Customer visit Nordvik AB", "2026-03-04T10:00:00+01:00")
    after = dict(
        before, location="Nordvik AB, Storgatan 12", reminder=30, start="2026-03-04T10:00:00+01:00"
    )
    entries = [
        (
            "20260302T0900",
            "crm",
            "create",
            "created on remote",
            None,
            _item("Team meeting", "2026-03-05T10:00:00+01:00"),
        ),
        ("20260302T0915", "remote", "update", "changed in CRM", before, after),
        (
            "20260302T0920",
            "crm",
            "delete",
            "deleted on remote",
            _item("Lunch with Hallberg IT", "2026-03-06T10:00:00+01:00"),
            None,
        ),
        (
            "20260302T0923",
            "crm",
            "update",
            "conflict: remote newer",
            before,
            dict(before, subject="Customer visit Nordvik AB (moved)", text="New room."),
        ),
    ]
    for n, (stamp, side, action, reason, b, a) in enumerate(entries):
        log.add(
            {
                "id": f"{stamp}00Z-r1-{n}",
                "time": datetime.strptime(stamp, "%Y%m%dT%H%M").replace(tzinfo=UTC).isoformat(),
                "run": "r1",
                "side": side,
                "action": action,
                "reason": reason,
                "item_id": f"item-{n}",
                "other_side_id": None,
                "before": b,
                "after": a,
            }
        )
    log.flush()

    trash = open_db(UserFiles(ws, "anna").trash.path).table("trash")
    for n, (subject, side, when) in enumerate(
        [
            ("Lunch with Hallberg IT", "crm", "2026-03-02T09:20:00+00:00"),
            ("Quote review Sjöstrand Bygg", "remote", "2026-02-27T14:05:00+00:00"),
        ]
    ):
        trash.insert(
            {
                "id": f"trash{n:07d}",
                "deleted_at": when,
                "side": side,
                "item_id": f"item-t{n}",
                "item": _item(subject, "2026-03-06T10:00:00+01:00", text="Bring the price list."),
                "reason": "deleted on remote" if side == "crm" else "deleted in CRM",
                "run": "r1",
                "restored_at": None,
            }
        )
    return ws


@pytest.fixture
def snapshot_app(tmp_path: Path) -> CalsyncApp:
    ws = build(tmp_path / "ws")
    return CalsyncApp(Services(ws, clock=lambda: NOW), autosync=False, subtitle="demo")


def test_users_screen(snap_compare, snapshot_app: CalsyncApp) -> None:  # type: ignore[no-untyped-def]
    async def ready(pilot) -> None:  # type: ignore[no-untyped-def]
        await settle(pilot)
        await pilot.press("down")  # bertil: an error in the detail pane
        await settle(pilot)

    assert snap_compare(snapshot_app, terminal_size=SIZE, run_before=ready)


def test_log_diff(snap_compare, snapshot_app: CalsyncApp) -> None:  # type: ignore[no-untyped-def]
    async def ready(pilot) -> None:  # type: ignore[no-untyped-def]
        await settle(pilot)
        await pilot.press("l")
        await settle(pilot)
        await pilot.press("down", "down")  # the update with two changed fields
        await settle(pilot)

    assert snap_compare(snapshot_app, terminal_size=SIZE, run_before=ready)


def test_trash(snap_compare, snapshot_app: CalsyncApp) -> None:  # type: ignore[no-untyped-def]
    async def ready(pilot) -> None:  # type: ignore[no-untyped-def]
        await settle(pilot)
        await pilot.press("t")
        await settle(pilot)

    assert snap_compare(snapshot_app, terminal_size=SIZE, run_before=ready)
