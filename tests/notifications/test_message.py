"""PushMessage: validation and FCM's payload size limits, counted in UTF-8 bytes."""

from __future__ import annotations

import pytest

from notifications.message import (
    TOKEN_PAYLOAD_LIMIT,
    TOPIC_PAYLOAD_LIMIT,
    MessageTooLarge,
    PushMessage,
)

WARNING = "Cảnh báo lũ quét và sạt lở đất…"


def test_small_message_passes() -> None:
    message = PushMessage(title="Cảnh báo", body=WARNING, data={"kind": "alert"}, link="https://x")
    message.check_size()
    message.check_size(topic=True)
    assert message.payload_size() == len(
        '{"notification":{"title":"Cảnh báo","body":"%s"},"data":{"kind":"alert","link":"https://x"}}'.replace(
            "%s", WARNING
        ).encode()
    )


def test_vietnamese_over_limit_in_bytes_not_in_characters() -> None:
    body = WARNING * 110
    message = PushMessage(title="Cảnh báo khẩn cấp", body=body)
    assert len(body) < TOKEN_PAYLOAD_LIMIT
    assert message.payload_size() > TOKEN_PAYLOAD_LIMIT
    with pytest.raises(MessageTooLarge) as info:
        message.check_size(topic=False)
    assert info.value.limit == TOKEN_PAYLOAD_LIMIT
    assert info.value.size == message.payload_size()


def test_topic_limit_is_2048_bytes() -> None:
    body = WARNING * 55
    message = PushMessage(title="Cảnh báo", body=body)
    assert len(body) < TOPIC_PAYLOAD_LIMIT < message.payload_size() <= TOKEN_PAYLOAD_LIMIT
    message.check_size(topic=False)
    with pytest.raises(MessageTooLarge):
        message.check_size(topic=True)


def test_data_counts_keys_and_values() -> None:
    plain = PushMessage(title="t", body="b")
    with_data = PushMessage(title="t", body="b", data={"khu_vực": "Đà Lạt"})
    assert with_data.payload_size() - plain.payload_size() == len(
        ',"data":{"khu_vực":"Đà Lạt"}'.encode()
    )


def test_validation() -> None:
    with pytest.raises(ValueError, match="priority"):
        PushMessage(title="t", body="b", priority="urgent")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="ttl"):
        PushMessage(title="t", body="b", ttl_seconds=-1)
    with pytest.raises(TypeError):
        PushMessage(title="t", body="b", data={"n": 1})  # type: ignore[dict-item]
