"""A workspace of users on local-folder calendars, driven through the `calsync` CLI."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from typer.testing import CliRunner

from storage.state import UserFiles
from storage.users import UserStore
from storage.workspace import Workspace
from sync.ical import render_event
from sync.model import Event, Privacy, event_to_dict
from sync.providers.base import Item, Window
from sync.providers.registry import open_provider
from tui.cli import _register, app

_register()
REPO = Path(__file__).resolve().parents[2]
EVERYTHING = Window(datetime(1900, 1, 1, tzinfo=UTC), datetime(2200, 1, 1, tzinfo=UTC))


class Run:
    def __init__(self, code: int, out: str, err: str) -> None:
        self.code, self.out, self.err = code, out, err

    def json(self) -> Any:
        return json.loads(self.out)

    def __repr__(self) -> str:
        return f"Run(code={self.code}, out={self.out[-2000:]!r}, err={self.err[-2000:]!r})"


def entry_point() -> list[str]:
    script = Path(sys.executable).parent / "calsync"
    if script.exists():
        return [str(script)]
    return [sys.executable, "-c", "import sys; from tui.cli import main; sys.exit(main())"]


def when(days: float, hour: int = 10) -> datetime:
    today = datetime.now(UTC).date()
    return datetime(today.year, today.month, today.day, hour, tzinfo=UTC) + timedelta(days=days)


def ev(uid: str, subject: str, days: float = 1, **kw: Any) -> Event:
    start = when(days)
    return Event(uid=uid, subject=subject, start=start, end=start + timedelta(hours=1), **kw)


class Site:
    """A workspace plus a folder per calendar, under one root."""

    def __init__(self, root: Path, config: str = "") -> None:
        self.root = root
        self.ws = Workspace(root / "ws").ensure()
        if config:
            self.ws.config_path.write_text(config, encoding="utf-8")

    # -- the CLI ---------------------------------------------------------------------------

    def cli(self, *args: str, env: dict[str, str] | None = None) -> Run:
        result = CliRunner().invoke(app, ["--workspace", str(self.ws.root), *args], env=env)
        return Run(result.exit_code, result.stdout, result.stderr)

    def real(self, *args: str, timeout: float = 60) -> Run:
        proc = subprocess.run(
            [*entry_point(), "--workspace", str(self.ws.root), *args],
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            cwd=REPO,
            env={**os.environ, "COLUMNS": "200"},
            timeout=timeout,
        )
        return Run(proc.returncode, proc.stdout, proc.stderr)

    # -- users and calendars ---------------------------------------------------------------

    def url(self, name: str, side: str) -> str:
        return f"folder:{self.root / 'cal' / f'{name}-{side}'}"

    def add(self, name: str, *, remote: str | None = "", **settings: Any) -> None:
        record = {
            "name": name,
            "crm": self.url(name, "crm"),
            "remote": self.url(name, "remote") if remote == "" else remote,
            **settings,
        }
        for side in ("crm", "remote"):
            url = record[side]
            if isinstance(url, str) and url.startswith("folder:"):
                # calsync never creates a calendar folder: the operator makes it, as here
                Path(url.removeprefix("folder:")).mkdir(parents=True, exist_ok=True)
        UserStore(self.ws).add(record)

    def put(self, name: str, side: str, event: Event) -> Item:
        with open_provider(self.user(name)[side]) as provider:
            return provider.create(event)

    def user(self, name: str) -> dict[str, Any]:
        return UserStore(self.ws).get(name)

    def items(self, name: str, side: str) -> list[Item]:
        with open_provider(self.user(name)[side]) as provider:
            listing = provider.list_window(EVERYTHING, {})
            got = provider.fetch(list(listing.etags))
        return [i for i in got.values() if isinstance(i, Item)]

    def calendar(self, name: str, side: str) -> list[tuple[Any, ...]]:
        """The calendar's content, independent of file names, etags and write times."""
        rows = []
        for item in self.items(name, side):
            data = event_to_dict(item.event)
            data.pop("last_modified")
            rows.append(tuple(sorted((k, str(v)) for k, v in data.items())))
        return sorted(rows)

    def edit(self, name: str, side: str, which: str, **changes: Any) -> None:
        (item,) = [i for i in self.items(name, side) if i.event.subject == which]
        with open_provider(self.user(name)[side]) as provider:
            provider.update(item.id, item.etag, item.event.replace(**changes))

    def remove(self, name: str, side: str, subject: str) -> None:
        (item,) = [i for i in self.items(name, side) if i.event.subject == subject]
        with open_provider(self.user(name)[side]) as provider:
            provider.delete(item.id, item.etag)

    def files(self, name: str) -> UserFiles:
        return UserFiles(self.ws, name)

    def log_text(self) -> str:
        path = self.ws.logs_dir / "calsync.log"
        return path.read_text(encoding="utf-8") if path.exists() else ""


def seed(site: Site, name: str, n: int = 2) -> None:
    """A user with items on both sides, one of them in both (paired at init)."""
    for i in range(n):
        site.put(name, "crm", ev(f"{name}-crm-{i}", f"{name} crm {i}", days=i + 1))
        site.put(name, "remote", ev(f"{name}-rem-{i}", f"{name} remote {i}", days=i + 2))
    shared = ev(f"{name}-both", f"{name} both", days=3)
    site.put(name, "crm", shared)
    site.put(name, "remote", shared)
    site.put(
        name,
        "remote",
        ev(f"{name}-private", f"{name} private", days=4, privacy=Privacy.PRIVATE),
    )


def write_items(folder: Path, n: int) -> None:
    """Many CRM items at once, written straight into the folder (faster than a provider)."""
    folder.mkdir(parents=True, exist_ok=True)
    for i in range(n):
        event = ev(f"bulk-{i:04d}", f"bulk {i}", days=1 + i % 200)
        (folder / f"bulk-{i:04d}.ics").write_bytes(render_event(event))


def by_user(summary: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {u["user"]: u for u in summary["users"]}


@contextmanager
def lock_held(files: UserFiles) -> Iterator[None]:
    """Hold a user's lock from another thread, as a TUI or an overlapping cron run does."""
    taken, release = threading.Event(), threading.Event()

    def hold() -> None:
        with files.locked():
            taken.set()
            release.wait()

    thread = threading.Thread(target=hold)
    thread.start()
    assert taken.wait(10)
    try:
        yield
    finally:
        release.set()
        thread.join()
