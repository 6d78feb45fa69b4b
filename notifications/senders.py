"""Senders: where a :class:`~notifications.message.PushMessage` goes.

:class:`LogSender` only logs (the development default). :class:`~notifications.firebase.
FirebaseSender` sends through FCM; it lives in :mod:`notifications.firebase` so that a process
that only logs never loads the firebase-admin SDK (about 20 MB), and is importable from here too.
"""

from __future__ import annotations

import itertools
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from notifications.errors import Outcome
from notifications.message import TOKEN_PAYLOAD_LIMIT, PushMessage

logger = logging.getLogger(__name__)

#: FCM's documented maximum for ``send_each``: at most 500 messages per call.
MAX_BATCH = 500
#: The error code of a message refused before sending because it is over FCM's size limit.
TOO_LARGE = "MESSAGE_TOO_LARGE"
#: firebase-admin's limit for one topic (un)subscription call.
MAX_TOPIC_BATCH = 1000


@dataclass(frozen=True, slots=True)
class TokenResult:
    """What happened to one device token."""

    token: str
    outcome: Outcome
    message_id: str | None = None
    error_code: str | None = None
    retry_after: float | None = None


@dataclass(frozen=True, slots=True)
class TopicResult:
    """What happened to one topic message."""

    topic: str
    outcome: Outcome
    message_id: str | None = None
    error_code: str | None = None
    retry_after: float | None = None


class Sender(Protocol):
    """Something that delivers push messages."""

    async def send(self, tokens: list[str], message: PushMessage) -> list[TokenResult]:
        """Send ``message`` to each token; one result per token, in order."""
        ...

    async def send_many(self, items: Sequence[tuple[str, PushMessage]]) -> list[TokenResult]:
        """Send each (token, message) pair, each message its own; one result per pair, in
        order."""
        ...

    async def send_topic(self, topic: str, message: PushMessage) -> TopicResult:
        """Send ``message`` to every subscriber of ``topic``."""
        ...

    async def subscribe(self, tokens: list[str], topic: str) -> list[TokenResult]:
        """Subscribe each token to ``topic``; one result per token, in order."""
        ...

    async def unsubscribe(self, tokens: list[str], topic: str) -> list[TokenResult]:
        """Unsubscribe each token from ``topic``; one result per token, in order."""
        ...

    async def aclose(self) -> None:
        """Release connections; call from inside the event loop."""
        ...


class LogSender:
    """Logs what it would send and reports success: for development and tests."""

    def __init__(self, logger_: logging.Logger | None = None) -> None:
        self._log = logger_ or logger
        self._ids = itertools.count(1)

    async def send(self, tokens: list[str], message: PushMessage) -> list[TokenResult]:
        message.check_size(topic=False)
        return await self.send_many([(token, message) for token in tokens])

    async def send_many(self, items: Sequence[tuple[str, PushMessage]]) -> list[TokenResult]:
        results = []
        for token, message in items:
            if message.payload_size() > TOKEN_PAYLOAD_LIMIT:
                results.append(TokenResult(token, "invalid", error_code=TOO_LARGE))
                continue
            message_id = f"log-{next(self._ids)}"
            self._log.info(
                "push %s to token %s: %s | %s | data=%s",
                message_id,
                token,
                message.title,
                message.body,
                message.fcm_data(),
            )
            results.append(TokenResult(token, "sent", message_id=message_id))
        return results

    async def send_topic(self, topic: str, message: PushMessage) -> TopicResult:
        message.check_size(topic=True)
        message_id = f"log-{next(self._ids)}"
        self._log.info(
            "push %s to topic %s: %s | %s | data=%s",
            message_id,
            topic,
            message.title,
            message.body,
            message.fcm_data(),
        )
        return TopicResult(topic, "sent", message_id=message_id)

    async def subscribe(self, tokens: list[str], topic: str) -> list[TokenResult]:
        self._log.info("subscribe %d token(s) to topic %s", len(tokens), topic)
        return [TokenResult(token, "sent") for token in tokens]

    async def unsubscribe(self, tokens: list[str], topic: str) -> list[TokenResult]:
        self._log.info("unsubscribe %d token(s) from topic %s", len(tokens), topic)
        return [TokenResult(token, "sent") for token in tokens]

    async def aclose(self) -> None:
        return None


def __getattr__(name: str) -> Any:
    if name in {"FirebaseSender", "StaticTokenCredentials", "error_code", "retry_after_of"}:
        from notifications import firebase

        return getattr(firebase, name)
    raise AttributeError(name)
