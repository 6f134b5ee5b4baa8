"""The summary line over the users table: how many users are in each state, each a filter."""

from __future__ import annotations

from collections.abc import Mapping

from rich.text import Text
from textual import events
from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.message import Message
from textual.widgets import Static

from tui.fleet import FILTERS

#: a label's length when the full line does not fit
SHORT = 4


class StateChip(Static):
    """One filter: its key, its name and how many users it shows; a click applies it."""

    def __init__(self, key: str, label: str) -> None:
        super().__init__(id=f"state-{key}", classes="state-chip", markup=False)
        self.key = key
        self.label = label
        self.count(0)

    def count(self, n: int, *, short: bool = False) -> None:
        # the key as the footer shows keys, the count in bold: "3 operator 2" reads clearly
        label = self.label[:SHORT] if short else self.label
        self.update(Text.assemble((self.key, "reverse bold"), f" {label} ", (str(n), "bold")))

    def on_click(self, event: events.Click) -> None:
        event.stop()
        self.post_message(FleetSummary.Chosen(self.key))


class FleetSummary(Horizontal):
    class Chosen(Message):
        """A filter was clicked; the screen applies it (the keys 0-6 do the same)."""

        def __init__(self, key: str) -> None:
            super().__init__()
            self.key = key

    def compose(self) -> ComposeResult:
        for f in FILTERS:
            yield StateChip(f.key, f.label)

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self._shown: tuple[Mapping[str, int], str] = ({}, "0")

    def show(self, counts: Mapping[str, int], active: str) -> None:
        self._shown = (counts, active)
        # "key label count " per filter; too wide (big counts, 80 columns): shorter labels
        wide = sum(len(f"{f.key} {f.label} {counts.get(f.key, 0)} ") for f in FILTERS)
        short = bool(self.size.width) and wide > self.size.width
        for chip in self.query(StateChip):
            chip.count(counts.get(chip.key, 0), short=short)
            chip.set_class(chip.key == active, "-active")

    def on_resize(self) -> None:
        self.show(*self._shown)
