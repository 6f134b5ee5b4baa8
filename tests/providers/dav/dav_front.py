"""A loopback HTTP front for Radicale that plays the server behaviours Radicale lacks.

Requests to `FRONT_PREFIX...` are forwarded to one Radicale calendar (hrefs in the
replies are rewritten back), so items really live in a CalDAV server, while the
front can: refuse sync-collection (507, like Google), keep no dead properties, demand
a bearer token, serve an OAuth token endpoint, or answer a queue of canned statuses
(429/503/401, Google's usage-limit 403, a 409 with its reason phrase) first. Like a
strict server it refuses a sync-collection REPORT with a Depth other than 0.
Everything it saw is recorded for assertions.
"""

from __future__ import annotations

import http.client
import json
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, quote, urlsplit


@dataclass
class Seen:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes


@dataclass
class DavFront:
    upstream: str  # Radicale calendar URL, ending in '/'
    prefix: str  # the path the front serves the calendar under, ending in '/'
    url: str = ""  # http://127.0.0.1:PORT, set when started
    #: status to answer every sync-collection REPORT with (None: forward it)
    refuse_sync: int | None = None
    #: when set, CalDAV requests must carry "Authorization: Bearer <one of these>"
    bearer_tokens: set[str] = field(default_factory=set)
    #: canned (status, headers, body) answers given before forwarding, first to last
    canned: list[tuple[int, dict[str, str], bytes]] = field(default_factory=list)
    #: canned answers given to sync-collection REPORTs only, before forwarding them
    canned_sync: list[tuple[int, dict[str, str], bytes]] = field(default_factory=list)
    #: reason phrases for statuses the front answers (e.g. Google's words on a 409)
    reasons: dict[int, str] = field(default_factory=dict)
    #: POST /token handler: form fields -> (status, JSON reply)
    token_endpoint: Callable[[dict[str, str]], tuple[int, dict[str, Any]]] | None = None
    #: answer PROPPATCH "200 OK" and keep nothing: a server without dead properties
    #: that still claims success (Puter's WebDAV PROPPATCH handler is such a stub)
    drop_dead_properties: bool = False
    #: more calendars: path prefix -> (Radicale calendar URL, the one bearer token allowed)
    routes: dict[str, tuple[str, str | None]] = field(default_factory=dict)
    seen: list[Seen] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def calendar_url(self) -> str:
        return self.url + self.prefix


def _handler(front: DavFront) -> type[BaseHTTPRequestHandler]:

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: Any) -> None:  # quiet
            pass

        def _reply(self, status: int, body: bytes = b"", headers: dict[str, str] | None = None):
            self.send_response(status, front.reasons.get(status))
            for key, value in (headers or {}).items():
                self.send_header(key, value)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def _handle(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            with front.lock:
                front.seen.append(
                    Seen(self.command, self.path, {k: v for k, v in self.headers.items()}, body)
                )
            if self.path == "/token" and front.token_endpoint is not None:
                form = {k: v[0] for k, v in parse_qs(body.decode()).items()}
                status, reply = front.token_endpoint(form)
                data = json.dumps(reply).encode()
                return self._reply(status, data, {"Content-Type": "application/json"})
            with front.lock:
                canned = front.canned.pop(0) if front.canned else None
            if canned is not None:
                return self._reply(canned[0], canned[2], canned[1])
            if front.bearer_tokens:
                auth = self.headers.get("Authorization", "")
                if auth.removeprefix("Bearer ") not in front.bearer_tokens:
                    return self._reply(401, b"", {"WWW-Authenticate": 'Bearer realm="test"'})
            routes = {front.prefix: (front.upstream, None), **front.routes}
            prefix = max((p for p in routes if self.path.startswith(p)), key=len, default=None)
            if prefix is None:
                return self._reply(404)
            upstream, only_token = routes[prefix]
            if only_token is not None and self.headers.get("Authorization") != (
                f"Bearer {only_token}"
            ):
                return self._reply(403, b"", {"Content-Type": "text/plain"})
            if front.drop_dead_properties and self.command == "PROPPATCH":
                reply = (
                    '<?xml version="1.0" encoding="utf-8"?><d:multistatus xmlns:d="DAV:">'
                    f"<d:response><d:href>{self.path}</d:href><d:propstat><d:prop/>"
                    "<d:status>HTTP/1.1 200 OK</d:status></d:propstat></d:response>"
                    "</d:multistatus>"
                ).encode()
                return self._reply(207, reply, {"Content-Type": "application/xml; charset=utf-8"})
            sync_report = self.command == "REPORT" and b"sync-collection" in body
            if sync_report and self.headers.get("Depth", "0") != "0":
                # RFC 6578 §3.2: the report is defined for Depth 0 only, "other values
                # result in a 400 (Bad Request)" (no Depth: RFC 3253 §3.6 makes it 0)
                return self._reply(400, b"Depth must be 0", {"Content-Type": "text/plain"})
            with front.lock:
                canned = front.canned_sync.pop(0) if sync_report and front.canned_sync else None
            if canned is not None:
                return self._reply(canned[0], canned[2], canned[1])
            if front.refuse_sync is not None and sync_report:
                return self._reply(front.refuse_sync, b"", {"Content-Type": "text/plain"})
            self._forward(body, prefix, urlsplit(upstream))

        def _forward(self, body: bytes, prefix: str, up: Any) -> None:
            path = up.path + self.path[len(prefix) :]
            for spelling in {prefix, quote(prefix)}:
                body = body.replace(spelling.encode(), up.path.encode())
            headers = {
                k: v
                for k, v in self.headers.items()
                if k.lower()
                not in ("host", "authorization", "content-length", "connection", "accept-encoding")
            }
            headers["Authorization"] = "Basic Y2Fsc3luYzp4"  # calsync:x for Radicale
            conn = http.client.HTTPConnection(up.hostname, up.port, timeout=30)
            try:
                conn.request(self.command, path, body=body, headers=headers)
                resp = conn.getresponse()
                data = resp.read()
            finally:
                conn.close()
            data = data.replace(up.path.encode(), prefix.encode())
            keep = {
                k: v
                for k, v in resp.getheaders()
                if k.lower() not in ("content-length", "connection", "transfer-encoding")
            }
            self._reply(resp.status, data, keep)

        do_GET = do_PUT = do_DELETE = do_PROPFIND = do_REPORT = do_OPTIONS = _handle
        do_POST = do_HEAD = do_PROPPATCH = _handle

    return Handler


@contextmanager
def dav_front(upstream: str, prefix: str = "/dav/cal/", **knobs: Any) -> Iterator[DavFront]:
    front = DavFront(upstream=upstream, prefix=prefix, **knobs)
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(front))
    server.daemon_threads = True
    front.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield front
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
