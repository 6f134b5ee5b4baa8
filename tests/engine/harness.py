"""A user with two calendars, driven through the real service layer.

Remote-provider test modules reuse this with their own remote URL and config.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from storage.config import load_config
from storage.state import UserFiles
from storage.users import UserStore
from storage.workspace import Workspace
from sync import service
from sync.engine.runner import RunResult, SyncOptions
from sync.model import Event
from sync.providers.base import Item, Provider, Window
from sync.providers.registry import open_provider

ZONE = ZoneInfo("Europe/Stockholm")
EVERYTHING = Window(datetime(1900, 1, 1, tzinfo=UTC), datetime(2200, 1, 1, tzinfo=UTC))


def at(days: float, hour: int = 10, minutes: int = 0) -> datetime:
    """A Stockholm wall-clock time `days` from today."""
    today = datetime.now(UTC).astimezone(ZONE).date()
    base = datetime(today.year, today.month, today.day, hour, minutes, tzinfo=ZONE)
    return base + timedelta(days=days)


def ev(uid: str, subject: str, days: float = 1, hours: float = 1, **kw: Any) -> Event:
    start = at(days)
    return Event(uid=uid, subject=subject, start=start, end=start + timedelta(hours=hours), **kw)


class Env:
    def __init__(
        self,
        root: Path,
        *,
        remote_url: str | None = None,
        crm_url: str | None = None,
        config_text: str = "",
        name: str = "anna",
    ) -> None:
        self.ws = Workspace(root / "ws").ensure()
        if config_text:
            self.ws.config_path.write_text(config_text, encoding="utf-8")
        self.name = name
        self.crm_url = crm_url or f"folder:{root / 'crm'}"
        self.remote_url = remote_url or f"folder:{root / 'remote'}"
        for url in (self.crm_url, self.remote_url):
            if url.startswith("folder:"):
                # calsync never creates a calendar folder: the operator makes it, as here
                Path(url.removeprefix("folder:")).mkdir(parents=True, exist_ok=True)
        #: what `items` lists (Graph serves at most 1825 days: tests of it narrow this)
        self.window = EVERYTHING

    @property
    def config(self):  # type: ignore[no-untyped-def]
        return load_config(self.ws.config_path)

    def add_user(self, **settings: Any) -> None:
        UserStore(self.ws).add(
            {"name": self.name, "crm": self.crm_url, "remote": self.remote_url, **settings}
        )

    def set(self, **changes: Any) -> None:
        UserStore(self.ws).update(self.name, changes)

    def provider(self, side: str) -> Provider:
        return open_provider(
            self.crm_url if side == "crm" else self.remote_url, self.config.providers
        )

    def init(self, **opts: Any) -> RunResult:
        return service.init_user(self.ws, self.config, self.name, SyncOptions(**opts))

    def sync(self, **opts: Any) -> RunResult:
        return service.sync_user(self.ws, self.config, self.name, SyncOptions(**opts))

    # -- calendars -------------------------------------------------------------------------

    def items(self, side: str) -> list[Item]:
        with self.provider(side) as p:
            listing = p.list_window(self.window, {})
            got = p.fetch(list(listing.etags))
        return [i for i in got.values() if isinstance(i, Item)]

    def by_subject(self, side: str) -> dict[str, Item]:
        items = self.items(side)
        out = {i.event.subject: i for i in items}
        assert len(out) == len(items), (
            f"duplicate subjects on {side}: {[i.event.subject for i in items]}"
        )
        return out

    def put(self, side: str, event: Event) -> Item:
        with self.provider(side) as p:
            return p.create(event)

    def edit(self, side: str, which: str, /, **changes: Any) -> Item:
        item = self.by_subject(side)[which]
        with self.provider(side) as p:
            return p.update(item.id, item.etag, item.event.replace(**changes))

    def remove(self, side: str, subject: str) -> None:
        item = self.by_subject(side)[subject]
        with self.provider(side) as p:
            p.delete(item.id, item.etag)

    @property
    def files(self) -> UserFiles:
        return UserFiles(self.ws, self.name)

    def log(self) -> list[dict[str, Any]]:
        return self.files.log.entries()

    def trash(self) -> list[dict[str, Any]]:
        return self.files.trash.entries()

    def assert_converged(self) -> None:
        """Same subjects both sides (modulo the multi-day title), and a 2nd sync plans nothing."""
        result = self.sync(dry_run=True)
        assert result.plan is not None
        assert not result.plan.writes, [a.to_json() for a in result.plan.writes]
