"""CSRF protection for server-rendered forms: a signed double-submit token.

An HttpOnly random cookie seeds the token; every form carries HMAC(secret, seed) in a hidden field.
A cross-site page can neither read the cookie nor compute the HMAC.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets

from fastapi import Request

from app.errors import CsrfFailed

CSRF_COOKIE = "ch_csrf"
CSRF_FIELD = "csrf_token"


def _sign(secret: str, seed: str) -> str:
    return hmac.new(secret.encode(), f"csrf:{seed}".encode(), hashlib.sha256).hexdigest()


def csrf_seed(request: Request) -> str:
    seed = getattr(request.state, "csrf_seed", None) or request.cookies.get(CSRF_COOKIE)
    if not seed or len(seed) < 20:
        seed = secrets.token_urlsafe(24)
        request.state.new_csrf_seed = seed
    request.state.csrf_seed = seed
    return seed


def csrf_token(request: Request) -> str:
    return _sign(request.app.state.settings.secret_key, csrf_seed(request))


async def verify_csrf(request: Request) -> None:
    """Dependency for every page route that changes something."""
    if request.method in ("GET", "HEAD", "OPTIONS"):
        return
    seed = request.cookies.get(CSRF_COOKIE)
    form = await request.form()
    sent = form.get(CSRF_FIELD)
    if not seed or not isinstance(sent, str):
        raise CsrfFailed()
    expected = _sign(request.app.state.settings.secret_key, seed)
    if not hmac.compare_digest(sent, expected):
        raise CsrfFailed()
