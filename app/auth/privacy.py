"""A person's rights over their data (Decree 13/2023, Personal Data Protection Law 2025):
every domain that stores personal data registers how to export it and how to erase it."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.models import User

Exporter = Callable[[AsyncSession, User], Awaitable[Any]]
Eraser = Callable[[AsyncSession, User], Awaitable[None]]

_exporters: dict[str, Exporter] = {}
_erasers: dict[str, Eraser] = {}


def exporter(section: str) -> Callable[[Exporter], Exporter]:
    def register(fn: Exporter) -> Exporter:
        _exporters[section] = fn
        return fn

    return register


def eraser(name: str) -> Callable[[Eraser], Eraser]:
    """An eraser deletes or anonymises what the domain holds about the person."""

    def register(fn: Eraser) -> Eraser:
        _erasers[name] = fn
        return fn

    return register


async def export_all(session: AsyncSession, user: User) -> dict[str, Any]:
    return {section: await fn(session, user) for section, fn in sorted(_exporters.items())}


async def erase_all(session: AsyncSession, user: User) -> list[str]:
    for fn in _erasers.values():
        await fn(session, user)
    return sorted(_erasers)
