"""The run log of headless jobs: WORKSPACE/logs/calsync.log, so an operator can read
what cron did last night.

One line per user result and one per error, each carrying the job's and the
user's run id. Only what a `RunResult` carries is logged, never settings or
connection tables; on top of that a filter masks every secret value the
workspace's connection tables reference (belt and braces: a server that echoes
credentials into an error message must not put them in the file).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import unquote

from storage.atomic import ensure_dir
from storage.config import Config
from storage.workspace import Workspace
from sync.providers.base import ProviderError
from sync.secrets import resolve_secret

LOG_NAME = "calsync.log"
MAX_BYTES = 1_000_000
BACKUPS = 5
MASK = "***"
#: shorter values would mask ordinary words all over the log; nothing that short is a real secret
MIN_SECRET_LEN = 4
_REF_RE = re.compile(r"^(?P<key>.+)_(?P<kind>env|file)$")


def log_path(workspace: Workspace) -> Path:
    return workspace.logs_dir / LOG_NAME


# -- redaction --------------------------------------------------------------------------


def _tables(value: Any, trail: str) -> Iterator[tuple[Mapping[str, Any], str]]:
    if isinstance(value, Mapping):
        yield value, trail
        for key, inner in value.items():
            yield from _tables(inner, f"{trail}.{key}" if trail else str(key))
    elif isinstance(value, list):
        for inner in value:
            yield from _tables(inner, trail)


def referenced_secrets(config: Config) -> set[str]:
    """The values behind every `*_env` / `*_file` reference in the connection tables.

    Keyring references are left out: reading a keyring may block on an unlock
    prompt, and a headless job must never block (R14).
    """
    found: set[str] = set()
    for table, trail in _tables(config.providers, ""):
        for key in table:
            match = _REF_RE.match(str(key))
            if not match:
                continue
            try:
                value = resolve_secret(table, match["key"], trail)
            except ProviderError:
                continue  # unset or unreadable: nothing that could leak
            if len(value) >= MIN_SECRET_LEN:
                found.add(str(value))
            if (password := url_password(str(value))) and len(password) >= MIN_SECRET_LEN:
                found.add(password)  # a database URL's password may show up on its own
    return found


def url_password(value: str) -> str | None:
    """The password of `scheme://user:password@host/...`, or None."""
    scheme, sep, rest = value.partition("://")
    if not sep or not scheme:
        return None
    userinfo, at, _ = rest.split("/", 1)[0].rpartition("@")
    _, colon, password = userinfo.partition(":")
    return unquote(password) if at and colon and password else None


class Redactor:
    """Masks known secret values in any text."""

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        self._re: re.Pattern[str] | None = None
        self.reset(secrets)

    def reset(self, secrets: Iterable[str]) -> None:
        """Mask these values from now on (a long-running watch re-reads its config)."""
        values = sorted({s for s in secrets if len(s) >= MIN_SECRET_LEN}, key=len, reverse=True)
        self._re = re.compile("|".join(re.escape(v) for v in values)) if values else None

    @classmethod
    def for_config(cls, config: Config) -> Redactor:
        return cls(referenced_secrets(config))

    def __call__(self, text: str) -> str:
        return self._re.sub(MASK, text) if self._re is not None else text

    def value(self, value: Any) -> Any:
        """`value` with every string inside it redacted (dicts and lists walked)."""
        if isinstance(value, str):
            return self(value)
        if isinstance(value, dict):
            return {k: self.value(v) for k, v in value.items()}
        if isinstance(value, list):
            return [self.value(v) for v in value]
        return value


class RedactFilter(logging.Filter):
    def __init__(self, redactor: Redactor) -> None:
        super().__init__()
        self.redactor = redactor

    def filter(self, record: logging.LogRecord) -> bool:
        record.msg = self.redactor(record.getMessage())
        record.args = None
        return True


# -- the file (its handler: sync/runlog_file.py) ------------------------------------------


@contextmanager
def run_logger(
    workspace: Workspace,
    redactor: Redactor,
    name: str = "calsync.job",
    problems: list[str] | None = None,
) -> Iterator[logging.Logger]:
    """A logger writing to the workspace's run log for the duration of one job.

    The log is a record, not the job: when it cannot be opened or written, the job
    runs all the same and one line saying so is added to `problems`.
    """
    # a logger of its own, outside logging's tree: the run log must not spill onto
    # the console through root handlers, and two jobs in one process never share one
    # logging.handlers (with socket and pickle) only for a job: `sync NAME` keeps no run log
    from sync.runlog_file import PrivateRotatingFileHandler, write_failure

    logger = logging.Logger(name, logging.INFO)
    path = log_path(workspace)
    try:
        ensure_dir(workspace.logs_dir)
        handler = PrivateRotatingFileHandler(
            path, maxBytes=MAX_BYTES, backupCount=BACKUPS, encoding="utf-8"
        )
    except OSError as exc:
        if problems is not None:
            problems.append(write_failure(path, exc))
        yield logger
        return
    handler.setFormatter(
        logging.Formatter("%(asctime)s %(levelname)s %(message)s", "%Y-%m-%dT%H:%M:%S%z")
    )
    handler.addFilter(RedactFilter(redactor))
    logger.addHandler(handler)
    try:
        yield logger
    finally:
        logger.removeHandler(handler)
        handler.close()
        if handler.failure is not None and problems is not None:
            problems.append(handler.failure)
