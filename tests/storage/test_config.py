"""calsync.toml validation: every error names the file and the key."""

from __future__ import annotations

from pathlib import Path

import pytest

from storage.config import Config, load_config
from storage.errors import ConfigInvalid


def _load(tmp_path: Path, text: str) -> Config:
    path = tmp_path / "calsync.toml"
    path.write_text(text, encoding="utf-8")
    return load_config(path)


def test_missing_file_gives_defaults(tmp_path: Path) -> None:
    config = load_config(tmp_path / "calsync.toml")
    assert config.path is None
    assert config.job == {}
    assert config.safety.max_delete_share == 0.5
    assert config.retention_days == 180
    assert config.providers == {}


def test_full_valid_file(tmp_path: Path) -> None:
    config = _load(
        tmp_path,
        """
        [job]
        skip_private = true
        reminders = "minutes:15"
        multiday = "keep"
        window_past_days = 30
        window_future_days = 400
        interval = 300
        enabled = true

        [safety]
        max_delete_share = 0.25
        min_delete_count = 10

        [log]
        retention_days = 30

        [caldav]
        username = "svc"
        password_env = "CALSYNC_CALDAV_PASSWORD"

        [exchange]
        server = "mail.example.com"
        password_keyring = "calsync/svc"
        [exchange.oauth]
        client_secret_file = "/etc/calsync/secret"
        """.replace("\n        ", "\n"),
    )
    assert config.job["reminders"] == "minutes:15"
    assert config.job["skip_private"] is True
    assert config.safety.max_delete_share == 0.25
    assert config.safety.min_delete_count == 10
    assert config.retention_days == 30
    assert config.providers["caldav"]["password_env"] == "CALSYNC_CALDAV_PASSWORD"
    assert config.providers["exchange"]["oauth"]["client_secret_file"] == "/etc/calsync/secret"


BAD = {
    "not toml": ("[job\nskip_private = true", "not valid TOML"),
    "job not a table": ('job = "x"', "[job] must be a table"),
    "unknown job key": ("[job]\nfrobnicate = 1", "[job] has unknown key 'frobnicate'"),
    "bad reminders": ('[job]\nreminders = "sometimes"', "reminders must be sync, off or minutes:N"),
    "bad multiday": ('[job]\nmultiday = "split"', "multiday must be title or keep"),
    "window negative": ("[job]\nwindow_past_days = -1", "window_past_days must be"),
    "window not int": ('[job]\nwindow_future_days = "365"', "window_future_days must be"),
    "window bool": ("[job]\nwindow_future_days = true", "window_future_days must be"),
    "interval small": ("[job]\ninterval = 1", "interval must be at least 10"),
    "skip_private str": ('[job]\nskip_private = "yes"', "skip_private must be true or false"),
    "share zero": ("[safety]\nmax_delete_share = 0", "[safety] max_delete_share"),
    "share above one": ("[safety]\nmax_delete_share = 1.5", "[safety] max_delete_share"),
    "count negative": ("[safety]\nmin_delete_count = -2", "[safety] min_delete_count"),
    "unknown safety key": ("[safety]\nmax_deletes = 3", "[safety] has unknown key 'max_deletes'"),
    "retention zero": ("[log]\nretention_days = 0", "[log] retention_days"),
    "unknown log key": ("[log]\nlevel = 'debug'", "[log] has unknown key 'level'"),
    "top-level scalar": ('server = "x"', "server must be inside a table"),
    "clear password": ('[caldav]\npassword = "hunter2"', "[caldav] password holds a secret"),
    "clear token nested": (
        '[graph]\n[graph.app]\nClient_Secret = "s3cr3t"',
        "[graph.app] Client_Secret holds a secret",
    ),
    "secret in a list of tables": (
        '[[google.accounts]]\nrefresh_token = "t"',
        "[google.accounts] refresh_token holds a secret",
    ),
}


@pytest.mark.parametrize(("text", "expected"), list(BAD.values()), ids=list(BAD))
def test_invalid_config_names_file_and_key(tmp_path: Path, text: str, expected: str) -> None:
    with pytest.raises(ConfigInvalid) as error:
        _load(tmp_path, text)
    message = str(error.value)
    assert message.startswith(str(tmp_path / "calsync.toml"))
    assert expected in message
    assert "\n" not in message


def test_clear_secret_is_never_echoed(tmp_path: Path) -> None:
    with pytest.raises(ConfigInvalid) as error:
        _load(tmp_path, '[caldav]\npassword = "hunter2"')
    assert "hunter2" not in str(error.value)
    assert "password_env" in str(error.value)


def test_unreadable_config(tmp_path: Path) -> None:
    (tmp_path / "calsync.toml").mkdir()
    with pytest.raises(ConfigInvalid, match="cannot read"):
        load_config(tmp_path / "calsync.toml")


def test_not_utf8_config(tmp_path: Path) -> None:
    (tmp_path / "calsync.toml").write_bytes(b"[job]\nmultiday = '\xff'\n")
    with pytest.raises(ConfigInvalid, match="cannot read"):
        load_config(tmp_path / "calsync.toml")
