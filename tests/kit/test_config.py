from __future__ import annotations

import stat
from pathlib import Path

import pytest

from clinicore.config import SettingsError, load_settings


def test_the_generated_secret_key_is_kept_in_the_data_dir_with_mode_0600(tmp_path: Path) -> None:
    first = load_settings(data_dir=tmp_path, secret_key="")
    second = load_settings(data_dir=tmp_path, secret_key="")
    assert first.secret_key == second.secret_key and len(first.secret_key) >= 32
    assert stat.S_IMODE((tmp_path / "secret_key").stat().st_mode) == 0o600


def test_the_default_database_is_sqlite_in_the_data_dir(tmp_path: Path) -> None:
    settings = load_settings(data_dir=tmp_path, database_url="")
    assert settings.resolved_database_url == f"sqlite+aiosqlite:///{tmp_path / 'clinicore.db'}"


def test_postgres_urls_use_asyncpg(tmp_path: Path) -> None:
    settings = load_settings(data_dir=tmp_path, database_url="postgresql://u@db:5432/clinicore")
    assert settings.resolved_database_url == "postgresql+asyncpg://u@db:5432/clinicore"


def test_private_webhooks_default_follows_the_environment(tmp_path: Path) -> None:
    assert load_settings(data_dir=tmp_path, env="development").private_webhooks_allowed is True
    assert load_settings(data_dir=tmp_path, env="production").private_webhooks_allowed is False
    assert load_settings(
        data_dir=tmp_path, env="production", allow_private_webhooks=True
    ).private_webhooks_allowed


def test_an_error_names_the_variable(tmp_path: Path) -> None:
    with pytest.raises(SettingsError, match=r"^CLINICORE_BASE_URL: "):
        load_settings(data_dir=tmp_path, base_url="not a url")


def test_ice_servers_are_a_json_list_of_servers_and_the_missed_window_a_duration(tmp_path: Path) -> None:
    settings = load_settings(
        data_dir=tmp_path,
        ice_servers='[{"urls": "stun:stun.example.org:3478"}]',
        missed_window_seconds=45,
    )
    assert settings.ice_server_list == [{"urls": "stun:stun.example.org:3478"}]
    assert settings.missed_window.total_seconds() == 45
    assert load_settings(data_dir=tmp_path).ice_server_list == []
    assert load_settings(data_dir=tmp_path).missed_window.total_seconds() == 180
    for wrong in ("stun:x", "{}", '[{"url": "stun:x"}]'):
        with pytest.raises(SettingsError, match=r"^CLINICORE_ICE_SERVERS: "):
            load_settings(data_dir=tmp_path, ice_servers=wrong)
    with pytest.raises(SettingsError, match=r"^CLINICORE_MISSED_WINDOW_SECONDS: "):
        load_settings(data_dir=tmp_path, missed_window_seconds=0)
