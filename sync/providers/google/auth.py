"""Credentials for Google, shared by the Calendar API and the CalDAV provider.

    [google]
    # the server job: one Workspace service account with domain-wide delegation; it
    # acts as each user (the subject is the calendar id, i.e. the user's email)
    service_account_file = "/etc/calsync/google-sa.json"   # 0600; or _env / _keyring
    # a calendar that is no user's own (a group calendar) needs a real user to act as:
    # [google.subjects]
    # "team@group.calendar.google.com" = "anna@example.com"
    # or per-user refresh tokens from `calsync google auth NAME`:
    client_id = "1234.apps.googleusercontent.com"
    client_secret_env = "CALSYNC_GOOGLE_CLIENT_SECRET"    # or _file / _keyring
    token_file = "/srv/calsync/google-tokens.json"       # 0600, written by `google auth`
    # token_uri = "https://oauth2.googleapis.com/token"

Access tokens live in memory only. A token endpoint that fails in a way worth
retrying (5xx, a timeout, `temporarily_unavailable`) is a `ConnectionFailed`: the
next run tries again. `invalid_grant` on a refresh token means the user's consent
is gone (revoked, unused for six months, or a 7-day token of an OAuth client still
in "Testing"): the message says to run `calsync google auth NAME` again.
"""

from __future__ import annotations

import hashlib
import json
import os
import stat
import threading
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from sync.providers import deadline
from sync.providers.base import AuthFailed, ConfigError, ConnectionFailed
from sync.secrets import has_secret, resolve_secret

DEFAULT_TOKEN_URI = "https://oauth2.googleapis.com/token"
#: the least the Calendar API provider needs: events only, no calendar settings or ACLs
SCOPE_EVENTS = "https://www.googleapis.com/auth/calendar.events"
#: Google's CalDAV endpoint accepts only the full calendar scope
SCOPE_CALENDAR = "https://www.googleapis.com/auth/calendar"
GROUP_SUFFIX = "@group.calendar.google.com"
RECONSENT = "run `calsync google auth NAME` for the user of this calendar"


# -- the per-user token file ---------------------------------------------------------------


def token_path(table: Mapping[str, Any]) -> Path:
    raw = table.get("token_file")
    if not isinstance(raw, str) or not raw:
        raise ConfigError("[google] token_file must name the token file")
    path = Path(raw).expanduser()
    if not path.is_absolute():
        raise ConfigError(f"[google] token_file {raw!r} must be an absolute path")
    return path


def read_tokens(path: Path) -> dict[str, dict[str, Any]]:
    """calendar id -> {"refresh_token": ...}; {} if the file does not exist yet."""
    try:
        mode = path.stat().st_mode
    except FileNotFoundError:
        return {}
    except OSError as exc:
        raise ConfigError(f"[google] token_file {path} cannot be read: {exc.strerror}") from exc
    if mode & (stat.S_IRWXG | stat.S_IRWXO):
        raise ConfigError(
            f"[google] token_file {path} is readable by others; run: chmod 600 {path}"
        )
    try:
        data = json.loads(path.read_text(encoding="utf-8") or "{}")
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        raise ConfigError(f"[google] token_file {path} is not a token file: {exc}") from exc
    if not isinstance(data, dict):
        raise ConfigError(f"[google] token_file {path} is not a token file")
    return {str(k): v for k, v in data.items() if isinstance(v, dict)}


def store_token(path: Path, calendar_id: str, refresh_token: str) -> None:
    """Write one calendar's refresh token; the file is created 0600 and replaced atomically."""
    tokens = read_tokens(path)
    tokens[calendar_id] = {"refresh_token": refresh_token}
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as out:
        json.dump(tokens, out, indent=2, sort_keys=True)
        out.flush()
        os.fsync(out.fileno())
    os.replace(tmp, path)


def client_config(table: Mapping[str, Any]) -> tuple[str, str, str]:
    """(client_id, client_secret, token_uri) of the installed-app OAuth client."""
    client_id = table.get("client_id")
    if not isinstance(client_id, str) or not client_id:
        raise ConfigError("[google] client_id is needed for per-user tokens (token_file)")
    secret = resolve_secret(table, "client_secret", "google")
    token_uri = str(table.get("token_uri", DEFAULT_TOKEN_URI))
    return client_id, str(secret), token_uri


# -- whom a service account acts as ----------------------------------------------------------


def subject_for(table: Mapping[str, Any], calendar_id: str) -> str:
    """The user a service account impersonates for `calendar_id`.

    `[google.subjects]` names one per calendar; `subject` one for all; else the
    calendar id itself (a user's primary calendar id is their address). A group
    calendar is nobody's address: Google refuses it as a subject (invalid_grant).
    """
    subjects = table.get("subjects") or {}
    if not isinstance(subjects, Mapping):
        raise ConfigError("[google.subjects] must map calendar ids to user addresses")
    chosen = subjects.get(calendar_id) or table.get("subject")
    if chosen:
        return str(chosen)
    if calendar_id.endswith(GROUP_SUFFIX):
        raise ConfigError(
            f"google calendar {calendar_id} is a group calendar: a service account must act "
            f'as a real user who can edit it; add [google.subjects] "{calendar_id}" = '
            '"user@your-domain"'
        )
    return calendar_id


# -- credentials ------------------------------------------------------------------------------


def is_service_account(table: Mapping[str, Any]) -> bool:
    return has_secret(table, "service_account")


def load_credentials(table: Mapping[str, Any], calendar_id: str, scopes: Sequence[str]) -> Any:
    """google-auth credentials for `calendar_id` (not yet refreshed)."""
    if is_service_account(table):
        subject = subject_for(table, calendar_id)
        raw = resolve_secret(table, "service_account", "google")
        return _service_account(raw, subject, tuple(scopes))
    if "token_file" in table:
        from google.oauth2.credentials import Credentials

        path = token_path(table)
        entry = read_tokens(path).get(calendar_id)
        if not entry or not entry.get("refresh_token"):
            raise AuthFailed(
                f"no Google authorization for {calendar_id} in {path}; "
                "run: calsync google auth USER"
            )
        client_id, client_secret, token_uri = client_config(table)
        return Credentials(  # type: ignore[no-untyped-call]
            None,
            refresh_token=str(entry["refresh_token"]),
            token_uri=token_uri,
            client_id=client_id,
            client_secret=client_secret,
            scopes=list(scopes),
        )
    raise ConfigError(
        "[google] needs service_account_file (service account with domain-wide "
        "delegation) or token_file + client_id + client_secret_env (per-user consent)"
    )


#: sha256 of a key file -> its credentials: reading the RSA key costs ~150 ms (the
#: key is checked), once per process instead of once per user and run
_accounts: dict[str, Any] = {}
#: (key, subject, scopes) -> credentials acting as that user: their access token
#: (an hour) serves every run of the user in this process (`watch`, `sync --all`)
_delegated: dict[tuple[str, str, tuple[str, ...]], Any] = {}
_accounts_lock = threading.Lock()


def _service_account(raw: str, subject: str, scopes: tuple[str, ...]) -> Any:
    fingerprint = hashlib.sha256(raw.encode()).hexdigest()
    key = (fingerprint, subject, scopes)
    with _accounts_lock:
        found = _delegated.get(key)
        if found is None:
            found = _delegated[key] = (
                _key_of(raw, fingerprint).with_scopes(list(scopes)).with_subject(subject)
            )
        return found


def _key_of(raw: str, fingerprint: str) -> Any:
    """The key file's credentials (called with `_accounts_lock` held)."""
    from google.oauth2 import service_account

    cached = _accounts.get(fingerprint)
    if cached is None:
        try:
            info = json.loads(raw)
            cached = service_account.Credentials.from_service_account_info(info)  # type: ignore[no-untyped-call]
        except (ValueError, KeyError, TypeError) as exc:
            # never echo the key material: name the problem only
            raise ConfigError(
                f"[google] service_account key is not a service-account key file "
                f"({type(exc).__name__})"
            ) from None
        _accounts[fingerprint] = cached
    return cached


def _one_line(text: object) -> str:
    return " ".join(str(text).split())[:160]


def refusal(
    calendar_id: str, reason: object, *, service_account: bool, scopes: str = SCOPE_EVENTS
) -> AuthFailed:
    """What a refused refresh means, for the operator (never the token itself)."""
    text = _one_line(reason) or "refused"
    if "invalid_grant" in text and not service_account:
        return AuthFailed(
            f"Google needs re-consent for {calendar_id} (the refresh token was revoked or "
            f"expired: {text}): {RECONSENT}"
        )
    if "unauthorized_client" in text and service_account:
        return AuthFailed(
            f"Google refused the service account for {calendar_id}: domain-wide delegation "
            f"is not granted for scope {scopes} (Admin console → Security → API "
            f"controls → Domain-wide delegation): {text}"
        )
    return AuthFailed(f"Google refused the credentials for {calendar_id}: {text}")


def refresh(credentials: Any, *, timeout: float, calendar_id: str) -> None:
    """Refresh the access token, with calsync's timeout and request deadline.

    A refresh error Google's own library marks retryable (5xx, `server_error`,
    `temporarily_unavailable`; google-auth retries it itself first) is transient.
    """
    import google.auth.exceptions
    from google.auth.transport.requests import Request

    transport = Request()

    def timed(*args: Any, **kwargs: Any) -> Any:
        kwargs.setdefault("timeout", timeout)
        url = urlsplit(str(kwargs.get("url") or (args[0] if args else "")))
        what = f"{kwargs.get('method', 'POST')} {url.path}"
        with deadline.request(url.netloc or "Google's token endpoint", what):
            return transport(*args, **kwargs)

    service_account = not hasattr(credentials, "refresh_token")
    try:
        credentials.refresh(timed)
    except google.auth.exceptions.RefreshError as exc:
        reason = exc.args[0] if exc.args else "refused"
        if getattr(exc, "retryable", False):
            raise ConnectionFailed(
                f"Google's token endpoint failed for {calendar_id} (will retry next run): "
                f"{_one_line(reason)}"
            ) from None
        scopes = " ".join(getattr(credentials, "scopes", None) or ()) or SCOPE_EVENTS
        raise refusal(calendar_id, reason, service_account=service_account, scopes=scopes) from None
    except google.auth.exceptions.TransportError as exc:
        raise ConnectionFailed(f"cannot reach Google's token endpoint: {_one_line(exc)}") from None
