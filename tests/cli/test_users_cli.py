"""`calsync user ...`: every happy path and every bad input of issue 2.

Most cases go through Typer's runner (same commands, same error edge, fast); the
ones that prove exit codes, clean stderr and the TTY question run the real
`calsync` entry point in a subprocess.
"""

from __future__ import annotations

import json
import os
import pty
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from storage.state import UserFiles
from storage.workspace import Workspace
from tui.cli import _register, app

_register()
REPO = Path(__file__).resolve().parents[2]


def _entry_point() -> list[str]:
    script = Path(sys.executable).parent / "calsync"
    if script.exists():
        return [str(script)]
    return [sys.executable, "-c", "import sys; from tui.cli import main; sys.exit(main())"]


class Run:
    def __init__(self, code: int, out: str, err: str) -> None:
        self.code, self.out, self.err = code, out, err

    def json(self) -> object:
        return json.loads(self.out)


@pytest.fixture
def ws(tmp_path: Path) -> Workspace:
    return Workspace(tmp_path / "ws")


@pytest.fixture
def cals() -> dict[str, str]:
    # CalDAV URLs are checked for form only: nothing here connects anywhere
    return {
        "crm": "caldav:https://crm.example.com/cal/anna/",
        "remote": "caldav:https://mail.example.com/cal/anna/",
        "other": "caldav:https://crm.example.com/cal/other/",
        "dav": "caldav:https://dav.example.com/cal/anna",
    }


def cli(ws: Workspace, *args: str) -> Run:
    result = CliRunner().invoke(app, ["--workspace", str(ws.root), *args])
    return Run(result.exit_code, result.stdout, result.stderr)


def real(ws: Workspace, *args: str, stdin: int | None = subprocess.DEVNULL) -> Run:
    proc = subprocess.run(
        [*_entry_point(), "--workspace", str(ws.root), *args],
        stdin=stdin,
        capture_output=True,
        text=True,
        cwd=REPO,
        env={**os.environ, "COLUMNS": "200"},
        timeout=120,
    )
    return Run(proc.returncode, proc.stdout, proc.stderr)


def snapshot(ws: Workspace) -> dict[str, bytes]:
    if not ws.root.exists():
        return {}
    return {str(p.relative_to(ws.root)): p.read_bytes() for p in ws.root.rglob("*") if p.is_file()}


def assert_usage_error(run: Run, *fragments: str) -> None:
    assert run.code == 2, (run.out, run.err)
    lines = run.err.strip().splitlines()
    assert len(lines) == 1, run.err
    assert lines[0].startswith("calsync: ")
    for fragment in fragments:
        assert fragment in lines[0]
    assert "Traceback" not in run.err
    assert run.out == ""


def add_anna(ws: Workspace, cals: dict[str, str], *extra: str) -> None:
    run = cli(ws, "user", "add", "anna", "--crm", cals["crm"], "--remote", cals["remote"], *extra)
    assert run.code == 0, run.err


# -- happy paths ---------------------------------------------------------------------------


def test_add_with_defaults(ws: Workspace, cals: dict[str, str]) -> None:
    run = cli(ws, "user", "add", "anna", "--crm", cals["crm"], "--remote", cals["remote"])
    assert run.code == 0, run.err
    assert "Added user anna." in run.out
    user = cli(ws, "user", "show", "anna", "--json").json()
    assert isinstance(user, dict)
    assert user["user"]["crm"] == cals["crm"]
    assert user["user"]["remote"] == cals["remote"]
    assert user["user"]["enabled"] is True
    assert {k: v["source"] for k, v in user["settings"].items()} == dict.fromkeys(
        ["skip_private", "reminders", "multiday", "window_past_days", "window_future_days"],
        "default",
    )


def test_add_with_every_option(ws: Workspace, cals: dict[str, str]) -> None:
    run = cli(
        ws, "user", "add", "bert", "--crm", cals["crm"], "--remote", cals["dav"],
        "--skip-private", "--reminders", "minutes:30", "--multiday", "keep", "--disabled",
    )  # fmt: skip
    assert run.code == 0, run.err
    assert "sync disabled" in run.out
    shown = cli(ws, "user", "show", "bert", "--json").json()
    assert isinstance(shown, dict)
    assert shown["user"]["enabled"] is False
    # the CalDAV URL is normalized to its collection form, without connecting anywhere
    assert shown["user"]["remote"] == "caldav:https://dav.example.com/cal/anna/"
    settings = {k: (v["value"], v["source"]) for k, v in shown["settings"].items()}
    assert settings["skip_private"] == (True, "user")
    assert settings["reminders"] == ("minutes:30", "user")
    assert settings["multiday"] == ("keep", "user")
    assert settings["window_past_days"] == (90, "default")


def test_no_skip_private_is_stored_as_off(ws: Workspace, cals: dict[str, str]) -> None:
    add_anna(ws, cals, "--no-skip-private")
    shown = cli(ws, "user", "show", "anna", "--json").json()
    assert isinstance(shown, dict)
    assert shown["settings"]["skip_private"] == {"value": False, "source": "user"}


def test_list_human_and_json(ws: Workspace, cals: dict[str, str]) -> None:
    # no workspace yet: an error, not an empty list (issue 15: a typo must not look fine)
    assert_usage_error(cli(ws, "user", "list"), "no calsync workspace", str(ws.root))
    add_anna(ws, cals)
    assert cli(ws, "user", "remove", "anna", "--yes").code == 0
    empty = cli(ws, "user", "list")
    assert empty.code == 0
    assert "No users yet" in empty.out
    assert cli(ws, "user", "list", "--json").json() == []

    add_anna(ws, cals)
    assert (
        cli(ws, "user", "add", "Cecilia", "--crm", cals["other"], "--remote", cals["dav"]).code == 0
    )
    human = cli(ws, "user", "list")
    assert human.code == 0
    assert "anna" in human.out
    assert "Cecilia" in human.out
    assert "never" in human.out
    rows = cli(ws, "user", "list", "--json").json()
    assert isinstance(rows, list)
    assert [r["name"] for r in rows] == ["anna", "Cecilia"]
    assert rows[0]["state"]["initialized"] is False
    assert rows[0]["state"]["last_run"] is None


def test_show_human_with_state_and_job_override(ws: Workspace, cals: dict[str, str]) -> None:
    add_anna(ws, cals, "--reminders", "off")
    ws.config_path.write_text('[job]\nreminders = "sync"\nmultiday = "keep"\n')
    with UserFiles(ws, "anna").open_state() as state:
        state.meta["initialized_at"] = "2026-01-05T08:00:00+00:00"
        state.meta["identity"] = "folder:cal-7f3a"
        state.add_run(
            {"started": "2026-01-06T08:00:00+00:00", "finished": "2026-01-06T08:00:09+00:00",
             "result": "ok", "reason": "", "counts": {}}
        )  # fmt: skip
    run = cli(ws, "user", "show", "anna")
    assert run.code == 0, run.err
    for text in ("anna", cals["crm"], "folder:cal-7f3a", "2026-01-05", "ok", "Effective settings"):
        assert text in run.out
    lines = {line.split()[1]: line for line in run.out.splitlines() if line.startswith("│ ")}
    assert "job" in lines["reminders"]  # the job's "sync" beats anna's "off" (R12)
    assert "job" in lines["multiday"]
    assert "default" in lines["window_past_days"]

    shown = cli(ws, "user", "show", "anna", "--json").json()
    assert isinstance(shown, dict)
    assert shown["settings"]["reminders"] == {"value": "sync", "source": "job"}
    assert shown["user"]["reminders"] == "off"
    assert shown["state"]["initialized"] is True
    assert shown["state"]["identity"] == "folder:cal-7f3a"
    assert shown["state"]["last_run"]["result"] == "ok"


@pytest.mark.parametrize(
    ("assignment", "key", "stored"),
    [
        ("enabled=no", "enabled", False),
        ("enabled=ON", "enabled", True),
        ("skip_private=yes", "skip_private", True),
        ("skip_private=0", "skip_private", False),
        ("skip_private=", "skip_private", None),
        ("reminders=off", "reminders", "off"),
        ("reminders=minutes:015", "reminders", "minutes:15"),
        ("reminders=default", "reminders", None),
        ("multiday=keep", "multiday", "keep"),
        ("window_past_days=30", "window_past_days", 30),
        ("window_future_days=0", "window_future_days", 0),
        ("remote=", "remote", None),
    ],
)
def test_set_each_key(
    ws: Workspace, cals: dict[str, str], assignment: str, key: str, stored: object
) -> None:
    add_anna(ws, cals, "--skip-private", "--reminders", "sync")
    run = cli(ws, "user", "set", "anna", assignment)
    assert run.code == 0, run.err
    assert run.out.startswith("Updated anna:")
    shown = cli(ws, "user", "show", "anna", "--json").json()
    assert isinstance(shown, dict)
    assert shown["user"][key] == stored


def test_set_calendars_and_several_keys_at_once(ws: Workspace, cals: dict[str, str]) -> None:
    add_anna(ws, cals)
    run = cli(
        ws, "user", "set", "anna", f"remote={cals['dav']}", f"crm={cals['other']}", "multiday=keep"
    )
    assert run.code == 0, run.err
    shown = cli(ws, "user", "show", "anna", "--json").json()
    assert isinstance(shown, dict)
    assert shown["user"]["crm"] == cals["other"]
    assert shown["user"]["remote"] == "caldav:https://dav.example.com/cal/anna/"
    assert shown["user"]["multiday"] == "keep"


def test_remove_with_yes_keeps_the_files(ws: Workspace, cals: dict[str, str]) -> None:
    add_anna(ws, cals)
    with UserFiles(ws, "anna").open_state() as state:
        state.meta["identity"] = "kept"
    run = cli(ws, "user", "remove", "anna", "--yes")
    assert run.code == 0, run.err
    assert "Removed user anna" in run.out
    assert cli(ws, "user", "list", "--json").json() == []
    (archived,) = ws.removed_dir.iterdir()
    assert archived.name.startswith("anna-")
    assert str(archived) in run.out
    assert json.loads((archived / "state.json").read_text())["meta"]["1"]["identity"] == "kept"
    # the name is free again, with a clean state
    add_anna(ws, cals)
    assert UserFiles(ws, "anna").read_state().identity is None


def test_remove_user_that_never_synced(ws: Workspace, cals: dict[str, str]) -> None:
    add_anna(ws, cals)
    run = cli(ws, "user", "remove", "anna", "-y")
    assert run.code == 0, run.err
    assert not ws.removed_dir.exists()
    assert cli(ws, "user", "list", "--json").json() == []


# -- bad input: one line on stderr, exit 2, nothing written ------------------------------------


BAD_ADD = {
    "unknown scheme": (["--crm", "ftp:/x", "--remote", "{remote}"], ["crm", "unknown calendar scheme 'ftp'", "known schemes"]),
    "no scheme": (["--crm", "{crm}", "--remote", "just-a-name"], ["remote", "SCHEME:ADDRESS"]),
    "caldav not http": (["--crm", "{crm}", "--remote", "caldav:dav.example.com/cal"], ["remote", "expected caldav:https://"]),
    "caldav with query": (["--crm", "{crm}", "--remote", "caldav:https://h/c/?x=1"], ["remote", "no ?query"]),
    "crm equals remote": (["--crm", "{crm}", "--remote", "{crm}"], ["crm and remote are the same calendar"]),
    "missing crm": (["--remote", "{remote}"], ["needs --crm"]),
    "missing remote": (["--crm", "{crm}"], ["needs --remote"]),
    "empty remote": (["--crm", "{crm}", "--remote", ""], ["needs --remote"]),
    "bad reminders": (["--crm", "{crm}", "--remote", "{remote}", "--reminders", "often"], ["reminders must be sync, off or minutes:N", "often"]),
    "reminders too big": (["--crm", "{crm}", "--remote", "{remote}", "--reminders", "minutes:123456"], ["reminders must be"]),
    "bad multiday": (["--crm", "{crm}", "--remote", "{remote}", "--multiday", "split"], ["multiday must be title or keep"]),
}  # fmt: skip


@pytest.mark.parametrize(("args", "fragments"), list(BAD_ADD.values()), ids=list(BAD_ADD))
def test_add_bad_input(
    ws: Workspace, cals: dict[str, str], args: list[str], fragments: list[str]
) -> None:
    add_anna(ws, cals)
    before = snapshot(ws)
    filled = [a.format(**cals) for a in args]
    assert_usage_error(cli(ws, "user", "add", "bert", *filled), *fragments)
    assert snapshot(ws) == before


@pytest.mark.parametrize("name", ["anna", "ANNA", "Anna"])
def test_add_duplicate_name(ws: Workspace, cals: dict[str, str], name: str) -> None:
    add_anna(ws, cals)
    before = snapshot(ws)
    run = cli(ws, "user", "add", name, "--crm", cals["other"], "--remote", cals["dav"])
    assert_usage_error(run, "a user named 'anna' already exists")
    assert snapshot(ws) == before


@pytest.mark.parametrize("name", ["-anna", "an na", "anna/../x", "ä" * 3, "x" * 65, ".hidden"])
def test_add_bad_name(ws: Workspace, cals: dict[str, str], name: str) -> None:
    run = cli(ws, "user", "add", "--crm", cals["crm"], "--remote", cals["remote"], "--", name)
    assert_usage_error(run, "bad user name")
    assert snapshot(ws) == {}


BAD_SET = {
    "unknown key": (["colour=red"], ["unknown setting 'colour'", "known: crm, remote"]),
    "no equals": (["skip_private"], ["expected KEY=VALUE"]),
    "empty key": (["=yes"], ["expected KEY=VALUE"]),
    "twice": (["multiday=keep", "multiday=title"], ["multiday is given twice"]),
    "enabled word": (["enabled=maybe"], ["enabled must be true or false", "maybe"]),
    "enabled empty": (["enabled="], ["enabled must be true or false"]),
    "skip_private word": (["skip_private=sometimes"], ["skip_private must be true or false"]),
    "days word": (["window_past_days=ninety"], ["window_past_days must be a whole number"]),
    "days negative": (["window_future_days=-5"], ["window_future_days must be a whole number of days from 0 to 3650"]),
    "days huge": (["window_future_days=99999"], ["window_future_days must be"]),
    "days fraction": (["window_past_days=1.5"], ["window_past_days must be a whole number"]),
    "reminders word": (["reminders=minutes:"], ["reminders must be sync, off or minutes:N"]),
    "reminders negative": (["reminders=minutes:-5"], ["reminders must be"]),
    "multiday word": (["multiday=split"], ["multiday must be title or keep"]),
    "crm empty": (["crm="], ["crm needs a calendar URL"]),
    "crm bad": (["crm=gopher:x"], ["unknown calendar scheme 'gopher'"]),
    "crm becomes remote": (["crm={remote}"], ["crm and remote are the same calendar"]),
    "remote becomes crm": (["remote={crm}"], ["crm and remote are the same calendar"]),
    "good then bad": (["multiday=keep", "window_past_days=x"], ["window_past_days"]),
}  # fmt: skip


@pytest.mark.parametrize(("args", "fragments"), list(BAD_SET.values()), ids=list(BAD_SET))
def test_set_bad_input(
    ws: Workspace, cals: dict[str, str], args: list[str], fragments: list[str]
) -> None:
    add_anna(ws, cals)
    before = snapshot(ws)
    filled = [a.format(**cals) for a in args]
    assert_usage_error(cli(ws, "user", "set", "anna", *filled), *fragments)
    assert snapshot(ws) == before


def test_set_nothing(ws: Workspace, cals: dict[str, str]) -> None:
    add_anna(ws, cals)
    run = cli(ws, "user", "set", "anna")
    assert run.code == 2
    assert "Traceback" not in run.err


@pytest.mark.parametrize(
    "args",
    [
        ["show", "nobody"],
        ["show", "nobody", "--json"],
        ["set", "nobody", "enabled=no"],
        ["remove", "nobody", "--yes"],
        ["remove", "nobody"],
    ],
)
def test_unknown_user(ws: Workspace, cals: dict[str, str], args: list[str]) -> None:
    add_anna(ws, cals)
    before = snapshot(ws)
    assert_usage_error(cli(ws, "user", *args), "no user named 'nobody'")
    assert snapshot(ws) == before


def test_show_with_broken_config_names_it(ws: Workspace, cals: dict[str, str]) -> None:
    add_anna(ws, cals)
    ws.config_path.write_text('[job]\nreminders = "often"\n')
    assert_usage_error(cli(ws, "user", "show", "anna"), str(ws.config_path), "reminders")


def test_corrupt_users_file_is_reported_not_reset(ws: Workspace, cals: dict[str, str]) -> None:
    add_anna(ws, cals)
    ws.users_path.write_text("{not json")
    for args in (["list"], ["show", "anna"], ["set", "anna", "enabled=no"], ["remove", "anna", "--yes"],
                 ["add", "bert", "--crm", cals["other"], "--remote", cals["dav"]]):  # fmt: skip
        assert_usage_error(cli(ws, "user", *args), str(ws.users_path), "unreadable")
    assert ws.users_path.read_text() == "{not json"


def test_unreadable_state_shows_in_list_but_blocks_nothing_else(
    ws: Workspace, cals: dict[str, str]
) -> None:
    add_anna(ws, cals)
    state_path = UserFiles(ws, "anna").state_path
    state_path.parent.mkdir(parents=True)
    state_path.write_text("garbage")
    rows = cli(ws, "user", "list", "--json").json()
    assert isinstance(rows, list)
    assert str(state_path) in rows[0]["state"]["error"]
    assert "unreadable" in cli(ws, "user", "list").out
    shown = cli(ws, "user", "show", "anna")
    assert shown.code == 0
    assert "garbage" not in shown.out
    assert state_path.read_text() == "garbage"


# -- the real entry point ------------------------------------------------------------------


def test_real_process_happy_path_and_json_only(ws: Workspace, cals: dict[str, str]) -> None:
    run = real(
        ws, "user", "add", "anna", "--crm", cals["crm"], "--remote", cals["dav"], "--skip-private"
    )
    assert run.code == 0, run.err
    assert run.err == ""
    listed = real(ws, "user", "list", "--json")
    assert listed.code == 0
    assert listed.err == ""
    rows = listed.json()
    assert isinstance(rows, list)
    assert rows[0]["name"] == "anna"
    shown = real(ws, "user", "show", "anna", "--json")
    assert shown.code == 0
    details = shown.json()
    assert isinstance(details, dict)
    assert details["settings"]["skip_private"] == {"value": True, "source": "user"}


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        (["user", "set", "anna", "window_past_days=lots"], "window_past_days"),
        (
            [
                "user",
                "add",
                "anna",
                "--crm",
                "caldav:https://a/b/",
                "--remote",
                "caldav:https://a/c/",
            ],
            "already exists",
        ),
        (
            ["user", "add", "bert", "--crm", "nope", "--remote", "caldav:https://a/c/"],
            "SCHEME:ADDRESS",
        ),
        (["user", "show", "nobody"], "no user named 'nobody'"),
        (["user", "remove", "anna"], "without --yes"),
    ],
)
def test_real_process_bad_input(
    ws: Workspace, cals: dict[str, str], args: list[str], fragment: str
) -> None:
    add_anna(ws, cals)
    before = snapshot(ws)
    assert_usage_error(real(ws, *args), fragment)
    assert snapshot(ws) == before


@pytest.mark.parametrize(("answer", "removed"), [("y", True), ("n", False)])
def test_remove_asks_on_a_terminal(
    ws: Workspace, cals: dict[str, str], answer: str, removed: bool
) -> None:
    add_anna(ws, cals)
    main_fd, tty_fd = pty.openpty()
    try:
        os.write(main_fd, f"{answer}\n".encode())
        run = real(ws, "user", "remove", "anna", stdin=tty_fd)
    finally:
        os.close(tty_fd)
        os.close(main_fd)
    assert "Remove user anna?" in run.out
    assert "Traceback" not in run.err
    users = cli(ws, "user", "list", "--json").json()
    if removed:
        assert run.code == 0, run.err
        assert users == []
    else:
        assert run.code == 1
        assert "Not removed." in run.out
        assert isinstance(users, list)
        assert [u["name"] for u in users] == ["anna"]


def test_folder_calendars_are_stored_absolute_and_compared_normalized(
    ws: Workspace, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    run = cli(
        ws, "user", "add", "anna", "--crm", "folder:cal/crm", "--remote", "folder:./cal/remote"
    )
    assert run.code == 0, run.err
    shown = cli(ws, "user", "show", "anna", "--json").json()
    assert isinstance(shown, dict)
    assert shown["user"]["crm"] == f"folder:{tmp_path / 'cal' / 'crm'}"
    assert shown["user"]["remote"] == f"folder:{tmp_path / 'cal' / 'remote'}"
    # one folder written two ways is still one calendar
    before = snapshot(ws)
    bad = cli(
        ws, "user", "add", "bert", "--crm", "folder:cal/x", "--remote", f"folder:{tmp_path}/cal/x"
    )
    assert_usage_error(bad, "crm and remote are the same calendar")
    (tmp_path / "plain-file").write_text("")
    not_a_folder = cli(ws, "user", "set", "anna", "remote=folder:plain-file")
    assert_usage_error(not_a_folder, "remote", "is not a folder")
    assert snapshot(ws) == before
