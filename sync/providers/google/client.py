"""The HTTP edge of the Calendar API provider: settings, tokens, budget, retries.

One `requests.Session` per calendar, a timeout on every call and the request
deadline around it (deadline.py), calsync's own request budget per user
(budget.py) before every call. Retries, after Google's error guide
(developers.google.com/workspace/calendar/api/guides/errors):

- 403 `rateLimitExceeded` / `userRateLimitExceeded` (domain `usageLimits`) and
  429: exponential back-off (1, 2, 4, ... s, with jitter), or Retry-After when
  sent; a wait longer than `max_retry_wait` defers the user (`Throttled`);
- 403 `quotaExceeded` (Calendar's own usage limits, which recover over hours)
  defers the user at once;
- 500, 502, 503, 504: the same back-off; a dropped connection: one retry;
- 401: one fresh access token, then the credentials are refused.
"""

from __future__ import annotations

import random
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

import requests

from sync.providers import deadline
from sync.providers.base import (
    AuthFailed,
    ConfigError,
    ConnectionFailed,
    ProviderError,
    Throttled,
)
from sync.providers.google.auth import (
    SCOPE_EVENTS,
    is_service_account,
    load_credentials,
    refresh,
    subject_for,
)
from sync.providers.google.budget import (
    DEFAULT_PER_MINUTE,
    GOOGLE_PER_MINUTE,
    REAL_CLOCK,
    Clock,
    budget_for,
)
from sync.providers.wire import parse_retry_after

DEFAULT_API_URL = "https://www.googleapis.com/calendar/v3"
RATE_REASONS = ("rateLimitExceeded", "userRateLimitExceeded")
LONG_REASONS = ("quotaExceeded", "dailyLimitExceeded")
RETRY_STATUSES = (429, 500, 502, 503, 504)
#: how long a user is deferred after Calendar's own usage limits (they recover in hours)
QUOTA_PAUSE = timedelta(hours=1)


class GoogleHTTPError(ProviderError):
    """A Calendar API error the caller may translate (404, 409, 410, 412, 403 ...)."""

    def __init__(self, status: int, reason: str, message: str, summary: str) -> None:
        super().__init__(summary)
        self.status = status
        self.reason = reason
        self.google_message = message


def _number(table: Mapping[str, Any], key: str, default: float, *, minimum: float) -> float:
    value = table.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int | float) or value < minimum:
        raise ConfigError(f"[google] {key} must be a number ≥ {minimum}, not {value!r}")
    return float(value)


@dataclass(frozen=True)
class ApiSettings:
    api_url: str
    timeout: float
    retries: int
    max_wait: float
    per_minute: float
    page_size: int
    table: Mapping[str, Any]


def read_settings(settings: Mapping[str, Any]) -> ApiSettings:
    table = settings.get("google")
    if not isinstance(table, Mapping):
        raise ConfigError(
            "google: calendars need a [google] table in calsync.toml with "
            "service_account_file (domain-wide delegation) or client_id + token_file"
        )
    api_url = str(table.get("api_url") or DEFAULT_API_URL).rstrip("/")
    if urlsplit(api_url).scheme not in ("https", "http") or not urlsplit(api_url).netloc:
        raise ConfigError(f"[google] api_url must be an https:// URL, not {api_url!r}")
    per_minute = _number(table, "requests_per_minute", DEFAULT_PER_MINUTE, minimum=1)
    if per_minute > GOOGLE_PER_MINUTE and not table.get("quota_raised"):
        raise ConfigError(
            f"[google] requests_per_minute {per_minute:g} is over Google's {GOOGLE_PER_MINUTE} "
            "per user; set quota_raised = true if your project has a higher quota"
        )
    return ApiSettings(
        api_url=api_url,
        timeout=_number(table, "timeout", 30.0, minimum=0.1),
        retries=int(_number(table, "retries", 6, minimum=0)),
        max_wait=_number(table, "max_retry_wait", 120.0, minimum=0),
        per_minute=per_minute,
        page_size=int(min(2500, _number(table, "page_size", 250, minimum=1))),
        table=table,
    )


def _short(text: object) -> str:
    return " ".join(str(text).split())[:200]


def error_of(response: requests.Response) -> tuple[str, str]:
    """(reason, message) of a Calendar API error body."""
    try:
        err = response.json().get("error") or {}
        first = (err.get("errors") or [{}])[0]
        return str(first.get("reason") or err.get("status") or ""), _short(err.get("message"))
    except (ValueError, AttributeError, IndexError, TypeError):
        return "", _short(response.text)


class GoogleClient:
    """One calendar's conversation with the Calendar API."""

    def __init__(self, conf: ApiSettings, calendar_id: str, clock: Clock = REAL_CLOCK) -> None:
        self.conf = conf
        self.calendar_id = calendar_id
        # whom Google sees: the delegation subject, or the user who consented
        self.subject = (
            subject_for(conf.table, calendar_id) if is_service_account(conf.table) else calendar_id
        )
        self.host = urlsplit(conf.api_url).netloc
        self.clock = clock
        self.budget = budget_for(
            conf.api_url, self.subject, conf.per_minute, max(1, int(conf.per_minute) // 10), clock
        )
        self.session = requests.Session()
        self.session.headers["Accept"] = "application/json"
        self._credentials: Any = None
        #: requests sent, and how often Google said "slow down" (benchmarks, tests)
        self.sent = 0
        self.throttled = 0
        #: the last request was sent twice after its answer was lost (a dropped connection)
        self.resent = False

    def close(self) -> None:
        self.session.close()

    def token(self, *, fresh: bool = False) -> str:
        if self._credentials is None:
            self._credentials = load_credentials(self.conf.table, self.calendar_id, [SCOPE_EVENTS])
        if fresh or not self._credentials.valid:
            refresh(self._credentials, timeout=self.conf.timeout, calendar_id=self.calendar_id)
        return str(self._credentials.token)

    def request(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, str] | None = None,
        json_body: Any = None,
        headers: Mapping[str, str] | None = None,
    ) -> requests.Response:
        """Send one request; returns 2xx responses, raises typed errors for the rest."""
        url = f"{self.conf.api_url}{path}"
        what = f"{method} {urlsplit(url).path}"
        attempt = 0
        refreshed = network_retried = False
        self.resent = False
        while True:
            send = {"Authorization": f"Bearer {self.token()}", **(headers or {})}
            self.budget.take(self.host)
            self.sent += 1
            try:
                with deadline.request(self.host, what):
                    response = self.session.request(
                        method,
                        url,
                        params=params,
                        json=json_body,
                        headers=send,
                        timeout=self.conf.timeout,
                    )
            except requests.exceptions.SSLError as exc:
                raise ConnectionFailed(
                    f"TLS failure talking to {self.host}: {_short(exc)}"
                ) from None
            except (requests.exceptions.ConnectionError, requests.exceptions.Timeout) as exc:
                if network_retried:
                    raise ConnectionFailed(f"cannot reach {self.host}: {_short(exc)}") from None
                network_retried = self.resent = True
                continue
            except requests.exceptions.RequestException as exc:
                raise ConnectionFailed(f"{self.host}: {method} failed: {_short(exc)}") from None
            status = response.status_code
            if status < 400:
                return response
            reason, message = error_of(response)
            if status == 401 and not refreshed:
                # an access token revoked or expired early: one fresh token, then give up
                refreshed = True
                self.token(fresh=True)
                continue
            if status == 403 and reason in LONG_REASONS:
                self.throttled += 1
                raise Throttled(
                    f"Google Calendar usage limits ({reason}) for {self.calendar_id}",
                    datetime.now(UTC) + QUOTA_PAUSE,
                )
            if status in RETRY_STATUSES or (status == 403 and reason in RATE_REASONS):
                attempt += 1
                if status in (403, 429):
                    self.throttled += 1
                if attempt > self.conf.retries:
                    raise ConnectionFailed(
                        f"Google Calendar is throttling or unavailable for {self.calendar_id} "
                        f"(HTTP {status} {reason}); gave up after {self.conf.retries} retries"
                    )
                wait = parse_retry_after(response.headers.get("Retry-After"))
                if wait is None:
                    # truncated exponential back-off with jitter (Google's error guide)
                    wait = min(2 ** (attempt - 1) + random.uniform(0, 1), 64.0)
                if wait > self.conf.max_wait:
                    raise Throttled(
                        f"Google Calendar (HTTP {status}) for {self.calendar_id}",
                        datetime.now(UTC) + timedelta(seconds=wait),
                    )
                deadline.check(self.host, f"a wait of {wait:.0f} s to retry", wait)
                self.budget.pause(wait)
                self.clock.sleep(wait)
                continue
            raise self.error(status, reason, message)

    def error(self, status: int, reason: str, message: str) -> ProviderError:
        who = self.calendar_id
        if status == 401:
            return AuthFailed(f"Google refused the access token for {who} ({reason}: {message})")
        if status == 403 and reason in (
            "insufficientPermissions",
            "ACCESS_TOKEN_SCOPE_INSUFFICIENT",
        ):
            return AuthFailed(
                f"the token for {who} lacks the scope {SCOPE_EVENTS}: grant it (domain-wide "
                "delegation) or run `calsync google auth NAME` again"
            )
        summary = f"Google Calendar answered {status} for {who}"
        if reason or message:
            summary += f" ({reason}: {message})" if reason else f" ({message})"
        if status >= 500:
            return ConnectionFailed(summary)
        return GoogleHTTPError(status, reason, message, summary)
