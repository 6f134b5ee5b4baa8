"""A loopback Google Calendar API v3 and OAuth 2.0 token endpoint, over real HTTP.

`GoogleTestServer` answers what calsync's `google:` provider calls, as strictly as
Google documents it. Sources: the events reference (developers.google.com/workspace
/calendar/api/v3/reference/events/{list,get,insert,patch,delete}), the sync guide
(…/api/guides/sync), the errors guide (…/api/guides/errors), the quota guide
(…/api/guides/quota) and OAuth 2.0 for service accounts / installed apps.

- `POST /token`: `refresh_token` grants (unknown or revoked: 400 `invalid_grant`)
  and the JWT bearer grant of a service account (RS256 signature checked; a subject
  Google does not know, such as a group calendar: 400 `invalid_grant`; a scope the
  admin did not delegate: 401 `unauthorized_client`); `token_faults` answer first
  (e.g. 503, which google-auth retries and calsync must treat as transient).
- Every API request needs a live bearer token (401 `authError`) whose scopes
  include `calendar.events` or `calendar` (403 `insufficientPermissions`), and a
  subject with access to the calendar (404 `notFound` otherwise, as Google hides
  calendars one cannot see).
- A per-user budget of 600 requests per sliding minute (quota guide: "Per minute
  per user per project 600"); over it, alternately 403 `rateLimitExceeded` (domain
  `usageLimits`) and 429, "403 usageLimits or 429 usageLimits" in the guide's words.
  `clock` can run faster than real time, so the suite needs no minute per test.
- events.list: `timeMin`/`timeMax`/`singleEvents`/`showDeleted`/`maxResults`
  (≤ 2500)/`pageToken`/`iCalUID`; `nextSyncToken` only on the last page; with
  `syncToken` the changes since (deleted events and cancelled instances as
  `status: cancelled`), and 400 for the parameters the guide forbids beside it
  (timeMin, timeMax, iCalUID, orderBy, q, updatedMin, privateExtendedProperty,
  sharedExtendedProperty, showDeleted=false); 410 `fullSyncRequired` for an
  expired token.
- insert/patch/delete: any `sendUpdates` other than `none` (or none given, which
  leaves the choice to Google, or `sendNotifications=true`) is recorded in
  `mail_sent`: a test fails if calsync ever asks for mail. Writes to an event
  another calendar organizes: 403 `forbiddenForNonOrganizer`; writes to a meeting
  with attendees are recorded in `meeting_writes`.
"""

from __future__ import annotations

import datetime as dt
import json
import secrets
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

from tests.providers.google.server.api import Api
from tests.providers.google.server.store import Calendar, GoogleError

SCOPE_EVENTS = "https://www.googleapis.com/auth/calendar.events"
SCOPE_CALENDAR = "https://www.googleapis.com/auth/calendar"
JWT_GRANT = "urn:ietf:params:oauth:grant-type:jwt-bearer"
PER_MINUTE = 600
GOOGLE_TOKEN_URI = "https://oauth2.googleapis.com/token"


@dataclass
class ServiceAccount:
    email: str
    public_pem: bytes
    #: scopes an admin delegated domain-wide to this client
    delegated: set[str] = field(default_factory=lambda: {SCOPE_EVENTS, SCOPE_CALENDAR})


@dataclass
class Token:
    subject: str
    scopes: set[str]
    expires: float


class GoogleTestServer:
    def __init__(self, *, clock: Callable[[], float] = time.monotonic) -> None:
        self.clock = clock
        self.calendars: dict[str, Calendar] = {}
        self.users: set[str] = set()
        self.refresh_tokens: dict[str, tuple[str, set[str]]] = {}
        self.accounts: dict[str, ServiceAccount] = {}
        self.access: dict[str, Token] = {}
        self.per_minute = PER_MINUTE
        self._window: dict[str, deque[float]] = {}
        self._flip: dict[str, int] = {}
        self.token_faults: list[tuple[int, dict[str, Any]]] = []
        #: the next answers, whatever is asked: (status, reason, domain, Retry-After or "")
        self.faults: list[tuple[int, str, str, str]] = []
        #: requests ("POST", "PATCH", "DELETE") to carry out and then answer with a
        #: dropped connection: a write whose answer is lost
        self.lose_reply: list[str] = []
        #: when each request was counted, per user (server clock)
        self.stamps: dict[str, list[float]] = {}
        self.mail_sent: list[tuple[str, str, str]] = []
        self.meeting_writes: list[tuple[str, str]] = []
        self.requests: list[tuple[str, str, str]] = []  # (subject, method, path)
        self.throttled = 0
        self.grants: list[dict[str, str]] = []
        self.lock = threading.RLock()
        self.api = Api(self)
        self._httpd: ThreadingHTTPServer | None = None

    # -- set-up ---------------------------------------------------------------------------

    @property
    def url(self) -> str:
        assert self._httpd is not None
        host, port = self._httpd.server_address[:2]
        return f"http://{host}:{port}"

    @property
    def api_url(self) -> str:
        return f"{self.url}/calendar/v3"

    @property
    def token_uri(self) -> str:
        return f"{self.url}/token"

    def start(self) -> GoogleTestServer:
        server = self

        class Handler(_Handler):
            google = server

        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._httpd.daemon_threads = True
        threading.Thread(target=self._httpd.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()

    def add_user(self, email: str | None = None) -> Calendar:
        """A Workspace user and their primary calendar (its id is their address)."""
        email = email or f"u{secrets.token_hex(5)}@example.com"
        with self.lock:
            self.users.add(email)
            calendar = self.calendars[email] = Calendar(email, email)
        return calendar

    def add_group_calendar(self, owner: str, editors: tuple[str, ...] = ()) -> Calendar:
        cal_id = f"c_{secrets.token_hex(8)}@group.calendar.google.com"
        calendar = self.calendars[cal_id] = Calendar(cal_id, owner)
        calendar.access.update({e: "writer" for e in editors})
        return calendar

    def consent(self, email: str, scopes: tuple[str, ...] = (SCOPE_EVENTS,)) -> str:
        """A refresh token as `calsync google auth` would have stored it."""
        token = f"1//refresh-{secrets.token_urlsafe(12)}"
        self.refresh_tokens[token] = (email, set(scopes))
        return token

    def expire_sync_tokens(self) -> None:
        self.api.sync_tokens.clear()

    # -- the budget (quota guide) ------------------------------------------------------

    def spend(self, subject: str) -> None:
        with self.lock:
            now = self.clock()
            window = self._window.setdefault(subject, deque())
            while window and window[0] <= now - 60:
                window.popleft()
            if len(window) >= self.per_minute:
                self.throttled += 1
                flip = self._flip[subject] = self._flip.get(subject, 0) + 1
                if flip % 2:
                    raise GoogleError(
                        403, "rateLimitExceeded", "Rate Limit Exceeded", "usageLimits"
                    )
                raise GoogleError(429, "rateLimitExceeded", "Rate Limit Exceeded", "usageLimits")
            window.append(now)
            self.stamps.setdefault(subject, []).append(now)

    # -- OAuth ------------------------------------------------------------------------------

    def token(self, form: dict[str, str]) -> tuple[int, dict[str, Any]]:
        self.grants.append(form)
        if self.token_faults:
            return self.token_faults.pop(0)
        grant = form.get("grant_type")
        if grant == "refresh_token":
            known = self.refresh_tokens.get(form.get("refresh_token", ""))
            if known is None:
                return 400, {
                    "error": "invalid_grant",
                    "error_description": "Token has been expired or revoked.",
                }
            subject, granted = known
            wanted = set(form.get("scope", "").split()) or granted
            if not wanted <= granted:
                return 400, {"error": "invalid_scope", "error_description": "Bad Request"}
            return 200, self._issue(subject, wanted)
        if grant == JWT_GRANT:
            return self._jwt_grant(form.get("assertion", ""))
        return 400, {"error": "unsupported_grant_type", "error_description": "Invalid grant_type"}

    def _jwt_grant(self, assertion: str) -> tuple[int, dict[str, Any]]:
        from google.auth import jwt

        try:
            unverified = jwt.decode(assertion, verify=False)
            account = self.accounts[unverified["iss"]]
            # the assertion's audience is Google's token endpoint, wherever it is sent
            claims = jwt.decode(assertion, certs=account.public_pem, audience=GOOGLE_TOKEN_URI)
        except (KeyError, ValueError) as exc:
            return 400, {
                "error": "invalid_grant",
                "error_description": f"Invalid JWT Signature. {exc}"[:80],
            }
        subject = claims.get("sub") or account.email
        scopes = set(str(claims.get("scope", "")).split())
        if not scopes or not scopes <= account.delegated:
            return 401, {
                "error": "unauthorized_client",
                "error_description": "Client is unauthorized to retrieve access tokens using this "
                "method, or client not authorized for any of the scopes requested.",
            }
        if subject not in self.users:
            return 400, {"error": "invalid_grant", "error_description": "Invalid email or User ID"}
        return 200, self._issue(subject, scopes)

    def _issue(self, subject: str, scopes: set[str]) -> dict[str, Any]:
        access = f"ya29.{secrets.token_urlsafe(16)}"
        self.access[access] = Token(subject, scopes, time.time() + 3599)
        return {
            "access_token": access,
            "expires_in": 3599,
            "scope": " ".join(sorted(scopes)),
            "token_type": "Bearer",
        }

    def authorize(self, header: str) -> Token:
        token = (
            self.access.get(header.removeprefix("Bearer ").strip())
            if header.startswith("Bearer ")
            else None
        )
        if token is None or token.expires < time.time():
            raise GoogleError(401, "authError", "Invalid Credentials")
        if not token.scopes & {SCOPE_EVENTS, SCOPE_CALENDAR}:
            raise GoogleError(
                403, "insufficientPermissions", "Request had insufficient authentication scopes."
            )
        return token

    def busiest_minute(self, subject: str) -> int:
        """The most requests of `subject` the server counted within any 60 s."""
        stamps = sorted(self.stamps.get(subject, ()))
        best, first = 0, 0
        for last, when in enumerate(stamps):
            while when - stamps[first] >= 60:
                first += 1
            best = max(best, last - first + 1)
        return best

    def revoke_access_tokens(self) -> None:
        self.access.clear()


class _Handler(BaseHTTPRequestHandler):
    google: GoogleTestServer
    protocol_version = "HTTP/1.1"
    # one write per answer, sent at once (headers and body apart wait on delayed ACKs)
    wbufsize = 1 << 16
    disable_nagle_algorithm = True

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def _send(self, status: int, body: Any, headers: dict[str, str] | None = None) -> None:
        data = b"" if body is None else json.dumps(body).encode()
        self.send_response(status)
        for key, value in (headers or {}).items():
            self.send_header(key, value)
        if data:
            self.send_header("Content-Type", "application/json; charset=UTF-8")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _body(self) -> bytes:
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    def _dispatch(self, method: str) -> None:
        parts = urlsplit(self.path)
        raw = self._body()
        server = self.google
        if parts.path == "/token" and method == "POST":
            form = {k: v[0] for k, v in parse_qs(raw.decode()).items()}
            status, body = server.token(form)
            self._send(status, body)
            return
        query = {k: v[-1] for k, v in parse_qs(parts.query, keep_blank_values=True).items()}
        try:
            token = server.authorize(self.headers.get("Authorization", ""))
            server.requests.append((token.subject, method, parts.path))
            if server.faults:
                status, reason, domain, retry_after = server.faults.pop(0)
                raise GoogleError(status, reason, reason, domain, retry_after)
            server.spend(token.subject)
            body = json.loads(raw) if raw else None
            status, answer = server.api.handle(
                method, unquote(parts.path), query, body, token.subject, self.headers
            )
        except GoogleError as exc:
            headers = {"Retry-After": exc.retry_after} if exc.retry_after else None
            self._send(exc.status, exc.body(), headers)
            return
        if method in server.lose_reply:
            server.lose_reply.remove(method)
            self.close_connection = True  # done, but the answer never arrives
            return
        self._send(status, answer)

    def do_GET(self) -> None:
        self._dispatch("GET")

    def do_POST(self) -> None:
        self._dispatch("POST")

    def do_PATCH(self) -> None:
        self._dispatch("PATCH")

    def do_PUT(self) -> None:
        self._dispatch("PUT")

    def do_DELETE(self) -> None:
        self._dispatch("DELETE")


def utc_now() -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(microsecond=0)
