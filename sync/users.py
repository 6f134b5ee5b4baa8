"""User management: the service behind `calsync user ...` and the TUI's user screens.

Values arrive as the operator typed them (`skip_private=yes`, `reminders=minutes:15`);
everything is parsed and validated before anything is written, so a bad value in
the middle of `user set anna a=1 b=oops` changes nothing. No printing here.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from storage.config import Config, check_setting, load_config
from storage.errors import ConfigInvalid, DuplicateUser, StoreError, state_unreadable
from storage.state import UserFiles
from storage.users import SETTING_KEYS, UserStore
from storage.workspace import Workspace, check_user_name
from sync.health import clear
from sync.providers.base import ConfigError
from sync.providers.registry import validate_url
from sync.settings import effective_settings
from sync.window_limits import window_refusal

#: keys `set_user` accepts, in the order `show_user` lists them
SETTABLE = ("crm", "remote", "enabled", *SETTING_KEYS)
TRUE_WORDS = frozenset({"true", "yes", "on", "1"})
FALSE_WORDS = frozenset({"false", "no", "off", "0"})
#: a per-user setting set to one of these is cleared: the job value or default applies
CLEAR_WORDS = frozenset({"", "default"})
#: how long `remove_user` waits for a running sync of that user to finish
REMOVE_LOCK_TIMEOUT = 5.0


class UsageError(StoreError):
    """The operator's input is unusable; the message is one line saying why."""


# -- parsing ---------------------------------------------------------------------------


def parse_bool(key: str, raw: str) -> bool:
    word = raw.strip().lower()
    if word in TRUE_WORDS:
        return True
    if word in FALSE_WORDS:
        return False
    raise UsageError(f"{key} must be true or false (yes/no, on/off, 1/0), got {raw!r}")


def parse_days(key: str, raw: str) -> int:
    try:
        days = int(raw.strip())
    except ValueError:
        raise UsageError(f"{key} must be a whole number of days, got {raw!r}") from None
    return int(_checked(key, days))


def parse_reminders(raw: str) -> str:
    word = raw.strip().lower()
    kind, sep, minutes = word.partition(":")
    if kind == "minutes" and sep and minutes.isdigit():
        word = f"minutes:{int(minutes)}"  # minutes:015 and minutes:15 are one policy
    return str(_checked("reminders", word))


def parse_multiday(raw: str) -> str:
    word = raw.strip().lower()
    if word not in ("title", "keep"):
        raise UsageError(f"multiday must be title or keep, got {raw!r}")
    return word


def check_calendar(key: str, url: str) -> str:
    """A calendar URL in the form its provider expects; never connects anywhere."""
    url = url.strip()
    if not url:
        raise UsageError(f"{key} needs a calendar URL such as folder:/path or caldav:https://...")
    try:
        return validate_url(url)
    except ConfigError as exc:
        raise UsageError(f"{key}: {exc}") from exc


def parse_value(key: str, raw: str) -> Any:
    """One `KEY=VALUE` of `user set`, parsed; None clears a per-user setting."""
    if key == "crm":
        return check_calendar(key, raw)
    if key == "remote":
        # no remote: the user stays, and `sync --all` skips them (SPEC R11)
        return None if raw.strip() == "" else check_calendar(key, raw)
    if key == "enabled":
        return parse_bool(key, raw)
    if raw.strip().lower() in CLEAR_WORDS:
        return None
    if key == "skip_private":
        return parse_bool(key, raw)
    if key in ("window_past_days", "window_future_days"):
        return parse_days(key, raw)
    if key == "reminders":
        return parse_reminders(raw)
    if key == "multiday":
        return parse_multiday(raw)
    raise UsageError(f"unknown setting {key!r} (known: {', '.join(SETTABLE)})")


def _checked(key: str, value: Any) -> Any:
    try:
        return check_setting(key, value, "user")
    except ConfigInvalid as exc:
        # check_setting's message is "user: KEY must ..."; drop the prefix
        raise UsageError(str(exc).removeprefix("user: ")) from None


def _setting(key: str, value: Any) -> Any:
    """A setting given to `add_user`: typed (from CLI options) or raw text."""
    if key not in ("enabled", *SETTING_KEYS):
        raise UsageError(f"unknown setting {key!r} (known: {', '.join(SETTABLE[2:])})")
    if isinstance(value, str):
        return parse_value(key, value)
    return _checked(key, value)


def _check_distinct(crm: str | None, remote: str | None) -> None:
    if crm is not None and remote is not None and crm == remote:
        raise UsageError(f"crm and remote are the same calendar ({crm}); they must differ")


# -- operations ------------------------------------------------------------------------


def _refuse_window(workspace: Workspace, record: Mapping[str, Any]) -> None:
    """A sync window one of the user's calendars cannot serve is refused here, once,
    instead of failing every run (sync.window_limits)."""
    try:
        config = load_config(workspace.config_path)
    except ConfigInvalid:
        return  # a broken calsync.toml is reported by every command that needs it
    problem = window_refusal(record, config)
    if problem is not None:
        raise UsageError(problem)


def check_new_name(workspace: Workspace, name: str) -> str:
    """A valid name no user has yet; DuplicateUser names the one that has it."""
    check_user_name(name)
    for existing in UserStore(workspace).all():
        # case-blind: users/Anna and users/anna are one folder on some file systems
        if str(existing["name"]).lower() == name.lower():
            raise DuplicateUser(str(existing["name"]))
    return name


def add_user(
    workspace: Workspace, name: str, crm: str, remote: str, **settings: Any
) -> dict[str, Any]:
    """Register a user. Settings left out (or None) follow the job setting or default."""
    check_user_name(name)
    record: dict[str, Any] = {
        "name": name,
        "crm": check_calendar("crm", crm),
        "remote": check_calendar("remote", remote),
    }
    _check_distinct(record["crm"], record["remote"])
    for key, value in settings.items():
        if value is not None:
            record[key] = _setting(key, value)
    record.setdefault("enabled", True)

    check_new_name(workspace, name)
    _refuse_window(workspace, record)
    store = UserStore(workspace)
    files = UserFiles(workspace, name)
    if not files.dir.exists():
        return store.add(record)
    # a folder left behind by hand or by an older calsync: its pairings belong to
    # other calendars, so set it aside rather than adopt or delete it
    with files.locked(REMOVE_LOCK_TIMEOUT):
        archived = files.archive()
        try:
            return store.add(record)
        except BaseException:
            if archived is not None:
                files.unarchive(archived)
            raise


def set_user(workspace: Workspace, name: str, changes: Mapping[str, str]) -> dict[str, Any]:
    """Apply `KEY=VALUE` changes given as text; all are checked before any is written."""
    if not changes:
        raise UsageError(f"nothing to set; give KEY=VALUE (keys: {', '.join(SETTABLE)})")
    store = UserStore(workspace)
    current = store.get(name)
    parsed: dict[str, Any] = {}
    for key, raw in changes.items():
        if key not in SETTABLE:
            raise UsageError(f"unknown setting {key!r} (known: {', '.join(SETTABLE)})")
        parsed[key] = parse_value(key, raw)
    merged = {**current, **parsed}
    _check_distinct(merged.get("crm"), merged.get("remote"))
    _refuse_window(workspace, merged)
    record = store.update(name, parsed)
    # the operator acted: a user the job left alone is synced again at its next run
    clear(workspace, str(record.get("name", name)), "user set")
    return record


def remove_user(workspace: Workspace, name: str) -> Path | None:
    """Unregister a user; their folder moves to WORKSPACE/removed/NAME-STAMP.

    Returns where the folder went (None if the user had none yet). Waits for a
    running sync of the user, so the move never cuts through a write.
    """
    store = UserStore(workspace)
    store.get(name)  # UnknownUser before touching anything
    files = UserFiles(workspace, name)
    if not files.dir.exists():
        store.remove(name)  # never synced: nothing to keep
        return None
    with files.locked(REMOVE_LOCK_TIMEOUT):
        archived = files.archive()
        try:
            store.remove(name)
        except BaseException:
            if archived is not None:
                files.unarchive(archived)
            raise
    return archived


def get_user(workspace: Workspace, name: str) -> dict[str, Any]:
    """The user's record; UnknownUser if there is none."""
    return UserStore(workspace).get(name)


def list_users(workspace: Workspace) -> list[dict[str, Any]]:
    """Every user record, by name."""
    return UserStore(workspace).all()


def state_summary(workspace: Workspace, name: str) -> dict[str, Any]:
    """What the state file says about a user, for display; `error` if it is unreadable."""
    try:
        state = UserFiles(workspace, name).read_state()
    except StoreError as exc:
        return {"initialized": None, "error": state_unreadable(exc)}
    last = state.last_run
    return {
        "initialized": state.initialized,
        "initialized_at": state.meta.get("initialized_at"),
        "identity": state.identity,
        "pairs": state.pairs_count,
        "last_run": (
            {
                key: last.get(key)
                for key in ("started", "finished", "result", "reason", "counts", "repeats", "since")
                if key in last
            }
            if last
            else None
        ),
    }


def show_user(workspace: Workspace, name: str, config: Config | None = None) -> dict[str, Any]:
    """The user record, effective settings with their source (SPEC R12), and state."""
    user = UserStore(workspace).get(name)
    if config is None:
        config = load_config(workspace.config_path)
    settings, sources = effective_settings(user, config)
    return {
        "user": user,
        "settings": {
            key: {"value": getattr(settings, key), "source": sources[key]} for key in sources
        },
        "state": state_summary(workspace, name),
    }
