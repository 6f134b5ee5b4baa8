"""A loopback HTTP proxy that adds a fixed delay to every request, as a WAN round trip would.

    python -m tests.benchmarks.latency_proxy --latency-ms 100 --target http://127.0.0.1:5232/ \
        [--target http://127.0.0.1:5233/ ...] --port-file PATH

It listens on a free loopback port (written to --port-file once it accepts), waits
`--latency-ms` before forwarding each request, and hands requests to the targets in
turn (several Radicale processes serving one storage folder, when one server process
is the limit). Each client connection gets a thread, so waiting requests overlap as
they would on a network; bodies pass through as bytes (gzip untouched). Benchmark
code only: it runs as its own process, so its CPU never counts as calsync's.
"""

from __future__ import annotations

import argparse
import http.client
import itertools
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import urlsplit

#: hop-by-hop headers (RFC 9110 7.6.1) are the proxy's own, never forwarded
HOP_BY_HOP = frozenset(
    (
        "connection",
        "keep-alive",
        "proxy-authenticate",
        "proxy-authorization",
        "te",
        "trailer",
        "transfer-encoding",
        "upgrade",
    )
)


def serve(
    targets: list[tuple[str, int]], latency: float, port_file: Path | None, per_server: int
) -> None:
    turn = itertools.cycle(targets)
    lock = threading.Lock()
    #: Radicale serves at most `max_connections` (8) at once and resets the rest: the
    #: proxy queues beyond that, as the server's own accept queue would
    slots = {target: threading.BoundedSemaphore(per_server) for target in targets}

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: object) -> None:
            pass  # quiet: the backends log the requests

        def _forward(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            headers = {k: v for k, v in self.headers.items() if k.lower() not in HOP_BY_HOP}
            time.sleep(latency)  # the round trip
            with lock:
                host, port = next(turn)
            conn = http.client.HTTPConnection(host, port, timeout=600)
            try:
                with slots[(host, port)]:
                    conn.request(self.command, self.path, body, headers)
                    reply = conn.getresponse()
                    data = reply.read()
                self.send_response_only(reply.status, reply.reason)
                for key, value in reply.getheaders():
                    if key.lower() not in HOP_BY_HOP and key.lower() != "content-length":
                        self.send_header(key, value)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                if self.command != "HEAD":
                    self.wfile.write(data)
            finally:
                conn.close()

        do_GET = do_PUT = do_POST = do_DELETE = do_HEAD = _forward
        do_PROPFIND = do_REPORT = do_OPTIONS = do_MKCALENDAR = do_PROPPATCH = _forward

    class Server(ThreadingHTTPServer):
        daemon_threads = True
        request_queue_size = 512  # listen() backlog: the default 5 resets a burst of jobs

    server = Server(("127.0.0.1", 0), Handler)
    if port_file is not None:
        port_file.write_text(str(server.server_address[1]), encoding="utf-8")
    server.serve_forever()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m tests.benchmarks.latency_proxy")
    parser.add_argument("--latency-ms", type=float, default=100.0)
    parser.add_argument("--target", action="append", required=True, help="backend base URL")
    parser.add_argument("--port-file", type=Path)
    parser.add_argument(
        "--per-server", type=int, default=8, help="requests at once per backend (default 8)"
    )
    args = parser.parse_args(argv)
    targets = []
    for url in args.target:
        parts = urlsplit(url)
        targets.append((parts.hostname or "127.0.0.1", parts.port or 80))
    serve(targets, args.latency_ms / 1000, args.port_file, args.per_server)


if __name__ == "__main__":
    sys.exit(main())
