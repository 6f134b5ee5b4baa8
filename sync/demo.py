"""A ready demo workspace on the embedded default: local folders as both calendars.

Four sales people, a few dozen realistic items on both sides (some already in
both calendars under different UIDs, so initialization's matching shows), a
multi-day fair in the remote calendar and a private appointment. The fourth one's
CRM is a database table (`sync.demo_database`).
"""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from storage.atomic import atomic_write
from storage.config import Config, load_config
from storage.errors import StoreError
from storage.state import UserFiles
from storage.users import UserStore
from storage.workspace import Workspace, default_workspace
from sync import demo_database, demo_states
from sync.engine.runner import RunResult, SyncOptions
from sync.model import Event, Privacy, ShowAs
from sync.providers.registry import open_provider
from sync.service import init_user, sync_user

MARKER = ".calsync-demo"
ZONE = ZoneInfo("Europe/Stockholm")
USERS = ("anna", "bertil", "cecilia", demo_database.NAME)

CUSTOMERS = ("Nordvik AB", "Lindgren & Co", "Sjöstrand Bygg", "Åkerlund Foods", "Hallberg IT")
Template = tuple[str, str, ShowAs, int | None, str]
CRM_TEMPLATES: tuple[Template, ...] = (
    ("Customer visit {c}", "{c}, Storgatan 12", ShowAs.BUSY, 30, "Bring the new price list."),
    ("Follow-up call {c}", "", ShowAs.BUSY, 10, "Ask about the Q3 order."),
    ("Quote review {c}", "Office, room Kungsholmen", ShowAs.TENTATIVE, 15, ""),
    ("Demo for {c}", "Teams", ShowAs.BUSY, 15, "Show the reporting module."),
)
REMOTE_TEMPLATES: tuple[Template, ...] = (
    ("Team meeting", "Office, room Södermalm", ShowAs.BUSY, 15, "Weekly pipeline review."),
    ("Lunch with {c}", "Restaurang Tradition", ShowAs.BUSY, None, ""),
    ("Focus time", "", ShowAs.WORKING_ELSEWHERE, None, "No meetings, please."),
    ("Training: negotiation", "Conference centre", ShowAs.OOF, 60, "Full-day course."),
)


def demo_workspace(explicit: Path | None) -> Workspace:
    """`--workspace` if given, else the demo's own folder: never the operator's workspace.

    CALSYNC_WORKSPACE is not read here: it names the operator's real workspace, which
    the demo must not fill (it lives beside it, in the data folder's `demo/`).
    """
    return Workspace(explicit if explicit else default_workspace() / "demo")


def reset_demo(ws: Workspace) -> None:
    """Delete the demo workspace (only one the demo made) so it starts afresh."""
    demo_states.reset(ws.root, MARKER)


def _at(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime.combine(day, time(hour, minute), tzinfo=ZONE)


def _uid() -> str:
    return f"{uuid.uuid4()}@demo.calsync"


def _items(user_index: int, today: date) -> tuple[list[Event], list[Event]]:
    crm: list[Event] = []
    remote: list[Event] = []
    for n in range(10):
        day = today + timedelta(days=n * 3 - 9 + user_index)
        subject, where, show, rem, text = CRM_TEMPLATES[n % len(CRM_TEMPLATES)]
        c = CUSTOMERS[(n + user_index) % len(CUSTOMERS)]
        start = _at(day, 9 + n % 6)
        crm.append(
            Event(
                uid=_uid(),
                subject=subject.format(c=c),
                start=start,
                end=start + timedelta(hours=1),
                location=where.format(c=c),
                show_as=show,
                reminder=rem,
                text=text,
            )
        )
    for n in range(8):
        day = today + timedelta(days=n * 4 - 6 + user_index)
        subject, where, show, rem, text = REMOTE_TEMPLATES[n % len(REMOTE_TEMPLATES)]
        c = CUSTOMERS[(n * 2 + user_index) % len(CUSTOMERS)]
        start = _at(day, 12 if "Lunch" in subject else 8 + n % 5)
        remote.append(
            Event(
                uid=_uid(),
                subject=subject.format(c=c),
                start=start,
                end=start + timedelta(hours=1, minutes=30),
                location=where.format(c=c),
                show_as=show,
                reminder=rem,
                text=text,
            )
        )
    fair_start = today + timedelta(days=14 + user_index)
    remote.append(
        Event(
            uid=_uid(),
            subject="Trade fair Elmia",
            start=fair_start,
            end=fair_start + timedelta(days=3),
            all_day=True,
            location="Elmia, Jönköping",
            show_as=ShowAs.OOF,
            reminder=1440,
            text="Stand B:12. Hotel booked.",
        )
    )
    dentist = _at(today + timedelta(days=5 + user_index), 16)
    remote.append(
        Event(
            uid=_uid(),
            subject="Dentist",
            start=dentist,
            end=dentist + timedelta(minutes=45),
            privacy=Privacy.PRIVATE,
            show_as=ShowAs.OOF,
            reminder=60,
        )
    )
    # already in both calendars under different UIDs: initialization pairs them
    board = _at(today + timedelta(days=2), 13)
    for target in (crm, remote):
        target.append(
            Event(
                uid=_uid(),
                subject="Sales board meeting",
                start=board,
                end=board + timedelta(hours=2),
                location="Head office",
                reminder=15,
                text="Agenda in the shared folder.",
            )
        )
    return crm, remote


def create_demo(ws: Workspace, *, every_state: bool = False) -> tuple[Config, list[RunResult]]:
    """Create (or refresh) the demo workspace, initialize and sync every demo user.

    `every_state` (what `calsync demo` makes) adds a user held by the deletion guard,
    a failing one and a job setting that overrides a user's (`sync.demo_states`).
    """
    store = UserStore(ws)
    marker = ws.root / MARKER
    existing = store.all() if ws.users_path.exists() else []
    if existing and not marker.exists():
        raise StoreError(
            f"workspace {ws.root} already holds real users; the demo will not mix into it "
            "(run `calsync demo` without --workspace, or name an empty folder)"
        )
    ws.ensure()
    atomic_write(marker, b"calsync demo workspace\n")
    names = {u["name"] for u in existing}
    if every_state:
        demo_states.write_job_section(ws)
    database_crm = demo_database.prepare(ws) if demo_database.NAME not in names else None
    config = load_config(ws.config_path)
    today = datetime.now(UTC).astimezone(ZONE).date()
    for index, name in enumerate(USERS):
        if name in names:
            continue
        base = ws.root / "calendars" / name
        crm_url, remote_url = f"folder:{base / 'crm'}", f"folder:{base / 'remote'}"
        if name == demo_database.NAME and database_crm:
            crm_url = database_crm  # the CRM's own database table
        crm_events, remote_events = _items(index, today)
        for url, events in ((crm_url, crm_events), (remote_url, remote_events)):
            with open_provider(url, config.providers) as provider:
                provider.create_many(events)
        store.add(
            {
                "name": name,
                "crm": crm_url,
                "remote": remote_url,
                "enabled": True,
                "skip_private": name == "cecilia",
                **(demo_states.overridden(name) if every_state else {}),
            }
        )
    everyone = list(USERS)
    if every_state:
        for index, name in enumerate(demo_states.USERS, len(USERS)):
            if name not in names:
                items = _items(index, today)
                demo_states.add_troubled_users(ws, config, items, name)
        everyone += demo_states.USERS
    results = []
    for name in everyone:
        if UserFiles(ws, name).read_state().initialized:
            results.append(sync_user(ws, config, name, SyncOptions()))
        else:
            results.append(init_user(ws, config, name, SyncOptions()))
    return config, results
