"""Deadlines for a whole request and for a whole run, whichever library sends it.

Every HTTP client calsync uses (http.client for the listing probe, niquests under
the caldav library, requests under Graph, Google's token refresh and exchangelib)
applies its `timeout` to each socket operation: a server that drips its reply at a
byte a second never trips it, and one sync ran 152 s with `timeout = 3`. So, on top:

- every request (connect, send and the whole reply) must finish within
  `[job] request_deadline` seconds (default 120), and
- every run of one user within `[job] run_deadline` seconds (default 1800).

How, without patching any library: a process-wide audit hook (PEP 578,
"socket.__new__") notes each socket a thread opens while a run or a request is in
scope. One watchdog thread keeps the deadlines; when one passes it shuts those
sockets down, which wakes the blocked read or write at once, and refuses further
connects from that scope ("socket.connect"). The request's wrapper then reports a
`DeadlineExceeded` naming the host, whatever error the library made of the shutdown.
A retry's back-off sleep that would outlast the run's deadline fails at once.

A socket shared between threads (a connection pool one thread filled and another
reuses) is only woken for the thread that opened it; the per-read timeout still
bounds it, and the deadline is reported when that read returns.
"""

from __future__ import annotations

import contextlib
import heapq
import itertools
import socket
import sys
import threading
import time
import weakref
from collections.abc import Callable, Iterator, Mapping
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass, field
from typing import Any

from sync.providers.base import ConnectionFailed

DEFAULT_REQUEST_DEADLINE = 120.0
DEFAULT_RUN_DEADLINE = 1800.0


class DeadlineExceeded(ConnectionFailed):
    """A request or a run took longer than its deadline; the message names the host."""


@dataclass(eq=False)
class _Scope:
    """One thread's run: its deadlines, and the sockets it opened while they ran."""

    request_seconds: float = DEFAULT_REQUEST_DEADLINE
    run_seconds: float | None = None
    run_ends: float | None = None
    run_expired: bool = False
    request_expired: bool = False
    requests: int = 0
    #: the tickets of this thread's requests in flight (a late watchdog call is ignored)
    live: set[int] = field(default_factory=set)
    sockets: weakref.WeakSet[socket.socket] = field(default_factory=weakref.WeakSet)
    #: the watchdog thread reads `sockets` while this thread adds to it
    lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def active(self) -> bool:
        return self.run_ends is not None or self.requests > 0

    @property
    def expired(self) -> bool:
        return self.run_expired or self.request_expired

    def add(self, sock: socket.socket) -> None:
        with self.lock:
            self.sockets.add(sock)

    def forget_sockets(self) -> None:
        with self.lock:
            self.sockets = weakref.WeakSet()

    def shut_down(self) -> None:
        with self.lock:
            sockets = list(self.sockets)
        for sock in sockets:
            # the plain socket's shutdown (an SSLSocket's would also drop its TLS state
            # under the reading thread's feet): the blocked call returns at once. Not
            # connected (yet) or closed already: nothing to wake
            with contextlib.suppress(OSError):
                socket.socket.shutdown(sock, socket.SHUT_RDWR)


_local = threading.local()


def _scope() -> _Scope:
    scope: _Scope | None = getattr(_local, "scope", None)
    if scope is None:
        scope = _local.scope = _Scope()
    return scope


def _audit(event: str, args: tuple[Any, ...]) -> None:
    # runs for every audit event in the process: stay cheap for the ones not ours
    if event == "socket.__new__":
        scope = getattr(_local, "scope", None)
        if scope is not None and scope.active:
            scope.add(args[0])
    elif event == "socket.connect":
        scope = getattr(_local, "scope", None)
        if scope is not None and scope.active and scope.expired:
            raise TimeoutError("calsync: the deadline has passed")


class _Watchdog:
    """One daemon thread that calls each due callback once, at its time."""

    def __init__(self) -> None:
        self._lock = threading.Condition()
        self._heap: list[tuple[float, int, Any]] = []
        self._cancelled: set[int] = set()
        self._seq = itertools.count()
        self._thread: threading.Thread | None = None

    def at(self, when: float, callback: Callable[[int], object]) -> int:
        """Call `callback(ticket)` at monotonic time `when`; returns the ticket."""
        with self._lock:
            ticket = next(self._seq)
            heapq.heappush(self._heap, (when, ticket, callback))
            if self._thread is None:
                sys.addaudithook(_audit)  # once per process: hooks cannot be removed
                self._thread = threading.Thread(
                    target=self._loop, name="calsync-deadlines", daemon=True
                )
                self._thread.start()
            self._lock.notify()
            return ticket

    def cancel(self, ticket: int) -> None:
        with self._lock:
            self._cancelled.add(ticket)

    def _loop(self) -> None:
        while True:
            with self._lock:
                while True:
                    while self._heap and self._heap[0][1] in self._cancelled:
                        self._cancelled.discard(heapq.heappop(self._heap)[1])
                    now = time.monotonic()
                    if self._heap and self._heap[0][0] <= now:
                        _, ticket, callback = heapq.heappop(self._heap)
                        break
                    self._lock.wait(self._heap[0][0] - now if self._heap else None)
            with contextlib.suppress(Exception):  # the watchdog outlives any one callback
                callback(ticket)


_watchdog = _Watchdog()


def _expire_run(scope: _Scope) -> None:
    scope.run_expired = True
    scope.shut_down()


def _expire_request(scope: _Scope, ticket: int) -> None:
    with scope.lock:
        if ticket not in scope.live:
            return  # a request that has just finished
        scope.request_expired = True
    scope.shut_down()


@contextmanager
def run_deadline(
    seconds: float = DEFAULT_RUN_DEADLINE, request_seconds: float = DEFAULT_REQUEST_DEADLINE
) -> Iterator[None]:
    """One user's run, in this thread: at most `seconds`, each request `request_seconds`."""
    scope = _scope()
    saved = (scope.request_seconds, scope.run_seconds, scope.run_ends, scope.run_expired)
    scope.request_seconds = request_seconds
    scope.run_seconds = seconds
    scope.run_ends = time.monotonic() + seconds
    scope.run_expired = False
    ticket = _watchdog.at(scope.run_ends, lambda _: _expire_run(scope))
    try:
        yield
    finally:
        _watchdog.cancel(ticket)
        scope.request_seconds, scope.run_seconds, scope.run_ends, scope.run_expired = saved
        if not scope.active:
            scope.forget_sockets()


def for_job(job: Mapping[str, Any]) -> AbstractContextManager[None]:
    """`run_deadline` with calsync.toml's `[job]` values (checked by `storage.config`)."""
    return run_deadline(
        float(job.get("run_deadline") or DEFAULT_RUN_DEADLINE),
        float(job.get("request_deadline") or DEFAULT_REQUEST_DEADLINE),
    )


def remaining() -> float | None:
    """Seconds left of this thread's run, None outside a run."""
    scope: _Scope | None = getattr(_local, "scope", None)
    if scope is None or scope.run_ends is None:
        return None
    return max(0.0, scope.run_ends - time.monotonic())


def run_exceeded(host: str, what: str) -> DeadlineExceeded:
    scope = _scope()
    return DeadlineExceeded(
        f"{host} timed out: the run passed its {scope.run_seconds or 0:g} s deadline "
        f"([job] run_deadline) during {what}"
    )


def check(host: str, what: str, wait: float = 0.0) -> None:
    """Raise if this thread's run is past its deadline, or would be after `wait` s."""
    left = remaining()
    if left is not None and (left <= 0 or wait >= left or _scope().run_expired):
        raise run_exceeded(host, what)


def _raise_if_expired(scope: _Scope, host: str, what: str, seconds: float) -> None:
    if scope.run_expired:
        raise run_exceeded(host, what) from None
    if scope.request_expired:
        raise DeadlineExceeded(
            f"{host} timed out: no complete reply to {what} within {seconds:g} s "
            "([job] request_deadline)"
        ) from None


@contextmanager
def request(host: str, what: str) -> Iterator[None]:
    """One request to `host` (`what`: "PROPFIND /path/", for the message), bounded whole.

    Once a deadline has passed, the request ends in `DeadlineExceeded`, whatever the
    library made of its sockets being shut down: its answer may be incomplete.
    """
    scope = _scope()
    check(host, what)
    seconds = scope.request_seconds
    left = remaining()
    run_first = left is not None and left < seconds
    outer_expired = scope.request_expired
    scope.requests += 1
    scope.request_expired = False
    with scope.lock:  # the watchdog must not see the ticket before it is live
        if run_first and left is not None:  # the run ends first: its own timer stops this
            ticket = _watchdog.at(time.monotonic() + left, lambda _: _expire_run(scope))
        else:
            ticket = _watchdog.at(time.monotonic() + seconds, lambda t: _expire_request(scope, t))
        scope.live.add(ticket)
    try:
        try:
            yield
        except BaseException:
            _raise_if_expired(scope, host, what, seconds)
            raise
        # an answer read to its end after the sockets were shut down may be cut short
        # without the library noticing (a body that runs to the connection's end)
        _raise_if_expired(scope, host, what, seconds)
    finally:
        with scope.lock:
            scope.live.discard(ticket)
        _watchdog.cancel(ticket)
        scope.requests -= 1
        scope.request_expired = outer_expired
        if not scope.active:
            scope.forget_sockets()
