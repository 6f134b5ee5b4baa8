"""A fault-injecting HTTP proxy on loopback, in front of a real server (Radicale).

The network lies in more ways than "no answer": a request can reach the server and
its answer be lost. `FaultProxy` forwards each request to the upstream server and,
when a fault is scheduled for it, misbehaves in one of these ways (FAULTS):

- `500_before` / `500_after`: answer 500 without forwarding / after forwarding
- `reset_before` / `reset_after`: reset the connection (RST) before / after forwarding
- `stall`: forward, then hold the answer past the client's timeout
- `hang`: hold the request past the client's timeout, then reset it unforwarded
- `trickle`: forward, then send the answer a few bytes at a time
- `truncate`: forward, then send the headers and half the body, and close
- `garbage_207`: forward, then answer 207 with a body that is not XML
- `412`: answer 412 Precondition Failed without forwarding
- `429` / `503`: answer with `Retry-After: 0` without forwarding (the client retries)

Faults are taken from a queue, one per request whose method matches, so a test
(or Hypothesis) decides exactly which request meets which fault. Everything seen
is recorded as (method, path, fault).
"""

from __future__ import annotations

import http.client
import socket
import struct
import threading
import time
from collections import deque
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import urlsplit

#: faults after which the upstream server has done the request
AFTER = ("500_after", "reset_after", "stall", "trickle", "truncate", "garbage_207")
#: faults that never reach the upstream server
BEFORE = ("500_before", "reset_before", "hang", "412", "429", "503")
FAULTS = AFTER + BEFORE
_HOP = {"connection", "keep-alive", "transfer-encoding", "proxy-connection", "te", "upgrade"}


@dataclass
class FaultProxy:
    upstream: str  # http://127.0.0.1:PORT/
    #: how long `stall` holds an answer: set it above the client's timeout
    stall: float = 1.5
    url: str = ""  # http://127.0.0.1:PORT/, set by `start`
    seen: list[tuple[str, str, str | None]] = field(default_factory=list)
    _queue: deque[tuple[str | None, frozenset[str] | None]] = field(default_factory=deque)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _httpd: ThreadingHTTPServer | None = None

    # -- test control -------------------------------------------------------------------

    def schedule(self, faults: Iterable[str | None], methods: Iterable[str] | None = None) -> None:
        """Queue faults (None: pass one request through) for requests of `methods`."""
        only = frozenset(m.upper() for m in methods) if methods is not None else None
        with self._lock:
            for fault in faults:
                assert fault is None or fault in FAULTS, fault
                self._queue.append((fault, only))

    def clear(self) -> None:
        with self._lock:
            self._queue.clear()

    @property
    def queued(self) -> int:
        with self._lock:
            return len(self._queue)

    def faults_hit(self) -> list[tuple[str, str, str]]:
        with self._lock:
            return [(m, p, f) for m, p, f in self.seen if f is not None]

    def _take(self, method: str) -> str | None:
        with self._lock:
            if self._queue and (self._queue[0][1] is None or method in self._queue[0][1]):
                return self._queue.popleft()[0]
            return None

    # -- lifecycle ------------------------------------------------------------------------

    def start(self) -> FaultProxy:
        httpd = _QuietServer(("127.0.0.1", 0), _handler(self))
        httpd.daemon_threads = True
        self._httpd = httpd
        threading.Thread(target=httpd.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{httpd.server_address[1]}/"
        return self

    def stop(self) -> None:
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()
            self._httpd = None

    def front(self, upstream_url: str) -> str:
        """The proxy's URL for a URL on the upstream server (same path)."""
        return self.url.rstrip("/") + urlsplit(upstream_url).path


@contextmanager
def fault_proxy(upstream: str, *, stall: float = 1.5) -> Iterator[FaultProxy]:
    proxy = FaultProxy(upstream=upstream, stall=stall).start()
    try:
        yield proxy
    finally:
        proxy.stop()


class _QuietServer(ThreadingHTTPServer):
    def handle_error(self, request: Any, client_address: Any) -> None:
        pass  # resets and clients that gave up are the point here


def _handler(proxy: FaultProxy) -> type[BaseHTTPRequestHandler]:
    target = urlsplit(proxy.upstream)

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: Any) -> None:
            pass

        def _handle(self) -> None:
            method = self.command
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            fault = proxy._take(method)
            with proxy._lock:
                proxy.seen.append((method, self.path, fault))
            if fault in ("reset_before", "hang"):
                if fault == "hang":
                    time.sleep(proxy.stall)
                self._reset()
                return
            if fault in ("500_before", "412", "429", "503"):
                status = 500 if fault == "500_before" else int(str(fault))
                extra = {"Retry-After": "0"} if fault in ("429", "503") else {}
                self._answer(status, [("Content-Type", "text/plain")], b"injected\n", extra)
                return
            status, headers, reply = self._forward(method, body)
            if fault == "500_after":
                self._answer(500, [("Content-Type", "text/plain")], b"injected\n")
            elif fault == "reset_after":
                self._reset()
            elif fault == "stall":
                time.sleep(proxy.stall)
                self._answer(status, headers, reply)
            elif fault == "trickle":
                self._answer(status, headers, reply, trickle=True)
            elif fault == "truncate":
                self._truncated(status, headers, reply)
            elif fault == "garbage_207":
                self._answer(207, [("Content-Type", "application/xml")], b"<<<not xml at all")
            else:
                self._answer(status, headers, reply)

        do_GET = do_PUT = do_DELETE = do_POST = _handle
        do_PROPFIND = do_REPORT = do_MKCALENDAR = do_OPTIONS = do_HEAD = _handle

        def _forward(self, method: str, body: bytes) -> tuple[int, list[tuple[str, str]], bytes]:
            conn = http.client.HTTPConnection(target.hostname, target.port, timeout=30)
            try:
                headers = {k: v for k, v in self.headers.items() if k.lower() not in _HOP}
                headers["Connection"] = "close"
                conn.request(method, self.path, body=body, headers=headers)
                response = conn.getresponse()
                data = response.read()
                kept = [(k, v) for k, v in response.getheaders() if k.lower() not in _HOP]
                return response.status, kept, data
            finally:
                conn.close()

        def _head(self, status: int, headers: list[tuple[str, str]], length: int) -> None:
            self.send_response(status)
            for key, value in headers:
                if key.lower() != "content-length":
                    self.send_header(key, value)
            self.send_header("Content-Length", str(length))
            self.end_headers()

        def _answer(
            self,
            status: int,
            headers: list[tuple[str, str]],
            body: bytes,
            extra: dict[str, str] | None = None,
            *,
            trickle: bool = False,
        ) -> None:
            self._head(status, [*headers, *(extra or {}).items()], len(body))
            if self.command == "HEAD":
                return
            if not trickle:
                self.wfile.write(body)
                return
            self.wfile.flush()
            step = max(1, len(body) // 8)
            for start in range(0, len(body), step):
                self.wfile.write(body[start : start + step])
                self.wfile.flush()
                time.sleep(0.01)

        def _truncated(self, status: int, headers: list[tuple[str, str]], body: bytes) -> None:
            self._head(status, headers, len(body) + 16)  # promise more than is sent
            self.wfile.write(body[: len(body) // 2])
            self.wfile.flush()
            self.close_connection = True

        def _reset(self) -> None:
            # SO_LINGER 0: close() sends an RST instead of a FIN
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            self.close_connection = True
            self.connection.close()

    return Handler
