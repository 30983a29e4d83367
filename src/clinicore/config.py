"""Settings from the environment (``CLINICORE_*``), one ``Settings`` object.

A wrong value stops start-up with one line naming the variable (``SettingsError``).
"""

from __future__ import annotations

import ipaddress
import json
import os
import secrets
from datetime import timedelta
from enum import StrEnum
from functools import lru_cache
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from pydantic import Field, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

ENV_PREFIX = "CLINICORE_"
SECRET_KEY_FILE = "secret_key"  # noqa: S105 (a file name, not a secret)


class SettingsError(Exception):
    """A configuration value is wrong; the message names the variable."""


class Environment(StrEnum):
    development = "development"
    production = "production"


def default_data_dir() -> Path:
    return Path(os.environ.get("XDG_DATA_HOME", Path.home() / ".local" / "share")) / "clinicore"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix=ENV_PREFIX, extra="ignore", frozen=True)

    env: Environment = Environment.development
    data_dir: Path = Field(default_factory=default_data_dir)
    database_url: str = ""
    secret_key: str = ""
    base_url: str = "http://127.0.0.1:8000"
    redis_url: str | None = None
    allow_private_webhooks: bool | None = None

    smtp_host: str | None = None
    smtp_port: int = Field(default=25, ge=1, le=65535)
    smtp_username: str | None = None
    smtp_password: str | None = None
    smtp_starttls: bool = False
    smtp_from: str = "Clinicore <no-reply@clinicore.local>"

    log_level: str = "INFO"
    worker_poll_seconds: float = Field(default=1.0, gt=0)
    # Webhook requests one worker has in flight at once, and at most this many to any one endpoint.
    webhook_concurrency: int = Field(default=64, ge=1, le=1000)
    webhook_endpoint_concurrency: int = Field(default=16, ge=1, le=100)
    login_attempts_per_window: int = Field(default=5, ge=1)
    login_window_seconds: int = Field(default=900, ge=1)
    # Sign-in attempts on one account from all addresses together, per minute: slows, never locks.
    login_account_attempts_per_minute: int = Field(default=10, ge=1)
    qualifybase_rate_limit: str = "120/minute"
    # Test mode (state and tele_state TE): how long the built-in test providers wait before each step.
    test_provider_delay_seconds: float = Field(default=5.0, ge=0)
    # A live exam that no provider takes within this many seconds of the patient entering the waiting
    # room becomes Missed (Qualiphy: 3 minutes).
    missed_window_seconds: int = Field(default=180, ge=1, le=24 * 3600)
    # The video call's ICE servers, as the JSON list a browser's RTCPeerConnection takes
    # ([{"urls": "stun:stun.example.org:3478"}, ...]); none are needed when both browsers are on one machine.
    ice_servers: str = "[]"
    # Largest request body of any route that takes no upload (a surface may take less: IntakeQ 64 KB).
    max_body_bytes: int = Field(default=1024 * 1024, ge=16 * 1024, le=1024 * 1024 * 1024)
    # Largest attachment accepted (Qualiphy: 10 MB); an upload's request may carry 64 KB of form around it.
    max_upload_bytes: int = Field(default=10 * 1024 * 1024, ge=1)
    # The reverse proxies whose X-Forwarded-For is believed (comma-separated addresses or networks, e.g.
    # "10.0.0.5,10.1.0.0/16"); none by default: the client is the peer of the connection.
    trusted_proxies: str = Field(default="", max_length=4096)
    # /metrics: with a token, only "Authorization: Bearer <token>"; without one, only loopback callers.
    metrics_token: str | None = Field(default=None, min_length=16)
    # A patient's meeting link opens for this many days after it was sent (a resend renews it).
    meeting_link_days: int = Field(default=30, ge=1, le=3650)
    # SMS: "log" keeps each message in the outbox for the console to show; "twilio" sends it for real.
    sms_provider: str = Field(default="log", pattern="^(log|twilio)$")
    twilio_account_sid: str | None = None
    twilio_auth_token: str | None = None
    twilio_from_number: str | None = None  # E.164
    twilio_api_base_url: str = "https://api.twilio.com"

    @field_validator("qualifybase_rate_limit")
    @classmethod
    def _rate_limit_parses(cls, value: str) -> str:
        from limits import parse

        try:
            parse(value)
        except ValueError:
            raise ValueError("must look like 120/minute") from None
        return value

    @field_validator("base_url")
    @classmethod
    def _base_url_is_http(cls, value: str) -> str:
        parts = urlsplit(value)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise ValueError("must be an http(s) URL such as http://127.0.0.1:8000")
        return value.rstrip("/")

    @field_validator("database_url")
    @classmethod
    def _database_url_is_supported(cls, value: str) -> str:
        if not value:
            return value
        scheme = value.split("://", 1)[0]
        if scheme in ("sqlite", "sqlite+aiosqlite"):
            return value.replace("sqlite://", "sqlite+aiosqlite://", 1) if scheme == "sqlite" else value
        if scheme in ("postgresql", "postgres", "postgresql+asyncpg"):
            rest = value.split("://", 1)[1]
            return f"postgresql+asyncpg://{rest}"
        raise ValueError("must be a sqlite:/// or postgresql:// URL")

    @field_validator("log_level")
    @classmethod
    def _log_level_known(cls, value: str) -> str:
        upper = value.upper()
        if upper not in ("DEBUG", "INFO", "WARNING", "ERROR"):
            raise ValueError("must be one of DEBUG, INFO, WARNING, ERROR")
        return upper

    @field_validator("ice_servers")
    @classmethod
    def _ice_servers_are_a_list(cls, value: str) -> str:
        try:
            servers = json.loads(value or "[]")
        except ValueError:
            raise ValueError('must be a JSON list such as [{"urls": "stun:host:3478"}]') from None
        if not isinstance(servers, list) or not all(
            isinstance(server, dict) and isinstance(server.get("urls"), (str, list)) for server in servers
        ):
            raise ValueError("must be a JSON list of objects, each with urls") from None
        return value or "[]"

    @property
    def meeting_link_lifetime(self) -> timedelta:
        return timedelta(days=self.meeting_link_days)

    @property
    def missed_window(self) -> timedelta:
        return timedelta(seconds=self.missed_window_seconds)

    @property
    def ice_server_list(self) -> list[dict[str, object]]:
        servers: list[dict[str, object]] = json.loads(self.ice_servers)
        return servers

    @field_validator("trusted_proxies")
    @classmethod
    def _proxies_are_addresses(cls, value: str) -> str:
        for part in value.split(","):
            if part.strip():
                try:
                    ipaddress.ip_network(part.strip(), strict=False)
                except ValueError:
                    raise ValueError(f"{part.strip()!r} is not an IP address or network") from None
        return value

    @property
    def trusted_proxy_list(self) -> list[str]:
        return [part.strip() for part in self.trusted_proxies.split(",") if part.strip()]

    @field_validator("secret_key")
    @classmethod
    def _secret_key_long_enough(cls, value: str) -> str:
        if value and len(value) < 32:
            raise ValueError("must be at least 32 characters")
        return value

    @model_validator(mode="after")
    def _no_memory_database_in_production(self) -> Settings:
        if self.env is Environment.production and self.is_sqlite and "memory" in self.database_url:
            raise ValueError("CLINICORE_DATABASE_URL: an in-memory database cannot run in production")
        return self

    @property
    def is_sqlite(self) -> bool:
        return self.resolved_database_url.startswith("sqlite")

    @property
    def resolved_database_url(self) -> str:
        return self.database_url or f"sqlite+aiosqlite:///{self.data_dir / 'clinicore.db'}"

    @property
    def private_webhooks_allowed(self) -> bool:
        if self.allow_private_webhooks is not None:
            return self.allow_private_webhooks
        return self.env is Environment.development

    @property
    def secure_cookies(self) -> bool:
        return self.base_url.startswith("https://")


def _persisted_secret_key(data_dir: Path) -> str:
    """The generated secret key, created once in the data dir with mode 0600."""
    data_dir.mkdir(parents=True, exist_ok=True)
    path = data_dir / SECRET_KEY_FILE
    if path.exists():
        return path.read_text().strip()
    key = secrets.token_urlsafe(48)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(key)
    return key


def load_settings(**overrides: Any) -> Settings:
    """Read and validate the environment; raise ``SettingsError`` naming the first bad variable."""
    try:
        settings = Settings(**overrides)
    except ValidationError as exc:
        error = exc.errors()[0]
        field = str(error["loc"][0]) if error["loc"] else ""
        name = f"{ENV_PREFIX}{field.upper()}" if field else "configuration"
        message = error["msg"].removeprefix("Value error, ")
        if message.startswith(ENV_PREFIX):
            raise SettingsError(message) from None
        raise SettingsError(f"{name}: {message}") from None
    if not settings.secret_key:
        settings = settings.model_copy(update={"secret_key": _persisted_secret_key(settings.data_dir)})
    return settings


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return load_settings()
