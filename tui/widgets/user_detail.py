"""The selected user: calendars, identity, effective settings with their source, last run."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text
from textual.containers import VerticalScroll
from textual.widgets import Static

from tui.services import Health, UserDetail, calendar_kind, shown_address
from tui.widgets.format import (
    counts_text,
    local_time,
    plain,
    relative_time,
    repeats_text,
    result_text,
)

SOURCE_STYLE = {"job": "bold magenta", "user": "cyan", "default": "dim"}
HEALTH_STYLE = {
    "ok": "green",
    "failing": "red",
    "needs_operator": "bold yellow",
    "throttled": "cyan",
    "deferred": "cyan",
    "disabled": "dim",
    "never": "dim",
}
#: the commands an operator is told to run, as the keys of the users screen
KEYS = (
    (r"run `calsync init \S+ --yes`", "press i"),
    (
        r"run `calsync sync \S+ --dry-run` to see (them|the deletions), "
        r"then `calsync sync \S+ --force` to apply( them)?",
        "press p to preview the deletions, then s and answer Delete to apply them",
    ),
    (r"(run )?`calsync check \S+`", "press c"),
    (r"run `calsync init \S+`", "press i"),
    (r"run `calsync user set \S+ enabled=yes`", "press d"),
    (r"run `calsync user set \S+ remote=URL`", "press e (Edit)"),
    (r"`calsync user set \S+ remote=URL`", "e (Edit)"),
    (r"(run )?`calsync sync \S+`", "press s"),
    (r"listed by `calsync status --json`", "listed under Last error"),
)


def keyed(text: str) -> str:
    """An operator message with each `calsync ...` command as the key that does it here."""
    for pattern, key in KEYS:
        text = re.sub(pattern, key, text)
    return text


def health_lines(health: Health, now: datetime) -> list[Text]:
    """State, error class, failures in a row, next retry; then what to press."""
    head = Text.assemble(
        ("Health    ", "bold"),
        (health.state.replace("_", " "), HEALTH_STYLE.get(health.state, "")),
    )
    if health.error_class:
        head.append(f", {health.error_class}")
    if health.failures:
        head.append(f" ×{health.failures}")
    if health.next_retry:
        head.append(f", next retry {local_time(health.next_retry.isoformat())}")
        minutes = -int(-(health.next_retry - now).total_seconds() // 60)  # rounded up
        hours, mins = divmod(minutes, 60)
        ahead = f"in {hours} h {mins} min" if hours else f"in {mins} min"
        head.append(f" ({ahead})" if minutes > 0 else " (due)")
    lines = [head]
    if health.action and health.state != "ok":
        lines.append(Text.assemble(("Fix       ", "bold"), keyed(health.action)))
    return lines


def _setting_value(value: object) -> str:
    if isinstance(value, bool):
        return "yes" if value else "no"
    return str(value)


def _source(source: str, own: object, value: object) -> Text:
    """Where the value comes from; a user value the job overrides is named (R12)."""
    text = Text(source, style=SOURCE_STYLE.get(source, ""))
    if source == "job" and own is not None and own != value:
        text.append(f" (overrides user: {_setting_value(own)})", style="dim")
    return text


def render_detail(detail: UserDetail, now: datetime, root: Path | None) -> RenderableType:
    row = detail.row
    head = Text.assemble(
        (row.name, "bold"),
        "  ",
        ("enabled", "green") if row.enabled else ("disabled", "yellow"),
        "  ·  ",
        ("initialized " + local_time(detail.initialized_at), "green")
        if detail.initialized_at
        else ("not initialized", "yellow"),
    )
    cal = Table.grid(padding=(0, 1))
    cal.add_column(style="bold", no_wrap=True)
    cal.add_column(overflow="fold")
    # a Rich table reads a plain str cell as markup; every value here is data
    cal.add_row(
        "CRM",
        plain(f"{calendar_kind(row.crm)}  {shown_address(row.crm, root)}" if row.crm else "—"),
    )
    cal.add_row(
        "Remote",
        plain(f"{calendar_kind(row.remote)}  {shown_address(row.remote, root)}")
        if row.remote
        else Text("no mailbox registered", style="yellow"),
    )
    cal.add_row(
        "Identity",
        plain(detail.identity) if detail.identity else Text("not recorded yet", style="dim"),
    )
    cal.add_row("Pairs", str(detail.pairs))

    settings = Table(title="Effective settings", title_justify="left", expand=True, box=None)
    settings.add_column("setting", style="bold")
    settings.add_column("value")
    settings.add_column("source")
    for s in detail.settings:
        settings.add_row(
            plain(s.key.replace("_", " ")),
            plain(_setting_value(s.value)),
            _source(s.source, s.own, s.value),
        )

    parts: list[RenderableType] = [head]
    if detail.health is not None:  # first: what is wrong and what fixes it
        parts += health_lines(detail.health, now)
    parts += [Text(""), cal, Text("")]
    last = detail.last_run
    if detail.state_error:
        parts.append(Text(detail.state_error, style="bold red"))
    elif last:
        when = last.get("finished") or last.get("started")
        try:
            stamp: datetime | None = datetime.fromisoformat(str(when)) if when else None
        except ValueError:
            stamp = None
        line = Text.assemble(
            ("Last run  ", "bold"),
            f"{last.get('kind', 'sync')} {local_time(when)} ({relative_time(stamp, now)})  ",
            result_text(str(last.get("result") or "")),
        )
        line.append(repeats_text(last), style="dim")
        parts.append(line)
        counts = counts_text(last.get("counts") or {})
        if counts:
            parts.append(Text(f"Changes   CRM {counts.replace(' │ ', '   remote ')}"))
        if last.get("reason"):
            parts.append(Text(f"Reason    {keyed(str(last['reason']))}"))
        for warning in last.get("warnings") or []:
            parts.append(Text(f"warning: {warning}", style="yellow"))
    else:
        parts.append(Text("Never synced", style="dim"))
    if detail.errors:
        parts.append(Text(""))
        parts.append(Text("Last error", style="bold red"))
        for err in detail.errors:
            parts.append(Text(err, style="red"))
    layout = Table.grid(expand=True, padding=(0, 2))
    layout.add_column(ratio=3)
    layout.add_column(ratio=2)
    layout.add_row(Group(*parts), settings)
    return layout


class UserDetailPane(VerticalScroll):
    def __init__(
        self, *, clock: Callable[[], datetime], root: Path | None, id: str | None = None
    ) -> None:
        super().__init__(id=id)
        self._clock = clock
        self._root = root
        self.border_title = "User"
        self.shown_name: str | None = None

    def compose(self):  # type: ignore[no-untyped-def]
        yield Static(Text("Select a user", style="dim"), id="detail-body")

    def show(self, detail: UserDetail) -> None:
        self.shown_name = detail.row.name
        self.border_title = plain(detail.row.name)
        self.query_one("#detail-body", Static).update(
            render_detail(detail, self._clock(), self._root)
        )

    def show_error(self, name: str, message: str) -> None:
        self.shown_name = name
        self.query_one("#detail-body", Static).update(Text(message, style="bold red"))

    def show_message(self, message: str) -> None:
        self.shown_name = None
        self.border_title = "User"
        self.query_one("#detail-body", Static).update(Text(message, style="dim"))
