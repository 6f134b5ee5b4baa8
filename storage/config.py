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

import re
import tomllib
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

    job = data.pop("job", {})
    safety_raw = data.pop("safety", {})
    log_raw = data.pop("log", {})
    for name, table in (("job", job), ("safety", safety_raw), ("log", log_raw)):
        if not isinstance(table, dict):
            raise ConfigInvalid(f"{path}: [{name}] must be a table")
    for key, value in job.items():
        if key not in JOB_KEYS:
            raise ConfigInvalid(
                f"{path}: [job] has unknown key {key!r} (known: {', '.join(JOB_KEYS)})"
            )
        check_setting(key, value, f"{path}: [job]")

    share = safety_raw.get("max_delete_share", 0.5)
    count = safety_raw.get("min_delete_count", 5)
    if isinstance(share, bool) or not isinstance(share, (int, float)) or not 0 < share <= 1:
        raise ConfigInvalid(
            f"{path}: [safety] max_delete_share must be a number above 0 and at most 1"
        )
    if isinstance(count, bool) or not isinstance(count, int) or count < 0:
        raise ConfigInvalid(f"{path}: [safety] min_delete_count must be a whole number ≥ 0")
    unknown = set(safety_raw) - {"max_delete_share", "min_delete_count"}
    if unknown:
        raise ConfigInvalid(f"{path}: [safety] has unknown key(s) {', '.join(sorted(unknown))}")

    unknown = set(log_raw) - {"retention_days"}
    if unknown:
        raise ConfigInvalid(f"{path}: [log] has unknown key(s) {', '.join(sorted(unknown))}")
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
