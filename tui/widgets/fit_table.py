"""A table whose columns always fit its width: what must be read whole (an id, a time)
gets its width, the free text (subject, reason) shares the rest and is cut with "…".

A DataTable sizes columns to their content, so one long title pushes the id and
the reason off an 80-column screen; here the widths follow the table's own width,
recomputed when the terminal is resized.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from rich.text import Text
from textual import events
from textual.widgets import DataTable

#: a DataTable pads each cell by one column on either side
PADDING = 2
#: room for the vertical scroll bar
SCROLLBAR = 2


@dataclass(frozen=True)
class Column:
    key: str
    label: str
    #: cells it always gets; 0: a share of what is left
    width: int = 0
    share: int = 1
    least: int = 6


def column_widths(
    columns: Sequence[Column], total: int, longest: Sequence[int] | None = None
) -> list[int]:
    """Widths for a table `total` cells wide; a fixed column is never narrower than
    its `longest` cell (it is what must be read whole), a shared one never below `least`."""
    longest = longest or [0] * len(columns)
    widths = [max(c.width, n) if c.width else 0 for c, n in zip(columns, longest, strict=True)]
    flex = [n for n, c in enumerate(columns) if not c.width]
    free = total - SCROLLBAR - sum(w + PADDING for w in widths if w) - PADDING * len(flex)
    while flex:
        shares = sum(columns[n].share for n in flex)
        short = [n for n in flex if free * columns[n].share // shares < columns[n].least]
        if not short:
            for n in flex:
                widths[n] = free * columns[n].share // shares
            break
        for n in short:  # too narrow a share: give it its least, share out the rest
            widths[n] = columns[n].least
            free -= columns[n].least
            flex.remove(n)
    return widths


def fit(cell: Text, width: int) -> Text:
    if cell.cell_len <= width:
        return cell
    cell = cell.copy()
    cell.truncate(width, overflow="ellipsis")
    return cell


class FitTable(DataTable[Text]):
    def __init__(self, columns: Sequence[Column], **kw: object) -> None:
        kw.setdefault("cursor_type", "row")
        kw.setdefault("zebra_stripes", True)
        super().__init__(**kw)  # type: ignore[arg-type]
        self.fit_columns = list(columns)
        self._rows: list[tuple[str, Sequence[Text]]] = []
        self._width = 0

    def fill(self, rows: Sequence[tuple[str, Sequence[Text]]]) -> None:
        """Show `rows` (key, cells), keeping the cursor on the same row index."""
        self._rows = list(rows)
        self._render_rows(rebuild=not self.columns)

    def _render_rows(self, *, rebuild: bool) -> None:
        row = self.cursor_row
        longest = [
            max((cells[n].cell_len for _, cells in self._rows), default=0)
            for n in range(len(self.fit_columns))
        ]
        widths = column_widths(self.fit_columns, self.size.width or 80, longest)
        rebuild = rebuild or widths != [c.width for c in self.columns.values()]
        self.clear(columns=rebuild)
        if rebuild:
            for column, width in zip(self.fit_columns, widths, strict=True):
                self.add_column(column.label, key=column.key, width=width)
        for key, cells in self._rows:
            self.add_row(
                *(fit(cell, width) for cell, width in zip(cells, widths, strict=True)), key=key
            )
        if self._rows:
            self.move_cursor(row=min(max(row, 0), len(self._rows) - 1), animate=False)

    def on_resize(self, event: events.Resize) -> None:
        if event.size.width != self._width:
            self._width = event.size.width
            self._render_rows(rebuild=True)
