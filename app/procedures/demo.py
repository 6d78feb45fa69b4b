"""The demo catalogue (placeholder until the data file lands)."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession


async def load_demo(session: AsyncSession) -> int:
    return 0
