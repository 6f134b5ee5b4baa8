"""App-only access tokens for Microsoft Graph (msal's client-credentials flow).

The credential is a client secret or a certificate (`certificate_file`, mode 0600).
Tokens are held in an in-memory token cache shared by every mailbox of one app
registration in this process, so `sync --all` asks Microsoft Entra once, not once
per user. Refusals become one-line errors naming the fix (AADSTS codes).
"""

from __future__ import annotations

import base64
import hashlib
import json
import stat
import threading
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import requests

from sync.providers import deadline
from sync.providers.base import AuthFailed, ConfigError, ConnectionFailed
from sync.providers.graph.settings import GraphSettings
from sync.secrets import Secret, resolve_secret

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


def first_line(text: str) -> str:
    """The first line of an error text, spaces collapsed, at most 300 characters."""
    return " ".join(text.replace("\r", "\n").split("\n")[0].split())[:300]


def token_error(result: Mapping[str, Any], conf: GraphSettings) -> AuthFailed:
    codes = [int(c) for c in result.get("error_codes") or () if isinstance(c, int)]
    description = first_line(str(result.get("error_description") or result.get("error") or ""))
    for code in codes:
        if code in AADSTS_FIXES:
            return AuthFailed(
                f"Microsoft Entra refused app {conf.client_id} (AADSTS{code}): {AADSTS_FIXES[code]}"
            )
    return AuthFailed(f"Microsoft Entra refused app {conf.client_id}: {description}")


def short(exc: BaseException) -> str:
    """An exception as one line of at most 200 characters."""
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
                        f"TLS failure talking to {urlsplit(conf.authority).netloc}: {short(exc)}"
                    ) from None
                except requests.exceptions.RequestException as exc:
                    raise ConnectionFailed(
                        f"cannot reach {urlsplit(conf.authority).netloc}: {short(exc)}"
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
                        f"[graph] unusable credentials or authority: {short(exc)}"
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
                f"cannot reach {urlsplit(self.conf.authority).netloc} for a token: {short(exc)}"
            ) from None
        except ValueError as exc:
            raise AuthFailed(f"Microsoft Entra token request failed: {short(exc)}") from None
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
