"""`calsync check` for an Exchange calendar: each step named, the first failure says why."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

from sync.providers.base import ConfigError, ConnectionFailed, ProviderError, Window
from sync.providers.ews.errors import CredentialsRefused, where

if TYPE_CHECKING:
    from sync.providers.ews.provider import EWSProvider


def check(provider: EWSProvider) -> list[tuple[str, bool, str]]:
    """Endpoint reachable, account accepted, access to the mailbox, calendar readable
    and writable — as far as the first step that fails."""
    conn, box = provider.conn, provider.mailbox
    user, at = conn.account_name, where(conn, box)
    access = "impersonation" if conn.access == "impersonation" else "delegate access"
    out: list[tuple[str, bool, str]] = []
    try:
        folder = provider.folder()
    except (ConnectionFailed, ConfigError) as exc:
        return [("endpoint reachable", False, str(exc))]
    except CredentialsRefused as exc:
        return [
            ("endpoint reachable", True, at),
            ("service account accepted", False, str(exc)),
        ]
    except ProviderError as exc:
        return [
            ("endpoint reachable", True, at),
            ("service account accepted", True, f"{user} ({conn.auth})"),
            (f"{access} to {box}", False, str(exc)),
        ]
    out += [
        ("endpoint reachable", True, at),
        ("service account accepted", True, f"{user} ({conn.auth})"),
        (f"{access} to {box}", True, f"{user} acts on {box}"),
    ]
    try:
        now = datetime.now(UTC)
        provider.list_window(Window(now, now + timedelta(days=1)), {})
        out.append(("calendar readable", True, f"ews:{box}/{folder.id}"))
    except ProviderError as exc:
        out.append(("calendar readable", False, str(exc)))
        return out
    rights = getattr(folder, "effective_rights", None)
    if rights is None:
        out.append(("calendar writable", True, "the server does not report rights; assumed"))
    elif rights.create_contents and rights.modify and rights.delete:
        out.append(("calendar writable", True, "create, modify and delete allowed"))
    else:
        missing = [
            name
            for name, ok in (
                ("create", rights.create_contents),
                ("modify", rights.modify),
                ("delete", rights.delete),
            )
            if not ok
        ]
        out.append(
            (
                "calendar writable",
                False,
                f"{user} may not {'/'.join(missing)} items in {box}'s calendar: grant "
                "full mailbox access or calendar editor rights",
            )
        )
    return out
