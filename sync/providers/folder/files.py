"""The files of a folder calendar: names, etags, reads, and durable atomic writes.

Etags are ``f"{mtime_ns}-{size}-{inode}"``. Every write goes through a new temp
file that is renamed over the item, so a changed item is a new file (a new inode)
whose mtime is the time of that write; calsync also pushes the new file's mtime
past the old one's. An outside program that replaces a file by renaming a new one
over it changes the inode even when it keeps the mtime and size (`cp -p`, or a
write within one tick of the file-system clock). The one case the etag misses, an
outside editor rewriting a file in place with identical size within the same clock
tick, is the same blind spot vdirsyncer's filesystem storage (and rsync's quick
check) accepts.

Writes reach the disk in batches: `DurableWriter.flush()` makes every file written
so far durable with one file-system sync. An fsync per file cost more than
everything else an initial sync does per item.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import re
import stat as stat_mod
import tempfile
from pathlib import Path

from storage.atomic import make_durable
from sync.providers.base import ConfigError, ProviderError

ID_FILE = ".calsync-id"
SUFFIX = ".ics"
FILE_MODE = 0o600
#: UIDs made of these characters are used as file names as they are
_SAFE_UID = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.@+=-]{0,199}")
#: ns steps tried to make a rewritten file's mtime newer on coarse clocks (FAT: 2 s)
_MTIME_STEPS = (1, 1_000, 1_000_000, 1_000_000_000, 2_000_000_000)


def path_from_url(url: str) -> Path:
    scheme, sep, rest = url.partition(":")
    if not sep or scheme.lower() != "folder":
        raise ConfigError(f"{url!r} is not a folder calendar (folder:PATH)")
    rest = rest.strip()
    if rest.startswith("///"):  # folder:///abs/path, the file-URL habit
        rest = rest[2:]
    if not rest:
        raise ConfigError(f"folder calendar {url!r} has no path (use folder:PATH)")
    return Path(rest).expanduser().resolve()


def file_name_for(uid: str, recurrence_id: str | None = None) -> str:
    """The item's file name: the UID itself when it is file-name safe, else its hash.

    An occurrence copy shares its series' UID, so its recurrence id is part of the name.
    """
    if recurrence_id is not None:
        uid = f"{uid}#{recurrence_id}"
    if _SAFE_UID.fullmatch(uid) and not uid.lower().endswith(SUFFIX):
        return uid + SUFFIX
    return hashlib.sha256(uid.encode()).hexdigest()[:40] + SUFFIX


def etag_of(st: os.stat_result) -> str:
    """The etag of a file's stat (`index.stat_folder` makes the same, inlined)."""
    return f"{st.st_mtime_ns}-{st.st_size}-{st.st_ino}"


def item_path(folder: Path, item_id: str) -> Path | None:
    """The file of `item_id`, or None for ids that cannot name an item here."""
    if (
        not item_id.endswith(SUFFIX)
        or item_id.startswith(".")
        or "/" in item_id
        or "\\" in item_id
        or "\0" in item_id
    ):
        return None
    return folder / item_id


def read_item(folder: Path, item_id: str) -> tuple[bytes, str] | None:
    """(content, etag) read from one open file, or None if there is no such item."""
    path = item_path(folder, item_id)
    if path is None:
        return None
    try:
        with open(path, "rb") as fh:
            st = os.fstat(fh.fileno())
            if not stat_mod.S_ISREG(st.st_mode):
                return None
            return fh.read(), etag_of(st)
    except (FileNotFoundError, NotADirectoryError, IsADirectoryError):
        return None


def ensure_folder(folder: Path) -> None:
    try:
        folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    except OSError as exc:
        raise ConfigError(f"cannot create calendar folder {folder}: {exc.strerror or exc}") from exc
    if not folder.is_dir():
        raise ConfigError(f"calendar folder {folder} is not a folder")


class DurableWriter:
    """Atomic writes into one folder, made durable together at `flush`."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        #: temp files made by this writer (their names' counter)
        self._temps = 0
        #: files written since the last `flush`
        self._unflushed: list[Path] = []
        #: something changed (a file written or deleted) since the last `flush`
        self.dirty = False

    def _temp(self, target: Path, data: bytes) -> str:
        """A temp file next to `target` (dot-named: listings skip it); durable at `flush`."""
        fd, tmp = self._open_temp(target)
        try:
            os.fchmod(fd, FILE_MODE)
            with os.fdopen(fd, "wb") as fh:
                fh.write(data)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
            raise
        return tmp

    def _open_temp(self, target: Path) -> tuple[int, str]:
        # tempfile.mkstemp draws a random name per call (a tenth of a write's cost);
        # pid + counter is unique among live writers, and a crashed writer's leftover
        # only costs a retry under a random name
        self._temps += 1
        name = str(self.folder / f".{target.name}.{os.getpid()}-{self._temps}.tmp")
        flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_CLOEXEC", 0)
        try:
            return os.open(name, flags, FILE_MODE), name
        except FileExistsError:
            return tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=self.folder)

    def write_new(self, target: Path, data: bytes) -> None:
        """Create `target` atomically; FileExistsError if it exists (no clobbering)."""
        try:
            tmp = self._temp(target, data)
            try:
                try:
                    os.link(tmp, target)  # atomic create-if-absent, unlike os.replace
                except FileExistsError:
                    raise
                except OSError:
                    # file systems without hard links: check, then rename (best effort)
                    if target.exists():
                        raise FileExistsError(str(target)) from None
                    os.replace(tmp, target)
            finally:
                with contextlib.suppress(OSError):
                    os.unlink(tmp)
        except FileExistsError:
            raise
        except OSError as exc:
            raise ProviderError(f"cannot write {target}: {exc.strerror or exc}") from exc
        self._written_file(target)

    def replace(self, target: Path, data: bytes) -> None:
        try:
            try:
                old_mtime = target.stat().st_mtime_ns
            except FileNotFoundError:
                old_mtime = 0
            tmp = self._temp(target, data)
            try:
                self._make_newer(tmp, old_mtime)
                os.replace(tmp, target)
            except BaseException:
                with contextlib.suppress(OSError):
                    os.unlink(tmp)
                raise
        except OSError as exc:
            raise ProviderError(f"cannot write {target}: {exc.strerror or exc}") from exc
        self._written_file(target)

    @staticmethod
    def _make_newer(tmp: str, old_mtime: int) -> None:
        """Give the new file an mtime past the old one's, so the etag must change."""
        for step in _MTIME_STEPS:
            st = os.stat(tmp)
            if st.st_mtime_ns > old_mtime:
                return
            os.utime(tmp, ns=(st.st_atime_ns, old_mtime + step))

    def _written_file(self, target: Path) -> None:
        self._unflushed.append(target)
        self.dirty = True

    def flush(self) -> None:
        if not self.dirty:
            return
        try:
            make_durable(self.folder, self._unflushed)
        except OSError as exc:
            raise ProviderError(
                f"cannot flush the writes to {self.folder} to disk: {exc.strerror or exc}"
            ) from exc
        self._unflushed.clear()
        self.dirty = False


def not_found(folder: Path) -> str:
    return f"calendar folder {folder} not found (create it, or correct the path)"
