"""The demo places of Yên Bái: real sights, services and offices at plausible coordinates, every
one marked is_demo with source "demo" and source_id = its code. Phone numbers and websites are
placeholders (emergency numbers 113/114 excepted). The demo departments and wards must be loaded
first (app.demo.loader): places name them by code."""

from __future__ import annotations

import json
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.places import service
from app.places.models import Place
from app.places.schemas import PlaceIn

DATA_FILE = Path(__file__).resolve().parent.parent / "demo" / "data" / "places.json"


def read_places() -> list[PlaceIn]:
    """Every demo place, validated as the API would validate it."""
    data = json.loads(DATA_FILE.read_text(encoding="utf-8"))
    return [PlaceIn.model_validate(item) for item in data["places"]]


async def load_demo(session: AsyncSession) -> int:
    """Create the demo places that are missing (by code) and return how many were added.
    A place already there, retired or changed by staff, is left as it is."""
    places = read_places()
    existing = set(
        await session.scalars(select(Place.code).where(Place.code.in_([p.code for p in places])))
    )
    added = 0
    for data in places:
        if data.code not in existing:
            await service.create_place(session, None, data)
            added += 1
    return added
