"""Typed store errors; the CLI edge turns them into one-line messages."""

from __future__ import annotations

from pathlib import Path


class StoreError(Exception):
    """Base of every state-store failure."""


def named(exc: OSError, path: Path | str) -> OSError:
    """`exc` carrying the file it is about, so the one-line error can name it."""
    if exc.filename is not None or exc.errno is None:
        return exc
    return type(exc)(exc.errno, exc.strerror, str(path))


def os_error_line(exc: OSError) -> str:
    """ "cannot write PATH: No space left on device": one line, naming the file if known."""
    reason = exc.strerror or str(exc)
    return f"cannot write {exc.filename}: {reason}" if exc.filename else reason


class StoreCorrupt(StoreError):
    def __init__(self, path: Path, detail: str) -> None:
        super().__init__(
            f"state file {path} is unreadable ({detail}); it was left untouched — "
            "restore it from a backup or move it away"
        )
        self.path = path
        self.detail = detail


class StoreTooNew(StoreError):
    def __init__(self, path: Path, version: int) -> None:
        super().__init__(
            f"state file {path} has schema version {version}, written by a newer calsync; "
            "upgrade calsync to use it"
        )
        self.version = version
        self.path = path


class StoreBusy(StoreError):
    def __init__(self, what: str) -> None:
        super().__init__(f"{what} is locked by another calsync process")
        self.what = what


class UnknownUser(StoreError):
    def __init__(self, name: str) -> None:
        super().__init__(f"no user named {name!r}")
        self.name = name


class DuplicateUser(StoreError):
    def __init__(self, name: str) -> None:
        super().__init__(f"a user named {name!r} already exists")
        self.name = name


class ConfigInvalid(StoreError):
    """The workspace's calsync.toml is broken; the message names file and key."""


def state_unreadable(exc: StoreError) -> str:
    """One line for a user whose own files cannot be read: "state unreadable: FILE: why".

    Shown in that user's row (status, the TUI, `sync --all`) while the others carry on.
    """
    if isinstance(exc, StoreCorrupt):
        return f"state unreadable: {exc.path}: {exc.detail}"
    if isinstance(exc, StoreTooNew):
        return (
            f"state unreadable: {exc.path}: written by a newer calsync "
            f"(schema version {exc.version}); upgrade calsync"
        )
    return f"state unreadable: {exc}"
