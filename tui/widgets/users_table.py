"""The users table: rows from users.json at once, state columns filled in as they load.

A virtual table (Textual's line API): only the rows on screen are rendered, so
10,000 users cost no more to show, scroll, filter or sort than the screenful that
is visible. A DataTable measured every cell of every row on each rebuild: seconds
for 10,000 users. Filters, sorting and the shown order are plain lists of names.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from datetime import datetime
from typing import Any, ClassVar

from rich.segment import Segment
from rich.style import Style
from rich.text import Text
from textual import events
from textual.binding import Binding, BindingType
from textual.geometry import Size
from textual.message import Message
from textual.scroll_view import ScrollView
from textual.strip import Strip

from tui.fleet import FILTER_BY_KEY, STATE_STYLE, STATES, FleetState, count_states
from tui.fleet_state import UserSummary, fleet_state
from tui.services import UserRow, shown_address
from tui.widgets.format import counts_text, relative_time

#: key, header, width (0: takes what is left), priority (lower stays longer on a narrow screen)
COLUMNS = (
    ("name", "User", -1, 0),
    ("kind", "Remote", 7, 3),
    ("address", "Mailbox / calendar", 0, 1),
    ("enabled", "On", 3, 4),
    ("initialized", "Init", 4, 5),
    ("last_sync", "Last sync", 10, 2),
    ("state", "State", 14, 0),
    ("counts", "Last run CRM │ remote", 21, 6),
)
COLUMN_KEYS = tuple(c[0] for c in COLUMNS)
SORTABLE = COLUMN_KEYS
NAME_MAX, ADDRESS_MIN, ADDRESS_MAX = 20, 12, 40
#: from this width on, names may take twice as much
WIDE = 140
LOADING = Text("…", style="dim")
STATE_ORDER = {s: n for n, s in enumerate(STATES)}


def _one_line(text: str) -> str:
    """Control characters (a newline in an address) would break the row."""
    return "".join(c if c.isprintable() else " " for c in text)


def _yes_no(value: bool | None) -> Text:
    if value is None:
        return LOADING
    return Text("yes", style="green") if value else Text("no", style="yellow")


def fit_columns(width: int, longest: int) -> list[tuple[str, str, int]]:
    """The columns that fit `width` (`longest`: the longest user name), with their widths."""
    name_max = NAME_MAX if width < WIDE else 2 * NAME_MAX  # room for long names
    fixed = {k: (min(max(longest, 4), name_max) if w < 0 else w) for k, _, w, _ in COLUMNS}
    chosen: set[str] = set()
    used = ADDRESS_MIN
    for key, _, _, _ in sorted(COLUMNS, key=lambda c: c[3]):
        if key != "address" and used + fixed[key] + 1 <= width:
            chosen.add(key)
            used += fixed[key] + 1
    fixed["address"] = min(max(width - used + ADDRESS_MIN - 1, ADDRESS_MIN), ADDRESS_MAX)
    chosen.add("address")
    return [(k, label, fixed[k]) for k, label, _, _ in COLUMNS if k in chosen]


def row_cells(
    row: UserRow,
    summary: UserSummary | None,
    state: FleetState,
    running: bool,
    root: Any,
    now: datetime,
) -> dict[str, Text]:
    """Every column's cell for one user, as plain text (never markup)."""
    if running:
        state_cell = Text("running…", style="bold cyan")
    elif not state.state:
        state_cell = LOADING
    else:
        state_cell = Text(state.label, style=STATE_STYLE.get(state.state, ""))
    cells = {
        "name": Text(_one_line(row.name), style="bold"),
        "kind": Text(row.remote_kind) if row.remote_kind else Text("none", style="dim"),
        "address": Text(_one_line(shown_address(row.remote, root))),
        "enabled": _yes_no(row.enabled),
        "state": state_cell,
    }
    if summary is None:
        cells.update(initialized=LOADING, last_sync=LOADING, counts=Text(""))
    else:
        cells.update(
            initialized=_yes_no(summary.initialized),
            last_sync=Text(relative_time(summary.last_sync, now)),
            counts=Text(counts_text(summary.counts)),
        )
    return cells


class UsersTable(ScrollView, can_focus=True):
    DEFAULT_CSS = """
    UsersTable { background: $surface; }
    UsersTable > .users-table--header { text-style: bold; background: $panel; }
    UsersTable > .users-table--cursor { background: $block-cursor-blurred-background; }
    UsersTable:focus > .users-table--cursor {
        background: $block-cursor-background; color: $block-cursor-foreground;
    }
    UsersTable > .users-table--odd { background: $surface-lighten-1; }
    """
    COMPONENT_CLASSES: ClassVar[set[str]] = {
        "users-table--header",
        "users-table--cursor",
        "users-table--odd",
    }
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("up", "cursor(-1)", "Up", show=False),
        Binding("down", "cursor(1)", "Down", show=False),
        Binding("pageup", "page(-1)", "Page up", show=False),
        Binding("pagedown", "page(1)", "Page down", show=False),
        Binding("home", "edge(0)", "First", show=False),
        Binding("end", "edge(1)", "Last", show=False),
    ]

    class Highlighted(Message):
        """The cursor moved to another user (or to none)."""

        def __init__(self, table: UsersTable, name: str | None) -> None:
            super().__init__()
            self.table = table
            self.name = name

        @property
        def control(self) -> UsersTable:
            return self.table

    class HeaderClicked(Message):
        def __init__(self, table: UsersTable, key: str) -> None:
            super().__init__()
            self.table = table
            self.key = key

        @property
        def control(self) -> UsersTable:
            return self.table

    def __init__(self, *, clock: Callable[[], datetime], id: str | None = None) -> None:
        super().__init__(id=id)
        self._clock = clock
        self.rows_by_name: dict[str, UserRow] = {}
        self.summaries: dict[str, UserSummary] = {}
        self.states: dict[str, FleetState] = {}
        self.running: set[str] = set()
        self.filter_text = ""
        self.state_filter = "0"
        self.sort_key = "name"
        self.sort_reverse = False
        self.root: Any = None
        self.shown: list[str] = []
        self.cursor_row = 0
        self._highlighted: str | None = None
        self._layout: list[tuple[str, str, int]] = []

    # -- data --------------------------------------------------------------------------

    def set_users(self, rows: Iterable[UserRow]) -> None:
        before, self.rows_by_name = self.rows_by_name, {r.name: r for r in rows}
        self._layout = []  # the name column's width follows the longest name
        # a changed record (turned off, another mailbox) changes the health: read again
        kept = self.summaries.items()
        self.summaries = {n: s for n, s in kept if before.get(n) == self.rows_by_name.get(n)}
        self.states = {n: self._state(n) for n in self.rows_by_name}
        self.rebuild()

    def set_summaries(self, summaries: Mapping[str, UserSummary]) -> None:
        known = {n: s for n, s in summaries.items() if n in self.rows_by_name}
        self.summaries.update(known)
        for name in known:
            self.states[name] = self._state(name)
        if self.state_filter != "0" or self.sort_key not in ("name", "kind", "address", "enabled"):
            self.rebuild()  # where a row belongs depends on what just arrived
        else:
            self.refresh()

    def set_running(self, names: Iterable[str], running: bool) -> None:
        for name in names:
            if running:
                self.running.add(name)
            else:
                self.running.discard(name)
        self.refresh()

    def _state(self, name: str) -> FleetState:
        return fleet_state(self.rows_by_name[name].enabled, self.summaries.get(name))

    def counts(self) -> dict[str, int]:
        """Users per summary-line filter (users whose state is still loading count in "all")."""
        tally = count_states(s.state for s in self.states.values())
        tally["0"] = len(self.rows_by_name)
        return tally

    # -- view: filter, sort, cursor ----------------------------------------------------

    @property
    def row_count(self) -> int:
        return len(self.shown)

    @property
    def selected_name(self) -> str | None:
        if not self.shown or not 0 <= self.cursor_row < len(self.shown):
            return None
        return self.shown[self.cursor_row]

    def set_filter(self, text: str) -> None:
        self.filter_text = text.strip().lower()
        self.rebuild()

    def set_state_filter(self, key: str) -> None:
        self.state_filter = key if key in FILTER_BY_KEY else "0"
        self.rebuild()

    def sort_by(self, key: str, *, reverse: bool | None = None) -> None:
        if key not in SORTABLE:
            return
        if reverse is not None:
            self.sort_key, self.sort_reverse = key, reverse
        elif key == self.sort_key:
            self.sort_reverse = not self.sort_reverse
        else:
            self.sort_key, self.sort_reverse = key, False
        self.rebuild()

    def cycle_sort(self) -> None:
        index = SORTABLE.index(self.sort_key) if self.sort_key in SORTABLE else 0
        self.sort_by(SORTABLE[(index + 1) % len(SORTABLE)], reverse=False)

    def _matches(self, row: UserRow, words: list[str], states: frozenset[str] | None) -> bool:
        if states is not None and self.states[row.name].state not in states:
            return False
        if not words:
            return True
        haystack = f"{row.name} {row.remote} {row.crm}".lower()
        return all(word in haystack for word in words)

    def _sort_value(self, row: UserRow) -> Any:
        key, name = self.sort_key, row.name.lower()
        summary = self.summaries.get(row.name) or UserSummary()
        if key == "kind":
            return (row.remote_kind, name)
        if key == "address":
            return (shown_address(row.remote, self.root).lower(), name)
        if key == "enabled":
            return (not row.enabled, name)
        if key == "initialized":
            return (not summary.initialized, name)
        if key == "last_sync":
            stamp = summary.last_sync.timestamp() if summary.last_sync else 0.0
            return (-stamp, name)
        if key == "state":
            return (STATE_ORDER.get(self.states[row.name].state, len(STATES)), name)
        if key == "counts":
            total = sum(sum(c.values()) for c in summary.counts.values())
            return (-total, name)
        return name

    def rebuild(self) -> None:
        """Filter and sort again; the selected user stays selected when still shown."""
        keep = self.selected_name
        words = self.filter_text.split()
        states = None if self.state_filter == "0" else FILTER_BY_KEY[self.state_filter].states
        rows = [r for r in self.rows_by_name.values() if self._matches(r, words, states)]
        rows.sort(key=self._sort_value, reverse=self.sort_reverse)
        self.shown = [r.name for r in rows]
        self.virtual_size = Size(self.size.width, len(self.shown) + 1)
        row = self.shown.index(keep) if keep in self.shown else 0
        self.move_cursor(row=min(row, max(len(self.shown) - 1, 0)), scroll=keep in self.shown)
        self.refresh()

    def move_cursor(self, *, row: int, animate: bool = False, scroll: bool = True) -> None:
        self.cursor_row = max(0, min(row, len(self.shown) - 1))
        if scroll:
            self._scroll_to_cursor()
        self.refresh()
        name = self.selected_name
        if name != self._highlighted:
            self._highlighted = name
            self.post_message(self.Highlighted(self, name))

    def _scroll_to_cursor(self) -> None:
        visible = max(self.size.height - 1, 1)
        top = int(self.scroll_offset.y)
        if self.cursor_row < top:
            self.scroll_to(y=self.cursor_row, animate=False, immediate=True)
        elif self.cursor_row >= top + visible:
            self.scroll_to(y=self.cursor_row - visible + 1, animate=False, immediate=True)

    def action_cursor(self, step: int) -> None:
        self.move_cursor(row=self.cursor_row + step)

    def action_page(self, step: int) -> None:
        self.move_cursor(row=self.cursor_row + step * max(self.size.height - 2, 1))

    def action_edge(self, end: int) -> None:
        self.move_cursor(row=len(self.shown) - 1 if end else 0)

    def on_click(self, event: events.Click) -> None:
        if event.y == 0:
            for key, _, start, width in self._spans():
                if start <= event.x < start + width:
                    self.post_message(self.HeaderClicked(self, key))
            return
        row = int(self.scroll_offset.y) + event.y - 1
        if 0 <= row < len(self.shown):
            self.move_cursor(row=row, scroll=False)

    def refresh_times(self) -> None:
        """Re-render "5 min ago" texts, and states whose throttling has run out."""
        self.states = {n: self._state(n) for n in self.rows_by_name}
        self.rebuild()

    # -- rendering ---------------------------------------------------------------------

    def on_resize(self) -> None:
        self.virtual_size = Size(self.size.width, len(self.shown) + 1)
        self._layout = []

    def _columns(self) -> list[tuple[str, str, int]]:
        """The columns that fit the width, with their widths, in table order."""
        if not self._layout:
            longest = max((len(n) for n in self.rows_by_name), default=4)
            self._layout = fit_columns(self.size.width, longest)
        return self._layout

    def _spans(self) -> Iterable[tuple[str, str, int, int]]:
        x = 0
        for key, label, width in self._columns():
            yield key, label, x, width
            x += width + 1

    def render_line(self, y: int) -> Strip:
        width = self.size.width
        if y == 0:
            style = self.get_component_rich_style("users-table--header")
            cells = []
            for key, label, w in self._columns():
                arrow = (" ▼" if self.sort_reverse else " ▲") if key == self.sort_key else ""
                head = Text(label)
                head.truncate(w - len(arrow), overflow="ellipsis")  # the arrow always shows
                cells.append((head + arrow, w))
            return self._strip(cells, style, width)
        index = int(self.scroll_offset.y) + y - 1
        if index >= len(self.shown):
            return Strip.blank(width, self.rich_style)
        if index == self.cursor_row:
            style = self.get_component_rich_style("users-table--cursor")
        elif index % 2:
            style = self.get_component_rich_style("users-table--odd")
        else:
            style = self.rich_style
        every = self._cells(self.rows_by_name[self.shown[index]])
        shown = []
        for key, _, w in self._columns():
            cell = every[key]
            if key == "address" and cell.cell_len > w:
                # the end of an address is where calendars differ; the detail pane shows it all
                cell = Text("…" + cell.plain[-(w - 1) :])
            shown.append((cell, w))
        return self._strip(shown, style, width)

    def _strip(self, cells: list[tuple[Text, int]], style: Style, width: int) -> Strip:
        line = Text(no_wrap=True, end="")
        for text, w in cells:
            cell = text.copy()
            cell.truncate(w, overflow="ellipsis", pad=True)
            line.append_text(cell)
            line.append(" ")
        segments = [
            Segment(s.text, style + s.style if s.style else style, s.control)
            for s in line.render(self.app.console)
        ]
        return Strip(segments).crop_extend(0, width, style)

    def get_row(self, name: str) -> list[Text]:
        """Every column's cell for one user, in COLUMNS order (whether shown or not)."""
        every = self._cells(self.rows_by_name[name])
        return [every[key] for key in COLUMN_KEYS]

    def _cells(self, row: UserRow) -> dict[str, Text]:
        name = row.name
        running = name in self.running
        state = self.states.get(name) or FleetState("")
        return row_cells(row, self.summaries.get(name), state, running, self.root, self._clock())
