"""Per-recipient messages in one batch, and topic membership through FCM's registrations API,
with the real firebase-admin SDK against the fake FCM."""

from __future__ import annotations

import logging

import pytest

from notifications.fake_fcm import FakeFcm
from notifications.message import PushMessage
from notifications.senders import FirebaseSender, LogSender


def note(n: int, text: str = "Phản ánh của bạn đã được tiếp nhận") -> PushMessage:
    return PushMessage(title=f"Thông báo {n}", body=text, data={"nid": str(n)})


async def test_send_many_sends_each_token_its_own_message(
    sender: FirebaseSender, fake_fcm: FakeFcm
) -> None:
    items = [(f"tok-{n}", note(n)) for n in range(1, 1202)]
    results = await sender.send_many(items)
    assert [r.outcome for r in results] == ["sent"] * 1201
    sent = {a.token: a.message["data"]["nid"] for a in fake_fcm.accepted}
    assert sent == {f"tok-{n}": str(n) for n in range(1, 1202)}


async def test_send_many_refuses_an_oversized_message_and_sends_the_rest(
    sender: FirebaseSender, fake_fcm: FakeFcm
) -> None:
    huge = note(2, "Lũ quét ở Mù Cang Chải. " * 200)
    results = await sender.send_many([("tok-1", note(1)), ("tok-2", huge), ("dead-3", note(3))])
    assert [(r.outcome, r.error_code) for r in results] == [
        ("sent", None),
        ("invalid", "MESSAGE_TOO_LARGE"),
        ("dead", "UNREGISTERED"),
    ]
    assert fake_fcm.accepted_tokens() == ["tok-1"]


async def test_subscribe_and_unsubscribe_through_the_registrations_api(
    sender: FirebaseSender, fake_fcm: FakeFcm
) -> None:
    tokens = [f"tok-{n}" for n in range(1, 1101)] + ["dead-1", "down-1"]
    results = await sender.subscribe(tokens, "alerts-all-vi")
    outcomes = {r.token: (r.outcome, r.error_code) for r in results}
    assert outcomes["dead-1"] == ("dead", "UNREGISTERED")
    assert outcomes["down-1"] == ("retry", "UNAVAILABLE")
    assert fake_fcm.members("alerts-all-vi") == {f"tok-{n}" for n in range(1, 1101)}

    await sender.unsubscribe(["tok-1", "tok-2"], "alerts-all-vi")
    assert "tok-1" not in fake_fcm.members("alerts-all-vi")
    assert len(fake_fcm.members("alerts-all-vi")) == 1098


async def test_log_sender_reports_success_and_logs(caplog: pytest.LogCaptureFixture) -> None:
    sender = LogSender()
    with caplog.at_level(logging.INFO):
        results = await sender.send_many([("a", note(1)), ("b", note(2, "x" * 5000))])
        subscribed = await sender.subscribe(["a"], "alerts-all-en")
    assert [r.outcome for r in results] == ["sent", "invalid"]
    assert subscribed[0].outcome == "sent"
    assert "Thông báo 1" in caplog.text
    assert "alerts-all-en" in caplog.text
