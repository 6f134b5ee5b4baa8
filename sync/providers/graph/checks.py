"""`calsync check` for a Microsoft 365 calendar: token, mailbox, write permission."""

from __future__ import annotations

from typing import TYPE_CHECKING

from sync.providers.base import ProviderError
from sync.providers.graph.client import WRITE_ROLE

if TYPE_CHECKING:
    from sync.providers.graph.provider import GraphProvider


def check(provider: GraphProvider) -> list[tuple[str, bool, str]]:
    """Each step named, as far as the first that fails."""
    conf, mailbox = provider.conf, provider.mailbox
    rows: list[tuple[str, bool, str]] = []
    try:
        provider.client.tokens.token()
    except ProviderError as exc:
        return [("token acquired", False, str(exc))]
    rows.append(("token acquired", True, f"app {conf.client_id} in tenant {conf.tenant_id}"))
    try:
        calendar = provider.box.calendar()
    except ProviderError as exc:
        rows.append(("mailbox reachable", False, str(exc)))
        return rows
    rows.append(
        (
            "mailbox reachable",
            True,
            f"{mailbox}: calendar {calendar.get('name') or calendar['id']}",
        )
    )
    roles = provider.client.tokens.roles() or []
    if WRITE_ROLE not in roles and any(r.startswith("Calendars.Read") for r in roles):
        rows.append(
            (
                "calendar writable",
                False,
                "the app may only read calendars: add the Calendars.ReadWrite application "
                "permission and grant admin consent",
            )
        )
    elif calendar.get("canEdit") is False:
        rows.append(
            ("calendar writable", False, f"the calendar of {mailbox} is read-only to the app")
        )
    else:
        source = (
            WRITE_ROLE if WRITE_ROLE in roles else "granted in Exchange (RBAC for Applications)"
        )
        rows.append(("calendar writable", True, f"{mailbox}: {source}"))
    return rows
