"""A fake FCM HTTP v1 endpoint, as an ASGI app, for tests and local development.

It answers ``POST /v1/projects/{project}/messages:send`` the way FCM does: ``{"name":
"projects/<p>/messages/<id>"}`` on success, FCM's error JSON (with the ``FcmError`` detail) on
failure; and FCM's topic registrations API (``POST|DELETE
/v1/projects/{project}/registrations/{token}/topicSubscriptions[/{topic}]``), keeping who follows
which topic in :attr:`FakeFcm.topics`. What fails is scripted: per token by prefix rules, and by a queue of forced failures
(:meth:`FakeFcm.fail_next`) that applies to the next requests whatever their target. Every
accepted message is recorded in :attr:`FakeFcm.accepted`; every request in
:attr:`FakeFcm.requests`.
"""

from __future__ import annotations

import itertools
import json
from collections import deque
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route
from starlette.types import Receive, Scope, Send

#: errorCode -> (HTTP status, canonical status), as FCM answers.
ERRORS: dict[str, tuple[int, str]] = {
    "UNREGISTERED": (404, "NOT_FOUND"),
    "INVALID_ARGUMENT": (400, "INVALID_ARGUMENT"),
    "QUOTA_EXCEEDED": (429, "RESOURCE_EXHAUSTED"),
    "UNAVAILABLE": (503, "UNAVAILABLE"),
    "INTERNAL": (500, "INTERNAL"),
    "SENDER_ID_MISMATCH": (403, "PERMISSION_DENIED"),
    "THIRD_PARTY_AUTH_ERROR": (401, "UNAUTHENTICATED"),
}

#: Default per-token rules: tokens starting with the prefix fail with the code.
DEFAULT_RULES: dict[str, str] = {
    "dead-": "UNREGISTERED",
    "bad-": "INVALID_ARGUMENT",
    "quota-": "QUOTA_EXCEEDED",
    "down-": "UNAVAILABLE",
    "boom-": "INTERNAL",
    "alien-": "SENDER_ID_MISMATCH",
    "apns-": "THIRD_PARTY_AUTH_ERROR",
}


@dataclass(frozen=True, slots=True)
class Accepted:
    """One message FCM accepted: its target and the ``message`` object as posted."""

    project: str
    message_id: str
    token: str | None
    topic: str | None
    message: dict[str, Any]


@dataclass
class FakeFcm:
    """The fake; an instance is an ASGI app (pass it to ``httpx.ASGITransport(app=...)``)."""

    rules: dict[str, str] = field(default_factory=lambda: dict(DEFAULT_RULES))
    retry_after: int = 30
    accepted: list[Accepted] = field(default_factory=list)
    requests: list[dict[str, Any]] = field(default_factory=list)
    topics: dict[str, set[str]] = field(default_factory=dict)
    #: Keep every accepted message (tests); a benchmark turns it off to measure the server alone.
    record: bool = True

    def __post_init__(self) -> None:
        self._queue: deque[str] = deque()
        self._ids = itertools.count(1)
        self.accepted_count = 0
        registrations = "/v1/projects/{project}/registrations/{token}/topicSubscriptions"
        self._app = Starlette(
            routes=[
                Route("/v1/projects/{project}/messages:send", self._send, methods=["POST"]),
                Route(registrations, self._subscribe, methods=["POST"]),
                Route(registrations + "/{topic}", self._unsubscribe, methods=["DELETE"]),
                Route("/token", self._token, methods=["POST"]),
            ]
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await self._app(scope, receive, send)

    def fail_next(self, n: int, code: str) -> None:
        """Make the next ``n`` requests fail with ``code`` (an FCM errorCode), whatever the
        target."""
        if code not in ERRORS:
            raise ValueError(f"unknown FCM error code {code!r}")
        self._queue.extend([code] * n)

    def accepted_tokens(self) -> list[str]:
        """The tokens of accepted messages, in order of acceptance."""
        return [a.token for a in self.accepted if a.token is not None]

    def error(self, code: str, message: str = "") -> JSONResponse:
        """FCM's error response for ``code``."""
        status, canonical = ERRORS[code]
        body = {
            "error": {
                "code": status,
                "message": message or f"fake FCM: {code}",
                "status": canonical,
                "details": [
                    {
                        "@type": "type.googleapis.com/google.firebase.fcm.v1.FcmError",
                        "errorCode": code,
                    }
                ],
            }
        }
        headers = {"Retry-After": str(self.retry_after)} if code == "QUOTA_EXCEEDED" else None
        return JSONResponse(body, status_code=status, headers=headers)

    def members(self, topic: str) -> set[str]:
        """The tokens subscribed to ``topic``."""
        return set(self.topics.get(topic, ()))

    def _refusal(self, request: Request, token: str | None) -> JSONResponse | None:
        if not request.headers.get("authorization", "").startswith("Bearer "):
            return JSONResponse(
                {"error": {"code": 401, "message": "no credentials", "status": "UNAUTHENTICATED"}},
                status_code=401,
            )
        if self._queue:
            return self.error(self._queue.popleft())
        code = self._rule_for(token)
        return self.error(code) if code is not None else None

    async def _subscribe(self, request: Request) -> JSONResponse:
        token = request.path_params["token"]
        topic = request.query_params.get("topic_name", "")
        refusal = self._refusal(request, token)
        if refusal is not None:
            return refusal
        if not topic:
            return self.error("INVALID_ARGUMENT", "topic_name required")
        self.topics.setdefault(topic, set()).add(token)
        return JSONResponse({})

    async def _unsubscribe(self, request: Request) -> JSONResponse:
        token = request.path_params["token"]
        refusal = self._refusal(request, token)
        if refusal is not None:
            return refusal
        self.topics.get(request.path_params["topic"], set()).discard(token)
        return JSONResponse({})

    async def _token(self, request: Request) -> JSONResponse:
        """OAuth2 token endpoint for a service-account file whose ``token_uri`` points here
        (see :func:`write_service_account`): any signed assertion gets a bearer token."""
        form = await request.form()
        if form.get("grant_type") != "urn:ietf:params:oauth:grant-type:jwt-bearer":
            return JSONResponse({"error": "unsupported_grant_type"}, status_code=400)
        return JSONResponse(
            {"access_token": "fake-fcm-access-token", "expires_in": 3600, "token_type": "Bearer"}
        )

    def _rule_for(self, token: str | None) -> str | None:
        if token is None:
            return None
        for prefix, code in self.rules.items():
            if token.startswith(prefix):
                return code
        return None

    async def _send(self, request: Request) -> JSONResponse:
        project = request.path_params["project"]
        if not request.headers.get("authorization", "").startswith("Bearer "):
            return JSONResponse(
                {"error": {"code": 401, "message": "no credentials", "status": "UNAUTHENTICATED"}},
                status_code=401,
            )
        try:
            payload = json.loads(await request.body())
            message = payload["message"]
        except (ValueError, KeyError, TypeError):
            return self.error("INVALID_ARGUMENT", "malformed request")
        if self.record:
            self.requests.append(payload)
        token = message.get("token") or message.get("fid")
        topic = message.get("topic")
        if sum(message.get(k) is not None for k in ("token", "fid", "topic", "condition")) != 1:
            return self.error("INVALID_ARGUMENT", "exactly one target required")
        if self._queue:
            return self.error(self._queue.popleft())
        code = self._rule_for(token)
        if code is not None:
            return self.error(code)
        message_id = f"fake-{next(self._ids)}"
        if not payload.get("validate_only"):
            self.accepted_count += 1
            if self.record:
                self.accepted.append(Accepted(project, message_id, token, topic, message))
        return JSONResponse({"name": f"projects/{project}/messages/{message_id}"})


def write_service_account(path: str | Path, *, project_id: str, token_uri: str) -> Path:
    """A service-account JSON with a fresh RSA key whose ``token_uri`` is the fake's, so
    firebase-admin, configured exactly as in production, never calls Google."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(
        json.dumps(
            {
                "type": "service_account",
                "project_id": project_id,
                "private_key_id": "fake-key",
                "private_key": pem,
                "client_email": f"push@{project_id}.iam.gserviceaccount.com",
                "client_id": "1",
                "token_uri": token_uri,
            }
        )
    )
    target.chmod(0o600)
    return target
