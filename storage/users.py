"""Users and their per-user settings (the seed's "rutin 613" dialog)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from tinydb import Query, TinyDB

from storage.errors import DuplicateUser, StoreCorrupt, StoreError, UnknownUser
from storage.tinystore import open_db
from storage.workspace import Workspace, check_user_name

#: per-user setting keys; None means "not set here" (job setting or default applies)
SETTING_KEYS = (
    "skip_private",
    "reminders",
    "multiday",
    "window_past_days",
    "window_future_days",
)
USER_KEYS = ("name", "crm", "remote", "enabled", *SETTING_KEYS)

LOCK_TIMEOUT = 10.0

#: users.json as last parsed, per path, with the (inode, mtime, size) it was parsed at,
#: and its records by name. `sync --all` looks every user up (twice): re-parsing the
#: whole file each time made a job quadratic in the number of users (3 ms a lookup at
#: 500 users), and so did scanning the records for the name (0.3 ms a lookup at
#: 10,000). Every write replaces the file (atomic_write: new inode, new mtime), so a
#: changed file is re-read.
_PARSED: dict[
    Path, tuple[tuple[int, int, int], list[dict[str, Any]], dict[str, dict[str, Any]]]
] = {}


class UserStore:
    """Read without a lock (files are replaced atomically); write under one."""

    def __init__(self, workspace: Workspace) -> None:
        self.workspace = workspace

    def _db(self) -> TinyDB:
        return open_db(self.workspace.users_path)

    def _parsed(self) -> list[dict[str, Any]]:
        """The records as last parsed (shared: callers copy what they hand out)."""
        return self._indexed()[0]

    def _indexed(self) -> tuple[list[dict[str, Any]], dict[str, dict[str, Any]]]:
        """(the records as last parsed, the same records by name); shared, as above."""
        path = self.workspace.users_path
        try:
            st = path.stat()
        except FileNotFoundError:
            return [], {}
        key = (st.st_ino, st.st_mtime_ns, st.st_size)
        cached = _PARSED.get(path)
        if cached is not None and cached[0] == key:
            return cached[1], cached[2]
        users = self._read()
        by_name: dict[str, dict[str, Any]] = {}
        for user in users:
            by_name.setdefault(user["name"], user)  # the first of a name, as a scan found
        _PARSED[path] = (key, users, by_name)
        return users, by_name

    def all(self) -> list[dict[str, Any]]:
        return [dict(user) for user in self._parsed()]

    def _read(self) -> list[dict[str, Any]]:
        db = self._db()
        users = [dict(doc) for doc in db.table("users").all()]
        for doc in users:
            if not isinstance(doc.get("name"), str):
                raise StoreCorrupt(self.workspace.users_path, "a user record has no name")
        return sorted(users, key=lambda u: str(u["name"]).lower())

    def get(self, name: str) -> dict[str, Any]:
        # only the match is copied: copying every record per lookup made a job of
        # 10,000 users spend ~3 ms per user here
        user = self._indexed()[1].get(name)
        if user is None:
            raise UnknownUser(name)
        return dict(user)

    def exists(self, name: str) -> bool:
        return name in self._indexed()[1]

    @contextmanager
    def _writing(self) -> Iterator[TinyDB]:
        self.workspace.ensure()
        with self.workspace.lock(self.workspace.users_path, "the users file", LOCK_TIMEOUT):
            yield self._db()

    def add(self, user: dict[str, Any]) -> dict[str, Any]:
        name = check_user_name(str(user.get("name", "")))
        unknown = set(user) - set(USER_KEYS)
        if unknown:
            raise StoreError(f"unknown user keys: {', '.join(sorted(unknown))}")
        record = {key: user.get(key) for key in USER_KEYS}
        record["enabled"] = bool(user.get("enabled", True))
        with self._writing() as db:
            table = db.table("users")
            if table.contains(Query().name == name):
                raise DuplicateUser(name)
            table.insert(record)
        return record

    def update(self, name: str, changes: dict[str, Any]) -> dict[str, Any]:
        unknown = set(changes) - set(USER_KEYS) - {"name"}
        if unknown:
            raise StoreError(f"unknown user keys: {', '.join(sorted(unknown))}")
        with self._writing() as db:
            table = db.table("users")
            found = table.get(Query().name == name)
            if found is None:
                raise UnknownUser(name)
            table.update(changes, Query().name == name)
            return {**dict(found), **changes}

    def remove(self, name: str) -> None:
        with self._writing() as db:
            removed = db.table("users").remove(Query().name == name)
            if not removed:
                raise UnknownUser(name)
