"""Per-user Google consent: the OAuth 2.0 installed-app flow with a loopback redirect.

`calsync google auth NAME` runs this once per user: it opens Google's consent page,
receives the authorization code on http://127.0.0.1:PORT/, exchanges it (with PKCE)
for a refresh token and stores that in the 0600 token file named by
`[google] token_file`. The provider then refreshes access tokens from it on its own.

An OAuth client whose consent screen is still in "Testing" gets refresh tokens
that Google expires after 7 days. Google says so only when it sends
`refresh_token_expires_in` with the token (it does for time-limited grants); then
`ConsentResult.expires_in` holds it and `calsync google auth` warns. Otherwise the
operator learns it from docs/google.md (publish the app, or make it Internal).
"""

from __future__ import annotations

import base64
import hashlib
import secrets
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import requests

from sync.providers import deadline
from sync.providers.base import AuthFailed, ConfigError, ConnectionFailed
from sync.providers.google.auth import SCOPE_EVENTS, client_config, store_token

DEFAULT_AUTH_URI = "https://accounts.google.com/o/oauth2/v2/auth"
#: a refresh token that lives no longer than this is a Testing client's (7 days)
SHORT_LIVED = 8 * 24 * 3600


@dataclass(frozen=True)
class ConsentResult:
    calendar_id: str
    token_file: Path
    #: seconds the refresh token lives, when Google says (`refresh_token_expires_in`)
    expires_in: int | None = None

    @property
    def short_lived(self) -> bool:
        """A refresh token of an OAuth client in "Testing": it expires within 7 days."""
        return self.expires_in is not None and self.expires_in <= SHORT_LIVED


class _Redirect(HTTPServer):
    code: str | None = None
    error: str | None = None
    expected_state: str = ""


class _Handler(BaseHTTPRequestHandler):
    server: _Redirect

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def do_GET(self) -> None:
        query = {k: v[0] for k, v in parse_qs(urlsplit(self.path).query).items()}
        if query.get("state") != self.server.expected_state:
            self.server.error = "the consent reply did not match this request (state)"
        elif "error" in query:
            self.server.error = f"Google said: {query['error']}"
        elif "code" in query:
            self.server.code = query["code"]
        else:
            self.send_response(404)
            self.end_headers()
            return
        body = (
            b"<html><body><p>calsync: authorization received. You can close this window.</p>"
            b"</body></html>"
            if self.server.code
            else b"<html><body><p>calsync: authorization failed.</p></body></html>"
        )
        self.send_response(200)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


def run_consent(
    table: Mapping[str, Any],
    calendar_id: str,
    token_file: Path,
    *,
    show_url: Callable[[str], None],
    port: int = 0,
    timeout: float = 300.0,
    scopes: tuple[str, ...] = (SCOPE_EVENTS,),
) -> ConsentResult:
    """Run the consent flow for `calendar_id`; `show_url` presents the consent page URL."""
    client_id, client_secret, token_uri = client_config(table)
    auth_uri = str(table.get("auth_uri", DEFAULT_AUTH_URI))
    verifier = secrets.token_urlsafe(64)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest())
    state = secrets.token_urlsafe(24)

    try:
        server = _Redirect(("127.0.0.1", port), _Handler)
    except OSError as exc:
        raise ConfigError(
            f"cannot listen on 127.0.0.1:{port} for the consent reply: {exc}"
        ) from exc
    server.expected_state = state
    server.timeout = 1.0
    redirect_uri = f"http://127.0.0.1:{server.server_address[1]}/"
    url = (
        auth_uri
        + "?"
        + urlencode(
            {
                "client_id": client_id,
                "redirect_uri": redirect_uri,
                "response_type": "code",
                "scope": " ".join(scopes),
                "access_type": "offline",
                "prompt": "consent",
                "login_hint": calendar_id,
                "state": state,
                "code_challenge": challenge.decode().rstrip("="),
                "code_challenge_method": "S256",
            }
        )
    )
    done = threading.Event()

    def serve() -> None:
        while not done.is_set() and server.code is None and server.error is None:
            server.handle_request()

    worker = threading.Thread(target=serve, daemon=True)
    worker.start()
    try:
        show_url(url)
        worker.join(timeout)
    finally:
        done.set()
        worker.join(5)
        server.server_close()
    if server.error:
        raise AuthFailed(f"Google consent for {calendar_id} failed: {server.error}")
    if server.code is None:
        raise AuthFailed(f"no consent reply for {calendar_id} within {timeout:.0f} s")

    endpoint = urlsplit(token_uri)
    try:
        with deadline.request(endpoint.netloc, f"POST {endpoint.path}"):
            reply = requests.post(
                token_uri,
                data={
                    "code": server.code,
                    "client_id": client_id,
                    "client_secret": client_secret,
                    "redirect_uri": redirect_uri,
                    "grant_type": "authorization_code",
                    "code_verifier": verifier,
                },
                timeout=30,
            )
    except requests.RequestException as exc:
        raise ConnectionFailed(f"cannot reach Google's token endpoint: {exc}") from None
    try:
        data = reply.json()
    except ValueError:
        data = {}
    if reply.status_code != 200:
        why = data.get("error_description") or data.get("error") or f"HTTP {reply.status_code}"
        raise AuthFailed(f"Google refused the authorization code for {calendar_id}: {why}")
    refresh = data.get("refresh_token")
    if not refresh:
        raise AuthFailed(
            "Google sent no refresh token; remove calsync's access at "
            "https://myaccount.google.com/permissions and run this again"
        )
    store_token(token_file, calendar_id, str(refresh))
    lifetime = str(data.get("refresh_token_expires_in") or "").split(".")[0]
    expires_in = int(lifetime) if lifetime.isdigit() else None
    return ConsentResult(calendar_id, token_file, expires_in)
