"""The workspace config file, calsync.toml: connections and job settings.

    [job]                 # the server job's settings; where set they override users' (R12)
    skip_private = true
    reminders = "sync"    # sync | off | minutes:N
    multiday = "title"    # title | keep
    window_past_days = 90
    window_future_days = 365
    interval = 600        # seconds between polls in `watch` and the TUI
    request_deadline = 120   # seconds for one whole request (connect, send, full reply)
    run_deadline = 1800      # seconds for one user's whole run
    attention_after = 10     # consecutive transient failures before a user needs an operator

    [safety]
    max_delete_share = 0.5   # more deletions than this share of pairs needs --force
    min_delete_count = 5     # ... and at least this many

    [log]
    retention_days = 180

    [caldav] / [google] / [exchange] / [graph]
    # connection tables; each provider validates its own. Secrets are referenced,
    # never written here: password_env / password_file / password_keyring.

Storage validates the sections it owns and keeps the provider tables raw, since it
knows nothing about providers.
"""

from __future__ import annotations

import difflib
import re
import tomllib
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from storage.errors import ConfigInvalid

REMINDERS_RE = re.compile(r"^(sync|off|minutes:\d{1,5})$")
#: keys that would hold a secret in clear text; they must be references instead
SECRET_KEY_RE = re.compile(
    r"^(password|passwd|secret|client_secret|token|refresh_token|access_token|api_key"
    r"|apikey|private_key)$",
    re.IGNORECASE,
)
OWN_TABLES = ("job", "safety", "log")
WEEK = 7 * 24 * 3600
#: the built-in providers' connection tables; a plugin's table is named after its scheme
CONNECTION_TABLES = ("caldav", "google", "exchange", "graph", "folder", "sql")
SAFETY_KEYS = ("max_delete_share", "min_delete_count")
LOG_KEYS = ("retention_days",)
PLUGIN_GROUP = "calsync.providers"

JOB_KEYS: dict[str, type | tuple[type, ...]] = {
    "skip_private": bool,
    "reminders": str,
    "multiday": str,
    "window_past_days": int,
    "window_future_days": int,
    "interval": int,
    "enabled": bool,
    "request_deadline": (int, float),
    "run_deadline": (int, float),
    "attention_after": int,
}


def check_setting(key: str, value: Any, where: str) -> Any:
    """Validate one user/job setting value; ConfigInvalid names where it came from."""
    if key == "reminders":
        if not isinstance(value, str) or not REMINDERS_RE.match(value):
            raise ConfigInvalid(
                f"{where}: reminders must be sync, off or minutes:N (got {value!r})"
            )
    elif key == "multiday":
        if value not in ("title", "keep"):
            raise ConfigInvalid(f"{where}: multiday must be title or keep (got {value!r})")
    elif key in ("window_past_days", "window_future_days"):
        if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= 3650:
            raise ConfigInvalid(f"{where}: {key} must be a whole number of days from 0 to 3650")
    elif key in ("request_deadline", "run_deadline"):
        if isinstance(value, bool) or not isinstance(value, int | float) or not 1 <= value <= WEEK:
            raise ConfigInvalid(f"{where}: {key} must be a number of seconds from 1 to {WEEK}")
    elif key == "attention_after":
        if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 1000:
            raise ConfigInvalid(f"{where}: attention_after must be a whole number from 1 to 1000")
    elif key == "interval":
        if isinstance(value, bool) or not isinstance(value, int) or value < 10:
            raise ConfigInvalid(f"{where}: interval must be at least 10 seconds")
    elif key in ("skip_private", "enabled"):
        if not isinstance(value, bool):
            raise ConfigInvalid(f"{where}: {key} must be true or false")
    return value


@dataclass(frozen=True)
class Safety:
    max_delete_share: float = 0.5
    min_delete_count: int = 5


@dataclass(frozen=True)
class Config:
    path: Path | None = None
    job: dict[str, Any] = field(default_factory=dict)
    safety: Safety = Safety()
    retention_days: int = 180
    #: everything else, raw: the providers' connection tables
    providers: dict[str, Any] = field(default_factory=dict)


def did_you_mean(word: str, known: Iterable[str]) -> str:
    """The suffix `" (did you mean 'job'?)"` for a near miss of a known name, else ""."""
    names = list(known)
    by_lower = {name.lower(): name for name in names}
    if word.lower() in by_lower:  # [Job]: TOML names are case-sensitive
        return f" (did you mean {by_lower[word.lower()]!r}?)"
    close = difflib.get_close_matches(word.lower(), list(by_lower), n=1, cutoff=0.6)
    return f" (did you mean {by_lower[close[0]]!r}?)" if close else ""


def _unknown_key(path: Path, table: str, key: str, known: Iterable[str]) -> ConfigInvalid:
    names = list(known)
    return ConfigInvalid(
        f"{path}: [{table}] has unknown key {key!r}{did_you_mean(key, names)}"
        f" (known: {', '.join(names)})"
    )


def _plugin_tables() -> list[str]:
    """Connection tables of installed provider plugins (their URL schemes)."""
    from importlib.metadata import entry_points

    return [ep.name for ep in entry_points(group=PLUGIN_GROUP)]


def _check_tables(path: Path, data: dict[str, Any]) -> None:
    """Refuse a table calsync does not read: a misspelt [job] would do nothing, silently."""
    known = [*OWN_TABLES, *CONNECTION_TABLES]
    unknown = [name for name in data if name not in known and isinstance(data[name], dict)]
    if unknown:
        known += [name for name in _plugin_tables() if name not in known]
    for name in unknown:
        if name not in known:
            raise ConfigInvalid(
                f"{path}: unknown table [{name}]{did_you_mean(name, known)}"
                f" (known: {', '.join(known)})"
            )


def _find_secrets(value: Any, trail: str, path: Path) -> None:
    if isinstance(value, list):
        for item in value:
            _find_secrets(item, trail, path)
        return
    if not isinstance(value, dict):
        return
    for key, inner in value.items():
        if SECRET_KEY_RE.match(key) and not isinstance(inner, dict):
            raise ConfigInvalid(
                f"{path}: [{trail}] {key} holds a secret in clear text; reference it with "
                f"{key}_env (environment variable), {key}_file (a 0600 file) or {key}_keyring"
            )
        _find_secrets(inner, f"{trail}.{key}" if trail else key, path)


def load_config(path: Path) -> Config:
    if not path.exists():
        return Config(path=None)
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigInvalid(f"{path}: cannot read: {exc}") from exc
    except tomllib.TOMLDecodeError as exc:
        raise ConfigInvalid(f"{path}: not valid TOML: {exc}") from exc

    _check_tables(path, data)
    job = data.pop("job", {})
    safety_raw = data.pop("safety", {})
    log_raw = data.pop("log", {})
    for name, table in (("job", job), ("safety", safety_raw), ("log", log_raw)):
        if not isinstance(table, dict):
            raise ConfigInvalid(f"{path}: [{name}] must be a table")
    for key, value in job.items():
        if key not in JOB_KEYS:
            raise _unknown_key(path, "job", key, JOB_KEYS)
        check_setting(key, value, f"{path}: [job]")

    share = safety_raw.get("max_delete_share", 0.5)
    count = safety_raw.get("min_delete_count", 5)
    if isinstance(share, bool) or not isinstance(share, (int, float)) or not 0 < share <= 1:
        raise ConfigInvalid(
            f"{path}: [safety] max_delete_share must be a number above 0 and at most 1"
        )
    if isinstance(count, bool) or not isinstance(count, int) or count < 0:
        raise ConfigInvalid(f"{path}: [safety] min_delete_count must be a whole number ≥ 0")
    for key in safety_raw:
        if key not in SAFETY_KEYS:
            raise _unknown_key(path, "safety", key, SAFETY_KEYS)
    for key in log_raw:
        if key not in LOG_KEYS:
            raise _unknown_key(path, "log", key, LOG_KEYS)
    retention = log_raw.get("retention_days", 180)
    if isinstance(retention, bool) or not isinstance(retention, int) or retention < 1:
        raise ConfigInvalid(f"{path}: [log] retention_days must be a whole number ≥ 1")

    for key, value in data.items():
        if not isinstance(value, dict):
            raise ConfigInvalid(
                f"{path}: {key} must be inside a table ([job], [safety], [log] or a "
                "connection table such as [caldav])"
            )
    _find_secrets(data, "", path)
    return Config(
        path=path,
        job=dict(job),
        safety=Safety(float(share), int(count)),
        retention_days=retention,
        providers=data,
    )
