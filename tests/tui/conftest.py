"""Pilot helpers: a demo workspace on local folders, an app on it, and a way to wait."""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import io
import os
import shutil
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from rich.console import Console
from rich.text import Text
from textual.pilot import Pilot
from textual.widget import Widget
from textual.widgets import Static
from textual.worker import WorkerCancelled, WorkerFailed

from storage.workspace import Workspace
from sync.demo import create_demo
from tui.app import CalsyncApp
from tui.services import Services


@pytest.hookimpl(tryfirst=True)
def pytest_pyfunc_call(pyfuncitem: pytest.Function) -> bool | None:
    """Run `async def` tests on a fresh asyncio loop (no async plugin is a dependency)."""
    if not inspect.iscoroutinefunction(pyfuncitem.obj):
        return None
    names = pyfuncitem._fixtureinfo.argnames
    asyncio.run(pyfuncitem.obj(**{n: pyfuncitem.funcargs[n] for n in names}))
    return True


@pytest.fixture(autouse=True)
def utc_clock_zone() -> Iterator[None]:
    """Local times on screen in UTC, whatever the machine's zone (stable snapshots)."""
    old = os.environ.get("TZ")
    os.environ["TZ"] = "UTC"
    time.tzset()
    yield
    if old is None:
        os.environ.pop("TZ", None)
    else:
        os.environ["TZ"] = old
    time.tzset()


@pytest.fixture(scope="session")
def demo_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("demo-template") / "ws"
    create_demo(Workspace(root))
    return root


@pytest.fixture
def demo(demo_template: Path, tmp_path: Path) -> Workspace:
    """The `calsync demo` workspace: anna, bertil, cecilia, david (a database CRM),
    initialized and synced.

    Built once (rendering its items takes seconds) and copied per test; copy2 keeps
    the files' mtimes, so the folder calendars' etags, and the state, stay valid.
    """
    root = tmp_path / "ws"
    shutil.copytree(demo_template, root)
    states = [*root.glob("users/*/state.json"), *root.glob("users/*/pairs.json")]
    for path in [root / "users.json", root / "calsync.toml", *states]:
        path.write_text(path.read_text().replace(str(demo_template), str(root)))
    return Workspace(root)


def make_app(ws: Workspace, **kw: object) -> CalsyncApp:
    kw.setdefault("autosync", False)
    kw.setdefault("subtitle", "test workspace")
    return CalsyncApp(Services(ws), **kw)  # type: ignore[arg-type]


async def settle(pilot: Pilot[None]) -> None:
    """Wait until no worker runs and every message they posted has been handled."""
    app = pilot.app
    for _ in range(200):
        busy = [w for w in app.workers if not w.is_finished]
        if not busy:
            await pilot.pause()
            if not any(not w.is_finished for w in app.workers):
                return
            continue
        for worker in busy:
            # a cancelled (superseded) or failed worker is done too; the app reports failures
            with contextlib.suppress(WorkerCancelled, WorkerFailed):
                await worker.wait()
        await pilot.pause()
    raise AssertionError("workers never settled")


def text_of(widget: Widget, width: int = 118) -> str:
    """What a Static shows, as plain text."""
    assert isinstance(widget, Static)
    console = Console(width=width, record=True, file=io.StringIO(), color_system=None)
    content = widget.content
    console.print(Text(content) if isinstance(content, str) else content)
    return console.export_text()
