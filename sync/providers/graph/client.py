"""The HTTP edge of the Microsoft 365 adapter: app-only tokens and Graph requests.

Tokens come from msal's client-credentials flow (secret or certificate), held in an
in-memory token cache shared by every mailbox of one app registration in this
process, so `sync --all` asks Microsoft Entra once, not once per user. REST calls go
through one `requests.Session` with a timeout on every call and bounded retries that
honour Retry-After on 429/503/504. Failures become one-line `ProviderError`s that
name the fix (AADSTS codes from the token endpoint, access policy on 403, ...).
"""

from __future__ import annotations

import base64
import email.utils
import hashlib
import json
import stat
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import requests

from sync.providers import deadline
from sync.providers.base import (
    AuthFailed,
    CalendarNotFound,
    ConfigError,
    ConnectionFailed,
    ProviderError,
    Throttled,
)
from sync.secrets import Secret, resolve_secret

DEFAULT_AUTHORITY = "https://login.microsoftonline.com"
DEFAULT_GRAPH = "https://graph.microsoft.com"
RETRY_STATUSES = {429, 503, 504}
WRITE_ROLE = "Calendars.ReadWrite"


class GraphHTTPError(ProviderError):
    """A Graph error response the caller may want to translate (404, 410, 412, 400, ...)."""

    def __init__(self, status: int, code: str, message: str, summary: str) -> None:
        super().__init__(summary)
        self.status = status
        self.code = code
        self.graph_message = message


@dataclass(frozen=True)
class GraphSettings:
    """The `[graph]` table of calsync.toml, checked. Secrets are resolved only on connect."""

    tenant_id: str
    client_id: str
    authority: str
    graph_url: str
    verify: bool | str
    timeout: float
    page_size: int
    retries: int
    max_wait: float
    table: Mapping[str, Any]

    @property
    def graph_origin(self) -> str:
        parts = urlsplit(self.graph_url)
        return f"{parts.scheme}://{parts.netloc}"

    @property
    def api(self) -> str:
        return f"{self.graph_url}/v1.0"


def _https_url(table: Mapping[str, Any], key: str, default: str) -> str:
    value = str(table.get(key) or default).rstrip("/")
    parts = urlsplit(value)
    if parts.scheme != "https" or not parts.netloc:
        raise ConfigError(f"[graph] {key} must be an https:// URL, not {value!r}")
    return value


def _number(table: Mapping[str, Any], key: str, default: float, *, minimum: float) -> float:
    value = table.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int | float) or value < minimum:
        raise ConfigError(f"[graph] {key} must be a number ≥ {minimum}, not {value!r}")
    return float(value)


def read_settings(settings: Mapping[str, Any]) -> GraphSettings:
    table = settings.get("graph")
    if not isinstance(table, Mapping):
        raise ConfigError(
            "graph: calendars need a [graph] table in calsync.toml with tenant_id, client_id "
            "and client_secret_env/_file/_keyring or certificate_file"
        )
    for key in ("tenant_id", "client_id"):
        if not isinstance(table.get(key), str) or not table[key].strip():
            raise ConfigError(f"[graph] needs {key} (from the app registration's overview page)")
    verify = table.get("verify_tls", True)
    if not isinstance(verify, bool | str):
        raise ConfigError("[graph] verify_tls must be true, false or a CA bundle path")
    if isinstance(verify, str):
        if not Path(verify).expanduser().is_file():
            raise ConfigError(f"[graph] verify_tls names {verify}, which is not a file")
        verify = str(Path(verify).expanduser())
    return GraphSettings(
        tenant_id=str(table["tenant_id"]).strip(),
        client_id=str(table["client_id"]).strip(),
        authority=_https_url(table, "authority", DEFAULT_AUTHORITY),
        graph_url=_https_url(table, "graph_url", DEFAULT_GRAPH),
        verify=verify,
        timeout=_number(table, "timeout", 30.0, minimum=0.1),
        page_size=int(_number(table, "page_size", 100, minimum=1)),
        retries=int(_number(table, "retries", 4, minimum=0)),
        max_wait=_number(table, "max_retry_wait", 120.0, minimum=0),
        table=table,
    )


# -- credentials ------------------------------------------------------------------------


def _load_certificate(conf: GraphSettings) -> dict[str, str]:
    """msal's certificate credential from `certificate_file` (PEM key, ideally + certificate)."""
    path = Path(str(conf.table["certificate_file"])).expanduser()
    try:
        mode = path.stat().st_mode
    except OSError as exc:
        raise ConfigError(
            f"[graph] certificate_file {path} cannot be read: {exc.strerror}"
        ) from exc
    if mode & (stat.S_IRWXG | stat.S_IRWXO):
        raise ConfigError(
            f"[graph] certificate_file {path} holds a private key readable by others; "
            f"run: chmod 600 {path}"
        )
    try:
        pem = path.read_text(encoding="ascii")
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"[graph] certificate_file {path} cannot be read: {exc}") from exc
    if "PRIVATE KEY-----" not in pem:
        raise ConfigError(f"[graph] certificate_file {path} holds no PEM private key")
    credential: dict[str, str] = {"private_key": Secret(pem)}
    if "-----BEGIN CERTIFICATE-----" in pem:
        from cryptography import x509  # msal's own dependency

        start = pem.index("-----BEGIN CERTIFICATE-----")
        try:
            cert = x509.load_pem_x509_certificate(pem[start:].encode())
        except ValueError as exc:
            raise ConfigError(f"[graph] certificate_file {path}: bad certificate: {exc}") from exc
        expires = cert.not_valid_after_utc
        if expires < datetime.now(UTC):
            raise AuthFailed(
                f"the certificate in {path} expired on {expires:%Y-%m-%d}: create a new one "
                "and upload it to the app registration (Certificates & secrets)"
            )
        credential["public_certificate"] = pem[start:]
    elif table_thumbprint := str(conf.table.get("thumbprint") or "").replace(":", "").strip():
        credential["thumbprint"] = table_thumbprint
    else:
        raise ConfigError(
            f"[graph] certificate_file {path} has no certificate: add it to the file "
            "or set thumbprint (as shown in the app registration)"
        )
    return credential


def _credential(conf: GraphSettings) -> str | dict[str, str]:
    if conf.table.get("certificate_file"):
        return _load_certificate(conf)
    return resolve_secret(conf.table, "client_secret", "graph")


# -- tokens -----------------------------------------------------------------------------

#: AADSTS code -> what the operator should do
AADSTS_FIXES = {
    7000215: "the client secret is wrong: use the secret's Value, not its ID",
    7000222: "the client secret has expired: create a new one under Certificates & secrets",
    700016: "no such app registration in this tenant: check client_id and tenant_id",
    90002: "no such tenant: check tenant_id",
    900023: "tenant_id is not a valid tenant",
    700027: (
        "the certificate was refused: upload it to the app registration, or renew it "
        "if it has expired"
    ),
    700024: "the client assertion is outside its valid time: check this machine's clock",
    65001: "an administrator has not consented to the app's permissions: grant admin consent",
    7000112: "the application is disabled in the tenant",
    500011: "the Microsoft Graph resource is not available in this tenant: check graph_url",
}

_apps: dict[tuple[str, ...], Any] = {}
_apps_lock = threading.Lock()


def _first_line(text: str) -> str:
    return " ".join(text.replace("\r", "\n").split("\n")[0].split())[:300]


def token_error(result: Mapping[str, Any], conf: GraphSettings) -> AuthFailed:
    codes = [int(c) for c in result.get("error_codes") or () if isinstance(c, int)]
    description = _first_line(str(result.get("error_description") or result.get("error") or ""))
    for code in codes:
        if code in AADSTS_FIXES:
            return AuthFailed(
                f"Microsoft Entra refused app {conf.client_id} (AADSTS{code}): {AADSTS_FIXES[code]}"
            )
    return AuthFailed(f"Microsoft Entra refused app {conf.client_id}: {description}")


def _short(exc: BaseException) -> str:
    text = " ".join(str(exc).split())
    return text[:200] or type(exc).__name__


class _EntraHTTP:
    """The HTTP client msal uses: verify and timeout on every call.

    requests lets REQUESTS_CA_BUNDLE override a Session's `verify`, so a configured CA
    bundle (or verify_tls = false) has to be passed per request to take effect.
    """

    def __init__(self, conf: GraphSettings) -> None:
        self._session = requests.Session()
        self._verify = conf.verify
        self._timeout = conf.timeout

    def get(self, url: str, **kwargs: Any) -> requests.Response:
        kwargs.setdefault("timeout", self._timeout)
        with deadline.request(urlsplit(url).netloc, f"GET {urlsplit(url).path}"):
            return self._session.get(url, verify=self._verify, **kwargs)

    def post(self, url: str, **kwargs: Any) -> requests.Response:
        kwargs.setdefault("timeout", self._timeout)
        with deadline.request(urlsplit(url).netloc, f"POST {urlsplit(url).path}"):
            return self._session.post(url, verify=self._verify, **kwargs)

    def close(self) -> None:
        self._session.close()


class TokenSource:
    """App-only access tokens for Graph, cached in memory per app registration."""

    def __init__(self, conf: GraphSettings) -> None:
        self.conf = conf
        self._app: Any = None
        self.last_token: str | None = None

    def _application(self) -> Any:
        if self._app is not None:
            return self._app
        import msal

        conf = self.conf
        credential = _credential(conf)
        fingerprint = hashlib.sha256(
            json.dumps(credential, sort_keys=True).encode()
            if isinstance(credential, dict)
            else credential.encode()
        ).hexdigest()
        key = (conf.authority, conf.tenant_id, conf.client_id, str(conf.verify), fingerprint)
        with _apps_lock:
            app = _apps.get(key)
            if app is None:
                try:
                    app = msal.ConfidentialClientApplication(
                        conf.client_id,
                        client_credential=credential,
                        authority=f"{conf.authority}/{conf.tenant_id}",
                        # never ask login.microsoftonline.com to vouch for the authority:
                        # sovereign clouds and private endpoints are configured explicitly
                        instance_discovery=False,
                        http_client=_EntraHTTP(conf),
                        token_cache=msal.TokenCache(),
                    )
                except requests.exceptions.SSLError as exc:
                    raise ConnectionFailed(
                        f"TLS failure talking to {urlsplit(conf.authority).netloc}: {_short(exc)}"
                    ) from None
                except requests.exceptions.RequestException as exc:
                    raise ConnectionFailed(
                        f"cannot reach {urlsplit(conf.authority).netloc}: {_short(exc)}"
                    ) from None
                except ValueError as exc:
                    # msal re-raises tenant discovery failures; the cause holds the AADSTS code
                    text = f"{exc} {exc.__context__ or ''}"
                    if "AADSTS90002" in text or "Unable to get authority configuration" in text:
                        raise AuthFailed(
                            f"Microsoft Entra does not know tenant {conf.tenant_id} "
                            "(AADSTS90002): check tenant_id"
                        ) from None
                    raise ConfigError(
                        f"[graph] unusable credentials or authority: {_short(exc)}"
                    ) from None
                _apps[key] = app
        self._app = app
        return app

    def token(self, *, refresh: bool = False) -> str:
        app = self._application()
        scope = [f"{self.conf.graph_origin}/.default"]
        try:
            if refresh:
                app.remove_tokens_for_client()
            result = app.acquire_token_for_client(scopes=scope)
        except requests.exceptions.RequestException as exc:
            raise ConnectionFailed(
                f"cannot reach {urlsplit(self.conf.authority).netloc} for a token: {_short(exc)}"
            ) from None
        except ValueError as exc:
            raise AuthFailed(f"Microsoft Entra token request failed: {_short(exc)}") from None
        if not isinstance(result, Mapping) or "access_token" not in result:
            raise token_error(result if isinstance(result, Mapping) else {}, self.conf)
        self.last_token = str(result["access_token"])
        return self.last_token

    def roles(self) -> list[str] | None:
        """The application permissions in the current token, for diagnostics only."""
        token = self.last_token or ""
        try:
            payload = token.split(".")[1]
            claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
        except (IndexError, ValueError):
            return None
        roles = claims.get("roles") if isinstance(claims, dict) else None
        return [str(r) for r in roles] if isinstance(roles, list) else []


# -- requests ---------------------------------------------------------------------------


def _retry_after(value: str | None) -> float | None:
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, (when - datetime.now(UTC)).total_seconds())


class GraphClient:
    """One mailbox's conversation with Graph: token, session, retries, error mapping."""

    def __init__(
        self,
        conf: GraphSettings,
        mailbox: str,
        *,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.conf = conf
        self.mailbox = mailbox
        self.tokens = TokenSource(conf)
        self.session = requests.Session()
        self.session.headers["Accept"] = "application/json"
        #: how retries wait (tests record the waits instead of sleeping)
        self.sleep = sleep
        self.host = urlsplit(conf.graph_url).netloc

    def close(self) -> None:
        self.session.close()

    def url(self, path: str) -> str:
        if path.startswith("https://"):
            # nextLink/deltaLink: never send the bearer token anywhere but Graph
            if not path.startswith(self.conf.graph_origin + "/"):
                raise ProviderError(f"Graph sent a link to another host: {urlsplit(path).netloc}")
            return path
        return f"{self.conf.api}{path}"

    def request(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, str] | None = None,
        json_body: Any = None,
        headers: Mapping[str, str] | None = None,
    ) -> requests.Response:
        """Send one request; returns 2xx responses, raises typed errors for the rest."""
        url = self.url(path)
        attempt = 0
        refreshed = False
        network_retried = False
        conflict_retried = False
        while True:
            send_headers = {"Authorization": f"Bearer {self.tokens.token(refresh=False)}"}
            send_headers.update(headers or {})
            try:
                with deadline.request(self.host, f"{method} {urlsplit(url).path}"):
                    response = self.session.request(
                        method,
                        url,
                        params=params,
                        json=json_body,
                        headers=send_headers,
                        timeout=self.conf.timeout,
                        verify=self.conf.verify,
                    )
            except requests.exceptions.SSLError as exc:
                raise ConnectionFailed(
                    f"TLS failure talking to {self.host}: {_short(exc)} "
                    '(a private CA needs [graph] verify_tls = "/path/to/ca.pem")'
                ) from None
            except (requests.exceptions.ConnectionError, requests.exceptions.Timeout) as exc:
                if network_retried:
                    if isinstance(exc, requests.exceptions.Timeout):
                        raise ConnectionFailed(
                            f"{self.host} did not answer within {self.conf.timeout:g} s "
                            f"({method} {urlsplit(url).path})"
                        ) from None
                    raise ConnectionFailed(f"cannot reach {self.host}: {_short(exc)}") from None
                network_retried = True
                continue
            except requests.exceptions.RequestException as exc:
                raise ConnectionFailed(f"{self.host}: {method} failed: {_short(exc)}") from None
            if response.status_code < 400:
                return response
            if response.status_code == 401 and not refreshed:
                # a token revoked or expired early: one fresh token, then give up
                refreshed = True
                self.tokens.token(refresh=True)
                continue
            if response.status_code == 412 and method == "GET" and not conflict_retried:
                # Exchange answers a read that races a write with a transient 412
                # ErrorIrresolvableConflict: a read has no If-Match, so ask once more
                conflict_retried = True
                continue
            if response.status_code in RETRY_STATUSES:
                attempt += 1
                wait = _retry_after(response.headers.get("Retry-After"))
                if attempt > self.conf.retries:
                    raise ConnectionFailed(
                        f"Microsoft Graph is throttling or unavailable for {self.mailbox} "
                        f"(HTTP {response.status_code}); gave up after {self.conf.retries} retries"
                    )
                if wait is None:
                    wait = float(2 ** (attempt - 1))
                if wait > self.conf.max_wait:
                    # more than calsync waits within a run ([graph] max_retry_wait):
                    # the user is deferred until then, not failed
                    raise Throttled(
                        f"Microsoft Graph (HTTP {response.status_code}) for {self.mailbox}",
                        datetime.now(UTC) + timedelta(seconds=wait),
                    )
                deadline.check(self.host, f"a wait of {wait:.0f} s to retry", wait)
                self.sleep(wait)
                continue
            raise self.error(response)

    def error(self, response: requests.Response) -> ProviderError:
        status = response.status_code
        code, message = "", ""
        try:
            err = response.json().get("error") or {}
            code, message = str(err.get("code") or ""), _first_line(str(err.get("message") or ""))
        except (ValueError, AttributeError):
            message = _first_line(response.text)
        mailbox = self.mailbox
        if status == 401:
            return AuthFailed(
                f"Microsoft Graph refused the app's token for {mailbox} ({code}: {message})"
            )
        if status == 403:
            return AuthFailed(self.access_denied(message))
        if status == 404 and code != "ErrorItemNotFound":
            if code in (
                "ErrorInvalidUser",
                "ResourceNotFound",
                "MailboxNotEnabledForRESTAPI",
                "ErrorInvalidMailbox",
                "Request_ResourceNotFound",
            ):
                return CalendarNotFound(
                    f"mailbox {mailbox} does not exist in Microsoft 365 (or has no Exchange "
                    f"Online mailbox): {code}"
                )
        summary = f"Microsoft Graph answered {status} for {mailbox}"
        if code or message:
            summary += f" ({code}: {message})" if code else f" ({message})"
        if status >= 500:
            return ConnectionFailed(summary)
        return GraphHTTPError(status, code, message, summary)

    def access_denied(self, message: str) -> str:
        roles = self.tokens.roles()
        if roles is not None and WRITE_ROLE not in roles and "Calendars.Read" in roles:
            return (
                f"the app may only read {self.mailbox}: grant the Calendars.ReadWrite "
                "application permission (with admin consent)"
            )
        text = (
            f"the app may not access {self.mailbox}: add the mailbox to the application "
            "access policy"
        )
        if roles is not None and not any(r.startswith("Calendars.") for r in roles):
            # no Entra grant in the token: either consent is missing or access is meant to
            # come from an Exchange RBAC for Applications role assignment
            text += (
                " and grant Calendars.ReadWrite with admin consent (or assign the role "
                "'Application Calendars.ReadWrite' with Exchange RBAC for Applications)"
            )
        return f"{text} (Graph: {message or 'access denied'})"
