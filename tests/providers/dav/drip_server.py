"""A loopback HTTP(S) server that answers every request slowly, a few bytes at a time.

It plays the server of issue 20 item 5: the status line and headers come at once,
then the body trickles, each piece well inside any per-read timeout, so only a
deadline on the whole request ends the wait. It can also cut a reply short (close
after part of the declared body), for the "cut short" errors.
"""

from __future__ import annotations

import contextlib
import socket
import ssl
import threading
import time
from dataclasses import dataclass, field


@dataclass
class DripServer:
    body: bytes = b'<?xml version="1.0"?><d:multistatus xmlns:d="DAV:"/>' + b" " * 400
    status: str = "207 Multi-Status"
    content_type: str = "text/xml; charset=utf-8"
    #: seconds between two pieces of the body (each far below the client's read timeout)
    interval: float = 0.2
    #: bytes per piece
    piece: int = 1
    #: send only this many bytes of the body, then close (None: all of it)
    cut_after: int | None = None
    tls: ssl.SSLContext | None = None
    #: the request lines seen, e.g. "PROPFIND /cal/ HTTP/1.1"
    seen: list[str] = field(default_factory=list)
    url: str = ""

    def __post_init__(self) -> None:
        self._listener = socket.create_server(("127.0.0.1", 0))
        self._stop = threading.Event()
        port = self._listener.getsockname()[1]
        self.url = f"{'https' if self.tls else 'http'}://127.0.0.1:{port}"
        self._thread = threading.Thread(target=self._accept, daemon=True)

    def start(self) -> DripServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        with contextlib.suppress(OSError):
            self._listener.close()

    def __enter__(self) -> DripServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def _accept(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self._listener.accept()
            except OSError:
                return
            threading.Thread(target=self._serve, args=(conn,), daemon=True).start()

    def _serve(self, raw: socket.socket) -> None:
        try:
            conn = self.tls.wrap_socket(raw, server_side=True) if self.tls else raw
            with conn:
                while self._answer(conn):
                    pass
        except OSError:
            return  # the client went away: what a deadline does

    def _answer(self, conn: socket.socket) -> bool:
        data = b""
        while b"\r\n\r\n" not in data:
            chunk = conn.recv(65536)
            if not chunk:
                return False
            data += chunk
        head, _, rest = data.partition(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        self.seen.append(lines[0])
        length = 0
        for line in lines[1:]:
            name, _, value = line.partition(":")
            if name.strip().lower() == "content-length":
                length = int(value.strip())
        while len(rest) < length:
            chunk = conn.recv(65536)
            if not chunk:
                return False
            rest += chunk
        conn.sendall(
            f"HTTP/1.1 {self.status}\r\nContent-Type: {self.content_type}\r\n"
            f"Content-Length: {len(self.body)}\r\n\r\n".encode()
        )
        body = self.body if self.cut_after is None else self.body[: self.cut_after]
        for start in range(0, len(body), self.piece):
            if self._stop.is_set():
                return False
            conn.sendall(body[start : start + self.piece])
            if self.cut_after is None:
                time.sleep(self.interval)
        return self.cut_after is None
