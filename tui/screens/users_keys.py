"""The users screen's keys: the first ones are in the footer, every one in `?` with its
tooltip, and in the command palette."""

from __future__ import annotations

from textual.binding import Binding, BindingType

from tui.fleet import FILTERS

USERS_KEYS: list[BindingType] = [
    # the footer shows the first ones, what a new operator needs, at 80 columns too;
    # the rest are in `?` (every key with its tooltip) and the command palette
    Binding(
        "f",
        "attention",
        "Attention",
        tooltip="every user that needs an operator "
        "or failed, with the reason and the key that fixes it",
    ),
    Binding("s", "sync", "Sync", tooltip="sync the selected user now"),
    Binding(
        "i",
        "init",
        "Init",
        tooltip="initialize the selected user: record its calendar and accept a new one",
    ),
    Binding(
        "p",
        "preview",
        "Preview",
        tooltip="what a sync of the selected user would "
        "change, with Apply (and Force past the deletion guard)",
    ),
    Binding(
        "c",
        "check",
        "Check",
        tooltip="test the selected user's connection, credentials and calendar",
    ),
    Binding("l", "log", "Log", tooltip="the selected user's changes and runs; undo a run"),
    Binding(
        "x",
        "item_errors",
        "Item errors",
        tooltip="every item that failed in the latest run of any user",
    ),
    Binding("a", "sync_all", "Sync all", show=False, tooltip="sync every enabled user"),
    Binding(
        "t",
        "trash",
        "Trash",
        show=False,
        tooltip="the selected user's deleted items, to restore",
    ),
    Binding("e", "edit", "Edit", show=False, tooltip="change the selected user's settings"),
    Binding(
        "d",
        "toggle_enabled",
        "On/off",
        show=False,
        tooltip="enable or disable the selected user",
    ),
    Binding("n", "add", "Add", show=False, tooltip="add a user"),
    Binding(
        "delete",
        "remove",
        "Remove",
        show=False,
        tooltip="remove the selected user (asks first)",
    ),
    Binding(
        "slash",
        "filter",
        "Search",
        show=False,
        tooltip="filter the users by name or calendar; esc clears it",
    ),
    Binding("o", "sort", "Sort", show=False, tooltip="sort by the next column (▲ shows which)"),
    Binding("O", "sort_reverse", "Reverse sort", show=False, tooltip="sort the other way (▲/▼)"),
    *(
        Binding(
            f.key,
            f"state_filter('{f.key}')",
            f"Show {f.label}",
            show=False,
            tooltip=f"only the users the summary line counts as {f.label}",
        )
        for f in FILTERS
    ),
    Binding("ctrl+x", "cancel_run", "Cancel", tooltip="cancel the running sync"),
    Binding("escape", "clear_filter", "Clear filter", show=False, tooltip="show every user again"),
]
