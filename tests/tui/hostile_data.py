"""A workspace (and a preview) full of what breaks screens: markup in titles, titles
longer than any terminal, scripts written right to left and in wide characters.

Built on the fixed snapshot workspace (fixed times and ids), so pictures of it are
the same from run to run.
"""

from __future__ import annotations

import zlib
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from storage.changelog import ChangeLog
from storage.state import UserFiles
from storage.tinystore import open_db
from storage.workspace import Workspace
from sync.engine.actions import Action, Plan
from sync.engine.runner import RunResult
from sync.model import Event
from tests.tui.test_snapshots import NOW, build

LONG = (
    "Quarterly planning with the whole regional sales organisation, partners and the "
    "board (bring laptops, chargers and the signed NDA; lunch is served at noon) "
) * 2
HOSTILE = [
    "[bold]x[/] budget [link=https://evil.example]review[/link]",
    LONG.strip(),
    "会議：東京支社との定例打ち合わせ（第３四半期）",
    "اجتماع الفريق الأسبوعي",
    "Встреча с клиентом ООО «Ромашка» [/]",
]
#: log entries of anna beyond the snapshot workspace's four: more than a page's worth
EXTRA_LOG = 130


def item(subject: str, start: str, **kw: Any) -> dict[str, Any]:
    return {
        "uid": f"{zlib.crc32(subject.encode()):08x}@example.com",
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
        **kw,
    }


def build_hostile(root: Path) -> Workspace:
    ws = build(root)
    files = UserFiles(ws, "anna")
    log = ChangeLog(files.dir / "log")
    start = NOW - timedelta(days=30)
    for n in range(EXTRA_LOG):
        subject = HOSTILE[n % len(HOSTILE)]
        when = start + timedelta(hours=5 * n)
        entry = item(subject, "2026-03-10T10:00:00+01:00", location="[red]Room[/] 会議室 " * 3)
        log.add(
            {
                "id": f"{when:%Y%m%dT%H%M%S}Z-r{n // 10}-{n}",
                "time": when.isoformat(),
                "run": f"r{n // 10}",
                "side": "remote" if n % 2 else "crm",
                "action": ("create", "update", "delete")[n % 3],
                "reason": f"changed in CRM [dim]{subject[:20]}[/]",
                "item_id": f"item-h{n}",
                "other_side_id": None,
                "before": None if n % 3 == 0 else entry,
                "after": None if n % 3 == 2 else dict(entry, subject=f"{subject} ✓"),
            }
        )
    log.flush()
    trash = open_db(files.trash.path).table("trash")
    for n, subject in enumerate(HOSTILE):
        trash.insert(
            {
                "id": f"hostile{n:05d}",
                "deleted_at": (NOW - timedelta(days=3, minutes=n)).isoformat(),
                "side": "remote" if n % 2 else "crm",
                "item_id": f"item-ht{n}",
                "item": item(subject, "2026-03-06T10:00:00+01:00", text=LONG),
                "reason": f"deleted on remote [b]{subject[:30]}",
                "run": "r1",
                "restored_at": None,
            }
        )
    return ws


def _event(subject: str, day: int) -> Event:
    start = datetime(2026, 3, day, 9, 0, tzinfo=UTC)
    return Event(
        uid=f"plan-{day}@test", subject=subject, start=start, end=start + timedelta(hours=1)
    )


def hostile_plan(user: str = "anna") -> RunResult:
    actions: list[Any] = []
    for n, subject in enumerate(HOSTILE):
        event = _event(subject, n + 3)
        op = ("create", "update", "delete")[n % 3]
        actions.append(
            Action(
                op,  # type: ignore[arg-type]
                "remote" if n % 2 else "crm",
                f"{'new' if op == 'create' else 'changed'} in CRM [bold]{subject[:12]}",
                before=None if op == "create" else event,
                after=None if op == "delete" else event,
            )
        )
    return RunResult(user, "planned", plan=Plan(actions=actions))
