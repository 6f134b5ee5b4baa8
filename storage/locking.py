"""Cross-process locks: one lock file beside each file that is read-modify-written."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import filelock

from storage.atomic import FILE_MODE, ensure_dir
from storage.errors import StoreBusy


def lock_path(path: Path) -> Path:
    return path.with_name(path.name + ".lock")


@contextmanager
def file_lock(path: Path, what: str, timeout: float) -> Iterator[None]:
    """Hold the lock of `path`; StoreBusy naming `what` after `timeout` seconds.

    flock locks belong to an open file description, so a second lock on the same
    file conflicts even inside one process, as it must for threads and tests.
    """
    ensure_dir(path.parent)
    lock = filelock.FileLock(str(lock_path(path)), mode=FILE_MODE, thread_local=False)
    try:
        lock.acquire(timeout=timeout)
    except filelock.Timeout as exc:
        raise StoreBusy(what) from exc
    try:
        yield
    finally:
        lock.release()
