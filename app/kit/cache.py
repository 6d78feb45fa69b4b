"""A short-lived response cache for hot public reads: shared through Redis when REDIS_URL is set,
in this process otherwise. Entries live a few seconds, so every worker's view is at most that old;
nothing here is state another worker needs."""

from __future__ import annotations

import asyncio
import hashlib
import json
import time
from collections import OrderedDict
from typing import Any

import redis.asyncio as redis


class ResponseCache:
    def __init__(self, redis_url: str | None = None, max_entries: int = 2048) -> None:
        self._redis = redis.from_url(redis_url) if redis_url else None
        self._local: OrderedDict[str, tuple[float, bytes]] = OrderedDict()
        self._max = max_entries

    async def get(self, key: str) -> bytes | None:
        if self._redis is not None:
            value = await self._redis.get(f"citizenhub:cache:{key}")
            if value is None:
                return None
            return value if isinstance(value, bytes) else str(value).encode()
        found = self._local.get(key)
        if found is None:
            return None
        expires, value = found
        if expires < time.monotonic():
            self._local.pop(key, None)
            return None
        return value

    async def set(self, key: str, value: bytes, ttl_seconds: float) -> None:
        if self._redis is not None:
            await self._redis.set(f"citizenhub:cache:{key}", value, px=int(ttl_seconds * 1000))
            return
        self._local[key] = (time.monotonic() + ttl_seconds, value)
        self._local.move_to_end(key)
        while len(self._local) > self._max:
            self._local.popitem(last=False)

    async def close(self) -> None:
        if self._redis is not None:
            await self._redis.aclose()


class PublicCacheMiddleware:
    """Serves hot public GETs from the ResponseCache before routing, validation or the database:
    the endpoint fills the cache (`store_public`), this answers repeats and revalidations (304).
    Only anonymous requests (no Authorization header) are answered from the cache. Concurrent
    misses of one key in this process wait for the first instead of all querying at once."""

    def __init__(self, app: Any, cache: ResponseCache, paths: set[str]) -> None:
        self.app = app
        self.cache = cache
        # Exact paths, and "/prefix/*" for one more path segment (a record by its code).
        self.paths = {p for p in paths if not p.endswith("/*")}
        self.prefixes = tuple(p[:-1] for p in paths if p.endswith("/*"))
        self._inflight: dict[str, asyncio.Event] = {}

    def _covers(self, path: str) -> bool:
        if path in self.paths:
            return True
        return any(
            path.startswith(prefix) and "/" not in path[len(prefix) :] and len(path) > len(prefix)
            for prefix in self.prefixes
        )

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http" or scope["method"] != "GET" or not self._covers(scope["path"]):
            await self.app(scope, receive, send)
            return
        headers = dict(scope.get("headers") or [])
        if b"authorization" in headers:
            await self.app(scope, receive, send)
            return
        key = cache_key(scope)
        body = await self.cache.get(key)
        if body is None and key in self._inflight:
            await self._inflight[key].wait()
            body = await self.cache.get(key)
        if body is not None:
            await _send_cached(
                scope, send, body, headers.get(b"if-none-match", b"").decode("latin-1")
            )
            return
        event = self._inflight.setdefault(key, asyncio.Event())
        try:
            await self.app(scope, receive, send)
        finally:
            event.set()
            self._inflight.pop(key, None)


def cache_key(scope: Any) -> str:
    locale = (scope.get("state") or {}).get("locale", "vi")
    return f"{scope['path']}?{scope.get('query_string', b'').decode('latin-1')}|{locale}"


def etag_of(body: bytes) -> str:
    return '"' + hashlib.blake2b(body, digest_size=12).hexdigest() + '"'


def cached_headers(body: bytes, max_age: int, media_type: str) -> dict[str, str]:
    return {
        "ETag": etag_of(body),
        "Cache-Control": f"public, max-age={max_age}",
        "Vary": "Accept-Language",
        "Content-Type": media_type,
    }


def conditional_response(request: Any, body: bytes, headers: dict[str, str]) -> Any:
    """The body, or 304 without it when the client's If-None-Match holds its ETag."""
    from starlette.responses import Response

    if headers["ETag"] in request.headers.get("if-none-match", ""):
        return Response(
            status_code=304, headers={k: v for k, v in headers.items() if k != "Content-Type"}
        )
    return Response(body, headers=headers)


async def _send_cached(scope: Any, send: Any, stored: bytes, if_none_match: str) -> None:
    header_blob, _sep, body = stored.partition(b"\n\n")
    headers = json.loads(header_blob)
    status = 304 if headers["ETag"] in if_none_match else 200
    raw = [
        (k.lower().encode(), v.encode())
        for k, v in headers.items()
        if status == 200 or k != "Content-Type"
    ]
    if status == 200:
        raw.append((b"content-length", str(len(body)).encode()))
    await send({"type": "http.response.start", "status": status, "headers": raw})
    await send({"type": "http.response.body", "body": body if status == 200 else b""})


async def store_public(
    cache: ResponseCache, scope: Any, body: bytes, max_age: int, media_type: str
) -> dict[str, str]:
    """Cache a public answer (headers and body) for max_age seconds; returns its headers."""
    headers = cached_headers(body, max_age, media_type)
    await cache.set(cache_key(scope), json.dumps(headers).encode() + b"\n\n" + body, max_age)
    return headers


async def cached_public(request: Any, build: Any, max_age: int, media_type: str) -> Any:
    """Hot public reads: built here on a miss and cached for max_age seconds (shared through
    Redis when set); PublicCacheMiddleware answers the repeats, with an ETag so a phone that
    has the answer already gets 304 and no bytes. `build` is an async callable giving JSON."""
    body = json.dumps(await build(), ensure_ascii=False, separators=(",", ":")).encode()
    headers = await store_public(request.app.state.cache, request.scope, body, max_age, media_type)
    return conditional_response(request, body, headers)
