"""The main screen: every user, their sync state, and what can be done to them.

The runs (tui/screens/user_runs.py) and the user administration
(tui/screens/user_admin.py) are layers this screen builds on; this module holds
the loading, the filters and sorting, and the way to the other screens.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import ClassVar

from textual import events, on, work
from textual.app import ComposeResult
from textual.binding import BindingType
from textual.containers import Vertical
from textual.widgets import Header, Input

from tui.fleet import ATTENTION, FILTERS, STATES, FleetState, ItemError
from tui.fleet_state import due
from tui.messages import (
    DetailLoaded,
    OperationFailed,
    StampsRead,
    SummariesLoaded,
    UsersChanged,
    UsersLoaded,
)
from tui.screens.attention import AttentionScreen
from tui.screens.item_errors import ItemErrorsScreen
from tui.screens.log import LogScreen
from tui.screens.trash import TrashScreen
from tui.screens.user_admin import AdminScreen
from tui.screens.users_keys import USERS_KEYS
from tui.services import OperatorError, Services
from tui.widgets.fleet_summary import FleetSummary
from tui.widgets.keys_footer import KeysFooter
from tui.widgets.run_panel import RunPanel
from tui.widgets.user_detail import UserDetailPane
from tui.widgets.users_table import UsersTable

#: the states the hint under the table counts (throttled users only need time)
NEED_YOU = frozenset({"failing", "needs_operator"})
#: state files read per message while the table fills in
SUMMARY_CHUNK = 100
#: how often the workspace is looked at for changes made outside (one stat per user)
WATCH_SECONDS = 2.0


class UsersScreen(AdminScreen):
    BINDINGS: ClassVar[list[BindingType]] = USERS_KEYS

    def __init__(self, services: Services, *, autosync: bool) -> None:
        super().__init__(services, autosync=autosync)
        self._select_after_load: str | None = None
        self._stamps: dict[str, int] | None = None
        self._next_watch = 0.0

    def compose(self) -> ComposeResult:
        yield Header()
        with Vertical(id="users-main"):
            yield FleetSummary(id="fleet-summary")
            yield Input(
                placeholder="Search users by name or calendar  (/)", id="filter", compact=True
            )
            yield UsersTable(clock=self.services.clock, id="users")
            yield UserDetailPane(
                clock=self.services.clock, root=self.services.workspace.root, id="detail"
            )
            yield RunPanel(id="run-panel")
        yield KeysFooter(compact=True, show_command_palette=False)

    def on_mount(self) -> None:
        self.table.root = self.services.workspace.root
        self.table.focus()
        self.panel.autosync("auto-sync off" if not self.autosync else "")
        self.set_interval(1.0, self._tick)
        self.set_interval(60.0, self.table.refresh_times)
        self.set_interval(WATCH_SECONDS, self._watch_workspace)
        self.load_users()

    # -- loading -----------------------------------------------------------------------

    @work(thread=True, exclusive=True, group="users", exit_on_error=False)
    def load_users(self) -> None:
        try:
            rows = self.services.users()
            interval = self.services.interval()
        except OperatorError as exc:
            self.post_message(OperationFailed("Reading the users", str(exc)))
            return
        self.post_message(UsersLoaded(rows, interval))

    @on(UsersLoaded)
    def _users_loaded(self, message: UsersLoaded) -> None:
        self._interval = message.interval
        table = self.table
        table.set_users(message.rows)
        if self._select_after_load in table.shown:
            table.move_cursor(row=table.shown.index(self._select_after_load), animate=False)
        self._select_after_load = None
        if self.autosync and self._next_auto is None:
            self._next_auto = time.monotonic() + self._interval
            self._tick()
        if not message.rows:
            self.detail.show_message("No users yet: press n to add one.")
        # states not read yet (all, the first time), the rows on screen first, so the
        # operator sees their state soonest; a state that changes later is seen by its stamp
        missing = [n for n in table.shown if n not in table.summaries]
        on_screen = set(missing)
        missing += [
            n for n in table.rows_by_name if n not in on_screen and n not in table.summaries
        ]
        if missing:
            # after the rows are drawn: the reading thread competes for the interpreter
            self.call_after_refresh(self.load_summaries, missing)
        self._show_counts()
        self._show_selected()

    @work(thread=True, exclusive=True, group="summaries", exit_on_error=False)
    def load_summaries(self, names: Sequence[str]) -> None:
        chunk = {}
        for name, summary in self.services.summaries(names):
            chunk[name] = summary
            if len(chunk) >= SUMMARY_CHUNK:
                self.post_message(SummariesLoaded(chunk))
                chunk = {}
        self.post_message(SummariesLoaded(chunk))

    @on(SummariesLoaded)
    def _summaries_loaded(self, message: SummariesLoaded) -> None:
        self.table.set_summaries(message.summaries)
        self._show_counts()
        if self.table.selected_name in message.summaries and len(message.summaries) < SUMMARY_CHUNK:
            self._show_selected()  # an outside change to the user in the detail pane

    def _show_counts(self) -> None:
        counts = self.table.counts()
        self.query_one(FleetSummary).show(counts, self.table.state_filter)
        # from the first screen: that someone needs you, and the key that says why
        stuck = sum(counts.get(f.key, 0) for f in FILTERS if f.states <= NEED_YOU)
        self.panel.attention(
            f"{stuck:,} user{'s' if stuck != 1 else ''} need{'s' if stuck == 1 else ''} "
            "you: f shows why and the fix"
            if stuck
            else ""
        )

    @on(UsersTable.Highlighted, "#users")
    def _row_highlighted(self) -> None:
        self._show_selected()

    @on(UsersTable.HeaderClicked, "#users")
    def _header_clicked(self, event: UsersTable.HeaderClicked) -> None:
        self.table.sort_by(event.key)

    def _show_selected(self) -> None:
        name = self.table.selected_name
        if name is None:
            if not self.table.rows_by_name:
                self.detail.show_message("No users yet: press n to add one.")
            else:
                self.detail.show_message("No user matches the filter.")
            return
        self.load_detail(name)

    @work(thread=True, exclusive=True, group="detail", exit_on_error=False)
    def load_detail(self, name: str) -> None:
        try:
            detail = self.services.detail(name)
        except OperatorError as exc:
            self.post_message(DetailLoaded(name, None, str(exc)))
            return
        self.post_message(DetailLoaded(name, detail))

    @on(DetailLoaded)
    def _detail_loaded(self, message: DetailLoaded) -> None:
        if message.name != self.table.selected_name:
            return  # the cursor moved on meanwhile
        if message.detail is None:
            self.detail.show_error(message.name, message.error)
        else:
            self._detail_cache = {message.name: message.detail}
            self.detail.show(message.detail)

    # -- filter, sort, reload ------------------------------------------------------------

    def on_key(self, event: events.Key) -> None:
        """Keys typed fast after `/` reach the table before the search box has focus (the
        app hands each key to the focused widget as it arrives): they are the search's."""
        box = self.query_one("#filter", Input)
        if event.key == "slash" and self.focused is not box:
            # here, in the keys' order, not as a binding: the app checks those only after
            # the keys typed next were handed to the table, where "d" would disable a
            # user and "a" sync them all
            event.stop()
            event.prevent_default()
            self.action_filter()
        elif self.focused is box and event.is_printable:
            # the box takes every printable key it is given: this one was the table's
            event.stop()
            event.prevent_default()
            box.post_message(events.Key(event.key, event.character))

    def action_filter(self) -> None:
        # at once, not as widget.focus() does (after the keys already queued): "/dora"
        # typed fast would give the table "d" (on/off) and "a" (sync all)
        self.set_focus(self.query_one("#filter", Input))

    @on(Input.Changed, "#filter")
    def _filter_changed(self, event: Input.Changed) -> None:
        self.table.set_filter(event.value)
        self._show_selected()

    @on(Input.Submitted, "#filter")
    def _filter_submitted(self) -> None:
        self.table.focus()

    def action_clear_filter(self) -> None:
        box = self.query_one("#filter", Input)
        if box.value:
            box.value = ""
        self.table.focus()

    def action_sort(self) -> None:
        self.table.cycle_sort()
        self.notify(f"Sorted by {self.table.sort_key.replace('_', ' ')}", timeout=2)

    def action_sort_reverse(self) -> None:
        self.table.sort_by(self.table.sort_key)
        way = "descending" if self.table.sort_reverse else "ascending"
        self.notify(f"Sorted by {self.table.sort_key.replace('_', ' ')}, {way}", timeout=2)

    def action_state_filter(self, key: str) -> None:
        self.table.set_state_filter(key)
        self._show_counts()
        self._show_selected()

    @on(FleetSummary.Chosen)
    def _state_chosen(self, message: FleetSummary.Chosen) -> None:
        self.action_state_filter(message.key)

    # -- changes made outside: a cron run, `calsync user set` ---------------------------

    def _watch_workspace(self) -> None:
        if time.monotonic() < self._next_watch:
            return  # a big fleet: looked at less often, so watching costs under a tenth
        self.check_stamps(list(self.table.rows_by_name))

    @work(thread=True, exclusive=True, group="stamps", exit_on_error=False)
    def check_stamps(self, names: list[str]) -> None:
        started = time.monotonic()
        stamps = self.services.stamps(names)
        self._next_watch = time.monotonic() + 9 * (time.monotonic() - started)
        self.post_message(StampsRead(stamps))

    @on(StampsRead)
    def _stamps_read(self, message: StampsRead) -> None:
        old, self._stamps = self._stamps, message.stamps
        if old is None:
            return  # the first look: what was loaded is what is there
        if old.get("") != message.stamps.get(""):
            self.load_users()
        # a user new to the stamps is new to the table too: loaded with the users
        changed = [n for n, stamp in message.stamps.items() if n and n in old and old[n] != stamp]
        # a wait that is over (back-off, throttling): judged again, as `calsync status` does
        changed += [n for n in due(self.table.states, self.services.clock()) if n not in changed]
        if changed:
            self.reload_summaries(changed)

    @work(thread=True, exclusive=True, group="refresh", exit_on_error=False)
    def reload_summaries(self, names: list[str]) -> None:
        self.post_message(SummariesLoaded(dict(self.services.summaries(names))))

    # -- the fleet: attention and item errors -----------------------------------------------

    def attention(self) -> list[tuple[str, FleetState]]:
        table = self.table
        states = table.states
        return sorted(
            ((n, states[n]) for n in table.rows_by_name if states[n].state in ATTENTION),
            key=lambda e: (STATES.index(e[1].state), e[0].lower()),
        )

    def item_errors(self) -> list[tuple[str, ItemError]]:
        summaries = self.table.summaries
        return [(n, e) for n in sorted(summaries, key=str.lower) for e in summaries[n].item_errors]

    def action_attention(self) -> None:
        self.app.push_screen(AttentionScreen(self.attention), self._fix_chosen)

    def action_item_errors(self) -> None:
        self.app.push_screen(ItemErrorsScreen(self.item_errors), self._go_to_user)

    def _go_to_user(self, name: str | None) -> None:
        if name is None:
            return
        table = self.table
        if name not in table.shown:
            self.query_one("#filter", Input).value = ""
            table.set_filter("")
            self.action_state_filter("0")
        if name in table.shown:
            table.move_cursor(row=table.shown.index(name))

    def _fix_chosen(self, chosen: tuple[str, str] | None) -> None:
        if chosen is not None:
            self._go_to_user(chosen[0])
            self.fix(*chosen)

    @on(UsersChanged)
    def _users_changed(self, message: UsersChanged) -> None:
        self.notify(message.note)
        self._select_after_load = message.select
        self.load_users()

    # -- other screens --------------------------------------------------------------------

    def action_log(self) -> None:
        if (name := self._selected()) is not None:
            self.app.push_screen(LogScreen(self.services, name))

    def action_trash(self) -> None:
        if (name := self._selected()) is not None:
            self.app.push_screen(TrashScreen(self.services, name))
