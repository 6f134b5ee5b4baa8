"""Sync windows a calendar cannot serve are refused when they are set, never run.

Microsoft Graph serves a calendar view of at most 1825 days (and calsync widens the
window to whole months); a window past that made every run of every Graph user fail.
Now `user add` / `user set` refuse such a window for that user, and a run whose
effective window (a `[job]` setting in calsync.toml) one of its users' calendars
cannot serve stops before anything is written, with one line naming the limit and
the users — a configuration error (exit 2), not a failed run per user.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

from storage.config import Config
from storage.errors import ConfigInvalid
from sync.providers.base import ProviderError, Window
from sync.providers.registry import open_provider
from sync.settings import effective_settings

#: below this many days no provider has a limit: nothing is opened for the check
#: (Graph's 1825 days, less two months of widening to whole months)
UNLIMITED_DAYS = 1700


def window_refusal(user: Mapping[str, Any], config: Config) -> str | None:
    """Why one of the user's calendars cannot serve the user's effective window, or None."""
    settings, _ = effective_settings(dict(user), config)
    if settings.window_past_days + settings.window_future_days <= UNLIMITED_DAYS:
        return None
    now = datetime.now(UTC)
    window = Window(
        now - timedelta(days=settings.window_past_days),
        now + timedelta(days=settings.window_future_days),
    )
    for side in ("remote", "crm"):
        url = user.get(side)
        if not url:
            continue
        try:
            with open_provider(str(url), config.providers, read_only=True) as provider:
                problem = provider.window_problem(window)
        except ProviderError:
            continue  # an unusable calendar is reported by the run and by `check`
        if problem is not None:
            return problem
    return None


def refuse_unservable(users: Iterable[Mapping[str, Any]], config: Config) -> None:
    """ConfigInvalid (one line) when any of `users` has a window its calendar refuses."""
    refused = [(str(u["name"]), p) for u in users if (p := window_refusal(u, config))]
    if refused:
        names = ", ".join(name for name, _ in refused)
        raise ConfigInvalid(f"{refused[0][1]} — users: {names}; nothing was synced")
