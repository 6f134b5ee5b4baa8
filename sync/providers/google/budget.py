"""calsync's own request budget per Google user, so Google never has to say "slow down".

Google's Calendar API allows 600 requests per minute per user per project, counted
over a sliding window; a burst over it is answered with 403 `rateLimitExceeded`
(domain `usageLimits`) or 429 until the window has room again (developers.google.com
/workspace/calendar/api/guides/quota). A first sync of 5,000 items is some 5,000
inserts: sent as fast as the server answers, it would trip the limit within seconds
and then spend its time in back-off.

So each user's requests go through a token bucket: `per_minute / 60` tokens a second,
at most `burst` saved up. In any 60 s at most `burst + per_minute` requests pass;
with the defaults (500 a minute, bursts of 50) that is 550, under Google's 600
however the requests fall. One bucket per user and API endpoint in this process,
shared by every provider of that user (`sync --all` runs users in threads).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from sync.providers import deadline

DEFAULT_PER_MINUTE = 500
#: Google's documented limit: per minute per user per project
GOOGLE_PER_MINUTE = 600


@dataclass(frozen=True)
class Clock:
    """Where the budget reads the time and how it waits (tests run it faster)."""

    now: Callable[[], float] = time.monotonic
    sleep: Callable[[float], None] = time.sleep


REAL_CLOCK = Clock()


class RequestBudget:
    def __init__(self, per_minute: float, burst: int, clock: Clock = REAL_CLOCK) -> None:
        self.rate = per_minute / 60.0
        self.burst = max(1, burst)
        self.clock = clock
        self._tokens = float(self.burst)
        self._stamp = clock.now()
        self._lock = threading.Lock()
        #: total seconds requests waited for the budget (for the benchmark's report)
        self.waited = 0.0
        self.spent = 0

    def _wait_needed(self) -> float:
        now = self.clock.now()
        self._tokens = min(self.burst, self._tokens + (now - self._stamp) * self.rate)
        self._stamp = now
        # (a hair under 1 is 1: the refill after an exact wait may round just below)
        if self._tokens >= 1 - 1e-6:
            self._tokens = max(0.0, self._tokens - 1)
            self.spent += 1
            return 0.0
        return (1 - self._tokens) / self.rate

    def take(self, host: str) -> None:
        """Wait until one more request fits the budget."""
        while True:
            with self._lock:
                wait = self._wait_needed()
            if wait <= 0:
                return
            deadline.check(host, f"a wait of {wait:.1f} s for the request budget", wait)
            self.waited += wait
            self.clock.sleep(wait)

    def pause(self, seconds: float) -> None:
        """Google asked to slow down: the saved-up burst is gone, and the next request
        waits at least `seconds` (the back-off the client sleeps anyway)."""
        with self._lock:
            self._tokens = min(self._tokens, 0.0) - seconds * self.rate


_budgets: dict[tuple[str, str], RequestBudget] = {}
_budgets_lock = threading.Lock()


def budget_for(
    endpoint: str, user: str, per_minute: float, burst: int, clock: Clock = REAL_CLOCK
) -> RequestBudget:
    """The process-wide budget of `user` at `endpoint` (created on first use)."""
    key = (endpoint, user.lower())
    with _budgets_lock:
        budget = _budgets.get(key)
        if budget is None or budget.clock is not clock or budget.rate != per_minute / 60.0:
            budget = _budgets[key] = RequestBudget(per_minute, burst, clock)
        return budget
