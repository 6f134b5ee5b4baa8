"""The status line under the users table: the running job with its progress, and auto-sync."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.widgets import Label, ProgressBar


class RunPanel(Horizontal):
    def compose(self) -> ComposeResult:
        # labels carry user names and progress lines from the engine: never markup
        yield Label("Idle", id="run-label", markup=False)
        # no ETA: it would make every screenshot differ
        yield ProgressBar(total=None, show_eta=False, id="run-progress")
        yield Label("", id="autosync-label", markup=False)

    def on_mount(self) -> None:
        self.query_one(ProgressBar).display = False

    def started(self, label: str) -> None:
        self.query_one("#run-label", Label).update(f"{label}  (ctrl+x cancels)")
        bar = self.query_one(ProgressBar)
        bar.update(total=None, progress=0)
        bar.display = True
        self.add_class("running")

    def progressed(self, done: int, total: int, label: str) -> None:
        self.query_one("#run-label", Label).update(f"{label}  (ctrl+x cancels)")
        self.query_one(ProgressBar).update(total=max(total, 1), progress=done)

    def finished(self, summary: str) -> None:
        self.query_one("#run-label", Label).update(summary)
        self.query_one(ProgressBar).display = False
        self.remove_class("running")

    def autosync(self, text: str) -> None:
        self.query_one("#autosync-label", Label).update(text)
