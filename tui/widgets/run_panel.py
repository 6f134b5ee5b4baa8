"""The status line under the users table: the running job with its progress, and auto-sync.

While a run goes: what it does now (a phase, or the item being written), how many of
how many, an ETA once there is a rate to go by, and how to cancel, the last three in a
part of the line that never shrinks, so they stay visible at 80 columns.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.widgets import Label, ProgressBar

from tui.widgets.format import countdown

CANCEL_HINT = "ctrl+x cancels"
#: seconds of a phase before its rate is trusted for an ETA (and before a fast test's
#: screenshot could show one)
ETA_AFTER = 2.0


def eta_text(done: int, total: int, elapsed: float, since: int = 0) -> str:
    """`0:35 left` from the rate since `since` items were done, or "" with no rate yet."""
    if done <= since or total <= done or elapsed < ETA_AFTER:
        return ""
    return f"{countdown(elapsed / (done - since) * (total - done))} left"


class RunPanel(Horizontal):
    def __init__(self, *, clock: Callable[[], float] = time.monotonic, id: str | None = None):
        super().__init__(id=id)
        self.clock = clock
        self._phase_total = -1
        self._phase_started = 0.0
        self._phase_done = 0
        self._hint = ""

    def compose(self) -> ComposeResult:
        # labels carry user names and progress lines from the engine: never markup
        yield Label("Idle", id="run-label", markup=False)
        # the bar's own ETA would redraw every second; ours is in #run-count
        yield ProgressBar(total=None, show_eta=False, id="run-progress")
        yield Label("", id="run-count", markup=False)
        yield Label("", id="autosync-label", markup=False)

    def on_mount(self) -> None:
        self.query_one(ProgressBar).display = False
        self.query_one("#run-count", Label).styles.width = "auto"

    def attention(self, hint: str) -> None:
        """What to press for users that need an operator, shown while no run goes."""
        self._hint = hint
        if not self.has_class("running"):
            self._show_hint()

    def _show_hint(self) -> None:
        count = self.query_one("#run-count", Label)
        count.update(f"{self._hint}  " if self._hint else "")
        count.set_class(bool(self._hint), "-hint")

    def started(self, label: str) -> None:
        self.query_one("#run-label", Label).update(label)
        self.query_one("#run-count", Label).update(f"  {CANCEL_HINT}  ")
        self.query_one("#run-count", Label).remove_class("-hint")
        bar = self.query_one(ProgressBar)
        bar.update(total=None, progress=0)
        bar.display = True
        self._phase_total = -1
        self.add_class("running")

    def progressed(self, done: int, total: int, label: str) -> None:
        """`done` of `total` (0: a phase with no count yet, the bar just moves)."""
        now = self.clock()
        if total != self._phase_total or done == 0:
            self._phase_total, self._phase_started, self._phase_done = total, now, done
        self.query_one("#run-label", Label).update(label)
        bar = self.query_one(ProgressBar)
        if total <= 0:
            bar.update(total=None, progress=0)
            count = ""
        else:
            bar.update(total=total, progress=done)
            eta = eta_text(done, total, now - self._phase_started, self._phase_done)
            count = f"{done:,}/{total:,}" + (f" · {eta}" if eta else "")
        hint = f"  {count} · {CANCEL_HINT}  " if count else f"  {CANCEL_HINT}  "
        self.query_one("#run-count", Label).update(hint)

    def finished(self, summary: str) -> None:
        self.query_one("#run-label", Label).update(summary)
        self.query_one(ProgressBar).display = False
        self.remove_class("running")
        self._show_hint()

    def autosync(self, text: str) -> None:
        self.query_one("#autosync-label", Label).update(text)
