"""Password hashing (argon2id) and the password policy (NIST 800-63B style: length and a
blocklist of common passwords, no composition rules, paste allowed)."""

from __future__ import annotations

import gzip
from functools import cache
from pathlib import Path

from anyio import CapacityLimiter, to_thread
from argon2 import PasswordHasher, Type
from argon2.exceptions import InvalidHashError, VerificationError

from app.kit.i18n import lazy_gettext

MIN_LENGTH = 8
MAX_LENGTH = 256
# 19,600 common passwords (Django's list, after Royce Williams) plus Vietnamese favourites.
_COMMON_FILE = Path(__file__).with_name("common-passwords.txt.gz")

TOO_SHORT = lazy_gettext("Use at least 8 characters.")
TOO_LONG = lazy_gettext("Use at most 256 characters.")
TOO_COMMON = lazy_gettext("This password is too common. Choose one that is harder to guess.")
LIKE_ACCOUNT = lazy_gettext("The password must not be your e-mail address or phone number.")


@cache
def _common_passwords() -> frozenset[str]:
    with gzip.open(_COMMON_FILE, "rt", encoding="utf-8") as handle:
        return frozenset(line.strip() for line in handle if line.strip())


def policy_problems(password: str, identifiers: list[str | None]) -> list[str]:
    problems: list[str] = []
    if len(password) < MIN_LENGTH:
        problems.append(str(TOO_SHORT))
    elif len(password) > MAX_LENGTH:
        problems.append(str(TOO_LONG))
    lowered = password.strip().lower()
    if lowered in _common_passwords():
        problems.append(str(TOO_COMMON))
    for identifier in identifiers:
        if not identifier:
            continue
        ident = identifier.lower()
        if lowered in (ident, ident.split("@")[0], ident.removeprefix("+84"), "0" + ident[3:]):
            problems.append(str(LIKE_ACCOUNT))
            break
    return problems


class Hasher:
    """argon2id off the event loop. Each hash takes `memory_kib` of memory and, with the default
    parallelism, every core: running more than `concurrency` at once buys no throughput, only
    memory (4 logins at once would hold 256 MiB), so the rest wait their turn."""

    def __init__(
        self, time_cost: int, memory_kib: int, parallelism: int, concurrency: int = 1
    ) -> None:
        self._hasher = PasswordHasher(
            time_cost=time_cost, memory_cost=memory_kib, parallelism=parallelism, type=Type.ID
        )
        self._limiter = CapacityLimiter(max(1, concurrency))
        # Verifying against this when the account does not exist keeps both answers equally slow.
        self._dummy = self._hasher.hash("not-a-real-password-for-timing")

    async def hash(self, password: str) -> str:
        return await to_thread.run_sync(self._hasher.hash, password, limiter=self._limiter)

    async def verify(self, password_hash: str | None, password: str) -> bool:
        def check() -> bool:
            try:
                return self._hasher.verify(password_hash or self._dummy, password)
            except (VerificationError, InvalidHashError):
                return False

        ok = await to_thread.run_sync(check, limiter=self._limiter)
        return ok and password_hash is not None

    def needs_rehash(self, password_hash: str) -> bool:
        return self._hasher.check_needs_rehash(password_hash)
