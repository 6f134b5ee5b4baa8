"""The users screen's runs: sync, init, preview, sync all, auto-sync.

They live on the screen rather than on the app because the screen shows their
progress and reacts to what they find; one run at a time, so two never race for
a user's lock. The users screen builds on this class (tui/screens/users.py).
"""

from __future__ import annotations

import threading
import time

from textual import on, work
from textual.notifications import SeverityLevel
from textual.screen import Screen
from textual.worker import Worker, WorkerState

from tui.messages import RunFinished, RunProgressed, RunRequest, UserRunFinished
from tui.screens.confirm import ConfirmDialog
from tui.screens.deletion_guard import DeletionGuardDialog
from tui.screens.identity import IdentityDialog, reinit_dialog
from tui.screens.plan import PlanScreen
from tui.services import IDENTITY_QUESTION, RunResult, Services
from tui.widgets.format import RESULT_LABEL, countdown, counts_sentence
from tui.widgets.run_panel import RunPanel
from tui.widgets.user_detail import UserDetailPane
from tui.widgets.users_table import UsersTable


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


class RunsScreen(Screen[None]):
    """Starting runs, showing their progress, and asking what the engine could not decide."""

    def __init__(self, services: Services, *, autosync: bool) -> None:
        super().__init__()
        self.services = services
        self.autosync = autosync
        self._cancel: threading.Event | None = None
        self._current: RunRequest | None = None
        self._next_auto: float | None = None
        self._interval = 0
        self._preview_init: dict[str, bool] = {}

    @property
    def table(self) -> UsersTable:
        return self.query_one(UsersTable)

    @property
    def panel(self) -> RunPanel:
        return self.query_one(RunPanel)

    @property
    def detail(self) -> UserDetailPane:
        return self.query_one(UserDetailPane)

    def load_detail(self, name: str) -> None:
        """Re-read the user shown in the detail pane (the users screen's worker)."""
        raise NotImplementedError

    def _selected(self) -> str | None:
        name = self.table.selected_name
        if name is None:
            self.notify("Select a user first.", severity="warning")
        return name

    # -- runs ----------------------------------------------------------------------------

    def action_sync(self) -> None:
        if (name := self._selected()) is not None:
            self.start_run(RunRequest("sync", (name,)))

    def action_init(self) -> None:
        if (name := self._selected()) is None:
            return
        summary = self.table.summaries.get(name)
        if summary is None or not summary.initialized:
            self.start_run(RunRequest("init", (name,)))
            return
        # initializing again re-matches every pair: worth a question, never a keypress
        self.app.push_screen(
            reinit_dialog(name, self.initialized_at(name)),
            lambda yes: self._init_answer(name, bool(yes)),
        )

    def initialized_at(self, name: str) -> str | None:
        """When the user was initialized, if this screen knows (the detail pane does)."""
        return None

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

            def progress(
                done: int, total: int, label: str, who: str = name, at: int = index
            ) -> None:
                if single:
                    self.post_message(RunProgressed(done, total, f"{who}: {label}"))
                    return
                # many users: the bar counts users, the line names this one's items
                step = f"{done}/{total} items" if total else label
                self.post_message(RunProgressed(at, len(names), f"{request.label}: {who}: {step}"))

            init = request.init or request.kind == "init"
            if request.kind == "preview" and not init:
                init = not self.services.is_initialized(name)
            result = self.services.run(
                name,
                init=init,
                dry_run=request.kind == "preview",
                force=request.force,
                accept_new_identity=request.accept_new_identity,
                progress=progress,
                cancel=cancel,
                scheduled=request.kind == "auto",
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
            # a preview asked for with force (the deletion guard's fix) applies with force
            plan = PlanScreen(result, init=init)
            # an empty preview closes as it says ("Nothing to change"), with no notice after
            on_close = (
                (lambda apply: self._apply_plan(name, init, bool(apply), force=request.force))
                if plan.has_writes
                else None
            )
            self.app.push_screen(plan, on_close)
        elif result.needs == "identity_changed":
            self.ask_identity(name, result)
        elif result.needs == "mass_delete":
            self.app.push_screen(
                DeletionGuardDialog(result), lambda yes: self._deletion_answer(request, bool(yes))
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

    def ask_identity(self, name: str, result: RunResult | None = None) -> None:
        """The identity question; with the run's result it shows both calendars side by side."""
        dialog = (
            IdentityDialog(result, self.services.workspace.root)
            if result is not None
            else ConfirmDialog(
                IDENTITY_QUESTION,
                title=f"{name}: the remote calendar changed",
                detail="Yes initializes against the current calendar; "
                "No leaves the user untouched.",
            )
        )
        self.app.push_screen(dialog, lambda yes: self._identity_answer(name, bool(yes)))

    def _apply_plan(self, name: str, init: bool, apply: bool, *, force: bool = False) -> None:
        if apply:
            self.start_run(RunRequest("sync", (name,), init=init, force=force))
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
