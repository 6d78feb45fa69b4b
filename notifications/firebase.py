"""The Firebase sender: :class:`FirebaseSender` sends through the firebase-admin SDK's
async path (``messaging.send_each_async``; the sync ``send_each`` sleeps on 429 and blocks).

firebase-admin 7.7 has no endpoint or transport setting, so :class:`FirebaseSender` reaches into
private attributes of the messaging service (pinned by ``firebase-admin==7.7.*``; checked at
start-up, so an upgrade that moves them fails loudly rather than sending elsewhere):

* ``_MessagingService._fcm_url`` and ``_fcm_topic_url`` (topic subscriptions) are replaced when
  ``endpoint_url`` is given;
* every ``HttpxRetryTransport`` in ``_async_client._mounts`` gets a no-retry ``_retry`` (the SDK
  would otherwise retry 500/503 up to 4 times with real sleeps, hiding failures from our
  :class:`~notifications.policy.RetryPolicy` and inflating request counts), and the
  ``transport`` given (tests: ``httpx.ASGITransport(app=FakeFcm())``) as its
  ``_wrapped_transport``; the ``httpx.AsyncClient``'s ``auth`` (public httpx API) becomes
  :class:`CredentialAuth`, the SDK's flow without a new ``requests.Session`` per request;
* without a ``transport`` (production, staging, the bench), the ``httpx.AsyncClient`` inside the
  SDK's ``HttpxAsyncClient`` (``_async_client._async_client``) is replaced by
  :class:`~notifications.aiohttp_transport.AiohttpClient`, which does the same requests over
  aiohttp at a seventh of the CPU per message.

On HTTP 401 the auth flow refreshes the credential and re-sends the request up to twice, as the
SDK's does, so a THIRD_PARTY_AUTH_ERROR costs three requests.
"""

from __future__ import annotations

import asyncio
import re
import time
import uuid
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import firebase_admin
import httpx
from firebase_admin import credentials as fb_credentials
from firebase_admin import exceptions as fb_exceptions
from firebase_admin import messaging
from firebase_admin._retry import HttpxRetry, HttpxRetryTransport
from google.auth import credentials as google_credentials

from notifications.errors import classify
from notifications.message import TOKEN_PAYLOAD_LIMIT, PushMessage
from notifications.policy import parse_retry_after
from notifications.senders import MAX_BATCH, MAX_TOPIC_BATCH, TOO_LARGE, TokenResult, TopicResult


class StaticTokenCredentials(google_credentials.Credentials):
    """A Google credential holding a fixed access token; refreshing never calls Google."""

    def __init__(self, token: str) -> None:
        super().__init__()
        self._static_token = token
        self.token = token

    def refresh(self, request: Any) -> None:
        self.token = self._static_token


class _WrappedCredential(fb_credentials.Base):
    """Adapts a Google credential to what ``firebase_admin.initialize_app`` accepts."""

    def __init__(self, credential: google_credentials.Credentials) -> None:
        self._credential = credential

    def get_credential(self) -> google_credentials.Credentials:
        return self._credential


# The FCM-specific firebase-admin exceptions, and the errorCode each stands for. Checked in
# order: ThirdPartyAuthError also covers APNS_AUTH_ERROR.
_FCM_EXCEPTIONS: tuple[tuple[type[Exception], str], ...] = (
    (messaging.UnregisteredError, "UNREGISTERED"),
    (messaging.SenderIdMismatchError, "SENDER_ID_MISMATCH"),
    (messaging.QuotaExceededError, "QUOTA_EXCEEDED"),
    (messaging.ThirdPartyAuthError, "THIRD_PARTY_AUTH_ERROR"),
)

_WEBPUSH_TOPIC = re.compile(r"^[A-Za-z0-9_-]{1,32}$")


def error_code(exc: BaseException) -> str:
    """The FCM errorCode (or canonical status) a firebase-admin exception stands for."""
    for exc_type, code in _FCM_EXCEPTIONS:
        if isinstance(exc, exc_type):
            return code
    if isinstance(exc, fb_exceptions.FirebaseError):
        return str(exc.code)
    return "UNKNOWN"


def retry_after_of(exc: BaseException) -> float | None:
    """The Retry-After of the HTTP response behind ``exc``, in seconds, if any."""
    response = getattr(exc, "http_response", None)
    headers = getattr(response, "headers", None)
    if headers is None:
        return None
    return parse_retry_after(headers.get("Retry-After"))


class FirebaseSender:
    """Sends through Firebase Cloud Messaging with the firebase-admin SDK (async path).

    Give exactly one of ``credentials_file`` (a service-account JSON) or ``credential`` (a Google
    credential, e.g. :class:`StaticTokenCredentials`). ``endpoint_url`` replaces the FCM origin
    (``https://fcm.googleapis.com``), e.g. a fake FCM on a local socket; ``transport`` replaces
    the HTTP transport (tests pass ``httpx.ASGITransport(app=FakeFcm())``). Each sender owns a
    uniquely named Firebase app; close it with :meth:`aclose` inside the loop.
    """

    def __init__(
        self,
        project_id: str,
        *,
        credentials_file: str | Path | None = None,
        credential: google_credentials.Credentials | None = None,
        endpoint_url: str | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
        timeout: float = 30.0,
        app_name: str | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        if (credentials_file is None) == (credential is None):
            raise ValueError("give exactly one of credentials_file or credential")
        cred: fb_credentials.Base
        if credential is not None:
            cred = _WrappedCredential(credential)
        else:
            cred = fb_credentials.Certificate(str(credentials_file))
        self.project_id = project_id
        self._clock = clock
        self._app = firebase_admin.initialize_app(
            cred,
            {"projectId": project_id, "httpTimeout": timeout},
            name=app_name or f"citizen-hub-push-{uuid.uuid4().hex}",
        )
        try:
            self._service = messaging._get_messaging_service(self._app)
            _adjust_service(self._service, project_id, endpoint_url, transport)
            if transport is None:
                from notifications.aiohttp_transport import AiohttpClient

                wrapper = self._service._async_client
                wrapper._async_client = AiohttpClient(
                    self._service._credential, wrapper._headers, timeout=timeout
                )
        except BaseException:
            firebase_admin.delete_app(self._app)
            raise

    @property
    def app(self) -> firebase_admin.App:
        """The Firebase app this sender owns."""
        return self._app

    async def send(self, tokens: list[str], message: PushMessage) -> list[TokenResult]:
        """Send to each token in batches of at most 500 ``send_each_async`` calls' worth."""
        message.check_size(topic=False)
        return await self.send_many([(token, message) for token in tokens])

    async def send_many(self, items: Sequence[tuple[str, PushMessage]]) -> list[TokenResult]:
        """Each (token, message) pair, in ``send_each_async`` batches of at most 500. A message
        over FCM's size limit is not sent: its result is ``invalid`` (MESSAGE_TOO_LARGE)."""
        results: dict[int, TokenResult] = {}
        sendable: list[tuple[int, str, PushMessage]] = []
        for index, (token, message) in enumerate(items):
            if message.payload_size() > TOKEN_PAYLOAD_LIMIT:
                results[index] = TokenResult(token, "invalid", error_code=TOO_LARGE)
            else:
                sendable.append((index, token, message))
        for start in range(0, len(sendable), MAX_BATCH):
            batch = sendable[start : start + MAX_BATCH]
            fcm_messages = [self.build(message, token=token) for _i, token, message in batch]
            response = await messaging.send_each_async(fcm_messages, dry_run=False, app=self._app)
            for (index, token, _message), item in zip(batch, response.responses, strict=True):
                results[index] = _token_result(token, item)
        return [results[index] for index in range(len(items))]

    async def subscribe(self, tokens: list[str], topic: str) -> list[TokenResult]:
        """FCM's registrations API, at most 1,000 tokens a call (the SDK's limit)."""
        return await self._manage_topic(tokens, topic, messaging.subscribe_to_topic_async)

    async def unsubscribe(self, tokens: list[str], topic: str) -> list[TokenResult]:
        return await self._manage_topic(tokens, topic, messaging.unsubscribe_from_topic_async)

    async def _manage_topic(
        self, tokens: list[str], topic: str, call: Callable[..., Any]
    ) -> list[TokenResult]:
        results: list[TokenResult] = []
        for start in range(0, len(tokens), MAX_TOPIC_BATCH):
            batch = tokens[start : start + MAX_TOPIC_BATCH]
            response = await call(batch, topic, app=self._app)
            errors = {error.index: error.reason for error in response.errors}
            for index, token in enumerate(batch):
                code = errors.get(index)
                results.append(TokenResult(token, classify(code), error_code=code))
        return results

    async def send_topic(self, topic: str, message: PushMessage) -> TopicResult:
        """Send one message to a topic (``send_each_async`` with one message: firebase-admin 7.7
        has no ``send_async``)."""
        message.check_size(topic=True)
        fcm_message = self.build(message, topic=topic)
        response = await messaging.send_each_async([fcm_message], dry_run=False, app=self._app)
        item = response.responses[0]
        if item.success:
            return TopicResult(topic, "sent", message_id=item.message_id)
        code = error_code(item.exception)
        return TopicResult(
            topic, classify(code), error_code=code, retry_after=retry_after_of(item.exception)
        )

    async def aclose(self) -> None:
        """Close the HTTP client here in the loop, then delete the app off the loop:
        ``firebase_admin.delete_app`` calls ``asyncio.run`` and must not run inside a loop."""
        await self._service._async_client.aclose()
        await asyncio.to_thread(firebase_admin.delete_app, self._app)

    def build(
        self, message: PushMessage, *, token: str | None = None, topic: str | None = None
    ) -> messaging.Message:
        """The firebase-admin message for one token or topic."""
        high = message.priority == "high"
        ttl = message.ttl_seconds
        apns_headers = {"apns-priority": "10" if high else "5"}
        webpush_headers = {"Urgency": "high" if high else "normal"}
        if ttl is not None:
            apns_headers["apns-expiration"] = str(int(self._clock()) + ttl)
            webpush_headers["TTL"] = str(ttl)
        if message.collapse_key:
            apns_headers["apns-collapse-id"] = message.collapse_key[:64]
            if _WEBPUSH_TOPIC.match(message.collapse_key):
                webpush_headers["Topic"] = message.collapse_key
        link = message.link if message.link and message.link.startswith("https://") else None
        built = self._message(message, topic, apns_headers, webpush_headers, link)
        # firebase-admin 7.7 deprecates ``Message(token=...)`` in favour of ``fid`` (Firebase
        # installation IDs) and warns in the constructor. Our devices register FCM registration
        # tokens, which FCM v1 still takes as ``token`` and the SDK still encodes; setting the
        # attribute afterwards skips a warning per message (a catch_warnings block per message
        # cost more than encoding it). Revisit when the clients move to installation IDs.
        built.token = token
        return built

    @staticmethod
    def _message(
        message: PushMessage,
        topic: str | None,
        apns_headers: dict[str, str],
        webpush_headers: dict[str, str],
        link: str | None,
    ) -> messaging.Message:
        return messaging.Message(
            topic=topic,
            notification=messaging.Notification(title=message.title, body=message.body),
            data=message.fcm_data(),
            android=messaging.AndroidConfig(
                priority=message.priority,
                ttl=message.ttl_seconds,
                collapse_key=message.collapse_key,
            ),
            apns=messaging.APNSConfig(headers=apns_headers),
            webpush=messaging.WebpushConfig(
                headers=webpush_headers,
                fcm_options=messaging.WebpushFCMOptions(link=link) if link else None,
            ),
        )


def _token_result(token: str, item: Any) -> TokenResult:
    if item.success:
        return TokenResult(token, "sent", message_id=item.message_id)
    code = error_code(item.exception)
    return TokenResult(
        token, classify(code), error_code=code, retry_after=retry_after_of(item.exception)
    )


def _adjust_service(
    service: Any,
    project_id: str,
    endpoint_url: str | None,
    transport: httpx.AsyncBaseTransport | None,
) -> None:
    """Point the messaging service at ``endpoint_url``/``transport`` and turn off SDK retries.

    Pin-sensitive (firebase-admin 7.7 private attributes); see the module docstring.
    """
    mounts: Sequence[Any] = list(getattr(service._async_client, "_mounts", {}).values())
    if not hasattr(service, "_fcm_url") or not hasattr(service, "_fcm_topic_url") or not mounts:
        raise RuntimeError("firebase-admin internals changed: cannot configure FCM sender")
    client = getattr(service._async_client, "_async_client", None)
    credential = getattr(service, "_credential", None)
    if not isinstance(client, httpx.AsyncClient) or credential is None:
        raise RuntimeError("firebase-admin internals changed: cannot configure FCM sender")
    for mount in mounts:
        if not isinstance(mount, HttpxRetryTransport) or not hasattr(mount, "_wrapped_transport"):
            raise RuntimeError("firebase-admin internals changed: unexpected transport")
        mount._retry = _NoRetry(max_retries=0)
        if transport is not None:
            mount._wrapped_transport = transport
    client.auth = CredentialAuth(credential)
    if endpoint_url is not None:
        base = f"{endpoint_url.rstrip('/')}/v1/projects/{project_id}"
        service._fcm_url = f"{base}/messages:send"
        service._fcm_topic_url = f"{base}/registrations"


class _NoRetry(HttpxRetry):
    """No SDK-level retries (RetryPolicy decides), and no deep copy of the configuration per
    request as the SDK's transport makes."""

    def copy(self) -> HttpxRetry:
        return _NoRetry(max_retries=0)


class CredentialAuth(httpx.Auth):
    """Google credential headers for each request, as firebase-admin's own auth flow adds them,
    but with one token-refresh transport for the sender's life instead of a new
    ``requests.Session`` per request (which costs more CPU than the rest of the request).
    A 401 refreshes the token and tries again, at most twice, as the SDK does."""

    def __init__(self, credential: google_credentials.Credentials) -> None:
        from google.auth.transport.requests import Request

        self._credential = credential
        self._auth_request = Request()

    def auth_flow(self, request: httpx.Request) -> Any:
        original = request.headers.copy()
        for attempt in range(3):
            request.headers = original.copy()
            self._credential.before_request(
                self._auth_request, request.method, str(request.url), request.headers
            )
            response = yield request
            if response.status_code != 401 or attempt == 2:
                return
            self._credential.refresh(self._auth_request)
