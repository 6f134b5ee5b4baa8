"""A fleet with every state and hostile text in every shown field, at a fixed clock.

Brackets that look like markup (`[bold]x[/]`), very long titles, non-Latin scripts
and control characters: in addresses, reasons, item titles and errors (user names
are limited to ASCII by the workspace, so those are long instead).
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

from storage.users import UserStore
from storage.workspace import Workspace
from sync.engine.runner import identity_changed_reason
from tests.tui.test_snapshots import NOW, _iso, _run, _state

LONG_NAME = "a" + "-very-long-user-name" * 3 + "-x"
HOSTILE = "[bold]x[/] 予算会議 Ωμέγα"
LONG_TITLE = "[red]Quarterly[/red] budget review with Nordvik AB " + "and more " * 30 + "end"
AUTH = "cal.example.com: credentials refused (HTTP 401); check the username and password [b]x[/b]"
GUARD = "this sync would delete 9 of 12 item(s) in the CRM calendar; pass --force to continue"
NETWORK = "cannot reach mail.example.com: соединение отклонено [/]"
#: what the runner records about a failed run's error (sync.health.error_fields)
PERMANENT = {"error_class": "permanent", "error_type": "AuthFailed"}
TRANSIENT = {"error_class": "transient", "error_type": "ConnectionFailed"}


def _err(side: str, item: str, error: str) -> dict[str, str]:
    return {"side": side, "op": "update", "item": item, "error": error}


def build_fleet(root: Path) -> Workspace:
    ws = Workspace(root).ensure()
    ws.config_path.write_text("[job]\ninterval = 300\n", encoding="utf-8")
    store = UserStore(ws)
    cal = root / "calendars"

    def add(name: str, remote: str | None, **kw: Any) -> None:
        store.add({"name": name, "crm": f"folder:{cal / name / 'crm'}", "remote": remote, **kw})

    add("anna", f"folder:{cal / 'anna' / HOSTILE}")
    add("bertil", "caldav:https://cal.example.com/dav/bertil/[bold]work[/]/")
    add("cecilia", "ews:cecilia@example.com")
    add("dora", "google:dora@example.com", enabled=False)
    add("erik", "caldav:https://cal.example.com/dav/erik/")
    add("fatima", "graph:fatima@example.com")
    add("gustav", "ews:gustav@example.com")
    add("hanna", "caldav:https://カレンダー.example.jp/dav/hanna/")
    add(LONG_NAME, "google:long@example.com")
    ok = {"crm": {"create": 2, "update": 1, "delete": 0}, "remote": {"update": 3, "delete": 1}}
    _state(ws, "anna", identity="folder#1", runs=[_run("ok", 7, counts=ok)])
    _state(
        ws,
        "bertil",
        identity="caldav#1",
        runs=[_run("failed", 95, AUTH, errors=[{"error": AUTH}], **PERMANENT)],
    )
    _state(
        ws,
        "cecilia",
        identity="ews#1",
        runs=[_run("needs_operator", 60 * 26, GUARD, needs="mass_delete")],
    )
    _state(ws, "dora", identity=None, runs=[])
    changed = _run(
        "needs_operator", 30, identity_changed_reason("fatima"), needs="identity_changed"
    )
    _state(ws, "fatima", identity="graph#1", runs=[changed])
    throttled = _run("deferred", 3, "Exchange at mail.example.com (ErrorServerBusy) [red]x[/red]")
    throttled["retry_after"] = _iso(NOW + timedelta(minutes=20))
    _state(ws, "gustav", identity="ews#2", runs=[throttled])
    errors = [
        _err("remote", LONG_TITLE, "HTTP 412 Precondition Failed [/] (the item changed)"),
        _err("crm", "会議 — 予算\nsecond line", "ошибка записи: [bold]denied[/bold]"),
        _err("remote", "Lunch [link=http://x]Hallberg[/link]", NETWORK),
    ]
    _state(ws, "hanna", identity="caldav#2", runs=[_run("ok", 12, counts=ok, errors=errors)])
    _state(ws, LONG_NAME, identity="google#1", runs=[_run("failed", 240, NETWORK, **TRANSIENT)])
    return ws
