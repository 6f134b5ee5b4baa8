"""Effective per-user settings: job value, else user value, else default (SPEC R12)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from storage.config import Config, check_setting

DEFAULTS: dict[str, Any] = {
    "skip_private": False,
    "reminders": "sync",
    "multiday": "title",
    "window_past_days": 90,
    "window_future_days": 365,
}

Source = Literal["job", "user", "default"]


@dataclass(frozen=True)
class Settings:
    skip_private: bool = False
    reminders: str = "sync"
    multiday: str = "title"
    window_past_days: int = 90
    window_future_days: int = 365

    @property
    def reminder_minutes(self) -> int | None:
        """N for the `minutes:N` policy, else None."""
        if self.reminders.startswith("minutes:"):
            return int(self.reminders.split(":", 1)[1])
        return None


def effective_settings(user: dict[str, Any], config: Config) -> tuple[Settings, dict[str, Source]]:
    """The settings that apply to `user`, and where each value came from."""
    values: dict[str, Any] = {}
    sources: dict[str, Source] = {}
    for key, default in DEFAULTS.items():
        if config.job.get(key) is not None:
            values[key], sources[key] = config.job[key], "job"
        elif user.get(key) is not None:
            values[key] = check_setting(key, user[key], f"user {user.get('name')}")
            sources[key] = "user"
        else:
            values[key], sources[key] = default, "default"
    return Settings(**values), sources
