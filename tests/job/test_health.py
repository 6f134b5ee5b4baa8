"""Error classes (issue 16), on real workspaces and real calendars.

A transient failure (a CalDAV server that refuses connections) is retried by later
job runs with a growing back-off, and after `[job] attention_after` in a row the
user waits for an operator; a permanent one (a calendar folder that is gone, refused
Exchange credentials) waits at once. Meanwhile the job leaves the user alone and
says nothing new, until an operator acts or `calsync check` passes.
"""

from __future__ import annotations

import socket
import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from storage.config import load_config
from storage.errors import ConfigInvalid
from storage.users import UserStore
from sync import service
from sync.health import Health, attention_after, backoff, read_runs
from sync.job import Job, JobSummary
from sync.runlog import Redactor, run_logger
from sync.watch import Watch
from tests.job.helpers import Site

SECOND = timedelta(seconds=1)


def closed_port() -> int:
    """A loopback port nothing listens on: connecting is refused at once."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
    return port


def job(site: Site, at: datetime | None = None, *, log: bool = False) -> JobSummary:
    config = load_config(site.ws.config_path)
    clock = (lambda: at) if at is not None else None
    if not log:
        return Job(site.ws, config, clock=clock).run()
    with run_logger(site.ws, Redactor()) as logger:
        return Job(site.ws, config, clock=clock, logger=logger).run()


def results(summary: JobSummary) -> dict[str, str]:
    return {r.user: r.result for r in summary.results}


def status(site: Site, name: str) -> Health:
    run = site.cli("status", "--json")
    assert run.code == 0, run
    (row,) = [r for r in run.json() if r["name"] == name]
    return Health.from_json(row["health"])


def started(site: Site, *names: str) -> None:
    for name in names:
        site.add(name)
        assert site.cli("init", name).code == 0


def unreachable(site: Site, name: str) -> str:
    """Point `name` at a CalDAV server that is down; returns the old remote URL."""
    old = str(site.user(name)["remote"])
    url = f"caldav:http://127.0.0.1:{closed_port()}/cal/"
    UserStore(site.ws).update(name, {"remote": url})  # not `user set`: that clears
    return old


def test_the_back_off_doubles_from_five_minutes_up_to_six_hours() -> None:
    waits = [backoff(n) for n in range(1, 10)]
    assert waits[:4] == [timedelta(minutes=m) for m in (5, 10, 20, 40)]
    assert waits[-1] == timedelta(hours=6) and waits == sorted(waits)


def test_transient_failures_back_off_then_wait_for_an_operator_until_check_passes(
    tmp_path: Path,
) -> None:
    site = Site(tmp_path, "[job]\nattention_after = 3\n")
    started(site, "anna", "bo")
    folder = unreachable(site, "anna")

    first = job(site, log=True)
    assert results(first) == {"anna": "failed", "bo": "ok"}
    h1 = first.health["anna"]
    assert (h1.state, h1.error_class, h1.failures) == ("deferred", "transient", 1)
    assert "anna" not in first.repeats  # a change: reported
    (failed,) = [r for r in read_runs(site.ws, "anna") if r["result"] == "failed"]
    assert failed["error_class"] == "transient" and failed["by"] == "job"
    assert h1.next_retry == datetime.fromisoformat(failed["finished"]) + timedelta(minutes=5)
    assert status(site, "anna") == h1

    # at once again: left alone, not run, and not reported again
    runs = len(read_runs(site.ws, "anna"))
    again = job(site, log=True)
    assert results(again) == {"anna": "deferred", "bo": "ok"} and "anna" in again.repeats
    assert len(read_runs(site.ws, "anna")) == runs

    # once the back-off has passed: tried again, failing alike, so said only in short
    assert h1.next_retry is not None
    second = job(site, h1.next_retry + SECOND, log=True)
    h2 = second.health["anna"]
    assert (h2.state, h2.failures) == ("deferred", 2) and "anna" in second.repeats
    last = read_runs(site.ws, "anna")[-1]
    assert h2.next_retry == datetime.fromisoformat(last["finished"]) + timedelta(minutes=10)

    assert h2.next_retry is not None
    third = job(site, h2.next_retry + SECOND, log=True)
    h3 = third.health["anna"]
    assert (h3.state, h3.error_class, h3.failures) == ("needs_operator", "transient", 3)
    assert h3.next_retry is None and "`calsync check anna`" in h3.action
    assert "anna" not in third.repeats  # needing an operator now: reported once

    # a year later the job still leaves anna alone
    runs = len(read_runs(site.ws, "anna"))
    later = job(site, datetime.now(UTC) + timedelta(days=365), log=True)
    assert results(later)["anna"] == "needs_operator" and "anna" in later.repeats
    assert len(read_runs(site.ws, "anna")) == runs

    # the run log told each change once: the first failure and the one that made anna
    # wait for an operator in full (result and error line), the retry between in short
    lines = [ln for ln in site.log_text().splitlines() if "user=anna" in ln]
    assert len(lines) == 5, lines
    assert [("Connection refused" in ln) for ln in lines] == [True, True, False, True, True]
    assert "result=failed unchanged health=deferred" in lines[2]
    assert "health=needs_operator class=transient failures=3" in lines[3]

    # a check that fails clears nothing
    assert site.cli("check", "anna").code == 1
    assert status(site, "anna").state == "needs_operator"
    # the server is back (here: the old calendar): a passing check gives anna back
    UserStore(site.ws).update("anna", {"remote": folder})
    checked = site.cli("check", "anna")
    assert checked.code == 0 and "anna: failures cleared" in checked.out, checked
    cleared = status(site, "anna")
    assert (cleared.state, cleared.failures, cleared.next_retry) == ("failing", 0, None)
    assert results(job(site)) == {"anna": "ok", "bo": "ok"}
    assert status(site, "anna").state == "ok"


def test_retry_user_set_and_an_explicit_sync_each_give_the_user_back_to_the_job(
    tmp_path: Path,
) -> None:
    site = Site(tmp_path, "[job]\nattention_after = 2\n")
    started(site, "anna")
    unreachable(site, "anna")
    future = datetime.now(UTC) + timedelta(days=1)
    job(site)
    assert job(site, future).health["anna"].state == "needs_operator"

    retried = site.cli("retry", "anna")
    assert retried.code == 0 and "failures cleared" in retried.out, retried
    assert "nothing to clear" in site.cli("retry", "anna").out  # once is enough
    assert site.cli("retry", "nobody").code == 2
    # the job runs anna again: failing again is news, the count starts afresh
    summary = job(site)
    assert results(summary) == {"anna": "failed"} and "anna" not in summary.repeats
    assert (summary.health["anna"].state, summary.health["anna"].failures) == ("deferred", 1)
    assert job(site, future).health["anna"].state == "needs_operator"

    # changing the user is acting on it too
    assert site.cli("user", "set", "anna", "reminders=off").code == 0
    assert status(site, "anna").failures == 0
    assert results(job(site)) == {"anna": "failed"}
    assert job(site, future).health["anna"].state == "needs_operator"

    # so is syncing the user by name: that run counts from itself
    assert site.cli("sync", "anna").code == 1
    assert read_runs(site.ws, "anna")[-1]["by"] == "operator"
    mine = status(site, "anna")
    assert (mine.state, mine.error_class, mine.failures) == ("deferred", "transient", 1)


def test_a_permanent_failure_waits_for_an_operator_at_once_and_is_reported_once(
    tmp_path: Path,
) -> None:
    site = Site(tmp_path)
    started(site, "anna", "bo")
    remote = Path(str(site.user("anna")["remote"]).removeprefix("folder:"))
    remote.rename(remote.with_name("moved-away"))

    first = site.cli("sync", "--all")  # not a terminal: cron's output
    assert first.code == 1, first
    assert "calsync: anna: failed: calendar folder" in first.err
    assert "needs operator, permanent error" in first.err
    assert "`calsync check anna`" in first.err
    assert "bo" not in first.err

    second = site.cli("sync", "--all")
    assert second.code == 3 and second.err == "", second  # nothing new for cron to mail
    assert site.log_text().count("not found") == 2  # the first run's result and error lines

    shown = status(site, "anna")
    assert (shown.state, shown.error_class, shown.failures) == ("needs_operator", "permanent", 1)
    text = site.cli("status").out
    assert "permanent" in text  # the health column
    assert "anna: once the calendar exists run `calsync check anna`" in text

    remote.with_name("moved-away").rename(remote)
    checked = site.cli("check", "anna", "--json")
    assert checked.code == 0 and checked.json()["cleared"] is True
    third = site.cli("sync", "--all", "--json")
    assert third.code == 0 and {u["health"]["state"] for u in third.json()["users"]} == {"ok"}


@pytest.mark.parametrize("value", ["0", "1001", '"ten"', "true", "2.5"])
def test_attention_after_is_checked(tmp_path: Path, value: str) -> None:
    path = tmp_path / "calsync.toml"
    path.write_text(f"[job]\nattention_after = {value}\n", encoding="utf-8")
    with pytest.raises(ConfigInvalid, match="attention_after must be a whole number from 1 to"):
        load_config(path)
    path.write_text("[job]\nattention_after = 4\n", encoding="utf-8")
    assert attention_after(load_config(path)) == 4


def test_a_misspelt_attention_after_is_named_with_a_suggestion(tmp_path: Path) -> None:
    path = tmp_path / "calsync.toml"
    path.write_text("[job]\natention_after = 3\n", encoding="utf-8")
    with pytest.raises(ConfigInvalid, match=r"\(did you mean 'attention_after'\?\)"):
        load_config(path)


def test_check_of_a_healthy_user_writes_nothing(tmp_path: Path) -> None:
    site = Site(tmp_path)
    started(site, "anna")
    runs = site.files("anna").state_path.with_name("runs.json")
    before = runs.read_bytes()
    cleared: list[str] = []
    rows = service.check_user(site.ws, load_config(site.ws.config_path), "anna", cleared)
    assert all(r["ok"] for r in rows) and cleared == []
    assert runs.read_bytes() == before


def test_watch_states_a_failure_once_however_often_it_polls(tmp_path: Path) -> None:
    site = Site(tmp_path)
    started(site, "anna", "bo")
    remote = Path(str(site.user("anna")["remote"]).removeprefix("folder:"))
    remote.rename(remote.with_name("moved-away"))
    summaries: list[JobSummary] = []
    stop = threading.Event()

    def on_summary(summary: JobSummary, trigger: str) -> None:
        summaries.append(summary)
        if len(summaries) >= 4:
            stop.set()

    with run_logger(site.ws, Redactor()) as logger:
        watch = Watch(site.ws, stop=stop, interval=0.05, logger=logger, on_summary=on_summary)
        thread = threading.Thread(target=watch.run)
        thread.start()
        thread.join(60)
    assert not thread.is_alive()
    assert [results(s)["anna"] for s in summaries[:4]] == ["failed"] + ["needs_operator"] * 3
    assert ["anna" in s.repeats for s in summaries[:4]] == [False, True, True, True]
    lines = [ln for ln in site.log_text().splitlines() if "user=anna" in ln]
    assert len(lines) == 2 and "ERROR" in lines[1], lines  # the result and its error, once


def test_a_user_not_yet_initialized_is_mailed_once_with_the_command(tmp_path: Path) -> None:
    site = Site(tmp_path)
    site.add("anna")
    first = site.cli("sync", "--all")
    assert first.code == 3
    assert "anna: needs_operator: not initialized: run `calsync init anna`" in first.err
    second = site.cli("sync", "--all")
    assert second.code == 3 and second.err == "", second
    shown = status(site, "anna")
    assert shown.state == "needs_operator" and shown.action.startswith("run `calsync init anna`")
    assert site.cli("init", "anna").code == 0
    assert status(site, "anna").state == "ok"
