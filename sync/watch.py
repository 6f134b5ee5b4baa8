"""`calsync watch`: the long-running server job (SPEC R11).

Syncs every eligible user at start, then every `interval` seconds; a user whose
CRM calendar is a local folder is synced at once when a file in it changes
(watchfiles, debounced). Other kinds of calendar are polled. The stop event is
also the engine's cancel event: once it is set, each running user finishes the
item in hand, flushes its state and releases its lock, and the loop ends.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable, Iterable
from logging import Logger
from pathlib import Path
from typing import Any

from storage.config import Config, load_config
from storage.errors import StoreError
from storage.users import UserStore
from storage.workspace import Workspace
from sync.job import Job, JobObserver, JobSummary, skip_reason
from sync.providers.base import ProviderError
from sync.providers.registry import split_url
from sync.runlog import Redactor, referenced_secrets

DEFAULT_INTERVAL = 600.0
DEBOUNCE_MS = 300
#: how often the loop looks at the stop event while it waits
TICK = 0.2
#: the folder watcher's quiet-spell wake-up, and how long its start may take
WAKE_MS = 250
READY_PATIENCE = 10.0

OnSummary = Callable[[JobSummary, str], None]
OnError = Callable[[str], None]


def folder_of(url: str | None) -> Path | None:
    """The directory of a `folder:` calendar URL, else None."""
    if not url:
        return None
    try:
        scheme, rest = split_url(url)
    except ProviderError:
        return None
    if scheme != "folder":
        return None
    # the folder provider's own reading of the URL, so the paths watchfiles reports match
    return Path(rest.strip().removeprefix("//")).expanduser().resolve()


def _is_item_file(change: Any, path: str) -> bool:
    # only items count: a provider's own index or temp files must not wake us, or
    # each sync would trigger the next one
    return path.endswith(".ics") and not Path(path).name.startswith(".")


class FolderWatcher:
    """Reports the users whose CRM folder changed, from a thread of its own."""

    def __init__(
        self,
        folders: dict[Path, set[str]],
        on_change: Callable[[set[str]], None],
        *,
        debounce_ms: int = DEBOUNCE_MS,
        on_error: OnError | None = None,
    ) -> None:
        self.folders = folders
        self.on_change = on_change
        self.debounce_ms = debounce_ms
        self.on_error = on_error
        self._stop = threading.Event()
        self._ready = threading.Event()
        self._thread: threading.Thread | None = None

    def roots(self) -> list[Path]:
        """What to watch: each folder, or its parent while the folder does not exist yet
        (a provider creates it on first write), minus roots inside other roots."""
        candidates = set()
        for folder in self.folders:
            if folder.is_dir():
                candidates.add(folder)
            elif folder.parent.is_dir():
                candidates.add(folder.parent)
        return sorted(c for c in candidates if not any(p in candidates for p in c.parents))

    def start(self) -> None:
        if not self.roots():
            return
        self._thread = threading.Thread(target=self._loop, name="calsync-watch", daemon=True)
        self._thread.start()
        # the sync that follows must not finish listing a folder before it is watched:
        # an edit in between would wait for the next poll
        self._ready.wait(READY_PATIENCE)

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=10)

    def _users_of(self, changed: Iterable[str]) -> set[str]:
        users: set[str] = set()
        for path in changed:
            p = Path(path)
            for folder, names in self.folders.items():
                if p == folder or folder in p.parents:
                    users |= names
        return users

    def _stamps(self) -> dict[Path, int | None]:
        stamps: dict[Path, int | None] = {}
        for folder in self.folders:
            try:
                stamps[folder] = os.stat(folder).st_mtime_ns
            except OSError:
                stamps[folder] = None
        return stamps

    def _loop(self) -> None:
        import watchfiles

        # watchfiles drops events that arrive while it hands a batch over (it copies
        # the batch, then clears the set), so a file created right then was never
        # reported. A folder's mtime moves with every file added, removed or renamed
        # in it; comparing them at each wake-up (every WAKE_MS at the latest) catches
        # what the events missed.
        seen = self._stamps()
        try:
            for changes in watchfiles.watch(
                *self.roots(),
                watch_filter=_is_item_file,
                debounce=self.debounce_ms,
                stop_event=self._stop,
                raise_interrupt=False,
                # an empty yield after each quiet spell: the first one says the
                # folders are being watched
                rust_timeout=WAKE_MS,
                yield_on_timeout=True,
            ):
                self._ready.set()
                users = self._users_of(path for _, path in changes)
                now = self._stamps()
                for folder, stamp in now.items():
                    if stamp != seen.get(folder):
                        users |= self.folders[folder]
                seen = now
                if users:
                    self.on_change(users)
        except Exception as exc:  # a folder vanished, inotify limits: fall back to polling
            if self.on_error is not None:
                self.on_error(f"watching CRM folders stopped ({exc}); polling only")
        finally:
            self._ready.set()  # never leave `start` waiting on a watcher that gave up


class Watch:
    """The loop. Inject `interval` and `stop` to drive it from a test."""

    def __init__(
        self,
        workspace: Workspace,
        *,
        stop: threading.Event,
        interval: float | None = None,
        jobs: int | None = None,
        config_loader: Callable[[], Config] | None = None,
        logger: Logger | None = None,
        redactor: Redactor | None = None,
        on_summary: OnSummary | None = None,
        on_error: OnError | None = None,
        observer: JobObserver | None = None,
        debounce_ms: int = DEBOUNCE_MS,
    ) -> None:
        self.workspace = workspace
        self.stop = stop
        self.explicit_interval = interval
        self.jobs = jobs
        self.load = config_loader or (lambda: load_config(workspace.config_path))
        self.logger = logger
        self.redactor = redactor or Redactor()
        self.on_summary = on_summary
        self.on_error = on_error
        self.observer = observer
        self.debounce_ms = debounce_ms
        self.config = self.load()  # a bad config at start is the caller's error to report
        self.redactor.reset(referenced_secrets(self.config))
        self._pending: set[str] = set()
        self._pending_lock = threading.Lock()
        self._wake = threading.Event()
        self._watcher: FolderWatcher | None = None
        self._folders: dict[Path, set[str]] = {}
        self._roots: list[Path] = []
        self._config_error: str | None = None

    @property
    def interval(self) -> float:
        if self.explicit_interval is not None:
            return self.explicit_interval
        return float(self.config.job.get("interval") or DEFAULT_INTERVAL)

    # -- the loop -------------------------------------------------------------------------

    def run(self) -> None:
        try:
            self._sync(None, "start")
            next_poll = time.monotonic() + self.interval
            while not self.stop.is_set():
                self._wake.wait(min(TICK, max(0.0, next_poll - time.monotonic())))
                if self.stop.is_set():
                    break
                if time.monotonic() >= next_poll:
                    self._reload()
                    self._sync(None, "poll")
                    next_poll = time.monotonic() + self.interval
                    continue
                self._wake.clear()  # before taking: a change arriving now wakes the next wait
                with self._pending_lock:
                    names, self._pending = self._pending, set()
                if names:
                    self._sync(names, "change")
        finally:
            if self._watcher is not None:
                self._watcher.stop()

    def _sync(self, names: set[str] | None, trigger: str) -> None:
        if names is None:
            with self._pending_lock:
                self._pending.clear()  # a full run covers them
            # watch before syncing, so an edit made during the run is not missed
            self._watch_folders()
        job = Job(
            self.workspace,
            self.config,
            jobs=self.jobs,
            cancel=self.stop,
            logger=self.logger,
            redactor=self.redactor,
            observer=self.observer,
        )
        try:
            summary = job.run(names)
        except StoreError as exc:  # e.g. users.json unreadable: report, keep watching
            self._error(f"sync ({trigger}) could not start: {exc}")
            return
        if self.on_summary is not None:
            self.on_summary(summary, trigger)

    def _reload(self) -> None:
        """Pick up an edited calsync.toml; a broken one is reported and the old one kept."""
        try:
            self.config = self.load()
        except StoreError as exc:
            message = f"calsync.toml not reloaded, keeping the previous settings: {exc}"
            if message != self._config_error:  # once, not every poll
                self._error(message)
            self._config_error = message
            return
        self._config_error = None
        self.redactor.reset(referenced_secrets(self.config))

    def _watch_folders(self) -> None:
        """(Re)start the folder watcher when the set of watched CRM folders changed."""
        folders: dict[Path, set[str]] = {}
        try:
            users = UserStore(self.workspace).all()
        except StoreError:
            return
        for user in users:
            folder = folder_of(user.get("crm"))
            if folder is None or skip_reason(user, self.config) is not None:
                continue
            folders.setdefault(folder, set()).add(str(user["name"]))
        if (
            self._watcher is not None
            and folders == self._folders
            and self._watcher.roots() == self._roots
        ):
            return
        if self._watcher is not None:
            self._watcher.stop()
        self._folders = folders
        self._watcher = FolderWatcher(
            folders, self._changed, debounce_ms=self.debounce_ms, on_error=self._error
        )
        self._roots = self._watcher.roots()
        self._watcher.start()

    def _changed(self, users: set[str]) -> None:
        with self._pending_lock:
            self._pending |= users
        self._wake.set()

    def _error(self, message: str) -> None:
        text = self.redactor(message)
        if self.logger is not None:
            self.logger.error("watch: %s", text)
        if self.on_error is not None:
            self.on_error(text)
