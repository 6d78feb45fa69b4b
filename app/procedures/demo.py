"""The demo catalogue: about thirty common procedures of Yên Bái province (two levels of
government since 1 July 2025) and five life events, from app/demo/data/procedures.json.

The file has the import format ({"procedures": [...], "life_events": [...]}) and every record is
validated as the importer validates it. Codes the national portal publishes are used where known
(the record then links to the portal); the others are placeholders in the portal's format.
Agencies name the demo one-stop centre and departments by code; when those are not loaded (a test
that loads only the catalogue) the links are left out rather than failing."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pydantic import ValidationError
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.org.models import Department
from app.places.models import Place
from app.procedures import service, transfer
from app.procedures.models import LifeEvent, Procedure
from app.procedures.schemas import LifeEventIn, ProcedureIn

DATA_FILE = Path(__file__).resolve().parent.parent / "demo" / "data" / "procedures.json"


def read_catalogue() -> tuple[list[ProcedureIn], list[LifeEventIn]]:
    """Every demo procedure and life event, read and validated as an import reads them."""
    procedures: list[ProcedureIn] = []
    events: list[LifeEventIn] = []
    with DATA_FILE.open("rb") as stream:
        for raw in transfer.read_json(stream):
            try:
                if raw.kind == "procedure":
                    procedures.append(ProcedureIn.model_validate(raw.value))
                else:
                    events.append(LifeEventIn.model_validate(raw.value))
            except ValidationError as exc:
                raise ValueError(f"{DATA_FILE.name}, {raw.where}: {transfer.reasons(exc)}") from exc
    return procedures, events


async def _without_missing_links(session: AsyncSession, data: ProcedureIn) -> ProcedureIn:
    agency = data.agency
    update: dict[str, Any] = {}
    if agency.place_code is not None and not await session.scalar(
        select(Place.id).where(Place.code == agency.place_code)
    ):
        update["place_code"] = None
    if agency.department_code is not None and not await session.scalar(
        select(Department.id).where(Department.code == agency.department_code)
    ):
        update["department_code"] = None
    if not update:
        return data
    return data.model_copy(update={"agency": agency.model_copy(update=update)})


async def load_demo(session: AsyncSession) -> int:
    """Add the demo procedures and life events that are missing (by code, by slug) and return
    how many were added. Ones already there, changed or retired by staff, are left as they are.
    Flushes, never commits."""
    procedures, events = read_catalogue()
    codes = [p.code for p in procedures]
    existing = set(await session.scalars(select(Procedure.code).where(Procedure.code.in_(codes))))
    added = 0
    for data in procedures:
        if data.code in existing:
            continue
        await service.save_procedure(
            session, None, await _without_missing_links(session, data), is_demo=True
        )
        added += 1
    slugs = [e.slug for e in events]
    have = set(await session.scalars(select(LifeEvent.slug).where(LifeEvent.slug.in_(slugs))))
    for event in events:
        if event.slug not in have:
            await service.save_life_event(session, None, event, is_demo=True)
            added += 1
    return added
