"""`calsync revert-run NAME RUN_ID`: a bad run undone as a whole, previewed first."""

from __future__ import annotations

import json
from pathlib import Path

from tests.cli.test_sync_cli import calsync
from tests.engine.harness import Env, ev


def _bad_run(tmp_path: Path) -> tuple[Env, str]:
    env = Env(tmp_path)
    env.add_user()
    for n in range(4):
        env.put("crm", ev(f"c{n}", f"Visit {n}", days=n + 1))
    assert env.init().result == "ok"
    # a remote client goes wrong: renames one item, deletes another, adds junk
    env.edit("remote", "Visit 1", subject="XXX", location="nowhere")
    env.remove("remote", "Visit 2")
    env.put("remote", ev("junk", "Junk [/b] item", days=3))
    result = env.sync()
    assert result.result == "ok"
    assert sorted(env.by_subject("crm")) == ["Junk [/b] item", "Visit 0", "Visit 3", "XXX"]
    return env, result.run_id


def test_preview_writes_nothing_then_yes_undoes_the_run(tmp_path: Path) -> None:
    env, run_id = _bad_run(tmp_path)
    before = sorted(env.by_subject("crm"))
    proc = calsync(env.ws.root, "revert-run", "anna", run_id)
    assert proc.returncode == 0, proc.stderr
    assert "3 change(s); nothing written" in proc.stdout
    assert f"({run_id}):" in proc.stdout
    # the hint names the run by its short id, which revert-run takes back
    short_run = proc.stdout.split("calsync revert-run anna ")[1].split()[0]
    assert len(short_run) == 8 and short_run not in run_id
    assert "'Junk [/b] item': would delete the item the run created" in proc.stdout
    assert sorted(env.by_subject("crm")) == before

    preview = json.loads(calsync(env.ws.root, "revert-run", "anna", run_id, "--json").stdout)
    assert {(p["action"], p["subject"]) for p in preview["preview"]} == {
        ("create", "Junk [/b] item"),
        ("update", "Visit 1"),
        ("delete", "Visit 2"),
    }

    proc = calsync(env.ws.root, "revert-run", "anna", run_id, "--yes", "--json")
    assert proc.returncode == 0, proc.stderr
    result = json.loads(proc.stdout)
    assert len(result["reverted"]) == 3 and result["failed"] == []
    crm = env.by_subject("crm")
    assert sorted(crm) == ["Visit 0", "Visit 1", "Visit 2", "Visit 3"]
    assert crm["Visit 1"].event.location == ""
    # the deleted item came back from its trash entry, which is now used up
    assert [t for t in env.trash() if not t.get("restored_at")] == [
        t for t in env.trash() if t["item"]["subject"] == "Junk [/b] item"
    ]
    # the next sync carries the CRM back to the remote calendar
    assert env.sync().result == "ok"
    assert sorted(env.by_subject("remote")) == ["Visit 0", "Visit 1", "Visit 2", "Visit 3"]
    env.assert_converged()


def test_a_change_that_cannot_be_reverted_is_named_and_the_rest_still_are(
    tmp_path: Path,
) -> None:
    env, run_id = _bad_run(tmp_path)
    env.remove("crm", "Junk [/b] item")  # someone deleted the junk item since the run
    proc = calsync(env.ws.root, "revert-run", "anna", run_id, "--yes")
    assert proc.returncode == 1
    assert "reverted 2 change(s)" in proc.stdout
    (line,) = proc.stderr.strip().splitlines()
    assert "'Junk [/b] item': nothing to revert: the created item is already gone" in line
    crm = env.by_subject("crm")
    assert "Visit 2" in crm and "Visit 1" in crm and "XXX" not in crm


def test_unknown_user_or_run_is_one_line_exit_2(tmp_path: Path) -> None:
    env, _ = _bad_run(tmp_path)
    proc = calsync(env.ws.root, "revert-run", "ghost", "20260101T000000Z-abc")
    assert proc.returncode == 2 and "no user named 'ghost'" in proc.stderr
    assert not (env.ws.root / "users" / "ghost").exists()
    proc = calsync(env.ws.root, "revert-run", "anna", "20260101T000000Z-abc")
    assert proc.returncode == 2 and "no run or log entry '20260101T000000Z-abc'" in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1


def test_short_ids_as_the_log_shows_them_name_the_run(tmp_path: Path) -> None:
    env, run_id = _bad_run(tmp_path)
    log = json.loads(calsync(env.ws.root, "log", "anna", "--json").stdout)
    of_run = [e for e in log if e["id"].startswith(run_id)]
    proc = calsync(env.ws.root, "revert-run", "anna", of_run[0]["short_id"])
    assert proc.returncode == 0, proc.stderr
    # each change by the 8-character id `calsync log` shows, never the full log id
    shown = {line.split()[0] for line in proc.stdout.splitlines() if "would" in line}
    assert shown == {e["short_id"] for e in of_run if e["action"] != "warning"}
    assert not any(e["id"] in proc.stdout for e in log)
    short_run = proc.stdout.split("calsync revert-run anna ")[1].split()[0]
    assert len(short_run) == 8
    # the short run id of the hint, and 4 characters of it, preview the same run
    for given in (short_run, short_run[:4].upper()):
        again = calsync(env.ws.root, "revert-run", "anna", given, "--json")
        assert json.loads(again.stdout)["run_id"] == run_id
