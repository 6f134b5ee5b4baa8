"""Reading and changing the demo users' folder calendars behind the app's back."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

from storage.state import UserFiles
from storage.users import UserStore
from storage.workspace import Workspace
from sync.model import Event
from sync.providers.base import Item, Window
from sync.providers.registry import open_provider

EVERYTHING = Window(datetime(1900, 1, 1, tzinfo=UTC), datetime(2200, 1, 1, tzinfo=UTC))


def url(ws: Workspace, name: str, side: str) -> str:
    return str(UserStore(ws).get(name)[side])


def items(ws: Workspace, name: str, side: str) -> dict[str, Item]:
    with open_provider(url(ws, name, side)) as p:
        got = p.fetch(list(p.list_window(EVERYTHING, {}).etags))
    return {i.event.subject: i for i in got.values() if isinstance(i, Item)}


def put(ws: Workspace, name: str, side: str, subject: str, days: int = 3) -> Item:
    # a fixed hour: an item made at 23:xx UTC would cross midnight and read as multi-day
    start = datetime.now(UTC).replace(hour=10, minute=0, second=0, microsecond=0)
    start += timedelta(days=days)
    event = Event(
        uid=f"{uuid.uuid4()}@test",
        subject=subject,
        start=start,
        end=start + timedelta(hours=1),
        location="Room 1",
    )
    with open_provider(url(ws, name, side)) as p:
        return p.create(event)


def edit(ws: Workspace, name: str, side: str, subject: str, **changes: object) -> Item:
    item = items(ws, name, side)[subject]
    with open_provider(url(ws, name, side)) as p:
        return p.update(item.id, item.etag, item.event.replace(**changes))


def remove(ws: Workspace, name: str, side: str, subject: str) -> None:
    item = items(ws, name, side)[subject]
    with open_provider(url(ws, name, side)) as p:
        p.delete(item.id, item.etag)


def identity(ws: Workspace, name: str) -> str | None:
    return UserFiles(ws, name).read_state().identity


def runs(ws: Workspace, name: str) -> int:
    return len(UserFiles(ws, name).read_state().runs)
