"""The main screen: every user, their sync state, and what can be done to them.

Runs (sync, init, preview, sync all, auto-sync) live here rather than on the
app, because this screen shows their progress and reacts to what they find;
one run at a time, so two never race for a user's lock.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Sequence
from typing import TYPE_CHECKING, ClassVar

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.notifications import SeverityLevel
from textual.screen import Screen
from textual.widgets import DataTable, Header, Input
from textual.worker import Worker, WorkerState

from tui.messages import (
    CheckFinished,
    DetailLoaded,
    OperationFailed,
    RunFinished,
    RunProgressed,
    RunRequest,
    SummariesLoaded,
    UserRunFinished,
    UsersChanged,
    UsersLoaded,
)
from tui.screens.check import CheckScreen
from tui.screens.confirm import ConfirmDialog
from tui.screens.log import LogScreen
from tui.screens.plan import PlanScreen
from tui.screens.trash import TrashScreen
from tui.screens.user_form import UserForm, UserFormScreen
from tui.services import IDENTITY_QUESTION, OperatorError, RunResult, Services, UserDetail
from tui.widgets.format import RESULT_LABEL, countdown, counts_sentence
from tui.widgets.keys_footer import KeysFooter
from tui.widgets.run_panel import RunPanel
from tui.widgets.user_detail import UserDetailPane
from tui.widgets.users_table import UsersTable

if TYPE_CHECKING:
    from tui.app import CalsyncApp

#: state files read per message while the table fills in
SUMMARY_CHUNK = 100


def deletion_question(result: RunResult) -> str:
    """The mass-deletion guard's question, with the count per calendar that would lose items."""
    plan = result.plan
    parts = []
    for side, label in (("crm", "the CRM calendar"), ("remote", "the remote calendar")):
        actions = plan.actions if plan is not None else []
        count = sum(1 for a in actions if a.op == "delete" and a.side == side)
        if count:
            parts.append(f"{count} item{'s' if count != 1 else ''} in {label}")
    what = " and ".join(parts) or "items"
    return f"This sync would delete {what}. Continue?"


class UsersScreen(Screen[None]):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("s", "sync", "Sync"),
        Binding("a", "sync_all", "Sync all"),
        Binding("i", "init", "Init"),
        Binding("p", "preview", "Preview"),
        Binding("c", "check", "Check"),
        Binding("l", "log", "Log"),
        Binding("t", "trash", "Trash"),
        Binding("e", "edit", "Edit"),
        Binding("d", "toggle_enabled", "On/off"),
        Binding("n", "add", "Add"),
        Binding("delete", "remove", "Remove"),
        Binding("slash", "filter", "Filter"),
        Binding("o", "sort", "Sort"),
        Binding("ctrl+x", "cancel_run", "Cancel"),
        Binding("r", "reload", "Reload", show=False),
        Binding("escape", "clear_filter", "Clear filter", show=False),
    ]

    def __init__(self, services: Services, *, autosync: bool) -> None:
        super().__init__()
        self.services = services
        self.autosync = autosync
        self._cancel: threading.Event | None = None
        self._current: RunRequest | None = None
        self._next_auto: float | None = None
        self._interval = 0
        self._detail_cache: dict[str, UserDetail] = {}
        self._preview_init: dict[str, bool] = {}
        self._select_after_load: str | None = None

    @property
    def calsync(self) -> CalsyncApp:
        from tui.app import CalsyncApp

        assert isinstance(self.app, CalsyncApp)
        return self.app

    def compose(self) -> ComposeResult:
        yield Header()
        with Vertical(id="users-main"):
            yield Input(placeholder="Filter users: name, calendar, result  (/)", id="filter")
            yield UsersTable(clock=self.services.clock, id="users")
            yield UserDetailPane(
                clock=self.services.clock, root=self.services.workspace.root, id="detail"
            )
            yield RunPanel(id="run-panel")
        yield KeysFooter(compact=True, show_command_palette=False)

    @property
    def table(self) -> UsersTable:
        return self.query_one(UsersTable)

    @property
    def panel(self) -> RunPanel:
        return self.query_one(RunPanel)

    @property
    def detail(self) -> UserDetailPane:
        return self.query_one(UserDetailPane)

    def on_mount(self) -> None:
        self.table.root = self.services.workspace.root
        self.table.focus()
        self.panel.autosync("auto-sync off" if not self.autosync else "")
        self.set_interval(1.0, self._tick)
        self.set_interval(60.0, self.table.refresh_times)
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
        # the rows on screen first, so the operator sees their state soonest
        order = table.shown + [n for n in table.rows_by_name if n not in set(table.shown)]
        self.load_summaries(order)
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

    @on(DataTable.RowHighlighted, "#users")
    def _row_highlighted(self) -> None:
        self._show_selected()

    @on(DataTable.HeaderSelected, "#users")
    def _header_selected(self, event: DataTable.HeaderSelected) -> None:
        self.table.sort_by(str(event.column_key.value))

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

    def action_filter(self) -> None:
        self.query_one("#filter", Input).focus()

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

    def action_reload(self) -> None:
        self.load_users()

    # -- runs ----------------------------------------------------------------------------

    def _selected(self) -> str | None:
        name = self.table.selected_name
        if name is None:
            self.notify("Select a user first.", severity="warning")
        return name

    def action_sync(self) -> None:
        if (name := self._selected()) is not None:
            self.start_run(RunRequest("sync", (name,)))

    def action_init(self) -> None:
        if (name := self._selected()) is not None:
            self.start_run(RunRequest("init", (name,)))

    def action_preview(self) -> None:
        if (name := self._selected()) is not None:
            self.start_run(RunRequest("preview", (name,)))

    def action_sync_all(self) -> None:
        self.start_run(RunRequest("all", ()))

    @property
    def running(self) -> bool:
        return self._current is not None

    def start_run(self, request: RunRequest) -> bool:
        if self._current is not None:
            self.notify(
                f"{self._current.label} is still running (ctrl+x cancels it).", severity="warning"
            )
            return False
        self._current = request
        self._cancel = threading.Event()
        self.refresh_bindings()
        self.table.set_running(request.names, True)
        self.panel.started(request.label)
        self.run_users(request, self._cancel)
        return True

    @work(thread=True, exclusive=True, group="run", exit_on_error=False)
    def run_users(self, request: RunRequest, cancel: threading.Event) -> None:
        names = request.names or tuple(self.services.runnable())
        results: list[RunResult] = []
        single = len(names) == 1
        for index, name in enumerate(names):
            if cancel.is_set():
                break
            if not single:
                self.post_message(RunProgressed(index, len(names), f"{request.label}: {name}"))

            def progress(done: int, total: int, label: str, who: str = name) -> None:
                self.post_message(RunProgressed(done, total, f"{who}: {label}"))

            init = request.init or request.kind == "init"
            if request.kind == "preview" and not init:
                init = not self.services.is_initialized(name)
            result = self.services.run(
                name,
                init=init,
                dry_run=request.kind == "preview",
                force=request.force,
                accept_new_identity=request.accept_new_identity,
                progress=progress if single else None,
                cancel=cancel,
            )
            self.post_message(UserRunFinished(result, self.services.summary(name), init))
            results.append(result)
        self.post_message(RunFinished(request, results))

    @on(RunProgressed)
    def _run_progressed(self, message: RunProgressed) -> None:
        if self._current is not None:
            self.panel.progressed(message.done, message.total, message.label)

    @on(UserRunFinished)
    def _user_run_finished(self, message: UserRunFinished) -> None:
        name = message.result.user
        self._preview_init[name] = message.init
        self.table.set_running([name], False)
        self.table.set_summaries({name: message.summary})
        if name == self.table.selected_name:
            self.load_detail(name)

    @on(RunFinished)
    def _run_finished(self, message: RunFinished) -> None:
        request, results = message.request, message.results
        self._run_done(request)
        self.panel.finished(_summary_line(request, results))
        if request.kind in ("all", "auto") or len(results) != 1:
            self._report_many(request, results)
        else:
            self._react(request, results[0])

    def _run_done(self, request: RunRequest | None) -> None:
        if request is not None:
            self.table.set_running(request.names, False)
        self.table.set_running(list(self.table.running), False)
        self._current = None
        self._cancel = None
        self.refresh_bindings()
        if request is not None and request.kind == "auto" and self.autosync:
            self._next_auto = time.monotonic() + self._interval

    def _react(self, request: RunRequest, result: RunResult) -> None:
        """One user's run is over: tell the operator, and ask what the engine could not decide."""
        name = result.user
        if result.result == "planned":
            init = request.init or self._preview_init.get(name, False)
            self.app.push_screen(
                PlanScreen(result, init=init),
                lambda apply: self._apply_plan(name, init, bool(apply)),
            )
        elif result.needs == "identity_changed":
            self.app.push_screen(
                ConfirmDialog(
                    IDENTITY_QUESTION,
                    title=f"{name}: the remote calendar changed",
                    detail="Yes initializes against the current calendar; No leaves the user untouched.",
                ),
                lambda yes: self._identity_answer(name, bool(yes)),
            )
        elif result.needs == "mass_delete":
            self.app.push_screen(
                ConfirmDialog(
                    deletion_question(result),
                    title=f"{name}: safety guard",
                    detail="Deleted items are kept in the trash and can be restored. "
                    "No leaves the user unsynced.",
                    yes="Delete",
                    danger=True,
                ),
                lambda yes: self._deletion_answer(request, bool(yes)),
            )
        elif result.needs == "not_initialized":
            self.app.push_screen(
                ConfirmDialog(
                    f"{name} has not been initialized. Initialize now? Both calendars are "
                    "compared, existing items paired and missing ones created on each side.",
                    title=f"{name}: not initialized",
                ),
                lambda yes: self._init_answer(name, bool(yes)),
            )
        elif result.result == "ok":
            self.notify(f"{name}: {counts_sentence(result.counts)}.", title="Sync finished")
            for warning in result.warnings[:3]:
                self.notify(warning, title=name, severity="warning")
        elif result.result == "failed":
            self.notify(
                result.reason or "the run failed",
                title=f"{name}: error",
                severity="error",
                timeout=10,
            )
            for err in result.errors[:3]:
                if err.get("error") and err.get("error") != result.reason:
                    self.notify(err["error"], title=name, severity="error", timeout=10)
        else:
            label = RESULT_LABEL.get(result.result, result.result)
            self.notify(f"{name}: {label}. {result.reason}".strip(), severity="warning")

    def _report_many(self, request: RunRequest, results: list[RunResult]) -> None:
        if request.kind == "auto" and all(r.result in ("ok", "skipped") for r in results):
            return  # a quiet auto-sync needs no attention
        line = _summary_line(request, results)
        bad = [r for r in results if r.result in ("failed", "needs_operator")]
        severity: SeverityLevel = (
            "error"
            if any(r.result == "failed" for r in bad)
            else ("warning" if bad else "information")
        )
        detail = "; ".join(f"{r.user}: {RESULT_LABEL.get(r.result, r.result)}" for r in bad[:5])
        self.notify(f"{line}. {detail}".strip(". ") if detail else line, severity=severity)

    def _apply_plan(self, name: str, init: bool, apply: bool) -> None:
        if apply:
            self.start_run(RunRequest("sync", (name,), init=init))
        else:
            self.notify(f"{name}: nothing applied.")

    def _identity_answer(self, name: str, yes: bool) -> None:
        if yes:
            self.start_run(RunRequest("init", (name,), accept_new_identity=True))
        else:
            self.notify(f"{name} left untouched: not synced.", severity="warning")

    def _deletion_answer(self, request: RunRequest, yes: bool) -> None:
        if yes:
            self.start_run(RunRequest(request.kind, request.names, force=True, init=request.init))
        else:
            self.notify("Nothing deleted: the user was not synced.", severity="warning")

    def _init_answer(self, name: str, yes: bool) -> None:
        if yes:
            self.start_run(RunRequest("init", (name,)))

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        # "cancel" only shows in the footer while there is something to cancel
        if action == "cancel_run":
            return self._current is not None
        return True

    def cancel_running(self) -> None:
        if self._cancel is not None:
            self._cancel.set()

    def action_cancel_run(self) -> None:
        if self._cancel is None:
            self.notify("Nothing is running.")
            return
        self._cancel.set()
        self.panel.progressed(0, 0, "Cancelling…")

    @on(Worker.StateChanged)
    def _worker_changed(self, event: Worker.StateChanged) -> None:
        # a run worker that died must not leave the screen thinking a run is going on
        if event.worker.group == "run" and event.state in (
            WorkerState.ERROR,
            WorkerState.CANCELLED,
        ):
            request = self._current
            self._run_done(request)
            self.panel.finished("The run stopped on an unexpected error.")

    # -- auto-sync ------------------------------------------------------------------------

    def _tick(self) -> None:
        if not self.autosync or self._next_auto is None:
            return
        left = self._next_auto - time.monotonic()
        if self._current is not None:
            self.panel.autosync("auto-sync waits for the current run")
        else:
            self.panel.autosync(f"next auto-sync in {countdown(left)}")
        if left <= 0 and self._current is None:
            self.run_autosync()

    def run_autosync(self) -> None:
        if self.start_run(RunRequest("auto", ())):
            self._next_auto = None
            self.panel.autosync("auto-sync running")

    # -- check ----------------------------------------------------------------------------

    def action_check(self) -> None:
        if (name := self._selected()) is not None:
            self.notify(f"Checking {name}'s calendars…", timeout=3)
            self.check_user(name)

    @work(thread=True, exclusive=True, group="check", exit_on_error=False)
    def check_user(self, name: str) -> None:
        try:
            rows = self.services.check(name)
        except OperatorError as exc:
            self.post_message(OperationFailed(f"Checking {name}", str(exc)))
            return
        self.post_message(CheckFinished(name, rows))

    @on(CheckFinished)
    def _check_finished(self, message: CheckFinished) -> None:
        self.app.push_screen(CheckScreen(message.name, message.rows))

    # -- users: add, edit, enable, remove ---------------------------------------------------

    def action_add(self) -> None:
        self.app.push_screen(
            UserFormScreen(self.services.check_field, check_name=self.services.check_name),
            self._form_done,
        )

    def action_edit(self) -> None:
        name = self._selected()
        if name is None:
            return
        detail = self._detail_cache.get(name)
        if detail is None:
            self.notify("Still loading the user; try again.", severity="warning")
            return
        record: dict[str, object] = {
            "name": name,
            "crm": detail.row.crm,
            "remote": detail.row.remote,
            "enabled": detail.row.enabled,
            **{s.key: s.own for s in detail.settings},
        }
        self.app.push_screen(
            UserFormScreen(self.services.check_field, record=record), self._form_done
        )

    def _form_done(self, form: UserForm | None) -> None:
        if form is None:
            return
        # the form says: an add of a taken name fails, never edits that user
        if not form.adding and not form.values:
            self.notify("Nothing changed.")
            return
        self.write_user("add" if form.adding else "edit", form)

    @work(thread=True, exclusive=True, group="write", exit_on_error=False)
    def write_user(self, what: str, form: UserForm) -> None:
        try:
            if what == "add":
                values = dict(form.values)
                crm, remote = values.pop("crm"), values.pop("remote")
                settings = {k: v for k, v in values.items() if v}
                self.services.add_user(form.name, crm, remote, settings)
                note = f"Added user {form.name}. Press i to initialize."
            else:
                self.services.update_user(form.name, form.values)
                note = f"Saved {form.name}: {', '.join(sorted(form.values))}."
        except OperatorError as exc:
            self.post_message(OperationFailed(f"Saving {form.name}", str(exc)))
            return
        self.post_message(UsersChanged(note, select=form.name))

    def action_toggle_enabled(self) -> None:
        name = self._selected()
        if name is None:
            return
        row = self.table.rows_by_name[name]
        self.set_enabled(name, not row.enabled)

    @work(thread=True, exclusive=True, group="write", exit_on_error=False)
    def set_enabled(self, name: str, enabled: bool) -> None:
        try:
            self.services.set_enabled(name, enabled)
        except OperatorError as exc:
            self.post_message(OperationFailed(f"Changing {name}", str(exc)))
            return
        state = "enabled" if enabled else "disabled: sync all and auto-sync skip them"
        self.post_message(UsersChanged(f"{name} {state}.", select=name))

    def action_remove(self) -> None:
        name = self._selected()
        if name is None:
            return
        self.app.push_screen(
            ConfirmDialog(
                f"Remove user {name}? Their state, log and trash move to the workspace's "
                "removed/ folder; their calendars are not touched.",
                title="Remove user",
                yes="Remove",
                danger=True,
            ),
            lambda yes: self._remove_answer(name, bool(yes)),
        )

    def _remove_answer(self, name: str, yes: bool) -> None:
        if yes:
            self.remove_user(name)

    @work(thread=True, exclusive=True, group="write", exit_on_error=False)
    def remove_user(self, name: str) -> None:
        try:
            self.services.remove_user(name)
        except OperatorError as exc:
            self.post_message(OperationFailed(f"Removing {name}", str(exc)))
            return
        self.post_message(UsersChanged(f"Removed user {name}."))

    @on(UsersChanged)
    def _users_changed(self, message: UsersChanged) -> None:
        self.notify(message.note)
        self._select_after_load = message.select
        self.load_users()

    @on(OperationFailed)
    def _operation_failed(self, message: OperationFailed) -> None:
        self.notify(message.error, title=f"{message.what} failed", severity="error", timeout=10)

    # -- other screens --------------------------------------------------------------------

    def action_log(self) -> None:
        if (name := self._selected()) is not None:
            self.app.push_screen(LogScreen(self.services, name))

    def action_trash(self) -> None:
        if (name := self._selected()) is not None:
            self.app.push_screen(TrashScreen(self.services, name))


def _summary_line(request: RunRequest, results: list[RunResult]) -> str:
    if not results:
        return f"{request.label}: nothing to do (cancelled or no enabled user with a mailbox)"
    if len(results) == 1 and request.kind not in ("all", "auto"):
        r = results[0]
        return f"{r.user}: {RESULT_LABEL.get(r.result, r.result)}"
    tally: dict[str, int] = {}
    for r in results:
        label = RESULT_LABEL.get(r.result, r.result)
        tally[label] = tally.get(label, 0) + 1
    what = "Auto-sync" if request.kind == "auto" else "Sync all"
    return f"{what}: {len(results)} user(s) — " + ", ".join(f"{n} {k}" for k, n in tally.items())
