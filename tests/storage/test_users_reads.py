"""users.json is parsed once per version of the file, and every change is still seen."""

from __future__ import annotations

import pytest

from storage.atomic import atomic_write
from storage.errors import UnknownUser
from storage.users import UserStore
from storage.workspace import Workspace
from tests.storage.conftest import child


def _add(ws: Workspace, name: str) -> None:
    UserStore(ws).add({"name": name, "crm": "folder:/a", "remote": "folder:/b"})


def test_a_write_by_another_process_is_seen_by_the_next_read(ws: Workspace) -> None:
    _add(ws, "anna")
    assert [u["name"] for u in UserStore(ws).all()] == ["anna"]
    proc = child(
        """
        import sys
        from pathlib import Path
        from storage.users import UserStore
        from storage.workspace import Workspace
        UserStore(Workspace(Path(sys.argv[1]))).add(
            {"name": "bert", "crm": "folder:/a", "remote": "folder:/b"}
        )
        """,
        str(ws.root),
    )
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 0, err
    assert [u["name"] for u in UserStore(ws).all()] == ["anna", "bert"]


def test_an_outside_edit_of_the_same_size_is_seen(ws: Workspace) -> None:
    _add(ws, "anna")
    assert UserStore(ws).get("anna")["enabled"] is True
    text = ws.users_path.read_text(encoding="utf-8")
    atomic_write(ws.users_path, text.replace('"enabled":true', '"enabled":null').encode())
    assert UserStore(ws).get("anna")["enabled"] is None


def test_callers_get_their_own_copies(ws: Workspace) -> None:
    _add(ws, "anna")
    first = UserStore(ws).get("anna")
    first["remote"] = "changed by a caller"
    assert UserStore(ws).get("anna")["remote"] == "folder:/b"


def test_a_looked_up_record_is_the_callers_own_copy(ws: Workspace) -> None:
    _add(ws, "anna")
    _add(ws, "bert")
    store = UserStore(ws)
    got = store.get("bert")
    got["enabled"] = False  # a caller editing what it got must not edit the parsed file
    assert store.get("bert")["enabled"] is True
    assert [u["enabled"] for u in store.all()] == [True, True]
    assert store.exists("anna") and not store.exists("carl")


def test_lookups_by_name_follow_a_rename_and_a_removal(ws: Workspace) -> None:
    _add(ws, "anna")
    _add(ws, "bert")
    store = UserStore(ws)
    assert store.get("bert")["name"] == "bert"
    store.update("bert", {"name": "berta"})
    assert store.exists("berta") and not store.exists("bert")
    with pytest.raises(UnknownUser):
        store.get("bert")
    store.remove("anna")
    assert not store.exists("anna") and store.get("berta")["name"] == "berta"
