"""Error classification and the retry policy's timing (seeded, never sleeping)."""

from __future__ import annotations

import random

import pytest

from notifications.errors import classify
from notifications.policy import RetryPolicy, parse_retry_after


@pytest.mark.parametrize(
    ("code", "outcome"),
    [
        (None, "sent"),
        ("UNAVAILABLE", "retry"),
        ("INTERNAL", "retry"),
        ("QUOTA_EXCEEDED", "retry"),
        ("INVALID_ARGUMENT", "invalid"),
        ("UNREGISTERED", "dead"),
        ("SENDER_ID_MISMATCH", "dead"),
        ("THIRD_PARTY_AUTH_ERROR", "misconfigured"),
        ("SOMETHING_NEW", "retry"),
    ],
)
def test_classify(code: str | None, outcome: str) -> None:
    assert classify(code) == outcome


def test_backoff_grows_exponentially_up_to_the_cap() -> None:
    policy = RetryPolicy(base=0.5, factor=2, cap=300, max_attempts=20)
    ceilings = [policy.backoff_ceiling(n) for n in range(1, 14)]
    assert ceilings[:5] == [0.5, 1.0, 2.0, 4.0, 8.0]
    assert ceilings[-1] == 300
    assert max(ceilings) == 300
    assert policy.backoff_ceiling(10_000) == 300


def test_full_jitter_is_within_bounds_and_deterministic_with_a_seed() -> None:
    policy = RetryPolicy()
    first = [policy.next_delay(n, rng=random.Random(7)) for n in range(1, 8)]
    again = [policy.next_delay(n, rng=random.Random(7)) for n in range(1, 8)]
    assert first == again
    rng = random.Random(1)
    for attempt in range(1, 8):
        samples = [policy.next_delay(attempt, rng=rng) for _ in range(200)]
        ceiling = policy.backoff_ceiling(attempt)
        assert all(s is not None and 0 <= s <= ceiling for s in samples)
        # Full jitter: spread over the whole range, not clustered at the top.
        assert min(s for s in samples if s is not None) < ceiling * 0.1


def test_retry_after_is_a_floor_and_bounded() -> None:
    policy = RetryPolicy(max_retry_after=3600)
    rng = random.Random(3)
    assert policy.next_delay(1, retry_after=30, rng=rng) == 30
    assert policy.next_delay(1, retry_after=86_400, rng=rng) == 3600
    # A Retry-After shorter than the jittered backoff does not shorten it.
    delay = policy.next_delay(12, retry_after=0.001, rng=random.Random(3))
    assert delay == RetryPolicy().next_delay(12, rng=random.Random(3))


def test_gives_up_after_max_attempts() -> None:
    policy = RetryPolicy(max_attempts=8)
    assert policy.next_delay(7, rng=random.Random(0)) is not None
    assert policy.next_delay(8, rng=random.Random(0)) is None


def test_parse_retry_after() -> None:
    assert parse_retry_after(None) is None
    assert parse_retry_after("120") == 120
    assert parse_retry_after("Wed, 21 Oct 2015 07:28:30 GMT", now=1445412480.0) == 30
    assert parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT", now=1445412500.0) == 0
    assert parse_retry_after("soon") is None
