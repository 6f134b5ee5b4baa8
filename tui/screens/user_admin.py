"""The users screen's administration: check, add, edit, enable/disable and remove users.

Every write runs in a thread worker and reports back with `UsersChanged` (the
users screen reloads) or `OperationFailed` (a notification).
"""

from __future__ import annotations

from textual import on, work

from tui.fleet import FIX_CHECK, FIX_FORCE, FIX_IDENTITY, FIX_INIT, FIX_SYNC
from tui.messages import CheckFinished, OperationFailed, RunRequest, UsersChanged
from tui.screens.check import CheckScreen
from tui.screens.confirm import ConfirmDialog
from tui.screens.user_form import UserForm, UserFormScreen
from tui.screens.user_runs import RunsScreen
from tui.services import OperatorError, Services, UserDetail


class AdminScreen(RunsScreen):
    """Actions on the user records, as `calsync user ...` offers them."""

    def __init__(self, services: Services, *, autosync: bool) -> None:
        super().__init__(services, autosync=autosync)
        #: the detail last shown, so Edit starts from what the operator sees
        self._detail_cache: dict[str, UserDetail] = {}

    # -- check ----------------------------------------------------------------------------

    def action_check(self) -> None:
        if (name := self._selected()) is not None:
            self.notify(f"Checking {name}'s calendars…", timeout=3)
            self.check_user(name)

    def initialized_at(self, name: str) -> str | None:
        detail = self._detail_cache.get(name)
        return detail.initialized_at if detail else None

    def fix(self, name: str, action: str) -> None:
        """Run the one action the attention view offered for this user."""
        if action == FIX_IDENTITY:
            self.ask_identity(name)
        elif action == FIX_FORCE:
            # the preview lists what would go; applying it asks once more before deleting
            self.start_run(RunRequest("preview", (name,)))
        elif action == FIX_INIT:
            self.start_run(RunRequest("init", (name,)))
        elif action == FIX_SYNC:
            self.start_run(RunRequest("sync", (name,)))
        elif action == FIX_CHECK:
            self.notify(f"Checking {name}'s calendars and credentials…", timeout=3)
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

    @on(OperationFailed)
    def _operation_failed(self, message: OperationFailed) -> None:
        self.notify(message.error, title=f"{message.what} failed", severity="error", timeout=10)
