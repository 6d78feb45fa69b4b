"""LogSender logs what it would send and reports success."""

from __future__ import annotations

import logging

import pytest

from notifications.message import MessageTooLarge, PushMessage
from notifications.senders import LogSender, Sender


async def test_logs_each_token_and_topic(caplog: pytest.LogCaptureFixture) -> None:
    sender: Sender = LogSender()
    message = PushMessage(title="Mất điện", body="Khu vực phường 1", link="https://h.example/a")
    with caplog.at_level(logging.INFO, logger="notifications.senders"):
        results = await sender.send(["tok-a", "tok-b"], message)
        topic = await sender.send_topic("alerts-vi", message)
    assert [(r.token, r.outcome) for r in results] == [("tok-a", "sent"), ("tok-b", "sent")]
    assert topic.outcome == "sent"
    assert topic.message_id is not None
    logged = caplog.text
    assert "tok-a" in logged
    assert "tok-b" in logged
    assert "alerts-vi" in logged
    assert "Mất điện" in logged
    assert "https://h.example/a" in logged
    await sender.aclose()


async def test_refuses_oversized_messages() -> None:
    with pytest.raises(MessageTooLarge):
        await LogSender().send(["t"], PushMessage(title="t", body="ạ" * 2000))
