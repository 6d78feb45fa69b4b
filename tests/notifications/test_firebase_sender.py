"""FirebaseSender with the real firebase-admin SDK, talking to the fake FCM via ASGITransport.

No request leaves the process and nothing sleeps for real: the SDK's own 500/503 retries are
turned off by the sender (asserted by counting requests and by forbidding the SDK's sleep).
"""

from __future__ import annotations

import random
from collections.abc import Awaitable, Callable
from typing import Any

import httpx
import pytest
from firebase_admin import _retry, messaging

from notifications.fake_fcm import FakeFcm
from notifications.message import MessageTooLarge, PushMessage
from notifications.policy import RetryPolicy
from notifications.senders import FirebaseSender, StaticTokenCredentials, TokenResult

from .conftest import NOW, PROJECT

MESSAGE = PushMessage(
    title="Cảnh báo lũ",
    body="Nước sông dâng cao, di chuyển lên vùng cao.",
    data={"alert_id": "42"},
    link="https://hub.example/alerts/42",
    priority="high",
    ttl_seconds=3600,
    collapse_key="flood-42",
)


@pytest.fixture(autouse=True)
def no_sdk_sleep(monkeypatch: pytest.MonkeyPatch) -> None:
    """The SDK's retry transport must never sleep: retries belong to RetryPolicy."""

    async def forbidden(delay: float) -> None:
        raise AssertionError(f"firebase-admin tried to sleep {delay}s")

    monkeypatch.setattr(_retry.asyncio, "sleep", forbidden)


@pytest.fixture
def batch_sizes(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Counts ``messaging.send_each_async`` calls (and their sizes) made by the sender."""
    sizes: list[int] = []
    real: Callable[..., Awaitable[Any]] = messaging.send_each_async

    async def counting(messages: list[messaging.Message], *args: Any, **kwargs: Any) -> Any:
        sizes.append(len(messages))
        return await real(messages, *args, **kwargs)

    monkeypatch.setattr(messaging, "send_each_async", counting)
    return sizes


async def test_1201_tokens_go_in_batches_of_at_most_500(
    sender: FirebaseSender, fake_fcm: FakeFcm, batch_sizes: list[int]
) -> None:
    tokens = [f"tok-{i:04d}" for i in range(1201)]
    results = await sender.send(tokens, MESSAGE)
    assert batch_sizes == [500, 500, 201]
    assert [r.token for r in results] == tokens
    assert all(r.outcome == "sent" and r.message_id for r in results)
    assert len(fake_fcm.accepted) == 1201
    assert sorted(fake_fcm.accepted_tokens()) == tokens
    assert len({r.message_id for r in results}) == 1201


async def test_each_error_code_maps_to_an_outcome(
    sender: FirebaseSender, fake_fcm: FakeFcm
) -> None:
    expected = {
        "ok-1": ("sent", None),
        "dead-1": ("dead", "UNREGISTERED"),
        "alien-1": ("dead", "SENDER_ID_MISMATCH"),
        "bad-1": ("invalid", "INVALID_ARGUMENT"),
        "quota-1": ("retry", "QUOTA_EXCEEDED"),
        "down-1": ("retry", "UNAVAILABLE"),
        "boom-1": ("retry", "INTERNAL"),
        "apns-1": ("misconfigured", "THIRD_PARTY_AUTH_ERROR"),
    }
    results = {r.token: r for r in await sender.send(list(expected), MESSAGE)}
    assert {t: (r.outcome, r.error_code) for t, r in results.items()} == expected
    assert results["quota-1"].retry_after == fake_fcm.retry_after == 30
    assert results["down-1"].retry_after is None
    assert results["ok-1"].message_id == "projects/citizen-hub-test/messages/fake-1"
    assert fake_fcm.accepted_tokens() == ["ok-1"]
    # One request per token: the SDK did not retry 500/503. The 401 is the exception: the SDK's
    # auth flow refreshes the credential and re-sends twice.
    assert len(fake_fcm.requests) == len(expected) + 2


async def test_storm_of_503_then_recovery_loses_nothing(
    sender: FirebaseSender, fake_fcm: FakeFcm
) -> None:
    tokens = [f"tok-{i}" for i in range(60)]
    fake_fcm.fail_next(140, "UNAVAILABLE")
    fake_fcm.fail_next(10, "QUOTA_EXCEEDED")
    policy = RetryPolicy()
    rng = random.Random(2024)
    clock = 0.0  # simulated seconds
    delivered: dict[str, TokenResult] = {}
    pending = tokens
    attempt = 0
    saw_retry_after = False
    while pending:
        attempt += 1
        results = await sender.send(pending, MESSAGE)
        assert {r.outcome for r in results} <= {"sent", "retry"}
        delivered.update({r.token: r for r in results if r.outcome == "sent"})
        retry = [r for r in results if r.outcome == "retry"]
        pending = [r.token for r in retry]
        if not pending:
            break
        retry_after = max((r.retry_after or 0.0) for r in retry) or None
        saw_retry_after = saw_retry_after or retry_after is not None
        delay = policy.next_delay(attempt, retry_after=retry_after, rng=rng)
        assert delay is not None, "gave up before FCM recovered"
        if retry_after is not None:
            assert delay >= retry_after
        clock += delay
    assert attempt == 4  # 60 + 60 failed, then 30 failed and 30 sent, then 30 sent
    assert saw_retry_after
    assert clock > 30
    assert sorted(delivered) == sorted(tokens)
    assert sorted(fake_fcm.accepted_tokens()) == sorted(tokens)  # each exactly once
    assert len(fake_fcm.requests) == 150 + 60


async def test_topic_send(sender: FirebaseSender, fake_fcm: FakeFcm) -> None:
    result = await sender.send_topic("alerts-vi", MESSAGE)
    assert result.outcome == "sent"
    assert result.message_id is not None
    assert [(a.topic, a.token) for a in fake_fcm.accepted] == [("alerts-vi", None)]

    fake_fcm.fail_next(1, "QUOTA_EXCEEDED")
    throttled = await sender.send_topic("alerts-vi", MESSAGE)
    assert (throttled.outcome, throttled.error_code, throttled.retry_after) == (
        "retry",
        "QUOTA_EXCEEDED",
        30,
    )


async def test_topic_size_limit_is_checked_before_sending(
    sender: FirebaseSender, fake_fcm: FakeFcm
) -> None:
    big = PushMessage(title="Cảnh báo", body="Cảnh báo lũ quét và sạt lở đất…" * 55)
    with pytest.raises(MessageTooLarge):
        await sender.send_topic("alerts-vi", big)
    assert (await sender.send(["tok-1"], big))[0].outcome == "sent"
    assert fake_fcm.requests and len(fake_fcm.requests) == 1


async def test_message_fields_as_fcm_receives_them(
    sender: FirebaseSender, fake_fcm: FakeFcm
) -> None:
    await sender.send(["tok-1"], MESSAGE)
    (accepted,) = fake_fcm.accepted
    sent = accepted.message
    assert sent["token"] == "tok-1"
    assert sent["notification"] == {"title": MESSAGE.title, "body": MESSAGE.body}
    assert sent["data"] == {"alert_id": "42", "link": "https://hub.example/alerts/42"}
    assert sent["android"] == {"priority": "high", "ttl": "3600s", "collapse_key": "flood-42"}
    assert sent["apns"]["headers"] == {
        "apns-priority": "10",
        "apns-expiration": str(int(NOW) + 3600),
        "apns-collapse-id": "flood-42",
    }
    assert sent["webpush"]["headers"] == {"Urgency": "high", "TTL": "3600", "Topic": "flood-42"}
    assert sent["webpush"]["fcm_options"] == {"link": "https://hub.example/alerts/42"}


async def test_normal_priority_without_options(sender: FirebaseSender, fake_fcm: FakeFcm) -> None:
    await sender.send(["tok-1"], PushMessage(title="t", body="b", link="/local/path"))
    sent = fake_fcm.accepted[0].message
    assert sent["android"] == {"priority": "normal"}
    assert sent["apns"]["headers"] == {"apns-priority": "5"}
    assert sent["webpush"] == {"headers": {"Urgency": "normal"}}
    assert sent["data"] == {"link": "/local/path"}


async def test_endpoint_url_override(fake_fcm: FakeFcm) -> None:
    seen: list[str] = []
    inner = httpx.ASGITransport(app=fake_fcm)

    class Recording(httpx.AsyncBaseTransport):
        async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
            seen.append(str(request.url))
            return await inner.handle_async_request(request)

    firebase = FirebaseSender(
        PROJECT,
        credential=StaticTokenCredentials("t"),
        endpoint_url="http://127.0.0.1:8765/",
        transport=Recording(),
    )
    try:
        assert (await firebase.send(["tok-1"], MESSAGE))[0].outcome == "sent"
    finally:
        await firebase.aclose()
    assert seen == [f"http://127.0.0.1:8765/v1/projects/{PROJECT}/messages:send"]


def test_needs_exactly_one_credential() -> None:
    with pytest.raises(ValueError, match="exactly one"):
        FirebaseSender(PROJECT)
