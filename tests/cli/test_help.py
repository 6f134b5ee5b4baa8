"""Every command's `--help` (issue 15 item 15): what the source says is what is shown
(no `[job]` eaten as Rich markup), and no requirement tags or `{name}` placeholders."""

from __future__ import annotations

import inspect
import os
import re
import subprocess
import sys
from collections.abc import Iterator

import pytest
import typer
from typer.testing import CliRunner

from tui import cli

cli.register()
ROOT = typer.main.get_command(cli.app)


def _commands(command: typer.core.TyperGroup | typer.core.TyperCommand, path: tuple[str, ...]):  # type: ignore[no-untyped-def]
    yield path, command
    for name, sub in sorted(getattr(command, "commands", {}).items()):
        yield from _commands(sub, (*path, name))


COMMANDS = list(_commands(ROOT, ()))


def _flat(text: str) -> str:
    """The words of a help page, without Rich's boxes and line wrapping."""
    return " ".join(re.sub(r"[│╭╮╰╯─]", " ", text).split())


def _written(command) -> Iterator[str]:  # type: ignore[no-untyped-def]
    """Each help text as the source writes it, Rich's `\\[` escape resolved."""
    if command.help:
        for paragraph in inspect.cleandoc(command.help).split("\n\n"):
            yield paragraph.replace("\\[", "[")
    for param in command.params:
        help_text = getattr(param, "help", None)
        if help_text and param.name != "help":
            yield help_text.replace("\\[", "[")


def test_every_command_is_covered() -> None:
    paths = {" ".join(p) for p, _ in COMMANDS}
    assert {"", "sync", "tui", "watch", "user add", "google auth"} <= paths
    assert len(paths) >= 20


@pytest.mark.parametrize(
    ("path", "command"), COMMANDS, ids=[" ".join(p) or "calsync" for p, _ in COMMANDS]
)
def test_help_shows_what_the_source_says(path: tuple[str, ...], command) -> None:  # type: ignore[no-untyped-def]
    result = CliRunner().invoke(
        cli.app, [*path, "--help"], prog_name="calsync", env={"COLUMNS": "200"}
    )
    assert result.exit_code == 0, result.output
    shown = _flat(result.output)
    assert shown.startswith(f"Usage: {' '.join(('calsync', *path))} [OPTIONS]")
    for text in _written(command):
        assert _flat(text) in shown, f"{text!r} is not shown as written:\n{result.output}"
    assert not re.search(r"\(R\d+\)|\bR\d+\b", shown), "requirement tags are for the spec"
    assert "{" not in shown and "}" not in shown, "no template placeholders"


def test_usage_names_arguments_the_usual_way() -> None:
    def usage(*path: str) -> str:
        out = CliRunner().invoke(cli.app, [*path, "--help"], prog_name="calsync").output
        return next(line.strip() for line in out.splitlines() if "Usage:" in line)

    assert usage("restore") == "Usage: calsync restore [OPTIONS] NAME ENTRY_ID"
    assert usage("sync") == "Usage: calsync sync [OPTIONS] [NAMES]..."
    assert usage("user", "set") == "Usage: calsync user set [OPTIONS] NAME ASSIGNMENTS..."


def test_help_through_the_real_entry_point() -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "tui", "tui", "--help"],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "COLUMNS": "200"},
    )
    assert proc.returncode == 0, proc.stderr
    assert "Usage: calsync tui [OPTIONS]" in proc.stdout
    assert "every [job] interval seconds" in _flat(proc.stdout)
