"""Access tokens (short-lived JWT) and opaque secrets (refresh tokens, browser sessions)."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import jwt

ALGORITHM = "HS256"
ISSUER = "citizen-hub"


@dataclass(frozen=True)
class AccessClaims:
    user_id: int
    session_id: int
    role: str


def make_access_token(secret: str, claims: AccessClaims, lifetime: timedelta) -> str:
    now = datetime.now(UTC)
    payload = {
        "iss": ISSUER,
        "sub": str(claims.user_id),
        "sid": claims.session_id,
        "role": claims.role,
        "typ": "access",
        "iat": now,
        "exp": now + lifetime,
        "jti": secrets.token_hex(8),
    }
    return jwt.encode(payload, secret, algorithm=ALGORITHM)


def read_access_token(secret: str, token: str) -> AccessClaims | None:
    """None for anything expired, tampered with, or not an access token of ours."""
    try:
        payload = jwt.decode(
            token,
            secret,
            algorithms=[ALGORITHM],
            issuer=ISSUER,
            options={"require": ["exp", "iat", "sub", "sid", "iss"]},
        )
    except jwt.PyJWTError:
        return None
    if payload.get("typ") != "access":
        return None
    try:
        return AccessClaims(int(payload["sub"]), int(payload["sid"]), str(payload["role"]))
    except (TypeError, ValueError):
        return None


def new_secret() -> str:
    return secrets.token_urlsafe(32)


def hash_secret(secret: str) -> str:
    # The secrets are 256 random bits: a fast hash is right (no dictionary to guess from).
    return hashlib.sha256(secret.encode()).hexdigest()
