"""`calsync watch`: the loop in-process (injected interval and stop event), and a real
`calsync watch` process stopped by SIGTERM in the middle of a sync."""

from __future__ import annotations

import os
import signal
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from storage.config import load_config
from sync.job import JobSummary
from sync.watch import FolderWatcher, Watch
from tests.job.helpers import REPO, Site, entry_point, ev, write_items

#: generous: these bound how long a broken watch can hang the suite, not how fast it must be
PATIENCE = 30.0


def wait_for(condition: Callable[[], bool], what: str, patience: float = PATIENCE) -> None:
    deadline = time.monotonic() + patience
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"gave up waiting for {what}")
        time.sleep(0.02)


class Recorder:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.runs: list[tuple[str, dict[str, str]]] = []
        self.errors: list[str] = []

    def summary(self, summary: JobSummary, trigger: str) -> None:
        with self.lock:
            self.runs.append((trigger, {r.user: r.result for r in summary.results}))

    def error(self, message: str) -> None:
        with self.lock:
            self.errors.append(message)

    def triggers(self) -> list[str]:
        with self.lock:
            return [t for t, _ in self.runs]


@contextmanager
def watching(site: Site, interval: float) -> Iterator[Recorder]:
    recorder = Recorder()
    stop = threading.Event()
    watch = Watch(
        site.ws,
        stop=stop,
        interval=interval,
        on_summary=recorder.summary,
        on_error=recorder.error,
        debounce_ms=50,
    )
    thread = threading.Thread(target=watch.run)
    thread.start()
    try:
        wait_for(lambda: "start" in recorder.triggers(), "the first full sync")
        yield recorder
    finally:
        stop.set()
        thread.join(PATIENCE)
    assert not thread.is_alive(), "watch did not stop"
    assert recorder.errors == []


def init(site: Site, *names: str) -> None:
    for name in names:
        assert site.cli("init", name).code == 0


def subjects(site: Site, name: str, side: str) -> set[str]:
    return {i.event.subject for i in site.items(name, side)}


def test_a_crm_folder_change_syncs_that_user_at_once(tmp_path: Path) -> None:
    site = Site(tmp_path)
    for name in ("anna", "bo"):
        site.add(name)
    init(site, "anna", "bo")
    site.put("bo", "crm", ev("b0", "bo before start"))
    # an hour between polls: only the folder watch can carry the change over in time
    with watching(site, interval=3600) as rec:
        assert rec.runs[0] == ("start", {"anna": "ok", "bo": "ok"})
        assert subjects(site, "bo", "remote") == {"bo before start"}
        site.put("anna", "crm", ev("a1", "anna edit"))
        wait_for(lambda: "change" in rec.triggers(), "a sync on the change")
        assert subjects(site, "anna", "remote") == {"anna edit"}
        change_runs = [users for trigger, users in rec.runs if trigger == "change"]
        assert change_runs and set(change_runs[0]) == {"anna"}
    assert "poll" not in rec.triggers()


def test_the_remote_is_polled_every_interval(tmp_path: Path) -> None:
    site = Site(tmp_path)
    site.add("anna")
    site.add("nobox", remote=None)
    init(site, "anna")
    with watching(site, interval=0.2) as rec:
        site.put("anna", "remote", ev("r1", "from the remote"))
        wait_for(lambda: "poll" in rec.triggers(), "a poll")
        wait_for(lambda: subjects(site, "anna", "crm") == {"from the remote"}, "the item")
    polls = [users for trigger, users in rec.runs if trigger == "poll"]
    assert polls[0] == {"anna": "ok", "nobox": "skipped"}


def test_watch_picks_up_an_edited_config_and_survives_a_broken_one(tmp_path: Path) -> None:
    site = Site(tmp_path)
    site.add("anna")
    init(site, "anna")
    with watching(site, interval=0.2) as rec:
        site.ws.config_path.write_text("[job]\nenabled = false\n", encoding="utf-8")
        wait_for(lambda: any(u == {"anna": "skipped"} for _, u in rec.runs), "the new config")
        site.ws.config_path.write_text("[job]\nnot_a_key = 1\n", encoding="utf-8")
        wait_for(lambda: bool(rec.errors), "the config error")
        assert "not reloaded" in rec.errors[0] and "not_a_key" in rec.errors[0]
        # the previous settings stay in force, and the error is said once, not every poll
        n = len(rec.runs)
        wait_for(lambda: len(rec.runs) > n + 1, "two more polls")
        assert rec.runs[-1] == ("poll", {"anna": "skipped"})
        assert len(rec.errors) == 1
        rec.errors.clear()


# -- a real process and SIGTERM -----------------------------------------------------------

ITEMS = 200


@pytest.mark.parametrize(
    ("command", "code"),
    [(["watch", "--interval", "3600"], 0), (["sync", "--all"], 130)],
    ids=["watch", "sync-all"],
)
def test_sigterm_during_a_sync_leaves_consistent_state(
    tmp_path: Path, command: list[str], code: int
) -> None:
    site = Site(tmp_path)
    site.add("anna")
    init(site, "anna")
    write_items(Path(site.user("anna")["crm"].removeprefix("folder:")), ITEMS)
    remote = Path(site.user("anna")["remote"].removeprefix("folder:"))

    proc = subprocess.Popen(
        [*entry_point(), "--workspace", str(site.ws.root), *command],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=REPO,
        env={**os.environ, "COLUMNS": "200"},
    )
    try:
        wait_for(lambda: len(list(remote.glob("*.ics"))) >= 3, "the sync to start writing")
        proc.send_signal(signal.SIGTERM)
        out, err = proc.communicate(timeout=PATIENCE)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    # watch was asked to stop: a clean 0; a cron run cut short says so (128 + SIGINT)
    assert proc.returncode == code, (out, err)
    assert "Traceback" not in err

    state = site.files("anna").read_state()
    last = state.last_run
    assert last is not None
    # stopped between items: the run says so, and what it did is recorded as pairs
    assert last["result"] == "cancelled", last
    copied = len(list(remote.glob("*.ics")))
    assert 0 < copied < ITEMS
    assert len(state.pairs) == copied

    # no stale lock: the next run is not busy, and it converges without duplicates
    run = site.cli("sync", "anna", "--json")
    assert run.code == 0, run
    assert run.json()["result"] == "ok"
    assert run.json()["counts"]["remote"]["create"] == ITEMS - copied
    uids = [i.event.uid for i in site.items("anna", "remote")]
    assert len(uids) == len(set(uids)) == ITEMS
    again = site.cli("sync", "anna", "--dry-run", "--json").json()
    assert again["plan"] == []


def test_watch_config_from_job_section(tmp_path: Path) -> None:
    site = Site(tmp_path, "[job]\ninterval = 45\n")
    watch = Watch(
        site.ws, stop=threading.Event(), config_loader=lambda: load_config(site.ws.config_path)
    )
    assert watch.interval == 45
    assert Watch(site.ws, stop=threading.Event(), interval=12).interval == 12
    site.ws.config_path.write_text("", encoding="utf-8")
    assert Watch(site.ws, stop=threading.Event()).interval == 600


def test_a_change_the_events_did_not_report_is_caught_by_the_folder_mtime(
    tmp_path: Path,
) -> None:
    """watchfiles can drop an event that lands while it hands over a batch; a file the
    event filter skips stands in for such a lost event here."""
    folder = tmp_path / "crm"
    folder.mkdir()
    seen: list[set[str]] = []
    watcher = FolderWatcher({folder: {"anna"}}, seen.append, debounce_ms=50)
    watcher.start()
    try:
        (folder / ".not-an-item").write_text("x")  # filtered out: no event reaches us
        wait_for(lambda: bool(seen), "the folder's mtime to report the change", patience=10)
    finally:
        watcher.stop()
    assert seen[0] == {"anna"}
