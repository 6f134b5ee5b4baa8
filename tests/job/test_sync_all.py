"""`calsync sync --all` through the CLI, on local-folder calendars."""

from __future__ import annotations

import os
import pty
import re
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path

import pytest

from tests.job.helpers import Site, by_user, entry_point, ev, lock_held, seed

N_USERS = 20


def holding_lock(site: Site, name: str) -> AbstractContextManager[None]:
    """Hold `name`'s user lock from another thread, as a TUI or an overlapping cron run does."""
    return lock_held(site.files(name))


def init(site: Site, *names: str) -> None:
    for name in names:
        run = site.cli("init", name, "--json")
        assert run.code == 0, run


def changes(site: Site, name: str) -> None:
    """The same edits, deletions and additions on both sides of a user, after init."""
    site.edit(name, "crm", f"{name} crm 0", location="Room 1")
    site.remove(name, "remote", f"{name} remote 1")
    site.put(name, "remote", ev(f"{name}-new-r", f"{name} new remote", days=5))
    site.put(name, "crm", ev(f"{name}-new-c", f"{name} new crm", days=6))
    site.edit(name, "remote", f"{name} both", subject=f"{name} both (moved)", location="Hall")


def test_twenty_users_in_parallel_converge_exactly_as_one_by_one(tmp_path: Path) -> None:
    names = [f"user{i:02d}" for i in range(N_USERS)]
    parallel, serial = Site(tmp_path / "a"), Site(tmp_path / "b")
    for site in (parallel, serial):
        for name in names:
            site.add(name)
            seed(site, name)
        init(site, *names)
        for name in names:
            changes(site, name)

    run = parallel.cli("sync", "--all", "--jobs", "8", "--json")
    assert run.code == 0, run
    summary = run.json()
    assert summary["jobs"] == 8
    assert summary["totals"]["ok"] == N_USERS
    for name in names:
        one = serial.cli("sync", name, "--json")
        assert one.code == 0, one
        assert one.json()["result"] == "ok"

    for name in names:
        for side in ("crm", "remote"):
            got = [r for r in parallel.calendar(name, side)]
            want = [r for r in serial.calendar(name, side)]
            # the user name is part of every subject, so equal calendars per user also
            # prove no user's items leaked into another's
            assert got == want, (name, side)
        subjects = {i.event.subject for i in parallel.items(name, "crm")}
        assert f"{name} new remote" in subjects and f"{name} both (moved)" in subjects
    # both runs changed the same number of items on each side
    assert summary["counts"]["crm"]["create"] == N_USERS
    again = parallel.cli("sync", "--all", "--json").json()
    assert again["counts"] == {
        side: {"create": 0, "update": 0, "delete": 0} for side in ("crm", "remote")
    }


def test_an_overlapping_run_skips_the_busy_user_and_syncs_the_rest(tmp_path: Path) -> None:
    site = Site(tmp_path)
    for name in ("anna", "bo", "cid"):
        site.add(name)
    init(site, "anna", "bo", "cid")
    site.put("anna", "crm", ev("a1", "anna new"))
    site.put("bo", "crm", ev("b1", "bo new"))

    with holding_lock(site, "anna"):
        run = site.cli("sync", "--all", "--json")
    assert run.code == 0, run  # busy is not a failure
    users = by_user(run.json())
    assert users["anna"]["result"] == "busy"
    assert users["bo"]["result"] == "ok"
    assert users["cid"]["result"] == "ok"
    assert run.json()["totals"]["busy"] == 1
    assert [i.event.subject for i in site.items("anna", "remote")] == []
    assert [i.event.subject for i in site.items("bo", "remote")] == ["bo new"]

    after = site.cli("sync", "--all", "--json")
    assert after.code == 0
    assert by_user(after.json())["anna"]["result"] == "ok"
    assert [i.event.subject for i in site.items("anna", "remote")] == ["anna new"]


# -- exit codes ----------------------------------------------------------------------------


def _ok(site: Site, name: str) -> None:
    site.add(name)
    init(site, name)


def _no_mailbox(site: Site, name: str) -> None:
    site.add(name, remote=None)


def _disabled(site: Site, name: str) -> None:
    site.add(name, enabled=False)


def _not_initialized(site: Site, name: str) -> None:
    site.add(name)


def _identity_changed(site: Site, name: str) -> None:
    _ok(site, name)
    Path(site.url(name, "elsewhere").removeprefix("folder:")).mkdir(parents=True)
    run = site.cli("user", "set", name, f"remote={site.url(name, 'elsewhere')}")
    assert run.code == 0, run


def _unreadable_remote(site: Site, name: str) -> None:
    # the remote folder's path runs through a plain file: it can be neither read nor made
    blocker = site.root / f"{name}-blocker"
    blocker.write_text("not a folder", encoding="utf-8")
    _ok(site, name)
    run = site.cli("user", "set", name, f"remote=folder:{blocker / 'cal'}")
    assert run.code == 0, run
    # the identity check comes first: make it pass, so the failure is the folder itself
    with site.files(name).open_state() as state:
        state.meta["identity"] = None


def _corrupt_state(site: Site, name: str) -> None:
    # one user's own file: that user fails, named, and the others sync (issue 15)
    _ok(site, name)
    site.files(name).state_path.write_text("{ not json", encoding="utf-8")


def _busy(site: Site, name: str) -> None:
    _ok(site, name)


KINDS = {
    "ok": (_ok, "ok"),
    "no_mailbox": (_no_mailbox, "skipped"),
    "disabled": (_disabled, "skipped"),
    "busy": (_busy, "busy"),
    "not_initialized": (_not_initialized, "needs_operator"),
    "identity_changed": (_identity_changed, "needs_operator"),
    "unreadable_remote": (_unreadable_remote, "failed"),
    "corrupt_state": (_corrupt_state, "failed"),
}


@pytest.mark.parametrize(
    ("kinds", "code"),
    [
        (["ok", "ok"], 0),
        (["ok", "no_mailbox", "disabled"], 0),
        (["ok", "busy"], 0),
        (["no_mailbox", "disabled"], 0),
        (["ok", "not_initialized"], 3),
        (["ok", "identity_changed", "no_mailbox"], 3),
        (["ok", "busy", "not_initialized"], 3),
        (["ok", "unreadable_remote"], 1),
        (["ok", "corrupt_state", "no_mailbox"], 1),
        (["unreadable_remote", "identity_changed", "ok", "busy"], 1),
    ],
)
def test_exit_code_for_every_mix_of_outcomes(tmp_path: Path, kinds: list[str], code: int) -> None:
    site = Site(tmp_path)
    names = {f"{kind}{i}": kind for i, kind in enumerate(kinds)}
    for name, kind in names.items():
        KINDS[kind][0](site, name)
    busy = [n for n, k in names.items() if k == "busy"]
    with holding_lock(site, busy[0]) if busy else _nothing():
        run = site.cli("sync", "--all", "--json")
    assert run.code == code, run
    users = by_user(run.json())
    assert {n: u["result"] for n, u in users.items()} == {n: KINDS[k][1] for n, k in names.items()}
    for name, kind in names.items():
        user = users[name]
        if kind == "no_mailbox":
            assert user["reason"] == "no mailbox registered"
        elif kind == "disabled":
            assert user["reason"] == "disabled"
        elif kind == "not_initialized":
            assert user["needs"] == "not_initialized"
        elif kind == "identity_changed":
            assert user["needs"] == "identity_changed"
        if user["result"] in ("failed", "needs_operator"):
            # one line, and cron's mail (stderr) names the user
            assert user["error"] and "\n" not in user["error"]
            assert f"calsync: {name}: {user['result']}" in run.err
        else:
            assert user["error"] is None
            assert f"calsync: {name}:" not in run.err


@contextmanager
def _nothing() -> Iterator[None]:
    yield


def test_a_failing_user_does_not_stop_the_others_without_json(tmp_path: Path) -> None:
    site = Site(tmp_path)
    _corrupt_state(site, "broken")
    _ok(site, "fine")
    site.put("fine", "remote", ev("f1", "fine remote"))
    run = site.cli("sync", "--all")
    assert run.code == 1
    # off a terminal: no progress, no results on stdout; the failure on stderr, one line
    assert run.out == ""
    lines = run.err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("calsync: broken: failed: state unreadable: "), (
        run
    )
    assert "StoreCorrupt" not in run.err and "unexpected" not in run.err
    assert [i.event.subject for i in site.items("fine", "crm")] == ["fine remote"]


def test_quiet_prints_nothing_when_all_is_well(tmp_path: Path) -> None:
    site = Site(tmp_path)
    _ok(site, "anna")
    run = site.cli("sync", "--all", "--quiet")
    assert (run.code, run.out, run.err) == (0, "", "")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["sync", "--all", "--jobs", "0"], "--jobs"),
        (["sync", "--all", "anna"], "not both"),
        (["sync", "anna", "--jobs", "2"], "--jobs goes with --all"),
        (["watch", "--interval", "1"], "--interval"),
    ],
)
def test_bad_usage_exits_2(tmp_path: Path, args: list[str], message: str) -> None:
    site = Site(tmp_path)
    _ok(site, "anna")
    run = site.cli(*args)
    assert run.code == 2, run
    assert message in run.err
    assert "Traceback" not in run.err + run.out


def test_a_broken_config_exits_2_with_one_line_and_syncs_nobody(tmp_path: Path) -> None:
    site = Site(tmp_path)
    _ok(site, "anna")
    site.put("anna", "crm", ev("a1", "anna new"))
    site.ws.config_path.write_text("[job]\nreminders = 'sometimes'\n", encoding="utf-8")
    for args in (["sync", "--all"], ["watch"]):
        run = site.real(*args)
        assert run.code == 2, run
        assert run.err.count("\n") == 1 and "reminders" in run.err, run
    assert site.items("anna", "remote") == []


# -- the summary ---------------------------------------------------------------------------

USER_KEYS = {
    "user": str,
    "result": str,
    "reason": str,
    "needs": (str, type(None)),
    "counts": dict,
    "errors": list,
    "warnings": list,
    "conflicts": int,
    "duration": (int, float),
    "run_id": str,
    "error": (str, type(None)),
    # sync/health.py: state, class, failures, next retry, action (None: not looked at)
    "health": (dict, type(None)),
    "repeat": bool,
}
TOTAL_KEYS = {
    "users",
    "ok",
    "failed",
    "needs_operator",
    "busy",
    "skipped",
    "cancelled",
    "planned",
    "deferred",
}


def test_json_summary_schema(tmp_path: Path) -> None:
    site = Site(tmp_path)
    _ok(site, "anna")
    site.put("anna", "crm", ev("a1", "anna one"))
    site.put("anna", "remote", ev("a2", "anna two"))
    _not_initialized(site, "bo")
    _no_mailbox(site, "cid")
    _unreadable_remote(site, "dan")
    run = site.cli("sync", "--all", "--json", "--jobs", "3")
    assert run.code == 1
    data = run.json()
    assert set(data) == {
        "run_id",
        "started",
        "finished",
        "duration",
        "jobs",
        "shard",
        "dry_run",
        "cancelled",
        "totals",
        "counts",
        "users",
    }
    assert data["jobs"] == 3 and data["dry_run"] is False and data["cancelled"] is False
    assert data["shard"] is None
    assert data["totals"] == {
        "users": 4,
        "ok": 1,
        "failed": 1,
        "needs_operator": 1,
        "busy": 0,
        "skipped": 1,
        "cancelled": 0,
        "planned": 0,
        "deferred": 0,
    }
    assert set(data["totals"]) == TOTAL_KEYS
    assert data["counts"] == {
        "crm": {"create": 1, "update": 0, "delete": 0},
        "remote": {"create": 1, "update": 0, "delete": 0},
    }
    assert [u["user"] for u in data["users"]] == ["anna", "bo", "cid", "dan"]
    for user in data["users"]:
        assert set(user) == set(USER_KEYS), user
        for key, kind in USER_KEYS.items():
            assert isinstance(user[key], kind), (key, user)
    anna, bo, cid, dan = data["users"]
    assert anna["counts"]["crm"] == {"create": 1, "update": 0, "delete": 0}
    assert anna["run_id"] and anna["error"] is None
    assert bo["needs"] == "not_initialized" and bo["run_id"]
    assert cid["reason"] == "no mailbox registered" and cid["run_id"] == ""
    assert dan["result"] == "failed" and str(tmp_path) in dan["error"]
    # the run log has the job's run id and every user's line
    log = site.log_text()
    assert f"job={data['run_id']} start" in log and f"job={data['run_id']} end" in log
    for user in data["users"]:
        assert f"user={user['user']} run={user['run_id'] or '-'} result={user['result']}" in log


def test_dry_run_all_plans_and_writes_nothing(tmp_path: Path) -> None:
    site = Site(tmp_path)
    _ok(site, "anna")
    site.put("anna", "crm", ev("a1", "anna one"))
    run = site.cli("sync", "--all", "--dry-run", "--json")
    assert run.code == 0, run
    (anna,) = run.json()["users"]
    assert anna["result"] == "planned"
    assert [a["op"] for a in anna["plan"]] == ["create"]
    assert site.items("anna", "remote") == []


def test_on_a_terminal_a_progress_display_then_the_results(tmp_path: Path) -> None:
    site = Site(tmp_path)
    _ok(site, "anna")
    _no_mailbox(site, "bo")
    site.put("anna", "crm", ev("a1", "anna one"))
    pid, fd = pty.fork()
    if pid == 0:  # the child: calsync on a terminal
        os.environ.update({"COLUMNS": "160", "TERM": "xterm"})
        argv = [*entry_point(), "--workspace", str(site.ws.root), "sync", "--all"]
        os.execvp(argv[0], argv)
    chunks = []
    while True:
        try:
            chunk = os.read(fd, 65536)
        except OSError:  # the child closed the terminal
            break
        if not chunk:
            break
        chunks.append(chunk)
    _, status = os.waitpid(pid, 0)
    os.close(fd)
    screen = re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", b"".join(chunks).decode(errors="replace"))
    assert os.waitstatus_to_exitcode(status) == 0, screen
    assert "syncing" in screen and "users ·" in screen and "items ·" in screen
    assert "anna: ok — crm +0 ~0 -0, remote +1 ~0 -0" in screen
    assert "bo: skipped — no mailbox registered" in screen
    assert "2 user(s): 1 ok, 1 skipped" in screen
