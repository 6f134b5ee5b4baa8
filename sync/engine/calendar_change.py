"""What the operator needs to answer the calendar-identity question (SPEC R10).

"The remote calendar changed" alone cannot be answered well: the operator must see
which calendar was recorded at initialization (and when) and which one answers now,
to tell a moved mailbox (say yes) from a typo in the address (say no, fix it).
"""

from __future__ import annotations

from typing import Any

from storage.state import UserState
from sync.providers.base import Provider, ProviderError


def calendar_change(
    state: UserState, current_url: str, current_identity: str, current_name: str | None = None
) -> dict[str, Any]:
    """The recorded and the current remote calendar: address, name, identity, when
    initialized. A name is "" where the service keeps none (or a state from before
    names were recorded)."""
    return {
        "recorded": {
            "address": str(state.meta.get("remote_url") or ""),
            "name": str(state.meta.get("remote_name") or ""),
            "identity": state.identity or "",
            "initialized": str(state.meta.get("initialized_at") or ""),
        },
        "current": {
            "address": current_url,
            "name": current_name or "",
            "identity": current_identity,
            "initialized": "",
        },
    }


def remote_name(provider: Provider) -> str | None:
    """The calendar's human name on one line, or None: a name is a courtesy to the
    operator, so a provider failing to give one never stops a run."""
    try:
        name = provider.calendar_name()
    except ProviderError:
        return None
    # one line of the service's free text: newlines and tabs would break the table
    return " ".join(name.split()) if name and name.strip() else None
