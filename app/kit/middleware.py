"""Pure ASGI middleware: request context and logs, client address, security headers, body limit,
language, and the per-IP rate limit. Pure ASGI (not BaseHTTPMiddleware) so streaming and
context variables behave."""

from __future__ import annotations

import ipaddress
import logging
import re
import secrets
import time
from collections.abc import Sequence
from http.cookies import SimpleCookie
from typing import Any
from urllib.parse import parse_qs

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.config import Settings
from app.errors import PayloadTooLarge, TooManyRequests, render_app_error
from app.kit import i18n
from app.kit.context import request_id_var
from app.kit.ratelimit import Limiter, per_minute

access_log = logging.getLogger("citizenhub.access")
_REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{8,64}$")
_SAFE_METHODS = {"GET", "HEAD", "OPTIONS"}
_UNLIMITED_PREFIXES = ("/healthz", "/readyz", "/static/")


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope.get("headers", []):
        if key == name:
            return str(value.decode("latin-1"))
    return None


class RequestContextMiddleware:
    """Gives each request an id (kept from a well-formed X-Request-ID), logs one line per request."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        incoming = _header(scope, b"x-request-id")
        request_id = incoming if incoming and _REQUEST_ID.match(incoming) else secrets.token_hex(8)
        # Not reset afterwards: Starlette's outermost error handler must still see it for a 500.
        request_id_var.set(request_id)
        scope.setdefault("state", {})["request_id"] = request_id
        started = time.perf_counter()
        status = 500

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                MutableHeaders(scope=message)["X-Request-ID"] = request_id
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            path = scope.get("path", "")
            if not path.startswith("/static/") and access_log.isEnabledFor(logging.INFO):
                client = scope.get("client")
                access_log.info(
                    "request",
                    extra={
                        "method": scope.get("method"),
                        "path": path,
                        "status": status,
                        "duration_ms": round((time.perf_counter() - started) * 1000, 2),
                        "client": client[0] if client else None,
                    },
                )


class ClientAddressMiddleware:
    """Believes X-Forwarded-For / X-Forwarded-Proto only when the peer is a configured proxy."""

    def __init__(
        self, app: ASGIApp, trusted: Sequence[ipaddress.IPv4Network | ipaddress.IPv6Network]
    ):
        self.app = app
        self.trusted = list(trusted)

    def _is_trusted(self, address: str) -> bool:
        try:
            ip = ipaddress.ip_address(address)
        except ValueError:
            return False
        return any(ip in network for network in self.trusted)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and self.trusted:
            client = scope.get("client")
            if client and self._is_trusted(client[0]):
                forwarded = _header(scope, b"x-forwarded-for")
                if forwarded:
                    hops = [h.strip() for h in forwarded.split(",") if h.strip()]
                    # Walk from the nearest hop; the first address we do not trust is the client.
                    real = client[0]
                    for hop in reversed(hops):
                        real = hop
                        if not self._is_trusted(hop):
                            break
                    scope["client"] = (real, 0)
                proto = _header(scope, b"x-forwarded-proto")
                if proto in ("http", "https"):
                    scope["scheme"] = proto
        await self.app(scope, receive, send)


CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; "
    "font-src 'self'; connect-src 'self'; manifest-src 'self'; worker-src 'self'; "
    "object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'"
)


class SecurityHeadersMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        https = scope.get("scheme") == "https"

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                headers.setdefault("Content-Security-Policy", CSP)
                headers.setdefault("X-Content-Type-Options", "nosniff")
                headers.setdefault("Referrer-Policy", "strict-origin-when-cross-origin")
                headers.setdefault("X-Frame-Options", "DENY")
                headers.setdefault("Cross-Origin-Opener-Policy", "same-origin")
                headers.setdefault(
                    "Permissions-Policy", "camera=(self), geolocation=(self), microphone=()"
                )
                if https:
                    headers.setdefault("Strict-Transport-Security", "max-age=63072000")
            await send(message)

        await self.app(scope, receive, send_with_headers)


class BodyLimitMiddleware:
    """Answers 413 before buffering: on Content-Length at once, on chunked bodies as they stream."""

    def __init__(self, app: ASGIApp, max_body: int, max_upload: int) -> None:
        self.app = app
        self.max_body = max_body
        self.max_upload = max_upload

    def limit_for(self, scope: Scope) -> int:
        content_type = _header(scope, b"content-type") or ""
        return self.max_upload if content_type.startswith("multipart/") else self.max_body

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope.get("method") in _SAFE_METHODS:
            await self.app(scope, receive, send)
            return
        limit = self.limit_for(scope)
        declared = _header(scope, b"content-length")
        if declared is not None:
            try:
                too_big = int(declared) > limit
            except ValueError:
                too_big = True
            if too_big:
                await self._refuse(scope, receive, send, limit)
                return
        received = 0
        refused = False
        response_started = False

        async def counting_receive() -> Message:
            nonlocal received, refused
            message = await receive()
            if message["type"] == "http.request" and not refused:
                received += len(message.get("body", b""))
                if received > limit:
                    # Answer now; the application sees a disconnect and its answer is dropped.
                    refused = True
                    if not response_started:
                        await self._refuse(scope, receive, send, limit)
                    return {"type": "http.disconnect"}
            return message

        async def guarded_send(message: Message) -> None:
            nonlocal response_started
            if refused:
                return
            if message["type"] == "http.response.start":
                response_started = True
            await send(message)

        try:
            await self.app(scope, counting_receive, guarded_send)
        except Exception:
            if not refused:
                raise

    async def _refuse(self, scope: Scope, receive: Receive, send: Send, limit: int) -> None:
        detail = i18n.gettext("The limit is %(size)s bytes.", size=i18n.format_number(limit))
        response = render_app_error(scope, PayloadTooLarge(detail, limit_bytes=limit))
        response.headers["Connection"] = "close"
        await response(scope, receive, send)


class LocaleMiddleware:
    """?lang=, then the cookie, then Accept-Language; remembers an explicit ?lang= in a cookie."""

    def __init__(self, app: ASGIApp, default: str) -> None:
        self.app = app
        self.default = default

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        query = parse_qs(scope.get("query_string", b"").decode("latin-1"))
        query_lang = (query.get("lang") or [None])[0]
        cookie_lang = None
        raw_cookie = _header(scope, b"cookie")
        if raw_cookie:
            jar: SimpleCookie = SimpleCookie()
            try:
                jar.load(raw_cookie)
            except Exception:
                jar = SimpleCookie()
            if i18n.LOCALE_COOKIE in jar:
                cookie_lang = jar[i18n.LOCALE_COOKIE].value
        locale = i18n.negotiate(
            query_lang, cookie_lang, _header(scope, b"accept-language"), self.default
        )
        i18n.set_locale(locale)
        scope.setdefault("state", {})["locale"] = locale
        remember = query_lang is not None and query_lang[:2] == locale and cookie_lang != locale

        async def send_with_language(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                headers.setdefault("Content-Language", locale)
                vary = headers.get("Vary")
                if vary is None or "accept-language" not in vary.lower():
                    headers["Vary"] = f"{vary}, Accept-Language" if vary else "Accept-Language"
                if remember:
                    headers.append(
                        "Set-Cookie",
                        f"{i18n.LOCALE_COOKIE}={locale}; Path=/; Max-Age=31536000; SameSite=Lax",
                    )
            await send(message)

        await self.app(scope, receive, send_with_language)


class RateLimitMiddleware:
    """Per client IP: a generous limit for reads, a tighter one for writes. 429 with Retry-After."""

    def __init__(self, app: ASGIApp, limiter: Limiter, settings: Settings) -> None:
        self.app = app
        self.limiter = limiter
        self.read_limit = per_minute(settings.rate_limit_read_per_minute)
        self.write_limit = per_minute(settings.rate_limit_write_per_minute)
        self.enabled: dict[str, bool] = {
            "read": settings.rate_limit_read_per_minute > 0,
            "write": settings.rate_limit_write_per_minute > 0,
        }

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope.get("path", "").startswith(_UNLIMITED_PREFIXES):
            await self.app(scope, receive, send)
            return
        kind = "read" if scope.get("method") in _SAFE_METHODS else "write"
        if self.enabled[kind]:
            client: Any = scope.get("client")
            address = client[0] if client else "unknown"
            item = self.read_limit if kind == "read" else self.write_limit
            decision = await self.limiter.hit(item, "ip", kind, address)
            if not decision.allowed:
                response = render_app_error(scope, TooManyRequests(decision.retry_after))
                await response(scope, receive, send)
                return
        await self.app(scope, receive, send)
