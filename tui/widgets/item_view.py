"""One calendar item, field by field, with the fields a change touched highlighted."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from rich.console import RenderableType
from rich.table import Table
from rich.text import Text
from textual.widgets import Static

from tui.widgets.format import ITEM_FIELDS, item_value


def item_table(
    item: Mapping[str, Any] | None, changed: set[str] | None = None, highlight: str = ""
) -> RenderableType:
    if not item:
        return Text("(no item)", style="dim italic")
    table = Table.grid(padding=(0, 1))
    table.add_column(style="bold", no_wrap=True)
    table.add_column(overflow="fold")
    for key in ITEM_FIELDS:
        if key not in item:
            continue
        value = Text(item_value(key, item.get(key)))
        label = Text(key.replace("_", " "))
        if changed and key in changed:
            value.stylize(highlight)
            label = Text(f"{label.plain} ●", style=highlight)
        table.add_row(label, value)
    return table


class ItemView(Static):
    """A titled item; `show(item, changed)` re-renders it."""

    DEFAULT_CLASSES = "item-view"

    def __init__(self, title: str, highlight: str, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.border_title = title
        self._highlight = highlight

    def show(self, item: Mapping[str, Any] | None, changed: set[str] | None = None) -> None:
        self.update(item_table(item, changed, self._highlight))
