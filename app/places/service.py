"""The rules of places: create, change, retire (never delete: the offline app needs to learn of
retirements), upsert from an outside source, and who may do it. Services flush, never commit."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from typing import Any, Literal

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.audit import service as audit
from app.auth.models import Role, User
from app.db import utcnow
from app.errors import Conflict, Forbidden, InvalidInput, NotFound
from app.kit.i18n import gettext as _
from app.kit.text import fold
from app.org import repository as org_repo
from app.org.service import locate_ward
from app.places import repository as repo
from app.places.models import Place
from app.places.schemas import PlaceIn, PlacePatch, dump_accessibility

SUBJECT = "place"


def search_keys(
    name: dict[str, str], description: dict[str, str], tags: list[str], address: str | None
) -> tuple[str, str]:
    """Accent-folded keys: every language's name; then descriptions, tags and the address."""
    search_name = " ".join(fold(v) for v in name.values())
    body = [*(fold(v) for v in description.values()), *(fold(t) for t in tags)]
    if address:
        body.append(fold(address))
    return search_name, " ".join(body)


def refresh_keys(place: Place) -> None:
    place.search_name, place.search_body = search_keys(
        place.name, place.description, place.tags, place.address
    )


def check_may_edit(user: User, department_id: int | None) -> None:
    """Managers and admins edit any place; staff those of their department or of none."""
    if user.has_role(Role.manager):
        return
    if not user.has_role(Role.staff) or (
        department_id is not None and department_id != user.department_id
    ):
        raise Forbidden(_("Only staff of the owning department or a manager may change this."))


def new_code(data: PlaceIn) -> str:
    if data.source_id:
        raw = f"{data.source}-{data.source_id}".lower()
        return "".join(ch if ch.isalnum() or ch in "-_." else "-" for ch in raw)[:60]
    return f"p-{secrets.token_hex(5)}"


async def find_places(
    session: AsyncSession,
    filters: repo.Filters,
    *,
    point: tuple[float, float] | None = None,
    radius_m: float = 5_000,
    limit: int,
    offset: int = 0,
    keep: repo.Keep | None = None,
) -> list[dict[str, Any]]:
    """What the API and the pages list: with a point, places within radius_m nearest first;
    otherwise a ranked text search when there are words, else by name. `keep` (open now) is
    applied before paging, so a page holds `limit` places that pass it whenever there are."""
    if point is not None:
        rows = await repo.nearby(
            session, point[0], point[1], radius_m, filters, limit=offset + limit, keep=keep
        )
        return rows[offset:]
    fetch = repo.search if filters.query else repo.browse
    if keep is None:
        return await fetch(session, filters, limit=limit, offset=offset)
    wanted, start, batch = offset + limit, 0, max(2 * (offset + limit), 50)
    kept: list[dict[str, Any]] = []
    while len(kept) < wanted:
        rows = await fetch(session, filters, limit=batch, offset=start)
        kept.extend(row for row in rows if keep(row))
        if len(rows) < batch:
            break
        start += batch
    return kept[offset:wanted]


async def _department_id(session: AsyncSession, code: str | None) -> int | None:
    if code is None:
        return None
    department = await org_repo.department_by_code(session, code)
    if department is None:
        raise InvalidInput(
            errors=[{"field": "department_code", "in": "body", "reason": "unknown department"}]
        )
    return department.id


async def _ward_id(session: AsyncSession, code: str | None, lat: float, lon: float) -> int | None:
    if code is not None:
        ward = await org_repo.ward_by_code(session, code)
        if ward is None:
            raise InvalidInput(
                errors=[{"field": "ward_code", "in": "body", "reason": "unknown ward or commune"}]
            )
        return ward.id
    ward = await locate_ward(session, lat, lon)
    return ward.id if ward else None


async def column_values(session: AsyncSession, data: PlaceIn) -> dict[str, Any]:
    """The row a PlaceIn becomes (ward from the point when not given)."""
    values = data.model_dump(
        exclude={"code", "ward_code", "department_code", "accessibility", "photos"}
    )
    values["category"] = data.category.value
    values["photos"] = [p.model_dump() for p in data.photos]
    values.update(dump_accessibility(data.accessibility))
    values["ward_id"] = await _ward_id(session, data.ward_code, data.lat, data.lon)
    values["department_id"] = await _department_id(session, data.department_code)
    values["search_name"], values["search_body"] = search_keys(
        data.name, data.description, data.tags, data.address
    )
    return values


async def get_by_code(session: AsyncSession, code: str, *, include_retired: bool = True) -> Place:
    place = await session.scalar(select(Place).where(Place.code == code))
    if place is None or (place.retired_at is not None and not include_retired):
        raise NotFound(_("There is no place with this code."))
    return place


async def create_place(session: AsyncSession, actor: User | None, data: PlaceIn) -> Place:
    values = await column_values(session, data)
    if actor is not None:
        if values["department_id"] is None and not actor.has_role(Role.manager):
            values["department_id"] = actor.department_id
        check_may_edit(actor, values["department_id"])
    code = data.code or new_code(data)
    if await session.scalar(select(Place.id).where(Place.code == code)) is not None:
        raise Conflict(_("A place with this code already exists."))
    if data.source_id and await _by_source(session, data.source, data.source_id):
        raise Conflict(_("A place from this source with this source id already exists."))
    place = Place(code=code, **values)
    session.add(place)
    await session.flush()
    await audit.record(session, actor.id if actor else None, "place.create", SUBJECT, place.id)
    return place


async def _by_source(session: AsyncSession, source: str, source_id: str) -> Place | None:
    return await session.scalar(
        select(Place).where(Place.source == source, Place.source_id == source_id)
    )


def _changes(place: Place, values: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in values.items() if getattr(place, k) != v}


async def update_place(
    session: AsyncSession, actor: User, place: Place, patch: PlacePatch
) -> Place:
    check_may_edit(actor, place.department_id)
    sent = patch.model_fields_set - {"verified", "ward_code", "department_code", "accessibility"}
    values: dict[str, Any] = {name: getattr(patch, name) for name in sent}
    if "category" in values:
        values["category"] = patch.category.value  # type: ignore[union-attr]
    if "photos" in values:
        values["photos"] = [p.model_dump() for p in patch.photos or []]
    if "tags" in values:
        values["tags"] = values["tags"] or []
    for name in ("name", "description"):
        if name in values and values[name] is None:
            values[name] = {}
    if patch.accessibility is not None:
        values.update(dump_accessibility(patch.accessibility))
    if "ward_code" in patch.model_fields_set or "lat" in values:
        values["ward_id"] = await _ward_id(
            session, patch.ward_code, values.get("lat", place.lat), values.get("lon", place.lon)
        )
    if "department_code" in patch.model_fields_set:
        values["department_id"] = await _department_id(session, patch.department_code)
        check_may_edit(actor, values["department_id"])
    if patch.verified:
        values["last_verified_at"] = utcnow()
    changed = _changes(place, values)
    if not changed:
        return place
    for key, value in changed.items():
        setattr(place, key, value)
    refresh_keys(place)
    place.updated_at = utcnow()
    await session.flush()
    await audit.record(session, actor.id, "place.update", SUBJECT, place.id, fields=sorted(changed))
    return place


async def retire_place(session: AsyncSession, actor: User, place: Place) -> Place:
    check_may_edit(actor, place.department_id)
    await audit.set_retired(session, actor.id, place, SUBJECT, True)
    return place


async def restore_place(session: AsyncSession, actor: User, place: Place) -> Place:
    check_may_edit(actor, place.department_id)
    await audit.set_retired(session, actor.id, place, SUBJECT, False)
    return place


Outcome = Literal["created", "updated", "unchanged"]


@dataclass(frozen=True, slots=True)
class Upserted:
    outcome: Outcome
    place: Place


async def upsert_from_source(session: AsyncSession, data: PlaceIn) -> Upserted:
    """Create or update the place with data.source/source_id (an import): running the same
    data twice changes nothing. Fields the source does not carry (None/empty) keep what staff
    entered, so an import never erases local knowledge. A retired place stays retired."""
    if not data.source_id:
        raise ValueError("upsert needs a source id")
    existing = await _by_source(session, data.source, data.source_id)
    values = await column_values(session, data)
    if existing is None:
        place = Place(code=data.code or new_code(data), **values)
        session.add(place)
        await session.flush()
        await audit.record(session, None, "place.import", SUBJECT, place.id, source=data.source)
        return Upserted("created", place)
    keep = {k: v for k, v in values.items() if v not in (None, {}, [])}
    for derived in ("is_demo", "search_name", "search_body"):  # keys follow from the fields
        keep.pop(derived, None)
    changed = _changes(existing, keep)
    if not changed:
        return Upserted("unchanged", existing)
    for key, value in changed.items():
        setattr(existing, key, value)
    refresh_keys(existing)
    existing.updated_at = utcnow()
    await session.flush()
    await audit.record(session, None, "place.import", SUBJECT, existing.id, fields=sorted(changed))
    return Upserted("updated", existing)
