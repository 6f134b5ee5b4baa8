"""`calsync sync NAME…` and `calsync sync --all …` read without Typer (tui/cli/quick.py):
only the plain forms are taken, and they answer exactly as the Typer command does —
output, exit code, errors."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

import tui.cli.quick as quick_module
from tests.cli.test_sync_cli import calsync_here
from tests.engine.harness import Env, ev
from tui.cli.quick import QuickSync, parse_quick_sync


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        (["sync", "anna"], QuickSync(None, ("anna",), frozenset())),
        (
            ["--workspace", "/w", "sync", "anna", "-q", "bob", "--json"],
            QuickSync(Path("/w"), ("anna", "bob"), frozenset({"quiet", "as_json"})),
        ),
        (
            ["-w", "w s", "sync", "--dry-run", "[bold]anna", "--force", "--quiet"],
            QuickSync(Path("w s"), ("[bold]anna",), frozenset({"dry_run", "force", "quiet"})),
        ),
        (["--workspace=/w", "sync", "аня"], QuickSync(Path("/w"), ("аня",), frozenset())),
        (["sync", "--all"], QuickSync(None, (), frozenset(), True)),
        (
            ["-w", "/w", "sync", "-q", "--all", "--jobs", "4", "--json", "--shard", "1/4"],
            QuickSync(
                Path("/w"),
                (),
                frozenset({"quiet", "as_json"}),
                True,
                (("jobs", "4"), ("shard", "1/4")),
            ),
        ),
        (
            ["sync", "--all", "-j", "01", "--shard", "9/4", "--dry-run", "--force"],
            QuickSync(
                None, (), frozenset({"dry_run", "force"}), True, (("jobs", "01"), ("shard", "9/4"))
            ),
        ),
        (
            ["sync", "--all", "--shard", "auto"],
            QuickSync(None, (), frozenset(), True, (("shard", "auto"),)),
        ),
    ],
)
def test_the_plain_form_is_read(argv: list[str], expected: QuickSync) -> None:
    assert parse_quick_sync(argv) == expected


@pytest.mark.parametrize(
    "argv",
    [
        [],
        ["sync"],
        ["sync", "--all", "anna"],
        ["sync", "anna", "--all"],
        ["sync", "--all", "--all"],
        ["sync", "anna", "--jobs", "2"],
        ["sync", "anna", "--shard", "0/2"],
        ["sync", "--all", "--jobs", "0"],
        ["sync", "--all", "--jobs", "x"],
        ["sync", "--all", "--jobs", "-1"],
        ["sync", "--all", "--jobs", "٣"],
        ["sync", "--all", "--jobs", ""],
        ["sync", "--all", "--jobs"],
        ["sync", "--all", "--jobs=2"],
        ["sync", "--all", "-j2"],
        ["sync", "--all", "--jobs", "2", "--jobs", "3"],
        ["sync", "--all", "--shard"],
        ["sync", "--all", "--shard", "-1/4"],
        ["sync", "--all", "--help"],
        ["sync", "anna", "--help"],
        ["sync", "--", "-anna"],
        ["sync", "anna", "-qj"],
        ["sync", "anna", ""],
        ["--version", "sync", "anna"],
        ["-w", "sync", "anna"],
        ["-w", "-x", "sync", "anna"],
        ["--workspace=", "sync", "anna"],
        ["-w/w", "sync", "anna"],
        ["status", "anna"],
        ["init", "anna"],
        ["--workspace", "/w"],
    ],
)
def test_anything_else_goes_to_typer(argv: list[str]) -> None:
    assert parse_quick_sync(argv) is None


@pytest.fixture
def env(tmp_path: Path) -> Env:
    e = Env(tmp_path)
    e.add_user()
    e.put("crm", ev("c1", "Visit [bold]1", days=1))
    e.put("remote", ev("r1", "Team meeting", days=2))
    return e


def same(out: str) -> object:
    """The output without what differs from run to run (--json: run id and duration)."""
    if not out.startswith("{"):
        return out
    data = json.loads(out)
    return {k: v for k, v in data.items() if k not in ("run_id", "duration")}


def both_ways(
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    ws: Path,
    *args: str,
) -> tuple[int, str, str]:
    quick = calsync_here(capsys, ws, *args)
    with monkeypatch.context() as m:
        m.setattr(quick_module, "parse_quick_sync", lambda argv: None)
        typer = calsync_here(capsys, ws, *args)
    assert (quick.returncode, same(quick.stdout), quick.stderr) == (
        typer.returncode,
        same(typer.stdout),
        typer.stderr,
    )
    return quick.returncode, quick.stdout, quick.stderr


def test_both_ways_answer_the_same(
    env: Env, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    ws = env.ws.root
    code, out, _ = both_ways(capsys, monkeypatch, ws, "sync", "anna")
    assert code == 3 and "not initialized" in out
    code, _, err = both_ways(capsys, monkeypatch, ws, "sync", "bob")
    assert code == 2 and "no user named 'bob'" in err
    code, _, err = both_ways(capsys, monkeypatch, ws.parent / "nowhere", "sync", "anna")
    assert code == 2 and err.startswith("calsync: ")
    assert not (ws.parent / "nowhere").exists()

    assert calsync_here(capsys, ws, "init", "anna").returncode == 0
    code, out, _ = both_ways(capsys, monkeypatch, ws, "sync", "anna", "--dry-run")
    assert code == 0
    code, out, _ = both_ways(capsys, monkeypatch, ws, "sync", "anna", "anna", "-q")
    assert (code, out) == (0, "")
    code, out, _ = both_ways(capsys, monkeypatch, ws, "sync", "anna", "--json")
    assert code == 0 and json.loads(out)["result"] == "ok"


def without_times(data: object) -> object:
    """A `sync --all --json` summary without what differs from run to run."""
    if isinstance(data, dict):
        volatile = ("run_id", "duration", "started", "finished")
        return {k: without_times(v) for k, v in data.items() if k not in volatile}
    if isinstance(data, list):
        return [without_times(v) for v in data]
    return data


def from_one_start(
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    env: Env,
    *args: str,
) -> tuple[int, str, str]:
    """Both ways from the same files: a job run changes what the next one reports (a
    failure already reported is not repeated), so the folders are put back between."""
    root = env.ws.root.parent
    kept = root.parent / f"{root.name}-kept"
    shutil.copytree(root, kept, symlinks=True)
    quick = calsync_here(capsys, env.ws.root, *args)
    shutil.rmtree(root)
    kept.rename(root)
    with monkeypatch.context() as m:
        m.setattr(quick_module, "parse_quick_sync", lambda argv: None)
        typer = calsync_here(capsys, env.ws.root, *args)
    as_json = "--json" in args
    assert (quick.returncode, quick.stderr) == (typer.returncode, typer.stderr)
    if as_json:
        assert without_times(json.loads(quick.stdout)) == without_times(json.loads(typer.stdout))
    else:
        assert quick.stdout == typer.stdout
    return quick.returncode, quick.stdout, quick.stderr


def test_both_ways_answer_the_same_for_all(
    env: Env, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    ws = env.ws.root
    code, _, err = both_ways(capsys, monkeypatch, ws, "sync", "--all", "--shard", "9/4")
    assert code == 2
    assert err == "calsync: --shard 9/4: shard 9 does not exist; with 4 shard(s) K is 0 to 3\n"
    monkeypatch.delenv("JOB_COMPLETION_INDEX", raising=False)
    code, _, err = both_ways(capsys, monkeypatch, ws, "sync", "--all", "--shard", "auto")
    assert code == 2 and err.startswith("calsync: --shard auto needs ")
    code, _, err = both_ways(capsys, monkeypatch, ws.parent / "nowhere", "sync", "--all", "-q")
    assert code == 2 and err.startswith("calsync: no calsync workspace")
    assert not (ws.parent / "nowhere").exists()

    code, out, err = from_one_start(capsys, monkeypatch, env, "sync", "--all", "-j", "2", "-q")
    assert (code, out) == (3, "") and "calsync init anna" in err  # not initialized
    assert calsync_here(capsys, ws, "init", "anna").returncode == 0
    env.put("remote", ev("r2", "Board meeting", days=3))
    code, out, _ = from_one_start(capsys, monkeypatch, env, "sync", "--all", "--dry-run")
    assert code == 0
    args = ("sync", "--all", "--json", "--jobs", "3", "--shard", "0/1", "--force")
    code, out, err = from_one_start(capsys, monkeypatch, env, *args)
    assert (code, err) == (0, "")
    assert json.loads(out)["totals"]["ok"] == 1 and json.loads(out)["jobs"] == 3
    code, out, err = from_one_start(capsys, monkeypatch, env, "sync", "--all", "--quiet")
    assert (code, out, err) == (0, "", "")
