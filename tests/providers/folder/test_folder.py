"""The folder provider: the contract suite, plus what only a folder of files can show."""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import icalendar
import pytest

from sync.ical import parse_event
from sync.providers.base import CalendarNotFound, ConfigError, Item, ItemRefused
from sync.providers.folder.files import ID_FILE, file_name_for
from sync.providers.folder.provider import FolderProvider
from sync.providers.registry import open_provider, validate_url
from tests.providers.contract import WINDOW, ProviderContract, make_event


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    path = tmp_path / "calendar"
    path.mkdir()  # a calendar folder is the operator's to make
    return path


@pytest.fixture
def provider(folder: Path) -> Iterator[FolderProvider]:
    with FolderProvider(f"folder:{folder}") as p:
        yield p


@pytest.fixture
def inject_raw(folder: Path) -> Callable[[bytes], str]:
    counter = iter(range(1_000_000))

    def inject(raw: bytes) -> str:
        folder.mkdir(parents=True, exist_ok=True)
        name = f"raw-{next(counter)}.ics"
        (folder / name).write_bytes(raw)
        return name

    return inject


class TestFolderContract(ProviderContract):
    pass


# -- URL and identity -----------------------------------------------------------------


def test_registry_finds_the_folder_provider(folder: Path) -> None:
    assert isinstance(open_provider(f"folder:{folder}"), FolderProvider)


def test_normalize_url_makes_the_path_absolute(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    assert validate_url("folder:cal") == f"folder:{tmp_path / 'cal'}"
    assert FolderProvider.normalize_url(f"folder:///{tmp_path}/x") == f"folder:{tmp_path / 'x'}"


@pytest.mark.parametrize("url", ["folder:", "folder:   "])
def test_empty_path_is_a_config_error(url: str) -> None:
    with pytest.raises(ConfigError, match="no path"):
        FolderProvider.normalize_url(url)


def test_a_file_is_not_a_calendar_folder(tmp_path: Path) -> None:
    target = tmp_path / "file.txt"
    target.write_text("x")
    with pytest.raises(ConfigError, match="not a folder"):
        FolderProvider.normalize_url(f"folder:{target}")


def test_identity_names_the_folder_and_survives_reopening(
    provider: FolderProvider, folder: Path
) -> None:
    ident = provider.identity()
    assert ident.startswith(f"folder:{folder.resolve()}#")
    assert (folder / ID_FILE).is_file()
    assert FolderProvider(f"folder:{folder}/../calendar").identity() == ident


def test_wiped_and_recreated_folder_is_a_different_calendar(
    provider: FolderProvider, folder: Path
) -> None:
    provider.create(make_event())
    before = provider.identity()
    shutil.rmtree(folder)
    folder.mkdir()
    assert FolderProvider(f"folder:{folder}").identity() != before


def test_other_folder_is_a_different_calendar(tmp_path: Path) -> None:
    a = FolderProvider(f"folder:{tmp_path / 'a'}").identity()
    b = FolderProvider(f"folder:{tmp_path / 'b'}").identity()
    assert a != b


def test_calendar_name_is_the_folder_name_and_reads_nothing(tmp_path: Path) -> None:
    hostile = tmp_path / "予定表 [bold]Team[red]"
    with open_provider(f"folder:{hostile}", read_only=True) as provider:
        assert provider.calendar_name() == "予定表 [bold]Team[red]"  # even before it exists
    assert not hostile.exists()


def test_a_missing_folder_is_not_found_and_reading_it_creates_nothing(tmp_path: Path) -> None:
    missing = tmp_path / "typo" / "calendar"
    with open_provider(f"folder:{missing}", read_only=True) as provider:
        with pytest.raises(CalendarNotFound, match=f"calendar folder {missing} not found"):
            provider.list_window(WINDOW, {})
        assert provider.check() == [
            ("calendar reachable", False, f"calendar folder {missing} not found "
             "(create it, or correct the path)")
        ]  # fmt: skip
    assert not (tmp_path / "typo").exists()


def test_a_read_only_provider_writes_no_id_file(folder: Path) -> None:
    with open_provider(f"folder:{folder}", read_only=True) as provider:
        assert provider.identity() == f"folder:{folder}"  # no id yet, and none made
        assert [ok for _, ok, _ in provider.check()] == [True, True]
    assert list(folder.iterdir()) == []
    with open_provider(f"folder:{folder}") as provider:
        made = provider.identity()
    assert (folder / ID_FILE).is_file()
    with open_provider(f"folder:{folder}", read_only=True) as provider:
        assert provider.identity() == made


def test_a_write_still_makes_the_folder(tmp_path: Path) -> None:
    # the demo and the tests fill new folders through the provider; a run lists first,
    # so a sync or an init never gets this far with a missing folder
    folder = tmp_path / "new"
    with FolderProvider(f"folder:{folder}") as provider:
        provider.create(make_event())
    assert folder.is_dir()


# -- the vdir layout -------------------------------------------------------------------


def test_one_ics_file_per_item_named_for_the_uid(provider: FolderProvider, folder: Path) -> None:
    plain = provider.create(make_event(uid="meeting-42@crm.example"))
    odd = provider.create(make_event(uid="a/b\\c:d ü"))
    assert plain.id == "meeting-42@crm.example.ics"
    assert odd.id == file_name_for("a/b\\c:d ü")
    assert "/" not in odd.id and odd.id.endswith(".ics")
    assert sorted(p.name for p in folder.iterdir() if not p.name.startswith(".")) == sorted(
        [plain.id, odd.id]
    )
    assert parse_event((folder / odd.id).read_bytes(), odd.id).uid == "a/b\\c:d ü"


def test_foreign_files_are_ignored(provider: FolderProvider, folder: Path) -> None:
    item = provider.create(make_event())
    (folder / "notes.txt").write_text("hello")
    (folder / ".hidden.ics").write_text("BEGIN:VCALENDAR\r\n")
    (folder / ".item.ics.abc123.tmp").write_text("half-written")
    (folder / "subdir.ics").mkdir()
    listing = provider.list_window(WINDOW, {})
    assert listing.etags == {item.id: item.etag}
    assert listing.broken == {}
    assert provider.fetch(["notes.txt", ".hidden.ics", "subdir.ics"]) == {}


def test_update_keeps_what_calsync_does_not_map(
    provider: FolderProvider, folder: Path, inject_raw: Callable[[bytes], str]
) -> None:
    item_id = inject_raw(
        b"BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//khal//EN\r\nBEGIN:VEVENT\r\n"
        b"UID:khal-1\r\nDTSTART;TZID=Europe/Stockholm:20260302T090000\r\n"
        b"DTEND;TZID=Europe/Stockholm:20260302T100000\r\nSUMMARY:Old\r\n"
        b"ATTENDEE;CN=Anna:mailto:anna@example.com\r\nCATEGORIES:Work\r\n"
        b"X-KHAL-FLAG:1\r\nSEQUENCE:2\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"
    )
    got = provider.fetch([item_id])[item_id]
    assert isinstance(got, Item)
    updated = provider.update(item_id, got.etag, got.event.replace(subject="New"))
    ev = icalendar.Calendar.from_ical((folder / item_id).read_bytes()).walk("VEVENT")[0]
    assert str(ev["SUMMARY"]) == "New"
    assert str(ev["ATTENDEE"]) == "mailto:anna@example.com"
    assert str(ev["X-KHAL-FLAG"]) == "1"
    assert int(ev["SEQUENCE"]) == 2
    assert updated.event.subject == "New"


def test_duplicate_uid_is_flagged_as_a_uid_conflict(provider: FolderProvider) -> None:
    event = make_event()
    provider.create(event)
    with pytest.raises(ItemRefused) as info:
        provider.create(event)
    assert info.value.uid_conflict


def test_writes_stamp_last_modified(provider: FolderProvider) -> None:
    before = datetime.now(UTC).replace(microsecond=0)
    item = provider.create(make_event())
    assert item.event.last_modified is not None
    assert item.event.last_modified >= before


def test_files_are_private_to_the_owner(provider: FolderProvider, folder: Path) -> None:
    item = provider.create(make_event())
    assert (folder / item.id).stat().st_mode & 0o777 == 0o600


def test_no_temp_files_are_left_behind(provider: FolderProvider, folder: Path) -> None:
    item = provider.create(make_event())
    provider.update(item.id, item.etag, item.event.replace(subject="x"))
    assert sorted(p.name for p in folder.iterdir()) == sorted([ID_FILE, item.id])


# -- the listing index ---------------------------------------------------------------------


def test_unchanged_files_are_not_parsed_again(provider: FolderProvider, folder: Path) -> None:
    cache: dict[str, Any] = {}
    item = provider.create(make_event())
    assert provider.list_window(WINDOW, cache).etags == {item.id: item.etag}
    # garble the file but keep its size and mtime: the etag cannot see it, and the
    # index must not re-read it (which is what makes large folders cheap)
    path = folder / item.id
    st = path.stat()
    path.write_bytes(b"x" * st.st_size)
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns))
    assert provider.list_window(WINDOW, cache).etags == {item.id: item.etag}
    # without the index, the damage shows
    assert set(provider.list_window(WINDOW, {}).broken) == {item.id}


def test_a_corrupt_index_is_rebuilt(provider: FolderProvider) -> None:
    item = provider.create(make_event())
    for junk in ({"folder_index_v1": "nonsense"}, {"folder_index_v1": {item.id: [1, 2]}}):
        assert provider.list_window(WINDOW, dict(junk)).etags == {item.id: item.etag}
