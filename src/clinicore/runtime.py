"""Everything a running process shares: settings, database, secret box, clock, rate limiter."""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from clinicore.config import Settings
from clinicore.kit import public_links
from clinicore.kit.clock import Clock, system_clock
from clinicore.kit.crypto import SecretBox
from clinicore.kit.db import create_engine, create_read_sessionmaker, create_sessionmaker
from clinicore.kit.links import LinkSigner
from clinicore.kit.rate_limit import RateLimiter
from clinicore.kit.storage import FileStorage, build_storage


@dataclass
class Runtime:
    settings: Settings
    engine: AsyncEngine
    sessions: async_sessionmaker[AsyncSession]
    box: SecretBox
    rate_limiter: RateLimiter
    clock: Clock = field(default=system_clock)
    # Units of work that only read: no write lock on SQLite, READ ONLY on PostgreSQL (kit/db.py).
    read_sessions: async_sessionmaker[AsyncSession] = field(init=False)

    def __post_init__(self) -> None:
        self.read_sessions = create_read_sessionmaker(self.engine)
        public_links.configure(self.links)

    @property
    def links(self) -> LinkSigner:
        return LinkSigner(self.settings.secret_key, self.settings.base_url)

    @property
    def storage(self) -> FileStorage:
        return build_storage(self.settings.data_dir)

    @classmethod
    def from_settings(cls, settings: Settings, *, clock: Clock = system_clock) -> Runtime:
        engine = create_engine(settings.resolved_database_url)
        return cls(
            settings=settings,
            engine=engine,
            sessions=create_sessionmaker(engine),
            box=SecretBox(settings.secret_key),
            rate_limiter=RateLimiter(settings.redis_url),
            clock=clock,
        )

    async def close(self) -> None:
        await self.engine.dispose()
