"""Rate limits on the `limits` library: in memory for one process, shared through Redis for many."""

from __future__ import annotations

import math
import time
from dataclasses import dataclass

from limits import RateLimitItem, RateLimitItemPerMinute, RateLimitItemPerSecond
from limits.aio.storage import MemoryStorage, RedisStorage, Storage
from limits.aio.strategies import RateLimiter, SlidingWindowCounterRateLimiter


@dataclass(frozen=True)
class Decision:
    allowed: bool
    retry_after: int = 0


class Limiter:
    def __init__(self, redis_url: str | None = None, prefix: str = "citizenhub") -> None:
        self.storage: Storage
        if redis_url:
            uri = redis_url.replace("redis://", "async+redis://", 1).replace(
                "rediss://", "async+rediss://", 1
            )
            self.storage = RedisStorage(uri, implementation="redispy", key_prefix=prefix)
        else:
            self.storage = MemoryStorage()
        # A sliding-window counter: two counters a key, cheap enough for every request.
        self.strategy: RateLimiter = SlidingWindowCounterRateLimiter(self.storage)
        self.shared = redis_url is not None

    async def hit(self, item: RateLimitItem, *key: str) -> Decision:
        if await self.strategy.hit(item, *key):
            return Decision(True)
        return Decision(False, await self.retry_after(item, *key))

    async def test(self, item: RateLimitItem, *key: str) -> Decision:
        """Would one more hit be allowed? (Counts nothing.)"""
        if await self.strategy.test(item, *key):
            return Decision(True)
        return Decision(False, await self.retry_after(item, *key))

    async def retry_after(self, item: RateLimitItem, *key: str) -> int:
        stats = await self.strategy.get_window_stats(item, *key)
        return max(1, math.ceil(stats.reset_time - time.time()))

    async def clear(self, item: RateLimitItem, *key: str) -> None:
        await self.strategy.clear(item, *key)

    async def reset(self) -> None:
        await self.storage.reset()


def per_minute(amount: int) -> RateLimitItem:
    return RateLimitItemPerMinute(amount)


def per_window(amount: int, seconds: int) -> RateLimitItem:
    return RateLimitItemPerSecond(amount, seconds)
