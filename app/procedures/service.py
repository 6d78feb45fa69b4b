"""The rules of the procedure catalogue: saving a procedure (from the API, the importer or the
demo) with its field, agency and search keys; retiring it; life events and their totals.
Never commits: the request, the importer or the demo loader owns the transaction."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession

from app.audit import service as audit
from app.auth.models import Role, User
from app.errors import Forbidden, InvalidInput, NotFound
from app.kit.i18n import gettext as _
from app.kit.text import fold, search_terms
from app.org.models import Department
from app.places.models import Place
from app.procedures.models import (
    Agency,
    LifeEvent,
    LifeEventStep,
    Procedure,
    ProcedureField,
    ProcedureTerm,
)
from app.procedures.schemas import AgencyRef, FieldRef, LifeEventIn, ProcedureIn

SUBJECT = "procedure"
LIFE_EVENT_SUBJECT = "life_event"
# Words shorter than this are not corrected for typos (and not kept as terms).
MIN_TERM_LENGTH = 3
_DIGITS = re.compile(r"^\d+$")


# Who may change the catalogue -------------------------------------------------------------


def check_may_edit(user: User, agency: Agency | None) -> None:
    """Managers and admins edit the whole catalogue; staff the procedures of their agency."""
    if user.has_role(Role.manager):
        return
    if (
        user.has_role(Role.staff)
        and agency is not None
        and agency.department_id is not None
        and agency.department_id == user.department_id
    ):
        return
    raise Forbidden(_("Only a manager or staff of the implementing agency may change this."))


# Search keys ------------------------------------------------------------------------------


def _texts(value: Any) -> Iterable[str]:
    """Every string inside a value of the JSON columns (any language, nested lists)."""
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for item in value.values():
            yield from _texts(item)
    elif isinstance(value, list):
        for item in value:
            yield from _texts(item)


def _folded(*values: Any) -> str:
    return " ".join(fold(t) for v in values for t in _texts(v) if t)


def search_keys(procedure: Procedure, field: ProcedureField, agency: Agency) -> dict[str, str]:
    """The folded keys the search indexes read: names; the field; everything else."""
    return {
        "search_name": _folded(procedure.name),
        "search_field": _folded(field.name),
        "search_body": _folded(
            procedure.code,
            agency.name,
            procedure.applicants,
            procedure.steps,
            [d.get("name") for d in procedure.documents],
            procedure.result,
            procedure.conditions,
            [f.get("name") for f in procedure.fees],
            [b.get("number") for b in procedure.legal_basis],
            [b.get("title") for b in procedure.legal_basis],
        ),
    }


def terms_of(*keys: str) -> set[str]:
    return {
        t
        for key in keys
        for t in search_terms(key)
        if len(t) >= MIN_TERM_LENGTH and len(t) <= 60 and not _DIGITS.match(t)
    }


async def remember_terms(session: AsyncSession, terms: set[str]) -> None:
    """Add new words to the vocabulary that typo correction draws from."""
    if not terms:
        return
    rows = [{"term": t} for t in sorted(terms)]
    if session.get_bind().dialect.name == "postgresql":
        stmt: Any = pg_insert(ProcedureTerm).on_conflict_do_nothing()
    else:
        stmt = sqlite_insert(ProcedureTerm).on_conflict_do_nothing()
    for start in range(0, len(rows), 1000):
        await session.execute(stmt, rows[start : start + 1000])


# Fields and agencies ----------------------------------------------------------------------


def _ref_problem(field: str, message: str) -> InvalidInput:
    return InvalidInput(message, errors=[{"field": field, "in": "body", "reason": message}])


async def field_by_code(session: AsyncSession, code: str) -> ProcedureField | None:
    return await session.scalar(select(ProcedureField).where(ProcedureField.code == code))


async def agency_by_code(session: AsyncSession, code: str) -> Agency | None:
    return await session.scalar(select(Agency).where(Agency.code == code))


async def _field(session: AsyncSession, ref: FieldRef) -> ProcedureField:
    field = await field_by_code(session, ref.code)
    if field is None:
        if not ref.name.get("vi"):
            raise _ref_problem("field", _("A new field needs its Vietnamese name."))
        field = ProcedureField(code=ref.code, name=ref.name)
        session.add(field)
        await session.flush()
    elif ref.name and ref.name != field.name:
        field.name = ref.name
    return field


async def _agency(session: AsyncSession, ref: AgencyRef) -> Agency:
    agency = await agency_by_code(session, ref.code)
    if agency is None:
        if not ref.name.get("vi"):
            raise _ref_problem("agency", _("A new agency needs its Vietnamese name."))
        agency = Agency(code=ref.code, name=ref.name)
        session.add(agency)
    elif ref.name:
        agency.name = ref.name
    for name in ("address", "phone", "opening_hours"):
        if name in ref.model_fields_set:
            setattr(agency, name, getattr(ref, name))
    if ref.place_code is not None:
        place_id = await session.scalar(select(Place.id).where(Place.code == ref.place_code))
        if place_id is None:
            raise _ref_problem("agency.place_code", _("There is no place with this code."))
        agency.place_id = place_id
    if ref.department_code is not None:
        department_id = await session.scalar(
            select(Department.id).where(Department.code == ref.department_code)
        )
        if department_id is None:
            raise _ref_problem("agency.department_code", _("There is no such department."))
        agency.department_id = department_id
    await session.flush()
    return agency


# Procedures -------------------------------------------------------------------------------


def _values(data: ProcedureIn) -> dict[str, Any]:
    fees = [f.model_dump(mode="json") for f in data.fees]
    return {
        "name": data.name,
        "level": data.level.value,
        "online": data.online.value,
        "channels": [c.value for c in data.channels],
        "applicants": data.applicants,
        "steps": list(data.steps),
        "documents": [d.model_dump(mode="json") for d in data.documents],
        "processing_days": data.processing_days,
        "processing_note": data.processing_note,
        "fees": fees,
        "fee_total_vnd": sum(f["amount_vnd"] for f in fees),
        "fee_note": data.fee_note,
        "conditions": data.conditions,
        "result": data.result,
        "legal_basis": [b.model_dump(mode="json") for b in data.legal_basis],
        "source_url": data.source_url,
        "updated_on": data.updated_on,
    }


@dataclass(frozen=True)
class Saved:
    procedure: Procedure
    created: bool
    changed: bool


async def by_code(session: AsyncSession, code: str) -> Procedure | None:
    return await session.scalar(select(Procedure).where(Procedure.code == code))


async def get(session: AsyncSession, code: str, *, retired_ok: bool = False) -> Procedure:
    procedure = await by_code(session, code)
    if procedure is None or (procedure.retired_at is not None and not retired_ok):
        raise NotFound(_("There is no procedure with this code."))
    return procedure


async def save_procedure(
    session: AsyncSession,
    actor: User | None,
    data: ProcedureIn,
    *,
    is_demo: bool = False,
    now: datetime | None = None,
) -> Saved:
    """Create the procedure, or bring the one with the same code up to `data` (an import run
    twice changes nothing). With an actor, checks that they may edit it and audits the change;
    without one (the importer, the demo) the caller is trusted."""
    existing = await by_code(session, data.code)
    if actor is not None and existing is not None:
        check_may_edit(actor, await session.get(Agency, existing.agency_id))
    field = await _field(session, data.field)
    agency = await _agency(session, data.agency)
    if actor is not None:
        check_may_edit(actor, agency)
    values = _values(data) | {"field_id": field.id, "agency_id": agency.id}
    if existing is None:
        procedure = Procedure(code=data.code, is_demo=is_demo, **values)
        session.add(procedure)
        created = changed = True
    else:
        procedure = existing
        changes = {k: v for k, v in values.items() if getattr(procedure, k) != v}
        for name, value in changes.items():
            setattr(procedure, name, value)
        created, changed = False, bool(changes)
    keys = search_keys(procedure, field, agency)
    if any(getattr(procedure, k) != v for k, v in keys.items()):
        for name, value in keys.items():
            setattr(procedure, name, value)
        changed = True
    if changed and now is not None:
        procedure.updated_at = now
    await session.flush()
    if changed:
        await remember_terms(session, terms_of(*keys.values()))
        if actor is not None:
            action = "procedure.create" if created else "procedure.update"
            await audit.record(session, actor.id, action, SUBJECT, procedure.id)
    return Saved(procedure, created, changed)


async def set_retired(
    session: AsyncSession, actor: User, procedure: Procedure, retired: bool
) -> bool:
    check_may_edit(actor, await session.get(Agency, procedure.agency_id))
    return await audit.set_retired(session, actor.id, procedure, SUBJECT, retired)


# Life events ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Totals:
    """A life event's totals over its required steps: working days if done one after the
    other, and fees in đồng."""

    working_days: int
    fees_vnd: int
    optional_working_days: int
    optional_fees_vnd: int


def totals(steps: Iterable[tuple[LifeEventStep, Procedure]]) -> Totals:
    days = fees = opt_days = opt_fees = 0
    for step, procedure in steps:
        if step.optional:
            opt_days += procedure.processing_days
            opt_fees += procedure.fee_total_vnd
        else:
            days += procedure.processing_days
            fees += procedure.fee_total_vnd
    return Totals(days, fees, opt_days, opt_fees)


async def life_event(session: AsyncSession, slug: str) -> LifeEvent:
    event = await session.scalar(select(LifeEvent).where(LifeEvent.slug == slug))
    if event is None or event.retired_at is not None:
        raise NotFound(_("There is no such life event."))
    return event


Steps = list[tuple[LifeEventStep, Procedure]]


def _steps_query(event_ids: list[int]) -> Any:
    return (
        select(LifeEventStep, Procedure)
        .join(Procedure, Procedure.id == LifeEventStep.procedure_id)
        .where(LifeEventStep.life_event_id.in_(event_ids), Procedure.retired_at.is_(None))
        .order_by(LifeEventStep.life_event_id, LifeEventStep.position)
    )


async def life_event_steps(session: AsyncSession, event: LifeEvent) -> Steps:
    rows = await session.execute(_steps_query([event.id]))
    return [(row[0], row[1]) for row in rows]


async def life_events_with_steps(session: AsyncSession) -> list[tuple[LifeEvent, Steps]]:
    """Every live life event with its live steps in order, in two queries whatever their number."""
    events = await life_events(session)
    by_event: dict[int, Steps] = {e.id: [] for e in events}
    if events:
        for row in await session.execute(_steps_query(list(by_event))):
            by_event[row[0].life_event_id].append((row[0], row[1]))
    return [(e, by_event[e.id]) for e in events]


async def life_events(session: AsyncSession) -> list[LifeEvent]:
    rows = await session.scalars(
        select(LifeEvent)
        .where(LifeEvent.retired_at.is_(None))
        .order_by(LifeEvent.position, LifeEvent.slug)
    )
    return list(rows)


async def save_life_event(
    session: AsyncSession, actor: User | None, data: LifeEventIn, *, is_demo: bool = False
) -> LifeEvent:
    """Create or replace a life event (its steps in the order given)."""
    if actor is not None and not actor.has_role(Role.manager):
        raise Forbidden(_("Only a manager may change life events."))
    ids: list[int] = []
    for n, step in enumerate(data.steps):
        procedure = await by_code(session, step.procedure)
        if procedure is None:
            raise _ref_problem(f"steps.{n}.procedure", _("There is no procedure with this code."))
        ids.append(procedure.id)
    event = await session.scalar(select(LifeEvent).where(LifeEvent.slug == data.slug))
    values = {
        "name": data.name,
        "description": data.description,
        "audience": data.audience,
        "position": data.position,
    }
    if event is None:
        event = LifeEvent(slug=data.slug, is_demo=is_demo, **values)
        session.add(event)
    else:
        for name, value in values.items():
            setattr(event, name, value)
        for old in await session.scalars(
            select(LifeEventStep).where(LifeEventStep.life_event_id == event.id)
        ):
            await session.delete(old)
    await session.flush()
    for position, (step, procedure_id) in enumerate(zip(data.steps, ids, strict=True), 1):
        session.add(
            LifeEventStep(
                life_event_id=event.id,
                procedure_id=procedure_id,
                position=position,
                note=step.note,
                optional=step.optional,
            )
        )
    await session.flush()
    if actor is not None:
        await audit.record(session, actor.id, "life_event.save", LIFE_EVENT_SUBJECT, event.id)
    return event
