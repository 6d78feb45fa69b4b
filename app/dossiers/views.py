"""Dossiers as dicts for the JSON API and the pages (localised labels and names), in three
shapes: a line of a list, the applicant's view (no internal notes, no contact details) and the
staff's whole case. The schemas in app.dossiers.schemas describe them."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.models import User
from app.calendar.service import DEFAULT_TIME_ZONE
from app.db import utcnow
from app.dossiers import repository as repo
from app.dossiers import service
from app.dossiers.models import ApplicantKind, Channel, Dossier, DossierEvent, Status
from app.kit.i18n import N_
from app.kit.i18n import gettext as _
from app.kit.langtext import pick
from app.procedures.models import Agency, Procedure

STATUS_LABELS: dict[str, str] = {
    Status.received: N_("Received"),
    Status.in_processing: N_("Being processed"),
    Status.needs_supplement: N_("Waiting for more documents"),
    Status.supplement_received: N_("Documents added"),
    Status.rejected: N_("Refused"),
    Status.completed: N_("Result ready"),
    Status.result_returned: N_("Result handed over"),
    Status.withdrawn: N_("Withdrawn"),
}
CHANNEL_LABELS: dict[str, str] = {
    Channel.in_person: N_("At the one-stop desk"),
    Channel.post: N_("By post"),
    Channel.online: N_("Online"),
}
APPLICANT_KIND_LABELS: dict[str, str] = {
    ApplicantKind.person: N_("Person"),
    ApplicantKind.business: N_("Business"),
}


def status_label(value: str | None) -> str:
    return _(STATUS_LABELS[value]) if value in STATUS_LABELS else (value or "")


def channel_label(value: str) -> str:
    return _(CHANNEL_LABELS[value]) if value in CHANNEL_LABELS else value


def applicant_kind_label(value: str) -> str:
    return _(APPLICANT_KIND_LABELS[value]) if value in APPLICANT_KIND_LABELS else value


def _procedure_ref(procedure: Procedure | None, locale: str) -> dict[str, Any]:
    if procedure is None:  # the foreign key forbids it; a view must not fail on it
        return {"code": "", "name": "", "processing_days": 0}
    return {
        "code": procedure.code,
        "name": pick(procedure.name, locale),
        "processing_days": procedure.processing_days,
    }


def _item(
    dossier: Dossier,
    procedure: Procedure | None,
    late: service.Lateness,
    locale: str,
    time_zone: str,
) -> dict[str, Any]:
    due_on = dossier.due_at.astimezone(ZoneInfo(time_zone)).date() if dossier.due_at else None
    return {
        "code": dossier.code,
        "status": dossier.status,
        "status_label": status_label(dossier.status),
        "procedure": _procedure_ref(procedure, locale),
        "applicant_name": dossier.applicant_name,
        "received_at": dossier.received_at,
        "due_at": dossier.due_at,
        "due_on": due_on,
        "paused": dossier.status == Status.needs_supplement.value,
        "remaining_working_days": dossier.remaining_working_days,
        "overdue": late.overdue,
        "overdue_working_days": late.working_days,
    }


async def items(
    session: AsyncSession,
    dossiers: Sequence[Dossier],
    locale: str,
    *,
    time_zone: str = DEFAULT_TIME_ZONE,
    now: datetime | None = None,
) -> list[dict[str, Any]]:
    """Lines of a list (the staff's, or the dossiers a person follows)."""
    procedures = await repo.procedures_of(session, [d.procedure_id for d in dossiers])
    lateness = await service.lateness_of(session, dossiers, now=now, time_zone=time_zone)
    return [
        _item(
            d,
            procedures.get(d.procedure_id, (None, None))[0],
            lateness[d.id],
            locale,
            time_zone,
        )
        for d in dossiers
    ]


def _event(event: DossierEvent, *, for_staff: bool, names: dict[int, User]) -> dict[str, Any]:
    # A status change keeps its line for the applicant; an internal note on it is left out.
    note = event.note if for_staff or not event.internal else None
    out: dict[str, Any] = {
        "at": event.at,
        "from_status": event.from_status,
        "to_status": event.to_status,
        "status_label": status_label(event.to_status) if event.to_status else None,
        "note": note,
        "missing": list(event.missing or []),
        "due_at": event.due_at,
    }
    if for_staff:
        actor = names.get(event.actor_id) if event.actor_id is not None else None
        out["internal"] = event.internal
        out["actor_name"] = (actor.full_name or actor.identifier) if actor else None
    return out


def _agency_ref(agency: Agency | None, locale: str) -> dict[str, Any] | None:
    if agency is None:
        return None
    return {
        "code": agency.code,
        "name": pick(agency.name, locale),
        "address": agency.address,
        "phone": agency.phone,
    }


async def _view(
    session: AsyncSession,
    dossier: Dossier,
    locale: str,
    *,
    for_staff: bool,
    time_zone: str,
    now: datetime | None,
    viewer: User | None,
) -> dict[str, Any]:
    now = now or utcnow()
    procedure, agency = (await repo.procedures_of(session, [dossier.procedure_id])).get(
        dossier.procedure_id, (None, None)
    )
    late = (await service.lateness_of(session, [dossier], now=now, time_zone=time_zone))[dossier.id]
    events = await repo.events_of(session, dossier.id, with_internal_notes=for_staff)
    names = (
        await repo.users(
            session, [e.actor_id for e in events] + [dossier.received_by_id, dossier.user_id]
        )
        if for_staff
        else {}
    )
    view = _item(dossier, procedure, late, locale, time_zone)
    view.update(
        {
            "channel": dossier.channel,
            "channel_label": channel_label(dossier.channel),
            "applicant_kind": dossier.applicant_kind,
            "applicant_kind_label": applicant_kind_label(dossier.applicant_kind),
            "agency": _agency_ref(agency, locale),
            "missing": list(dossier.missing or []),
            "completed_at": dossier.completed_at,
            "returned_at": dossier.returned_at,
            "closed_at": dossier.closed_at,
            "can_rate": service.can_rate(dossier),
            "rating": (
                {
                    "score": dossier.rating,
                    "comment": dossier.rating_comment,
                    "rated_at": dossier.rated_at,
                }
                if dossier.rating is not None
                else None
            ),
            "history": [_event(e, for_staff=for_staff, names=names) for e in events],
            "following": (await service.is_following(session, viewer, dossier) if viewer else None),
        }
    )
    if for_staff:
        department = await repo.department(session, dossier.department_id)
        receiver = names.get(dossier.received_by_id) if dossier.received_by_id else None
        account = names.get(dossier.user_id) if dossier.user_id else None
        view.update(
            {
                "department": (
                    {"code": department.code, "name": department.name(locale)}
                    if department
                    else None
                ),
                "tax_code": dossier.tax_code,
                "phone": dossier.phone,
                "email": dossier.email,
                "address": dossier.address,
                "applicant_user_email": account.email if account else None,
                "received_by": (receiver.full_name or receiver.identifier) if receiver else None,
                "next_statuses": [s.value for s in service.next_statuses(dossier)],
                "is_demo": dossier.is_demo,
            }
        )
    return view


async def applicant_view(
    session: AsyncSession,
    dossier: Dossier,
    locale: str,
    *,
    time_zone: str = DEFAULT_TIME_ZONE,
    now: datetime | None = None,
    viewer: User | None = None,
) -> dict[str, Any]:
    """What the applicant sees: status, due date and lateness, what is missing, the history
    without internal notes, the procedure and its agency, the rating. `viewer`: the signed-in
    caller, for "following"."""
    return await _view(
        session, dossier, locale, for_staff=False, time_zone=time_zone, now=now, viewer=viewer
    )


async def staff_view(
    session: AsyncSession,
    dossier: Dossier,
    locale: str,
    *,
    time_zone: str = DEFAULT_TIME_ZONE,
    now: datetime | None = None,
    viewer: User | None = None,
) -> dict[str, Any]:
    """The whole case: the applicant's contacts, internal notes with their authors, the
    department, and the statuses it may move to next."""
    return await _view(
        session, dossier, locale, for_staff=True, time_zone=time_zone, now=now, viewer=viewer
    )
