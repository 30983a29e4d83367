"""Rate limits with the ``limits`` library: in memory, or in Redis so that a limit holds across processes."""

from __future__ import annotations

import math
import time
from dataclasses import dataclass

from limits import RateLimitItem, parse
from limits.aio.storage import MemoryStorage, RedisStorage, Storage
from limits.aio.strategies import MovingWindowRateLimiter


@dataclass(frozen=True, slots=True)
class RateLimitDecision:
    allowed: bool
    limit: int
    remaining: int
    reset_after: int  # seconds until the window has room again

    @property
    def headers(self) -> dict[str, str]:
        return {
            "RateLimit-Limit": str(self.limit),
            "RateLimit-Remaining": str(self.remaining),
            "RateLimit-Reset": str(self.reset_after),
        }


class RateLimiter:
    def __init__(self, redis_url: str | None = None) -> None:
        storage: Storage
        if redis_url:
            storage = RedisStorage(
                redis_url.replace("redis://", "async+redis://", 1),
                implementation="redispy",
                key_prefix="clinicore",
            )
        else:
            storage = MemoryStorage()
        self._limiter = MovingWindowRateLimiter(storage)

    async def hit(self, rule: str, *identifiers: str) -> RateLimitDecision:
        """Count one hit against ``rule`` (for example ``"120/minute"``) and say whether it is allowed."""
        item = parse(rule)
        allowed = await self._limiter.hit(item, *identifiers)
        return await self._decision(item, allowed, identifiers)

    async def peek(self, rule: str, *identifiers: str) -> RateLimitDecision:
        """Whether one more hit would be allowed, without counting one."""
        item = parse(rule)
        allowed = await self._limiter.test(item, *identifiers)
        return await self._decision(item, allowed, identifiers)

    async def clear(self, rule: str, *identifiers: str) -> None:
        await self._limiter.clear(parse(rule), *identifiers)

    async def _decision(
        self, item: RateLimitItem, allowed: bool, identifiers: tuple[str, ...]
    ) -> RateLimitDecision:
        stats = await self._limiter.get_window_stats(item, *identifiers)
        reset_after = max(0, math.ceil(stats.reset_time - time.time()))
        return RateLimitDecision(allowed, item.amount, stats.remaining, reset_after)
