"""Where a workspace lives and which file holds what.

WORKSPACE/
  calsync.toml            connections and job settings (storage/config.py)
  users.json              users and their settings (storage/users.py)
  users/NAME/state.json   provider caches, identity, the pairings' count and digest
                          (storage/state.py)
  users/NAME/pairs.json   the pairings: both sides as last synced (storage/pairstore.py)
  users/NAME/runs.json    the user's last runs (storage/run_history.py)
  users/NAME/last-run.json  the newest run while later quiet runs may replace it
  users/NAME/trash.json   deleted items kept whole (storage/trash.py)
  users/NAME/log/*.jsonl  change log, one append-only segment a month (storage/changelog.py)
  logs/calsync.log        the run log of headless jobs
  removed/NAME-STAMP/     the folder of a removed user, kept so nothing is lost

Every file is created 0600 and every folder 0700: state and logs hold calendar
contents. Each file that is read-modify-written has a FILE.lock beside it.

Each user has files of their own, so syncing one user never rewrites another's.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from storage.atomic import ensure_dir
from storage.errors import StoreError
from storage.locking import file_lock

ENV_WORKSPACE = "CALSYNC_WORKSPACE"
NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._@-]{0,63}$")


def default_workspace() -> Path:
    # platformdirs only here: a cron line names its workspace (-w or CALSYNC_WORKSPACE)
    from platformdirs import user_data_dir

    return Path(user_data_dir("calsync", appauthor=False))


def resolve_workspace(explicit: str | os.PathLike[str] | None = None) -> Path:
    """`--workspace` wins, then CALSYNC_WORKSPACE, then the platform's user-data dir."""
    if explicit:
        return Path(explicit).expanduser()
    env = os.environ.get(ENV_WORKSPACE)
    if env:
        return Path(env).expanduser()
    return default_workspace()


def check_user_name(name: str) -> str:
    if not NAME_RE.match(name):
        raise StoreError(
            f"bad user name {name!r}: use letters, digits, '.', '_', '@' or '-' "
            "(at most 64, starting with a letter or digit)"
        )
    return name


class Workspace:
    def __init__(self, root: Path) -> None:
        self.root = root

    @property
    def config_path(self) -> Path:
        return self.root / "calsync.toml"

    @property
    def users_path(self) -> Path:
        return self.root / "users.json"

    @property
    def logs_dir(self) -> Path:
        return self.root / "logs"

    @property
    def removed_dir(self) -> Path:
        return self.root / "removed"

    def user_dir(self, name: str) -> Path:
        return self.root / "users" / check_user_name(name)

    def missing(self) -> str | None:
        """Why this folder is no workspace yet, or None if it is one (has users.json)."""
        if not self.root.is_dir():
            return f"no calsync workspace at {self.root}: the folder does not exist"
        if not self.users_path.is_file():
            return (
                f"no calsync workspace at {self.root}: it has no users.json "
                "(add a user with `calsync user add` to start one)"
            )
        return None

    def ensure(self) -> Workspace:
        ensure_dir(self.root)
        return self

    @contextmanager
    def lock(self, path: Path, what: str, timeout: float) -> Iterator[None]:
        """Cross-process lock beside `path`; StoreBusy after `timeout` seconds."""
        with file_lock(path, what, timeout):
            yield
