"""FCM error codes and what a sender should do about each.

The FCM HTTP v1 API reports an ``errorCode`` in the error details; transport and auth failures
surface as canonical Google error statuses. :func:`classify` turns either into an outcome.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Literal

Outcome = Literal["sent", "retry", "dead", "invalid", "misconfigured"]


class FcmErrorCode(StrEnum):
    """The ``errorCode`` values FCM HTTP v1 documents."""

    UNSPECIFIED_ERROR = "UNSPECIFIED_ERROR"
    INVALID_ARGUMENT = "INVALID_ARGUMENT"
    UNREGISTERED = "UNREGISTERED"
    SENDER_ID_MISMATCH = "SENDER_ID_MISMATCH"
    QUOTA_EXCEEDED = "QUOTA_EXCEEDED"
    UNAVAILABLE = "UNAVAILABLE"
    INTERNAL = "INTERNAL"
    THIRD_PARTY_AUTH_ERROR = "THIRD_PARTY_AUTH_ERROR"


#: Transient: try again later, with backoff (and after Retry-After when given).
RETRYABLE = frozenset({"UNAVAILABLE", "INTERNAL", "QUOTA_EXCEEDED", "DEADLINE_EXCEEDED", "UNKNOWN"})
#: The request itself is wrong; sending it again would fail again.
PERMANENT = frozenset(
    {"INVALID_ARGUMENT", "FAILED_PRECONDITION", "OUT_OF_RANGE", "MESSAGE_TOO_LARGE"}
)
#: The token is gone (app uninstalled, token rotated) or belongs to another sender: delete it.
DEAD_TOKEN = frozenset({"UNREGISTERED", "SENDER_ID_MISMATCH"})
#: The channel is misconfigured (APNs/web push credentials, our own service account): stop
#: sending on it until an operator fixes it.
MISCONFIGURED = frozenset(
    {"THIRD_PARTY_AUTH_ERROR", "APNS_AUTH_ERROR", "UNAUTHENTICATED", "PERMISSION_DENIED"}
)


def classify(code: str | None) -> Outcome:
    """The outcome for an FCM error code (or canonical status); ``None`` means success.

    Unknown codes are treated as transient: the retry policy's attempt limit bounds them.
    """
    if code is None:
        return "sent"
    if code in DEAD_TOKEN:
        return "dead"
    if code in PERMANENT:
        return "invalid"
    if code in MISCONFIGURED:
        return "misconfigured"
    return "retry"
