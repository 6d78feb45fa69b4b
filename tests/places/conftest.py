"""Random places for the nearby and search tests, written through Core in one statement."""

from __future__ import annotations

import random
from typing import Any

from sqlalchemy import insert
from sqlalchemy.ext.asyncio import AsyncSession

from app.db import utcnow
from app.places.models import Category, Place, Wheelchair
from app.places.service import search_keys

# Around Yên Bái: the province's box.
LAT_RANGE = (21.3, 22.3)
LON_RANGE = (103.9, 105.2)


def random_rows(n: int, seed: int = 7, **fixed: Any) -> list[dict[str, Any]]:
    rng = random.Random(seed)
    now = utcnow()
    grades = [None, *(g.value for g in Wheelchair)]
    rows = []
    for i in range(n):
        name = {"vi": f"Địa điểm {i}", "en": f"Place {i}"}
        row = {
            "code": f"t-{seed}-{i}",
            "category": rng.choice(list(Category)).value,
            "name": name,
            "description": {},
            "lat": rng.uniform(*LAT_RANGE),
            "lon": rng.uniform(*LON_RANGE),
            "tags": [],
            "photos": [],
            "accessibility_notes": {},
            "wheelchair": rng.choice(grades),
            "source": "test",
            "is_demo": False,
            "created_at": now,
            "updated_at": now,
        }
        row.update(fixed)
        row["search_name"], row["search_body"] = search_keys(row["name"], {}, [], None)
        rows.append(row)
    return rows


async def insert_rows(session: AsyncSession, rows: list[dict[str, Any]]) -> None:
    await session.execute(insert(Place), rows)
    await session.flush()
