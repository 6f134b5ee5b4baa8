"""A loopback Microsoft Graph + Microsoft Entra token endpoint for tests.

`GraphTestServer` runs `http.server` over TLS in a thread and answers what the
Graph adapter calls, with response shapes after Microsoft's published docs:

- `GET /{tenant}/v2.0/.well-known/openid-configuration` (msal's tenant discovery)
- `POST /{tenant}/oauth2/v2.0/token` (client credentials: secret or JWT assertion;
  errors carry AADSTS codes like the real endpoint)
- `/v1.0/users/{id}/calendar`, `/calendarView/delta` (nextLink/deltaLink paging,
  `@removed`, 410 on an expired sync state), GET/POST/PATCH/DELETE `/events/{id}`
  with `@odata.etag` that changes on every write, If-Match → 412
- recurring series (store.py, series.py): a `seriesMaster` with a `recurrence`,
  its `occurrence`/`exception` instances in the calendar view under ids of their
  own; `GET /events?$filter=type eq 'seriesMaster'` pages with `$top`/`$skip`
- 403 for mailboxes outside the application access policy, 404 for unknown users,
  injected faults (429/503/504 with Retry-After, 400, transient 412, slow answers) on
  demand; `start/end.timeZone` only as Graph accepts it (zones.py); a calendar view
  of at most 1825 days; `/events/{id}/instances`; series in delta shaped as real
  ones (store.py `_delta_shape`); and lost replies: a create/update/delete carried
  out whose answer is a 5xx or a reset.

It counts requests per mailbox so tests can assert what a sync costs.
"""

from __future__ import annotations

import base64
import datetime as dt
import json
import re
import socket
import ssl
import struct
import threading
import time
import uuid
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, quote, unquote, urlencode, urlsplit

import jwt
from cryptography import x509
from cryptography.hazmat.primitives import hashes

from tests.providers.graph.server.store import (
    GraphError,
    Mailbox,
    encode_state,
    parse_time,
    read_token,
)
from tests.providers.graph.server.tls import make_server_tls

READ_ROLES = {"Calendars.Read", "Calendars.ReadWrite"}
WRITE_ROLES = {"Calendars.ReadWrite"}


@dataclass
class App:
    """An app registration in the test tenant."""

    client_id: str
    secret: str | None = None
    secret_expired: bool = False
    certificate: x509.Certificate | None = None
    #: application permissions an admin consented to (the token's `roles`)
    roles: tuple[str, ...] = ("Calendars.ReadWrite",)


@dataclass
class Fault:
    status: int
    times: int = 1
    retry_after: str | None = None
    #: the error code to answer with (default: the usual one for the status)
    code: str | None = None
    mailbox: str | None = None
    method: str | None = None
    path_contains: str | None = None
    #: seconds to wait before answering (to provoke client timeouts)
    delay: float = 0.0
    #: carry the request out first, then answer `status` instead of its result
    #: (status 0: reset the connection): a write whose answer is lost
    lose_reply: bool = False
    hits: int = 0
    #: set once every request this fault hit has been answered
    done: threading.Event = field(default_factory=threading.Event)


@dataclass
class _Token:
    app: App
    expires: float


class _AADError(Exception):
    def __init__(self, status: int, error: str, code: int, description: str) -> None:
        super().__init__(description)
        self.status, self.error, self.code, self.description = status, error, code, description


@dataclass
class GraphTestServer:
    tmp: Path
    tenant: str = "11111111-2222-3333-4444-555555555555"
    apps: dict[str, App] = field(default_factory=dict)
    mailboxes: dict[str, Mailbox] = field(default_factory=dict)
    faults: list[Fault] = field(default_factory=list)
    token_requests: int = 0
    #: every request line seen, "METHOD /path?query" (for debugging failed tests)
    log: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._lock = threading.RLock()
        self._tokens: dict[str, _Token] = {}
        self.tls = make_server_tls(self.tmp)
        self._httpd: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # -- lifecycle ------------------------------------------------------------------

    def start(self) -> GraphTestServer:
        server = self

        class Handler(_Handler):
            graph = server

        httpd = _QuietServer(("127.0.0.1", 0), Handler)
        httpd.daemon_threads = True
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(self.tls.cert_file, self.tls.key_file)
        httpd.socket = context.wrap_socket(
            httpd.socket, server_side=True, do_handshake_on_connect=False
        )
        self._httpd = httpd
        self._thread = threading.Thread(target=httpd.serve_forever, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()
            self._httpd = None

    @property
    def url(self) -> str:
        assert self._httpd is not None, "server not started"
        return f"https://127.0.0.1:{self._httpd.server_address[1]}"

    # -- test setup -----------------------------------------------------------------

    def register_app(self, **kwargs: Any) -> App:
        app = App(client_id=str(uuid.uuid4()), **kwargs)
        self.apps[app.client_id] = app
        return app

    def add_mailbox(self, address: str | None = None, *, allowed: bool = True) -> Mailbox:
        address = address or f"user-{uuid.uuid4().hex[:10]}@contoso.example"
        mailbox = Mailbox(address=address, allowed=allowed)
        with self._lock:
            self.mailboxes[address.lower()] = mailbox
        return mailbox

    def inject(self, status: int, **kwargs: Any) -> Fault:
        fault = Fault(status=status, **kwargs)
        with self._lock:
            self.faults.append(fault)
        return fault

    def requests_for(self, address: str) -> int:
        return self.mailboxes[address.lower()].requests

    # -- lookups used by the handler --------------------------------------------------

    def mailbox(self, user: str) -> Mailbox:
        user = unquote(user).lower()
        with self._lock:
            found = self.mailboxes.get(user)
            if found is None:
                found = next((m for m in self.mailboxes.values() if m.user_id == user), None)
        if found is None:
            raise GraphError(404, "ErrorInvalidUser", f"The requested user '{user}' is invalid.")
        return found

    def take_fault(self, method: str, path: str, mailbox: str | None) -> Fault | None:
        with self._lock:
            for fault in self.faults:
                if fault.hits >= fault.times:
                    continue
                if fault.method and fault.method != method:
                    continue
                if fault.path_contains and fault.path_contains not in path:
                    continue
                if fault.mailbox and (mailbox is None or fault.mailbox.lower() != mailbox):
                    continue
                fault.hits += 1
                return fault
        return None

    def issue_token(self, form: dict[str, str]) -> dict[str, Any]:
        with self._lock:
            self.token_requests += 1
        if form.get("grant_type") != "client_credentials":
            raise _AADError(
                400, "unsupported_grant_type", 70003, "The app requested an unsupported grant type."
            )
        client_id = form.get("client_id", "")
        app = self.apps.get(client_id)
        if app is None:
            raise _AADError(
                400,
                "unauthorized_client",
                700016,
                f"Application with identifier '{client_id}' was not found in the directory "
                f"'{self.tenant}'. This can happen if the application has not been installed "
                "by the administrator of the tenant.",
            )
        if "client_assertion" in form:
            self._check_assertion(app, form["client_assertion"])
        else:
            secret = form.get("client_secret")
            if not secret or secret != app.secret:
                raise _AADError(
                    401,
                    "invalid_client",
                    7000215,
                    "Invalid client secret provided. Ensure the secret being sent in the request "
                    "is the client secret value, not the client secret ID, for a secret added to "
                    f"app '{app.client_id}'.",
                )
            if app.secret_expired:
                raise _AADError(
                    401,
                    "invalid_client",
                    7000222,
                    f"The provided client secret keys for app '{app.client_id}' are expired.",
                )
        token = self._make_access_token(app)
        with self._lock:
            self._tokens[token] = _Token(app, time.time() + 3599)
        return {
            "token_type": "Bearer",
            "expires_in": 3599,
            "ext_expires_in": 3599,
            "access_token": token,
        }

    def _make_access_token(self, app: App) -> str:
        # shaped like an Entra access token (header.payload.signature); never verified
        # by clients, which must treat it as opaque
        def part(data: dict[str, Any]) -> str:
            return base64.urlsafe_b64encode(json.dumps(data).encode()).decode().rstrip("=")

        payload: dict[str, Any] = {
            "aud": self.url,
            "iss": f"https://sts.windows.net/{self.tenant}/",
            "appid": app.client_id,
            "tid": self.tenant,
            "jti": uuid.uuid4().hex,
            "exp": int(time.time()) + 3599,
        }
        if app.roles:
            payload["roles"] = list(app.roles)
        return f"{part({'typ': 'JWT', 'alg': 'RS256'})}.{part(payload)}.c2lnbmF0dXJl"

    def _check_assertion(self, app: App, assertion: str) -> None:
        bad = _AADError(
            401,
            "invalid_client",
            700027,
            "Client assertion failed signature validation. (The certificate used to sign the "
            "assertion is not registered on the application.)",
        )
        if app.certificate is None:
            raise bad
        header = jwt.get_unverified_header(assertion)
        cert = app.certificate
        thumbs = {
            _b64(cert.fingerprint(hashes.SHA1())),
            _b64(cert.fingerprint(hashes.SHA256())),
        }
        sent = {str(header.get(k) or "").rstrip("=") for k in ("x5t", "x5t#S256")}
        if not (sent & thumbs):
            raise bad
        if cert.not_valid_after_utc < dt.datetime.now(dt.UTC):
            raise _AADError(
                401,
                "invalid_client",
                700027,
                "Client assertion failed signature validation. (The key used is expired.)",
            )
        try:
            jwt.decode(
                assertion,
                cert.public_key(),  # type: ignore[arg-type]
                algorithms=["RS256", "PS256"],
                audience=f"{self.url}/{self.tenant}/oauth2/v2.0/token",
            )
        except jwt.PyJWTError as exc:
            raise _AADError(
                401,
                "invalid_client",
                700027,
                f"Client assertion failed signature validation. ({exc})",
            ) from exc

    def authorize(self, header: str | None, *, write: bool) -> App:
        if not header or not header.startswith("Bearer "):
            raise GraphError(401, "InvalidAuthenticationToken", "Access token is empty.")
        with self._lock:
            token = self._tokens.get(header[len("Bearer ") :])
        if token is None:
            raise GraphError(
                401,
                "InvalidAuthenticationToken",
                "Access token validation failure. Invalid audience.",
            )
        if token.expires < time.time():
            raise GraphError(
                401,
                "InvalidAuthenticationToken",
                "Lifetime validation failed, the token is expired.",
            )
        roles = set(token.app.roles)
        if not roles & (WRITE_ROLES if write else READ_ROLES):
            raise GraphError(
                403, "ErrorAccessDenied", "Access is denied. Check credentials and try again."
            )
        return token.app


#: the longest calendar view Graph serves (microsoft-graph-docs issue #6284 /
#: microsoft-graph-docs-contrib issue #6321: "Maximum number of days: 1825")
MAX_VIEW_DAYS = 1825


def _view_range(query: dict[str, str]) -> tuple[dt.datetime, dt.datetime]:
    """startDateTime/endDateTime of a calendar view, refused as Graph refuses them."""
    if "startDateTime" not in query or "endDateTime" not in query:
        raise GraphError(
            400,
            "ErrorInvalidParameter",
            "This request requires a time window specified by the query string parameters "
            "StartDateTime and EndDateTime.",
        )
    try:
        start, end = parse_time(query["startDateTime"]), parse_time(query["endDateTime"])
    except ValueError as exc:
        raise GraphError(400, "ErrorInvalidParameter", str(exc)) from exc
    if end - start > dt.timedelta(days=MAX_VIEW_DAYS):
        raise GraphError(
            400,
            "ErrorInvalidRequest",
            "Your request can't be completed. The range between the start and end dates is "
            f"greater than the allowed range. Maximum number of days: {MAX_VIEW_DAYS}",
        )
    return start, end


class _QuietServer(ThreadingHTTPServer):
    def handle_error(self, request: Any, client_address: Any) -> None:
        # clients that time out on purpose leave broken pipes behind; not news
        pass


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


_PREFER = re.compile(r'([\w.-]+)\s*=\s*("([^"]*)"|[^,\s]+)')


def _prefer(header: str | None) -> dict[str, str]:
    out: dict[str, str] = {}
    for match in _PREFER.finditer(header or ""):
        out[match.group(1).lower()] = (
            match.group(3) if match.group(3) is not None else match.group(2)
        )
    return out


class _Handler(BaseHTTPRequestHandler):
    graph: GraphTestServer
    protocol_version = "HTTP/1.1"

    def setup(self) -> None:
        super().setup()
        # headers and body go out in separate writes: without this, Nagle's algorithm
        # and delayed ACKs add ~40 ms to every answer
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def log_message(self, format: str, *args: Any) -> None:
        pass

    # -- plumbing -------------------------------------------------------------------

    #: set while a lost-reply fault carries a request out: its answer is not sent
    _swallow = False

    def _send(self, status: int, body: Any = None, headers: dict[str, str] | None = None) -> None:
        if self._swallow:
            return
        data = b"" if body is None else json.dumps(body).encode()
        self.send_response(status)
        if body is not None:
            self.send_header("Content-Type", "application/json; odata.metadata=minimal")
        self.send_header("Content-Length", str(len(data)))
        self.send_header("request-id", str(uuid.uuid4()))
        for key, value in (headers or {}).items():
            self.send_header(key, value)
        self.end_headers()
        self.wfile.write(data)

    def _graph_error(self, err: GraphError, headers: dict[str, str] | None = None) -> None:
        self._send(
            err.status,
            {
                "error": {
                    "code": err.code,
                    "message": err.message,
                    "innerError": {
                        "date": dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S"),
                        "request-id": str(uuid.uuid4()),
                        "client-request-id": self.headers.get("client-request-id", ""),
                    },
                }
            },
            headers,
        )

    def _body(self) -> bytes:
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    def _json(self) -> dict[str, Any]:
        raw = self._body()
        try:
            data = json.loads(raw or b"{}")
        except ValueError as exc:
            raise GraphError(400, "BadRequest", "Unable to read JSON request payload.") from exc
        if not isinstance(data, dict):
            raise GraphError(400, "BadRequest", "Unable to read JSON request payload.")
        return data

    def do_GET(self) -> None:
        self._dispatch("GET")

    def do_POST(self) -> None:
        self._dispatch("POST")

    def do_PATCH(self) -> None:
        self._dispatch("PATCH")

    def do_DELETE(self) -> None:
        self._dispatch("DELETE")

    def _dispatch(self, method: str) -> None:
        graph = self.graph
        parts = urlsplit(self.path)
        path = parts.path
        query = {k: v[0] for k, v in parse_qs(parts.query).items()}
        with graph._lock:
            graph.log.append(f"{method} {self.path}")
        mailbox: Mailbox | None = None
        user_match = re.match(r"^/v1\.0/users/([^/]+)", path)
        if user_match:
            try:
                mailbox = graph.mailbox(user_match.group(1))
                with mailbox.lock:
                    mailbox.requests += 1
            except GraphError:
                mailbox = None
        fault = graph.take_fault(method, path, mailbox.address.lower() if mailbox else None)
        try:
            self._serve(method, path, query, fault)
        finally:
            if fault is not None and fault.hits >= fault.times:
                fault.done.set()

    def _serve(self, method: str, path: str, query: dict[str, str], fault: Fault | None) -> None:
        if fault is not None and fault.lose_reply:
            self._lose_reply(method, path, query, fault)
            return
        graph = self.graph
        if fault is not None:
            if fault.delay:
                time.sleep(fault.delay)
            if fault.status:
                if method in ("POST", "PATCH"):
                    self._body()
                headers = {"Retry-After": fault.retry_after} if fault.retry_after else {}
                code = {
                    429: "TooManyRequests",
                    503: "ServiceUnavailable",
                    504: "GatewayTimeout",
                    # Exchange answers a read that races a write with 412 (issue 14)
                    412: "ErrorIrresolvableConflict",
                    400: "ErrorInvalidRequest",
                }
                self._graph_error(
                    GraphError(
                        fault.status,
                        fault.code or code.get(fault.status, "InternalServerError"),
                        "Injected fault.",
                    ),
                    headers,
                )
                return
        try:
            if path.startswith("/v1.0/"):
                self._graph(method, path[len("/v1.0") :], query)
            else:
                self._identity(method, path)
        except GraphError as err:
            self._graph_error(err)
        except _AADError as err:
            trace = str(uuid.uuid4())
            self._send(
                err.status,
                {
                    "error": err.error,
                    "error_description": f"AADSTS{err.code}: {err.description}\r\nTrace ID: {trace}",
                    "error_codes": [err.code],
                    "timestamp": dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M:%SZ"),
                    "trace_id": trace,
                    "correlation_id": str(uuid.uuid4()),
                    "error_uri": f"{graph.url}/error?code={err.code}",
                },
            )

    def _lose_reply(self, method: str, path: str, query: dict[str, str], fault: Fault) -> None:
        """Do the request, then lose its answer: a 5xx from a gateway, or a reset."""
        self._swallow = True
        try:
            self._serve(method, path, query, None)
        finally:
            self._swallow = False
        if fault.delay:
            time.sleep(fault.delay)
        if fault.status == 0:
            # SO_LINGER 0 makes close() send an RST: the connection drops mid-answer
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            self.close_connection = True
            self.connection.close()
            return
        codes = {502: "BadGateway", 503: "ServiceUnavailable", 504: "GatewayTimeout"}
        code = codes.get(fault.status, "InternalServerError")
        self._graph_error(GraphError(fault.status, code, "Injected lost reply."))

    # -- Microsoft Entra ------------------------------------------------------------

    def _identity(self, method: str, path: str) -> None:
        graph = self.graph
        match = re.match(
            r"^/([^/]+)/(v2\.0/\.well-known/openid-configuration|oauth2/v2\.0/token)$", path
        )
        if not match:
            raise GraphError(404, "NotFound", f"no route {path}")
        tenant, what = match.groups()
        if tenant != graph.tenant:
            if method == "POST":
                self._body()
            raise _AADError(
                400,
                "invalid_tenant",
                90002,
                f"Tenant '{tenant}' not found. Check to make sure you have the correct tenant ID "
                "and are signing into the correct cloud.",
            )
        base = f"{graph.url}/{tenant}"
        if what.startswith("v2.0") and method == "GET":
            self._send(
                200,
                {
                    "token_endpoint": f"{base}/oauth2/v2.0/token",
                    "authorization_endpoint": f"{base}/oauth2/v2.0/authorize",
                    "issuer": f"{base}/v2.0",
                    "jwks_uri": f"{base}/discovery/v2.0/keys",
                    "response_types_supported": [
                        "code",
                        "id_token",
                        "code id_token",
                        "id_token token",
                    ],
                    "token_endpoint_auth_methods_supported": [
                        "client_secret_post",
                        "private_key_jwt",
                    ],
                    "tenant_region_scope": "EU",
                },
            )
            return
        if what.startswith("oauth2") and method == "POST":
            form = {k: v[0] for k, v in parse_qs(self._body().decode()).items()}
            self._send(200, graph.issue_token(form))
            return
        raise GraphError(405, "MethodNotAllowed", method)

    # -- Microsoft Graph ------------------------------------------------------------

    def _graph(self, method: str, path: str, query: dict[str, str]) -> None:
        graph = self.graph
        match = re.match(r"^/users/([^/]+)(/.*)?$", path)
        if not match:
            raise GraphError(400, "BadRequest", f"Resource not found for the segment '{path}'.")
        graph.authorize(self.headers.get("Authorization"), write=method != "GET")
        mailbox = graph.mailbox(match.group(1))
        if not mailbox.allowed:
            raise GraphError(
                403,
                "ErrorAccessDenied",
                "Access to OData is disabled: [RAOP] : Blocked by tenant configured AppOnly "
                "AccessPolicy settings.",
            )
        rest = match.group(2) or ""
        prefer = _prefer(self.headers.get("Prefer"))
        text_body = prefer.get("outlook.body-content-type", "").lower() == "text"
        if rest == "/calendar" and method == "GET":
            self._send(
                200,
                {
                    "@odata.context": f"{graph.url}/v1.0/$metadata#users('{quote(mailbox.address)}')/calendar/$entity",
                    "id": mailbox.calendar_id,
                    "name": mailbox.calendar_name,
                    "color": "auto",
                    "isDefaultCalendar": True,
                    "changeKey": "nfZyf7VcrEKLNoU37KWlkQAAA0x0+w==",
                    "canShare": True,
                    "canViewPrivateItems": True,
                    "canEdit": mailbox.can_edit,
                    "owner": {"name": mailbox.address, "address": mailbox.address},
                },
            )
            return
        if rest == "/calendarView/delta" and method == "GET":
            self._delta(mailbox, query, prefer, text_body)
            return
        if rest in ("/events", "/calendar/events") and method == "GET":
            self._list_events(mailbox, rest, query, text_body)
            return
        if rest in ("/events", "/calendar/events") and method == "POST":
            event = mailbox.create(self._json())
            self._send(
                201, mailbox.render(event, text_body=text_body), {"ETag": event["@odata.etag"]}
            )
            return
        instances_match = re.match(r"^/(?:calendar/)?events/([^/]+)/instances$", rest)
        if instances_match and method == "GET":
            self._instances(mailbox, unquote(instances_match.group(1)), rest, query, text_body)
            return
        event_match = re.match(r"^/(?:calendar/)?events/([^/]+)$", rest)
        if event_match:
            event_id = unquote(event_match.group(1))
            if_match = self.headers.get("If-Match")
            if method == "GET":
                self._send(
                    200, mailbox.get(event_id, text_body=text_body, expand=query.get("$expand"))
                )
                return
            if method == "PATCH":
                event = mailbox.update(event_id, self._json(), if_match)
                self._send(200, mailbox.render(event, text_body=text_body))
                return
            if method == "DELETE":
                mailbox.delete(event_id, if_match)
                self._send(204)
                return
        raise GraphError(400, "BadRequest", f"Unsupported request {method} {path}.")

    def _list_events(
        self, mailbox: Mailbox, rest: str, query: dict[str, str], text_body: bool
    ) -> None:
        """A filtered event listing in pages of `$top` (default 10), `@odata.nextLink`
        carrying `$skip`, as Graph pages /events."""
        found = mailbox.find(
            query.get("$filter", ""), text_body=text_body, expand=query.get("$expand")
        )
        self._page(mailbox, rest, query, found)

    def _page(
        self, mailbox: Mailbox, rest: str, query: dict[str, str], found: list[dict[str, Any]]
    ) -> None:
        try:
            top, skip = int(query.get("$top", "10")), int(query.get("$skip", "0"))
        except ValueError as exc:
            raise GraphError(400, "BadRequest", "$top and $skip take numbers.") from exc
        if not 1 <= top <= 1000 or skip < 0:
            raise GraphError(400, "BadRequest", "$top must be 1 to 1000.")
        body: dict[str, Any] = {"value": found[skip : skip + top]}
        if skip + top < len(found):
            rest_query = {**query, "$skip": str(skip + top)}
            link = f"{self.graph.url}/v1.0/users/{quote(mailbox.address)}{rest}"
            body["@odata.nextLink"] = f"{link}?{urlencode(rest_query, quote_via=quote)}"
        self._send(200, body)

    def _instances(
        self, mailbox: Mailbox, master_id: str, rest: str, query: dict[str, str], text_body: bool
    ) -> None:
        """GET /events/{id}/instances?startDateTime=..&endDateTime=.. (event-list-instances):
        both parameters required; pages of `$top` (default 10) with `$skip` nextLinks."""
        start, end = _view_range(query)
        found = mailbox.instances_in(master_id, start, end, text_body=text_body)
        self._page(mailbox, rest, query, found)

    def _delta(
        self, mailbox: Mailbox, query: dict[str, str], prefer: dict[str, str], text_body: bool
    ) -> None:
        graph = self.graph
        if "$skiptoken" in query:
            state = read_token(query["$skiptoken"])
        elif "$deltatoken" in query:
            state = read_token(query["$deltatoken"])
        else:
            _view_range(query)
            page_size = int(prefer.get("odata.maxpagesize", "10"))
            state = {
                "s": query["startDateTime"],
                "e": query["endDateTime"],
                "since": 0,
                "gen": mailbox.generation,
                "ps": page_size,
            }
        page_size = int(state.get("ps", 10))
        items, next_state, delta_state = mailbox.delta_page(state, page_size, text_body=text_body)
        link = f"{graph.url}/v1.0/users/{quote(mailbox.address)}/calendarView/delta"
        body: dict[str, Any] = {"@odata.context": f"{graph.url}/v1.0/$metadata#Collection(event)"}
        if next_state is not None:
            body["@odata.nextLink"] = (
                f"{link}?$skiptoken={encode_state({**next_state, 'ps': page_size})}"
            )
        else:
            body["@odata.deltaLink"] = (
                f"{link}?$deltatoken={encode_state({**delta_state, 'ps': page_size})}"
            )
        body["value"] = items
        applied = [f"odata.maxpagesize={page_size}"]
        if "outlook.timezone" in prefer:
            applied.append(f'outlook.timezone="{prefer["outlook.timezone"]}"')
        self._send(200, body, {"Preference-Applied": ", ".join(applied)})
