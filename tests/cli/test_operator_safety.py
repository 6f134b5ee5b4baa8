"""Issue 15: bad input changes nothing, status tells the truth, reads and dry runs write
nothing. Each test runs the real `calsync` entry point, as an operator or cron would."""

from __future__ import annotations

import json
from importlib.metadata import version
from pathlib import Path

import pytest

from storage.workspace import Workspace
from tests.cli.test_sync_cli import calsync
from tests.engine.harness import Env, ev
from tests.job.helpers import lock_held
from tui.services import Services


@pytest.fixture
def env(tmp_path: Path) -> Env:
    e = Env(tmp_path)
    e.add_user()
    for n in range(3):
        e.put("crm", ev(f"c{n}", f"Visit {n}", days=n + 1))
    e.put("remote", ev("r1", "Team meeting", days=2))
    return e


def files_under(*roots: Path) -> dict[str, bytes]:
    """Every file and folder below `roots`, with the files' bytes."""
    found: dict[str, bytes] = {}
    for root in roots:
        if root.exists():
            for path in root.rglob("*"):
                found[str(path)] = path.read_bytes() if path.is_file() else b"<dir>"
    return found


def one_error_line(proc: object, *fragments: str) -> None:
    err = proc.stderr  # type: ignore[attr-defined]
    assert proc.returncode == 2, (proc.stdout, err)  # type: ignore[attr-defined]
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("calsync: "), err
    for fragment in fragments:
        assert fragment in lines[0], err


# -- 4: status after an identity block ------------------------------------------------------


def test_status_after_an_identity_block_is_not_ok(env: Env, tmp_path: Path) -> None:
    assert calsync(env.ws.root, "init", "anna").returncode == 0
    other = tmp_path / "other"
    other.mkdir()
    env.set(remote=f"folder:{other}")
    proc = calsync(env.ws.root, "sync", "anna", "--json")
    assert proc.returncode == 3 and json.loads(proc.stdout)["needs"] == "identity_changed"
    row = json.loads(calsync(env.ws.root, "status", "--json").stdout)[0]
    assert row["last_result"] == "needs_operator"
    assert "not the one used in earlier syncs" in row["last_reason"]
    assert "needs_operator" in calsync(env.ws.root, "status").stdout


# -- 7: check creates nothing --------------------------------------------------------------


def test_check_creates_nothing_and_a_missing_folder_is_not_found(env: Env, tmp_path: Path) -> None:
    typo = tmp_path / "remtoe"
    env.set(remote=f"folder:{typo}")
    before = files_under(tmp_path)
    proc = calsync(env.ws.root, "check", "anna", "--json")
    assert proc.returncode == 1, proc.stdout
    checks = {(c["side"], c["check"]): c for c in json.loads(proc.stdout)["checks"]}
    remote = checks[("remote", "calendar reachable")]
    assert remote["ok"] is False and f"calendar folder {typo} not found" in remote["detail"]
    assert checks[("crm", "calendar reachable")]["ok"] is True
    assert not typo.exists()
    # nor an id file in the CRM folder, nor anything in the workspace
    assert files_under(tmp_path) == before


# -- 8: init --dry-run writes nothing; a missing folder is an error ------------------------


def test_init_dry_run_writes_nothing_anywhere(env: Env, tmp_path: Path) -> None:
    for side in ("crm", "remote"):  # folders another tool filled: no id file yet
        (tmp_path / side / ".calsync-id").unlink()
    before = files_under(tmp_path)
    proc = calsync(env.ws.root, "init", "anna", "--dry-run", "--json")
    assert proc.returncode == 0, proc.stderr
    plan = json.loads(proc.stdout)["plan"]
    assert len(plan) == 4  # 3 CRM items to the remote, 1 remote item to the CRM
    assert files_under(tmp_path) == before
    assert not (tmp_path / "remote" / ".calsync-id").exists()
    assert not env.files.dir.exists()


@pytest.mark.parametrize("dry_run", [True, False])
def test_a_missing_crm_folder_is_an_error_naming_it(
    env: Env, tmp_path: Path, dry_run: bool
) -> None:
    missing = tmp_path / "crm-typo"
    env.set(crm=f"folder:{missing}")
    remote_before = files_under(tmp_path / "remote")
    proc = calsync(env.ws.root, "init", "anna", *(["--dry-run"] if dry_run else []))
    assert proc.returncode == 1
    assert f"calendar folder {missing} not found" in proc.stdout
    assert not missing.exists()
    assert files_under(tmp_path / "remote") == remote_before


# -- 9: an unknown user is named and nothing is created ------------------------------------


@pytest.mark.parametrize(
    "args",
    [
        ["restore", "ghost", "x"],
        ["revert", "ghost", "x"],
        ["restore", "ghost", "x", "--json"],
        ["init", "ghost"],
        ["sync", "ghost"],
        ["sync", "anna", "ghost"],
        ["log", "ghost"],
        ["trash", "ghost"],
        ["check", "ghost"],
        ["google", "auth", "ghost", "--no-browser"],
    ],
)
def test_an_unknown_user_is_refused_and_nothing_is_created(
    env: Env, tmp_path: Path, args: list[str]
) -> None:
    before = files_under(tmp_path)
    one_error_line(calsync(env.ws.root, *args), "no user named 'ghost'")
    assert files_under(tmp_path) == before


@pytest.mark.parametrize(("command", "entry"), [("restore", "nosuch"), ("revert", "nosuch")])
def test_an_unknown_entry_creates_no_lock_file(
    env: Env, tmp_path: Path, command: str, entry: str
) -> None:
    before = files_under(tmp_path)
    one_error_line(calsync(env.ws.root, command, "anna", entry), repr(entry))
    assert files_under(tmp_path) == before


# -- 10: a workspace that does not exist ---------------------------------------------------


@pytest.mark.parametrize(
    "args",
    [
        ["sync", "--all", "--quiet"],
        ["sync", "--all", "--json"],
        ["status"],
        ["sync", "anna"],
        ["log", "anna"],
        ["check", "anna"],
        ["user", "list"],
        ["user", "show", "anna"],
        ["watch"],
    ],
)
def test_a_missing_workspace_is_an_error_and_is_not_created(
    tmp_path: Path, args: list[str]
) -> None:
    typo = tmp_path / "typo"
    one_error_line(calsync(typo, *args), f"no calsync workspace at {typo}")
    assert not typo.exists()
    # a folder without users.json is no workspace either
    typo.mkdir()
    one_error_line(calsync(typo, *args), "no users.json")
    assert list(typo.iterdir()) == []


def test_user_add_and_demo_still_start_a_workspace(tmp_path: Path) -> None:
    ws = tmp_path / "new"
    crm, remote = tmp_path / "crm", tmp_path / "remote"
    proc = calsync(
        ws, "user", "add", "anna", "--crm", f"folder:{crm}", "--remote", f"folder:{remote}"
    )
    assert proc.returncode == 0, proc.stderr
    assert json.loads(calsync(ws, "status", "--json").stdout)[0]["name"] == "anna"
    proc = calsync(tmp_path / "demo", "demo", "--no-tui")
    assert proc.returncode == 0, proc.stderr


# -- 12: one user's unreadable files stay that user's problem ---------------------------------


def test_one_corrupt_state_or_runs_file_fails_only_that_user(tmp_path: Path) -> None:
    envs = {}
    for name in ("anna", "bert", "cecilia"):
        e = Env(tmp_path / name, name=name)
        e.ws = Workspace(tmp_path / "ws")
        e.ws.root.mkdir(exist_ok=True)
        e.add_user()
        e.put("crm", ev(f"{name}1", f"Visit {name}"))
        assert calsync(e.ws.root, "init", name).returncode == 0
        envs[name] = e
    state_path = envs["anna"].files.state_path
    runs_path = envs["bert"].files.state_path.with_name("runs.json")
    state_path.write_text("{not json")
    runs_path.write_text("[]")
    ws = envs["anna"].ws.root

    proc = calsync(ws, "status")
    assert proc.returncode == 0, proc.stderr
    assert "cecilia" in proc.stdout and "state unreadable" in proc.stdout
    rows = {r["name"]: r for r in json.loads(calsync(ws, "status", "--json").stdout)}
    assert rows["anna"]["state_error"] == f"state unreadable: {state_path}: not valid JSON: " + (
        "Expecting property name enclosed in double quotes: line 1 column 2 (char 1)"
    )
    assert rows["bert"]["state_error"] == f"state unreadable: {runs_path}: not a JSON object"
    assert rows["cecilia"]["state_error"] is None and rows["cecilia"]["last_result"] == "ok"

    proc = calsync(ws, "sync", "--all", "--json")
    assert proc.returncode == 1
    users = {u["user"]: u for u in json.loads(proc.stdout)["users"]}
    assert users["anna"]["result"] == "failed"
    assert users["anna"]["reason"].startswith(f"state unreadable: {state_path}: ")
    assert users["bert"]["reason"] == f"state unreadable: {runs_path}: not a JSON object"
    assert users["cecilia"]["result"] == "ok"
    assert "Store" not in proc.stdout + proc.stderr and "unexpected" not in proc.stderr

    # the TUI's users table reads the same line
    summary = Services(Workspace(ws)).summary("anna")
    assert summary.error.startswith(f"state unreadable: {state_path}: ")
    assert state_path.read_text() == "{not json" and runs_path.read_text() == "[]"


# -- 13: unknown tables and keys in calsync.toml --------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("[jobs]\nskip_private = true\n", "unknown table [jobs] (did you mean 'job'?)"),
        ("[Job]\nskip_private = true\n", "unknown table [Job] (did you mean 'job'?)"),
        ("[job]\nintervall = 60\n", "[job] has unknown key 'intervall' (did you mean 'interval'?)"),
        ("[exchnage]\nusername = 'x'\n", "unknown table [exchnage] (did you mean 'exchange'?)"),
    ],
)
def test_an_unknown_table_or_key_is_refused_with_a_suggestion(
    env: Env, text: str, expected: str
) -> None:
    env.ws.config_path.write_text(text)
    one_error_line(calsync(env.ws.root, "sync", "--all", "--quiet"), expected)


# -- 14: --json, --version, --quiet, repeated names, busy users -----------------------------


def test_version() -> None:
    proc = calsync(Path("/nonexistent-workspace"), "--version")
    assert proc.returncode == 0 and proc.stdout.strip() == f"calsync {version('calsync')}"


def test_user_add_set_remove_json(tmp_path: Path) -> None:
    ws = tmp_path / "ws"
    urls = [f"folder:{tmp_path / 'crm'}", f"folder:{tmp_path / 'remote'}"]
    proc = calsync(ws, "user", "add", "anna", "--crm", urls[0], "--remote", urls[1], "--json")
    assert proc.returncode == 0
    assert json.loads(proc.stdout)["name"] == "anna"
    proc = calsync(ws, "user", "set", "anna", "reminders=off", "--json")
    assert proc.returncode == 0 and json.loads(proc.stdout)["reminders"] == "off"
    one_error_line(calsync(ws, "user", "remove", "anna", "--json"), "without --yes")
    proc = calsync(ws, "user", "remove", "anna", "--yes", "--json")
    assert proc.returncode == 0 and json.loads(proc.stdout) == {"removed": "anna", "files": None}


def test_single_user_sync_quiet_and_repeated_names(env: Env) -> None:
    assert calsync(env.ws.root, "init", "anna").returncode == 0
    proc = calsync(env.ws.root, "sync", "anna", "--quiet")
    assert (proc.returncode, proc.stdout, proc.stderr) == (0, "", "")
    runs = len(env.files.read_state().runs)
    proc = calsync(env.ws.root, "sync", "anna", "anna", "--json")
    assert json.loads(proc.stdout)["user"] == "anna"  # one result, not a list of two
    after = env.files.read_state().runs
    # two quiet runs in a row share one record (sync/engine/record.py `coalesced`)
    assert len(after) == runs and after[-1]["repeats"] == 2
    env.set(remote=env.remote_url + "-gone")
    proc = calsync(env.ws.root, "sync", "anna", "--quiet")
    assert proc.returncode == 1 and proc.stdout == ""
    assert proc.stderr.startswith("calsync: anna: failed: calendar folder ")


def test_an_explicit_busy_user_fails_but_the_all_job_skips_it(env: Env) -> None:
    assert calsync(env.ws.root, "init", "anna").returncode == 0
    with lock_held(env.files):
        proc = calsync(env.ws.root, "sync", "anna")
        assert proc.returncode == 1 and "busy" in proc.stdout
        proc = calsync(env.ws.root, "sync", "anna", "--quiet")
        assert proc.returncode == 1 and "anna: busy" in proc.stderr
        proc = calsync(env.ws.root, "sync", "--all", "--json")
        assert proc.returncode == 0
        assert json.loads(proc.stdout)["users"][0]["result"] == "busy"
