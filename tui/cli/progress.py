"""A live progress line for one user's run on a terminal: phase, items done of total, ETA.

Only for a person watching: off a terminal (cron, a pipe), with --json or --quiet,
nothing is drawn, so scripts and mails read exactly what they did before. The line
goes to stderr and is transient: it is gone once the result is printed.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

from sync.engine.applier import Progress as ProgressCallback
from tui.cli.common import stderr_console, stdout_console

if TYPE_CHECKING:
    from rich.console import Console

#: cells of a label (an item's subject) on a wide line
LABEL_CELLS = 40
#: cells the rest of the line takes but the bar: spinner, counts, ETA, elapsed time; the
#: label gets what is left, so the counts stay visible in 80 columns
OTHER_CELLS = 42


def watched(*, as_json: bool = False, quiet: bool = False) -> bool:
    """Whether a person is watching: stdout and stderr on a terminal, no --json/--quiet."""
    if as_json or quiet:  # asked first: cron's run then needs no console (nor rich)
        return False
    return stderr_console().is_terminal and stdout_console().is_terminal


def short(label: str, cells: int = LABEL_CELLS) -> str:
    from rich.text import Text

    text = Text(label.replace("\n", " "))
    text.truncate(cells, overflow="ellipsis")
    return text.plain


@contextmanager
def user_progress(
    name: str, *, enabled: bool, console: Console | None = None
) -> Iterator[ProgressCallback | None]:
    """Yields the engine's progress callback for `name`'s run, or None when not shown."""
    if not enabled:
        yield None
        return
    from rich.progress import (  # only when drawn: a cron run never is
        BarColumn,
        MofNCompleteColumn,
        Progress,
        SpinnerColumn,
        TextColumn,
        TimeElapsedColumn,
        TimeRemainingColumn,
    )

    console = console or stderr_console()
    bar = 20 if console.width >= 100 else 10
    with Progress(
        SpinnerColumn(),
        # subjects are calendar data: `[bold]` in one is text, never markup
        TextColumn("{task.description}", markup=False),
        BarColumn(bar_width=bar),
        MofNCompleteColumn(),
        TextColumn("· ETA"),
        TimeRemainingColumn(),
        TextColumn("·"),
        TimeElapsedColumn(),
        console=console,
        transient=True,
    ) as progress:
        task = progress.add_task(f"{name}: starting", total=None)
        free = console.width - OTHER_CELLS - bar - len(name)
        cells = max(10, min(LABEL_CELLS, free))

        def report(done: int, total: int, label: str) -> None:
            progress.update(
                task,
                completed=done,
                total=total or None,
                description=f"{name}: {short(label, cells)}",
            )

        yield report
