"""What the operator needs to answer the calendar-identity question (SPEC R10).

"The remote calendar changed" alone cannot be answered well: the operator must see
which calendar was recorded at initialization (and when) and which one answers now,
to tell a moved mailbox (say yes) from a typo in the address (say no, fix it).
"""

from __future__ import annotations

from typing import Any

from storage.state import UserState


def calendar_change(state: UserState, current_url: str, current_identity: str) -> dict[str, Any]:
    """The recorded and the current remote calendar: address, identity, when initialized."""
    return {
        "recorded": {
            "address": str(state.meta.get("remote_url") or ""),
            "identity": state.identity or "",
            "initialized": str(state.meta.get("initialized_at") or ""),
        },
        "current": {"address": current_url, "identity": current_identity, "initialized": ""},
    }
