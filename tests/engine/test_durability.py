"""Writes to a folder calendar reach the disk before the state names them.

The folder provider writes files without an fsync each and makes them durable in
one go when the engine flushes (before it saves the state). If that flush fails,
the run must fail without recording the writes, and the next run must pick up
where it stopped without duplicating anything.
"""

from __future__ import annotations

import errno
import os
from pathlib import Path

import pytest

from storage.atomic import make_durable
from storage.state import UserState
from sync.providers.base import ProviderError
from sync.providers.folder import files as folder_files
from sync.providers.folder.provider import FolderProvider
from tests.engine.harness import Env, ev


def test_a_failing_flush_fails_the_run_and_records_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    env = Env(tmp_path)
    env.add_user()
    for n in range(3):
        env.put("remote", ev(f"u{n}@x", f"Meeting {n}", days=n + 1))

    def disk_error(folder: Path, files: object) -> None:
        raise OSError(errno.EIO, os.strerror(errno.EIO))

    monkeypatch.setattr(folder_files, "make_durable", disk_error)
    result = env.init()
    assert result.result == "failed"
    assert "cannot flush the writes to" in result.reason
    assert "Input/output error" in result.reason
    state = UserState(env.files.state_path, writable=False)
    assert not state.initialized
    assert len(state.pairs) == 0

    monkeypatch.undo()
    again = env.init()
    assert again.result == "ok", again.reason
    # the files the failed run wrote are matched by UID, not copied a second time
    assert sorted(env.by_subject("crm")) == ["Meeting 0", "Meeting 1", "Meeting 2"]
    env.assert_converged()


def test_flush_makes_writes_durable_and_reports_a_vanished_folder(tmp_path: Path) -> None:
    folder = tmp_path / "cal"
    provider = FolderProvider(f"folder:{folder}")
    item = provider.create(ev("a@x", "One"))
    provider.flush()  # nothing left to flush afterwards: a second call is free
    provider.flush()
    assert (folder / item.id).read_bytes().startswith(b"BEGIN:VCALENDAR")

    provider.create(ev("b@x", "Two"))
    for path in folder.iterdir():
        path.unlink()
    folder.rmdir()
    with pytest.raises(ProviderError, match=r"cannot flush the writes to .*cal"):
        provider.flush()
    provider.close()  # close is best effort: it does not raise over an error in hand


def test_make_durable_without_syncfs_fsyncs_each_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from storage import atomic

    synced: list[int] = []
    real_fsync = os.fsync

    def counting_fsync(fd: int) -> None:
        synced.append(fd)
        real_fsync(fd)

    monkeypatch.setattr(atomic, "_syncfs", lambda folder: False)
    monkeypatch.setattr(atomic.os, "fsync", counting_fsync)
    files = []
    for n in range(3):
        path = tmp_path / f"{n}.ics"
        path.write_bytes(b"x")
        files.append(path)
    make_durable(tmp_path, [*files, tmp_path / "gone-since.ics"])
    assert len(synced) == 4  # three files and the folder; a vanished file is skipped
