"""Cross-process locks: one lock file beside each file that is read-modify-written.

A lock is an exclusive `flock` on the lock file, taken directly (~2 µs). The
`filelock` library, which took it before, costs ~0.2 ms per lock in its
bookkeeping (paths made canonical, fork tracking, its registry): about a
twentieth of `sync --all`'s CPU for a user with nothing to do (issue 17). It is
still what locks on a file system without `flock` (ENOSYS: some FUSE and network
file systems), where it falls back to a lock of its own.
"""

from __future__ import annotations

import errno
import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import filelock

from storage.atomic import FILE_MODE, ensure_dir
from storage.errors import StoreBusy

try:
    import fcntl
except ImportError:  # pragma: no cover - not a POSIX system: filelock only
    fcntl = None  # type: ignore[assignment]

#: how often a waiting lock tries again (filelock's default)
POLL = 0.05
#: "someone else holds it" from a non-blocking flock; some file systems say EACCES
_HELD = frozenset({errno.EAGAIN, errno.EWOULDBLOCK, errno.EACCES})
_OPEN = os.O_RDWR | os.O_NONBLOCK | getattr(os, "O_NOFOLLOW", 0)


def lock_path(path: Path) -> Path:
    return path.with_name(path.name + ".lock")


class _NoFlock(Exception):
    """The file system has no flock: filelock's fallback takes over."""


def _open(path: str) -> int | None:
    """The lock file, opened (and created 0600 if missing); None: try again."""
    try:
        fd = os.open(path, _OPEN | os.O_CREAT | os.O_EXCL, FILE_MODE)
    except FileExistsError:
        pass
    else:
        os.fchmod(fd, FILE_MODE)  # the mode, whatever the umask
        return fd
    try:
        return os.open(path, _OPEN)
    except (FileNotFoundError, BlockingIOError):
        # removed since (a user archived meanwhile), or a lease being broken: retry
        return None


def _try_lock(path: str) -> int | None:
    """The locked file's descriptor, or None if another holder has it."""
    fd = _open(path)
    if fd is None:
        return None
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError as exc:
        os.close(fd)
        if exc.errno in _HELD:
            return None
        if exc.errno == errno.ENOSYS:
            raise _NoFlock from exc
        raise
    if os.fstat(fd).st_nlink == 0:
        # the file was removed between our open and our lock: it guards no name
        os.close(fd)
        return None
    return fd


@contextmanager
def file_lock(path: Path, what: str, timeout: float) -> Iterator[None]:
    """Hold the lock of `path`; StoreBusy naming `what` after `timeout` seconds.

    flock locks belong to an open file description, so a second lock on the same
    file conflicts even inside one process, as it must for threads and tests.
    """
    ensure_dir(path.parent)
    target = str(lock_path(path))
    if fcntl is None:
        fd = None
    else:
        deadline = time.monotonic() + timeout
        try:
            fd = _try_lock(target)
            while fd is None:
                if time.monotonic() >= deadline:
                    raise StoreBusy(what)
                time.sleep(POLL)
                fd = _try_lock(target)
        except _NoFlock:
            fd = None
    if fd is not None:
        try:
            yield
        finally:
            # unlocked before closing: a child forked meanwhile shares the descriptor
            try:
                fcntl.flock(fd, fcntl.LOCK_UN)
            finally:
                os.close(fd)
        return
    with _library_lock(target, what, timeout):
        yield


@contextmanager
def _library_lock(target: str, what: str, timeout: float) -> Iterator[None]:
    lock = filelock.FileLock(target, mode=FILE_MODE, thread_local=False)
    try:
        lock.acquire(timeout=timeout)
    except filelock.Timeout as exc:
        raise StoreBusy(what) from exc
    try:
        yield
    finally:
        lock.release()
