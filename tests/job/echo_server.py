"""A hostile HTTP server: it answers every request with the credentials it received.

A CalDAV connection against it fails, and the failure text may well carry what
the server said, so it tests that calsync keeps a password out of its output
even when a server throws it back.
"""

from __future__ import annotations

import base64
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class EchoHandler(BaseHTTPRequestHandler):
    server: EchoServer

    def _answer(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        if length:
            self.rfile.read(length)
        auth = self.headers.get("Authorization")
        if not auth:
            self.send_response(401)
            self.send_header("WWW-Authenticate", 'Basic realm="echo"')
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        kind, _, token = auth.partition(" ")
        creds = base64.b64decode(token).decode() if kind.lower() == "basic" else token
        self.server.seen.append(creds)
        if self.server.redirect and not self.path.startswith("/moved/"):
            # to a closed port, with the password in the path: the connection error
            # that follows quotes the URL it could not reach
            self.send_response(302)
            self.send_header("Location", f"http://127.0.0.1:9/moved/{creds}/")
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        body = f"<not-xml credentials='{creds}'>{creds}".encode()
        self.send_response(207)
        self.send_header("Content-Type", "application/xml; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    do_PROPFIND = do_REPORT = do_GET = do_PUT = do_DELETE = do_OPTIONS = _answer

    def log_message(self, format: str, *args: object) -> None:
        pass


class EchoServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, *, redirect: bool = False) -> None:
        super().__init__(("127.0.0.1", 0), EchoHandler)
        self.seen: list[str] = []
        self.redirect = redirect

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"


@contextmanager
def echo_server(*, redirect: bool = False) -> Iterator[EchoServer]:
    server = EchoServer(redirect=redirect)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()
