"""What the stdlib-transport tests share: a clean HTTP environment, a CalDAV provider
with a referenced password, and a CLI run that reports which HTTP libraries it loaded."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from sync.providers.dav.provider import CalDAVProvider

PASSWORD_ENV = "CALSYNC_TEST_DAV_PASSWORD"
SECRET = "dav-Secret-9"
#: what the caldav client path imports and the stdlib path must not
HTTP_LIBRARIES = ("caldav", "niquests", "urllib3", "lxml")
#: what a sync with nothing to do never uses: the iCalendar libraries (nothing is
#: read), the HTTP client libraries, and Typer with pydantic (tui/cli/quick.py)
NOT_ON_A_NO_CHANGE_SYNC = (
    *HTTP_LIBRARIES,
    "icalendar",
    "recurring_ical_events",
    "x_wr_timezone",
    "dateutil",
    "typer",
    "click",
    "pydantic",
    "pydantic_core",
)


def clean_http_environment(monkeypatch: pytest.MonkeyPatch, home: Path) -> None:
    """No proxies or ~/.netrc (either sends a request through the DAVClient instead)."""
    monkeypatch.setenv(PASSWORD_ENV, SECRET)  # Radicale's auth type none takes any password
    for name in ("http_proxy", "https_proxy", "all_proxy", "no_proxy", "NETRC"):
        monkeypatch.delenv(name, raising=False)
        monkeypatch.delenv(name.upper(), raising=False)
    monkeypatch.setenv("HOME", str(home))


def open_caldav(url: str, **extra: Any) -> CalDAVProvider:
    table = {"username": "calsync", "password_env": PASSWORD_ENV, **extra}
    return CalDAVProvider(f"caldav:{url}", settings={"caldav": table})


def run_cli_reporting_imports(
    workspace: Path, *args: str, watch: tuple[str, ...] = HTTP_LIBRARIES
) -> subprocess.CompletedProcess[str]:
    """`calsync --workspace WS ARGS` in a fresh interpreter; its stderr ends with
    `LOADED [...]`, the packages of `watch` it imported."""
    script = (
        "import atexit, sys\n"
        "def report():\n"
        "    loaded = {m.split('.')[0] for m in sys.modules}\n"
        f"    print('LOADED', sorted(loaded & {set(watch)!r}), file=sys.stderr)\n"
        "atexit.register(report)\n"
        f"sys.argv = ['calsync', '--workspace', {str(workspace)!r}, *{list(args)!r}]\n"
        "from tui.cli import main\n"
        "main()\n"
    )
    return subprocess.run(
        [sys.executable, "-c", script],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "COLUMNS": "200"},
    )
