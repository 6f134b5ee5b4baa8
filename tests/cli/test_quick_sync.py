"""`calsync sync NAME…` read without Typer (tui/cli/quick.py): only the plain form is
taken, and it answers exactly as the Typer command does — output, exit code, errors."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import tui.cli.root as root
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
    ],
)
def test_the_plain_form_is_read(argv: list[str], expected: QuickSync) -> None:
    assert parse_quick_sync(argv) == expected


@pytest.mark.parametrize(
    "argv",
    [
        [],
        ["sync"],
        ["sync", "--all"],
        ["sync", "anna", "--jobs", "2"],
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
        m.setattr(root, "parse_quick_sync", lambda argv: None)
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
