"""The push message handed to a sender, and FCM's payload size limits.

Text is already in the recipient's language: localisation happens before a message is built.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Literal

Priority = Literal["high", "normal"]

#: FCM's limit for a message sent to tokens, in UTF-8 bytes of the payload.
TOKEN_PAYLOAD_LIMIT = 4096
#: FCM's limit for a message sent to a topic, in UTF-8 bytes of the payload.
TOPIC_PAYLOAD_LIMIT = 2048


class MessageTooLarge(ValueError):
    """The payload is over FCM's limit; FCM would refuse it with INVALID_ARGUMENT."""

    def __init__(self, size: int, limit: int) -> None:
        super().__init__(f"push payload is {size} bytes, over the {limit}-byte limit")
        self.size = size
        self.limit = limit


@dataclass(frozen=True, slots=True)
class PushMessage:
    """One notification, ready to send.

    ``data`` values must be strings (FCM's data payload is a string map). ``link`` is the URL
    opened when the notification is tapped; it travels in ``data["link"]`` for every platform and
    additionally as the web push click link when it is HTTPS. ``ttl_seconds`` of ``None`` leaves
    FCM's default (four weeks); ``collapse_key`` lets a newer message replace an older undelivered
    one.
    """

    title: str
    body: str
    data: dict[str, str] = field(default_factory=dict)
    link: str | None = None
    priority: Priority = "normal"
    ttl_seconds: int | None = None
    collapse_key: str | None = None

    def __post_init__(self) -> None:
        if self.priority not in ("high", "normal"):
            raise ValueError(f"priority must be 'high' or 'normal', not {self.priority!r}")
        if self.ttl_seconds is not None and self.ttl_seconds < 0:
            raise ValueError("ttl_seconds must not be negative")
        for key, value in self.data.items():
            if not isinstance(key, str) or not isinstance(value, str):
                raise TypeError(f"data must map str to str; {key!r} -> {value!r} does not")

    def fcm_data(self) -> dict[str, str]:
        """The data map actually sent: ``data`` plus ``link`` when set."""
        data = dict(self.data)
        if self.link:
            data["link"] = self.link
        return data

    def payload_size(self) -> int:
        """UTF-8 bytes of the fields FCM counts against its limit.

        That is the compact JSON of the notification (title, body) and the data map, keys and
        values included. The target (token or topic) and the delivery options (priority, TTL,
        collapse key) are headers or envelope fields and do not count.
        """
        payload: dict[str, object] = {}
        notification = {k: v for k, v in (("title", self.title), ("body", self.body)) if v}
        if notification:
            payload["notification"] = notification
        data = self.fcm_data()
        if data:
            payload["data"] = data
        encoded = json.dumps(payload, ensure_ascii=False, separators=(",", ":"))
        return len(encoded.encode("utf-8"))

    def check_size(self, topic: bool = False) -> None:
        """Raise :class:`MessageTooLarge` when over 4,096 bytes (2,048 for a topic message)."""
        limit = TOPIC_PAYLOAD_LIMIT if topic else TOKEN_PAYLOAD_LIMIT
        size = self.payload_size()
        if size > limit:
            raise MessageTooLarge(size, limit)
