"""The demo's users in trouble, and a job setting that overrides a user's, so every
state the operator console shows can be seen without a server:

- `erik`: someone emptied his remote calendar after initialization, so the next sync
  would delete every CRM item; the mass-deletion guard holds him for an operator.
- `frida`: her remote calendar folder is gone; every run fails and says so.
- calsync.toml's `[job] multiday = "title"` overrides bertil's own `multiday = keep`
  (SPEC R12), which the TUI shows as the effective value and its source.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from storage.atomic import atomic_write
from storage.config import Config
from storage.errors import StoreError
from storage.users import UserStore
from storage.workspace import Workspace
from sync.engine.runner import SyncOptions
from sync.model import Event
from sync.providers.registry import open_provider
from sync.service import init_user

NEEDS_OPERATOR = "erik"
FAILING = "frida"
USERS = (NEEDS_OPERATOR, FAILING)
#: the user whose own setting the job's overrides, and that setting
OVERRIDDEN = ("bertil", {"multiday": "keep"})

JOB_SECTION = """# The server job's settings. Where the job sets a value it overrides the user's own
# (SPEC R12): bertil's user record asks for multiday = "keep", the job's "title" wins,
# and the TUI's user detail shows "title (job)".
[job]
multiday = "title"
interval = 600

"""


def overridden(name: str) -> dict[str, str]:
    """The user-record settings the demo gives `name` for the job to override."""
    return dict(OVERRIDDEN[1]) if name == OVERRIDDEN[0] else {}


def write_job_section(ws: Workspace) -> None:
    """Put the [job] table at the top of calsync.toml, once."""
    text = ws.config_path.read_text(encoding="utf-8") if ws.config_path.exists() else ""
    if "[job]" not in text:
        atomic_write(ws.config_path, (JOB_SECTION + text).encode("utf-8"))


def add_troubled_users(
    ws: Workspace,
    config: Config,
    items: tuple[list[Event], list[Event]],
    name: str,
) -> None:
    """Create `name` on folder calendars holding `items`, initialize, then break it."""
    base = ws.root / "calendars" / name
    urls = {"crm": f"folder:{base / 'crm'}", "remote": f"folder:{base / 'remote'}"}
    for side, events in zip(("crm", "remote"), items, strict=True):
        with open_provider(urls[side], config.providers) as provider:
            provider.create_many(events)
    UserStore(ws).add({"name": name, **urls, "enabled": True})
    init_user(ws, config, name, SyncOptions())
    remote = base / "remote"
    if name == NEEDS_OPERATOR:
        # every item gone at once, the calendar itself kept (its identity file stays)
        for path in remote.glob("*.ics"):
            path.unlink()
    else:
        shutil.rmtree(remote)


def reset(root: Path, marker: str) -> None:
    """Delete a demo workspace so the demo starts afresh; never any other folder."""
    if not root.exists():
        return
    if not (root / marker).exists() and any(root.iterdir()):
        raise StoreError(
            f"{root} is not a demo workspace (no {marker} file): --reset deletes only "
            "the demo's own workspace"
        )
    shutil.rmtree(root)
