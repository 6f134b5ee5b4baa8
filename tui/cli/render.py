"""How a run's result reads on the terminal: result lines, plans, tables, exit codes.

Shared by `calsync init / sync` and the `--all` job, so neither imports the other.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING

from sync.engine.runner import RunResult
from sync.health import Health
from sync.job import error_line
from tui.cli.common import EXIT_FAILED, EXIT_OK, EXIT_OPERATOR, stderr_console, stdout_console

if TYPE_CHECKING:
    from rich.table import Table


def escape(text: str) -> str:
    """rich's markup escape, imported when something is printed (a cron run that
    has nothing to say imports no rich)."""
    from rich.markup import escape as rich_escape

    return rich_escape(text)


def short_time(text: str) -> str:
    """ISO time (maybe with an [IANA zone] suffix) as a short wall-clock time."""
    text = text.split("[", 1)[0]
    return text[:16].replace("T", " ")


def exit_code(results: list[RunResult], *, busy_fails: bool = False) -> int:
    """0 all synced, 1 at least one failed, 3 at least one needs an operator.

    `busy_fails`: a user named on the command line that another run holds was not
    synced, so it fails the command; the `--all` job skips busy users (exit 0).
    """
    failed = ("failed", "busy") if busy_fails else ("failed",)
    if any(r.result in failed for r in results):
        return EXIT_FAILED
    if any(r.result == "needs_operator" for r in results):
        return EXIT_OPERATOR
    return EXIT_OK


def counts_text(counts: dict[str, dict[str, int]]) -> str:
    parts = []
    for side in ("crm", "remote"):
        c = counts.get(side) or {}
        parts.append(f"{side} +{c.get('create', 0)} ~{c.get('update', 0)} -{c.get('delete', 0)}")
    return ", ".join(parts)


STYLE = {
    "ok": "green",
    "failed": "red",
    "needs_operator": "yellow",
    "busy": "cyan",
    "deferred": "cyan",
    "skipped": "dim",
    "planned": "blue",
    "cancelled": "yellow",
}


def when_text(when: datetime | None) -> str:
    return f"{when.astimezone(UTC):%Y-%m-%d %H:%M} UTC" if when else ""


def health_line(health: Health | None) -> str:
    """What happens next for a user that is not ok, in one line: the class, the count,
    the next retry and what to run. Empty for a healthy user."""
    if health is None or health.state in ("ok", "never"):
        return ""
    parts = [health.state.replace("_", " ")]
    if health.error_class:
        parts.append(f"{health.error_class} error")
    if health.failures:
        parts.append(f"{health.failures} failure(s) in a row")
    if health.next_retry:
        parts.append(f"next retry {when_text(health.next_retry)}")
    text = ", ".join(parts)
    return f"{text}: {health.action}" if health.action else text


def health_cell(health: Health) -> str:
    """ "deferred · transient · 3" for the status table."""
    text = health.state.replace("_", " ")
    if health.error_class:
        text += f", {health.error_class}"
    return f"{text} ×{health.failures}" if health.failures else text


def add_row(table: Table, *cells: str) -> None:
    # cells hold subjects and reasons from calendars: never interpret them as markup
    table.add_row(*(escape(str(c)) for c in cells))


def render_result(result: RunResult) -> None:
    style = STYLE.get(result.result, "white")
    line = f"[bold]{escape(result.user)}[/]: [{style}]{result.result}[/]"
    if result.result == "ok":
        line += f" — {counts_text(result.counts)}"
        if result.conflicts:
            line += f", {result.conflicts} changed meanwhile (next run)"
    if result.reason:
        line += f" — {escape(result.reason)}"
    stdout_console().print(line)
    report_errors(result)
    for warning in result.warnings[:20]:
        stdout_console().print(f"  [yellow]warning[/] {escape(warning)}")


def report_errors(result: RunResult) -> None:
    """What failed, on stderr: one line per failed item, or the run's own error.

    The result line stays on stdout with the other results; a script (or cron) that
    keeps stdout for results sees every failure on stderr.
    """
    if result.result not in ("failed", "needs_operator"):
        return
    items = [e for e in result.errors[:20] if e.get("item")]
    if not items:
        line = error_line(result)
        stderr_console().print(f"calsync: {result.user}: {result.result}: {line}", markup=False)
    for err in items:
        stderr_console().print(
            f"calsync: {result.user}: {err.get('item')}: {err.get('error', '')}", markup=False
        )


def render_plan(result: RunResult) -> None:
    plan = result.plan
    assert plan is not None
    writes = plan.writes
    from rich.table import Table  # only for a plan shown on screen

    table = Table(title=f"{result.user}: {len(writes)} planned change(s)", show_lines=False)
    for col in ("action", "side", "subject", "reason"):
        table.add_column(col)
    for action in writes:
        shown = action.after or action.before
        add_row(table, action.op, action.side, shown.subject if shown else "", action.reason)
    stdout_console().print(table)
    if plan.guard:
        stdout_console().print(
            f"[yellow]guard:[/] {escape(plan.guard)}: run `calsync sync {escape(result.user)} "
            "--force` to apply it",
            soft_wrap=True,
        )
    for warning in plan.warnings:
        stdout_console().print(f"  [yellow]warning[/] {escape(warning)}")
