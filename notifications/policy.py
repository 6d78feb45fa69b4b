"""Retry timing: exponential backoff with full jitter, honouring Retry-After."""

from __future__ import annotations

import email.utils
import random
import time
from dataclasses import dataclass

_DEFAULT_RNG = random.Random()


def parse_retry_after(value: str | None, now: float | None = None) -> float | None:
    """Seconds to wait from a Retry-After header: delta-seconds or an HTTP date; ``None`` if
    absent or unparseable. A date in the past gives 0."""
    if value is None:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    parsed = email.utils.parsedate_tz(value)
    if parsed is None:
        return None
    when = email.utils.mktime_tz(parsed)
    return max(0.0, when - (time.time() if now is None else now))


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """When to try again after a transient failure.

    Attempt ``n`` (1 = the first send, which failed) waits a uniformly random time in
    ``[0, min(cap, base * factor ** (n - 1))]`` ("full jitter"), but never less than the server's
    Retry-After; Retry-After itself is bounded by ``max_retry_after``. After ``max_attempts``
    failed attempts the policy gives up.
    """

    base: float = 0.5
    factor: float = 2.0
    cap: float = 300.0
    max_attempts: int = 8
    max_retry_after: float = 3600.0

    def backoff_ceiling(self, attempt: int) -> float:
        """The upper bound of the jittered wait after failed attempt ``attempt``."""
        if attempt < 1:
            raise ValueError("attempt counts from 1")
        # Cap the exponent too, so a huge attempt number cannot overflow.
        exponent = min(attempt - 1, 64)
        return float(min(self.cap, self.base * self.factor**exponent))

    def next_delay(
        self,
        attempt: int,
        retry_after: float | None = None,
        rng: random.Random | None = None,
    ) -> float | None:
        """Seconds to wait before the next attempt, or ``None`` to give up."""
        if attempt >= self.max_attempts:
            return None
        delay = (rng or _DEFAULT_RNG).uniform(0.0, self.backoff_ceiling(attempt))
        if retry_after is not None:
            delay = max(delay, min(retry_after, self.max_retry_after))
        return delay
