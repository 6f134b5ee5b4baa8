"""The run log's file: size-rotated, private, and quiet when it cannot be written.

Apart from `sync.runlog` because logging.handlers imports socket and pickle: only a
job (`sync --all`, `watch`) keeps a run log, and a `calsync sync NAME` from cron
imports none of it.
"""

from __future__ import annotations

import logging
import os
import sys
from logging.handlers import RotatingFileHandler
from pathlib import Path
from typing import Any

from storage.atomic import FILE_MODE

__all__ = ["PrivateRotatingFileHandler", "write_failure"]


class PrivateRotatingFileHandler(RotatingFileHandler):
    """Size-rotated, and every file it opens is 0600 whatever the umask.

    A record it cannot write (a full disk, say) never prints logging's
    "--- Logging error ---" traceback: the first failure is kept in `failure`, one
    line naming the file, for the caller to report once.
    """

    failure: str | None = None

    def _open(self) -> Any:
        fd = os.open(self.baseFilename, os.O_WRONLY | os.O_APPEND | os.O_CREAT, FILE_MODE)
        os.fchmod(fd, FILE_MODE)
        return os.fdopen(fd, "a", encoding=self.encoding or "utf-8", errors=self.errors)

    def handleError(self, record: logging.LogRecord) -> None:
        exc = sys.exc_info()[1]
        if self.failure is None:
            self.failure = write_failure(self.baseFilename, exc)

    def close(self) -> None:
        try:
            super().close()  # flushes what is buffered: may hit the full disk too
        except OSError as exc:
            if self.failure is None:
                self.failure = write_failure(self.baseFilename, exc)


def write_failure(path: str | Path, exc: BaseException | None) -> str:
    """ "cannot write the run log PATH: REASON", the one line a failed write is reported as."""
    reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc or "")
    return f"cannot write the run log {path}: {reason or 'unknown error'}"
