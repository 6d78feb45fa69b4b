"""The rules of reports, feedback and requests: catalogue, submission, the workflow, the
resident's side, notification records. Services flush, never commit."""

from __future__ import annotations

import hashlib
import json
import secrets
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.models import Role, User
from app.auth.tokens import hash_secret
from app.calendar.service import add_hours, load_calendar, years_for_deadline
from app.config import Settings
from app.db import utcnow
from app.errors import AppError, Conflict, Forbidden, InvalidInput, NotFound
from app.inbox.models import Notification
from app.kit.i18n import gettext as _
from app.kit.text import fold
from app.org import repository as org_repo
from app.org.service import locate_ward
from app.push import outbox
from app.reports import repository as repo
from app.reports.models import (
    OPEN_STATUSES,
    AttributeType,
    IdempotentRequest,
    Report,
    ReportEvent,
    ReportFollower,
    ReportPhoto,
    ReportSupport,
    ResponseTemplate,
    Service,
    ServiceAttribute,
    ServiceRoute,
    Status,
)
from app.reports.schemas import ReportEdit, ReportIn, ServiceIn, TemplateIn

CODE_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"  # no 0/O, 1/I/L: read aloud over the phone


class InvalidTransition(AppError):
    status = 409
    code = "invalid-transition"
    title = "This change of status is not allowed."


# Which status may follow which. Staff move cases forward; the reporter withdraws, confirms,
# disputes (reopens); closing after a quiet period is automatic.
STAFF_TRANSITIONS: dict[Status, set[Status]] = {
    Status.submitted: {
        Status.acknowledged,
        Status.in_progress,
        Status.resolved,
        Status.rejected,
        Status.duplicate,
        Status.referred,
    },
    Status.acknowledged: {
        Status.in_progress,
        Status.resolved,
        Status.rejected,
        Status.duplicate,
        Status.referred,
    },
    Status.in_progress: {
        Status.resolved,
        Status.rejected,
        Status.duplicate,
        Status.referred,
        Status.acknowledged,
    },
    Status.reopened: {
        Status.acknowledged,
        Status.in_progress,
        Status.resolved,
        Status.rejected,
        Status.duplicate,
        Status.referred,
    },
    Status.resolved: {Status.in_progress, Status.closed},
    Status.rejected: {Status.closed, Status.acknowledged},
    Status.referred: {Status.closed},
    Status.duplicate: set(),
    Status.closed: set(),
    Status.withdrawn: set(),
}
# Events a reporter and followers hear about.
NOTIFY_EVENTS = {"acknowledged", "status_changed", "public_note", "resolved", "merged"}


@dataclass
class Actor:
    """Who is acting: a signed-in user, or an anonymous client known by device and address."""

    user: User | None = None
    device_id: str | None = None
    ip: str = "unknown"
    secret: str | None = None  # an anonymous reporter's secret, when they present it

    @property
    def role(self) -> str:
        return self.user.role if self.user else "anonymous"

    @property
    def is_staff(self) -> bool:
        return self.user is not None and self.user.has_role(Role.staff)


@dataclass
class Submitted:
    report: Report
    secret: str
    photos: list[ReportPhoto] = field(default_factory=list)


# Catalogue ---------------------------------------------------------------------------------


async def save_service(
    session: AsyncSession, data: ServiceIn, *, existing: Service | None = None
) -> Service:
    department = await org_repo.department_by_code(session, data.department_code)
    if department is None:
        raise InvalidInput(
            _("There is no department with this code."),
            errors=[{"field": "department_code", "in": "body", "reason": "unknown department"}],
        )
    if existing is None and await repo.service_by_code(session, data.code):
        raise Conflict(_("A service with this code already exists."))
    service = existing or Service(code=data.code)
    for name in (
        "name_vi",
        "name_en",
        "description_vi",
        "description_en",
        "group",
        "kind",
        "deadline_value",
        "deadline_unit",
        "keywords",
        "is_public",
        "location_required",
        "allow_anonymous",
        "proof_required",
        "active",
    ):
        value = getattr(data, name)
        setattr(service, name, value.value if hasattr(value, "value") else value)
    service.department_id = department.id
    service.search_key = fold(" ".join([data.name_vi, data.name_en, data.keywords]))
    if existing is None:
        session.add(service)
    await session.flush()
    codes = [a.code for a in data.attributes]
    if len(codes) != len(set(codes)):
        raise InvalidInput(
            _("Two questions have the same code."),
            errors=[{"field": "attributes", "in": "body", "reason": "duplicate code"}],
        )
    await repo.replace_attributes(
        session,
        service.id,
        [
            ServiceAttribute(
                service_id=service.id,
                code=a.code,
                datatype=a.datatype.value,
                label_vi=a.label_vi,
                label_en=a.label_en,
                description_vi=a.description_vi,
                description_en=a.description_en,
                required=a.required,
                order=a.order,
                values=[v.model_dump() for v in a.values],
            )
            for a in data.attributes
        ],
    )
    routes = []
    for ward_code, department_code in data.routes.items():
        ward = await org_repo.ward_by_code(session, ward_code)
        routed = await org_repo.department_by_code(session, department_code)
        if ward is None or routed is None:
            raise InvalidInput(
                _("A route names an unknown ward or department."),
                errors=[{"field": f"routes.{ward_code}", "in": "body", "reason": "unknown"}],
            )
        routes.append(ServiceRoute(service_id=service.id, ward_id=ward.id, department_id=routed.id))
    await repo.replace_routes(session, service.id, routes)
    await session.flush()
    return service


def _check_attributes(
    service_attributes: list[ServiceAttribute], answers: dict[str, Any]
) -> dict[str, Any]:
    """Validate answers to a service's questions by their Open311 datatype."""
    known = {a.code: a for a in service_attributes}
    errors: list[dict[str, str]] = []
    clean: dict[str, Any] = {}
    for code in answers:
        if code not in known:
            errors.append(
                {"field": f"attributes.{code}", "in": "body", "reason": _("unknown question")}
            )
    for attribute in service_attributes:
        value = answers.get(attribute.code)
        if value in (None, "", []):
            if attribute.required:
                errors.append(
                    {
                        "field": f"attributes.{attribute.code}",
                        "in": "body",
                        "reason": _("an answer is required"),
                    }
                )
            continue
        allowed = {v["key"] for v in attribute.values}
        kind = AttributeType(attribute.datatype)
        try:
            if kind is AttributeType.number:
                clean[attribute.code] = float(value)
            elif kind is AttributeType.datetime:
                parsed = datetime.fromisoformat(str(value))
                if parsed.tzinfo is None:
                    raise ValueError
                clean[attribute.code] = parsed.isoformat()
            elif kind is AttributeType.singlevaluelist:
                if str(value) not in allowed:
                    raise ValueError
                clean[attribute.code] = str(value)
            elif kind is AttributeType.multivaluelist:
                values = value if isinstance(value, list) else [value]
                if not values or any(str(v) not in allowed for v in values):
                    raise ValueError
                clean[attribute.code] = [str(v) for v in values]
            else:
                text = str(value).strip()
                if len(text) > (255 if kind is AttributeType.string else 5000):
                    raise ValueError
                clean[attribute.code] = text
        except (TypeError, ValueError):
            errors.append(
                {
                    "field": f"attributes.{attribute.code}",
                    "in": "body",
                    "reason": _("not a valid %(type)s answer", type=attribute.datatype),
                }
            )
    if errors:
        raise InvalidInput(_("Some answers are not valid."), errors=errors)
    return clean


# Deadlines ---------------------------------------------------------------------------------


async def deadline_for(
    session: AsyncSession, service: Service, start: datetime, time_zone: str
) -> datetime:
    """Hours are clock hours (urgent services); working days skip weekends and holidays."""
    if service.deadline_unit == "hours":
        return add_hours(start, service.deadline_value)
    calendar = await load_calendar(
        session, years_for_deadline(start, service.deadline_value, time_zone), time_zone=time_zone
    )
    return calendar.add_working_days(start, service.deadline_value)


# Submitting --------------------------------------------------------------------------------


async def _new_code(session: AsyncSession) -> str:
    for _attempt in range(10):
        raw = "".join(secrets.choice(CODE_ALPHABET) for _ in range(8))
        code = f"{raw[:4]}-{raw[4:]}"
        if not await repo.code_exists(session, code):
            return code
    raise RuntimeError("could not find a free tracking code")


async def submit(
    session: AsyncSession,
    settings: Settings,
    actor: Actor,
    data: ReportIn,
    photos: list[Any] | None = None,
) -> Submitted:
    service = await repo.service_by_code(session, data.service_code)
    if service is None or not service.active:
        raise InvalidInput(
            _("There is no such service."),
            errors=[{"field": "service_code", "in": "body", "reason": _("unknown service")}],
        )
    if actor.user is None and not service.allow_anonymous:
        raise Forbidden(_("Please sign in to use this service."))
    ward = None
    if data.ward_code:
        ward = await org_repo.ward_by_code(session, data.ward_code)
        if ward is None:
            raise InvalidInput(
                _("There is no such ward or commune."),
                errors=[{"field": "ward_code", "in": "body", "reason": _("unknown ward")}],
            )
    if data.lat is not None and data.lon is not None:
        located = await locate_ward(session, data.lat, data.lon)
        ward = located or ward
    if service.location_required and data.lat is None and not data.address and ward is None:
        raise InvalidInput(
            _("Tell us where: a point, an address or landmark, or a ward or commune."),
            errors=[{"field": "location", "in": "body", "reason": _("a location is required")}],
        )
    attributes = _check_attributes(
        (await repo.attributes_of(session, [service.id]))[service.id], data.attributes
    )
    department_id = service.department_id
    if ward is not None:
        department_id = await repo.route_for(session, service.id, ward.id) or department_id
    now = utcnow()
    secret = secrets.token_urlsafe(12)
    user = actor.user
    report = Report(
        code=await _new_code(session),
        secret_hash=hash_secret(secret),
        service_id=service.id,
        status=Status.submitted.value,
        description=data.description,
        lat=data.lat,
        lon=data.lon,
        address=data.address,
        ward_id=ward.id if ward else None,
        department_id=department_id,
        reporter_id=user.id if user else None,
        reporter_name=data.reporter_name or (user.full_name if user else None),
        reporter_email=data.reporter_email or (user.email if user else None),
        reporter_phone=data.reporter_phone or (user.phone if user else None),
        device_id=data.device_id or actor.device_id,
        is_public=service.is_public and data.public,
        attributes=attributes,
        deadline_at=await deadline_for(session, service, now, settings.time_zone),
        created_at=now,
        updated_at=now,
    )
    session.add(report)
    await session.flush()
    event = _event(report, actor, "submitted", None, Status.submitted, None, True)
    session.add(event)
    if user is not None:
        session.add(ReportFollower(report_id=report.id, user_id=user.id))
    stored = await _attach_photos(session, report, event, photos or [], "submission")
    if report.is_public:
        from app.preferences.service import notify_area_subscribers

        await notify_area_subscribers(
            session,
            report_id=report.id,
            code=report.code,
            ward_id=report.ward_id,
            group=service.group,
            service_name_vi=service.name_vi,
            service_name_en=service.name_en,
            exclude={user.id} if user is not None else set(),
        )
    return Submitted(report, secret, stored)


async def _attach_photos(
    session: AsyncSession, report: Report, event: ReportEvent | None, photos: list[Any], kind: str
) -> list[ReportPhoto]:
    if event is not None and event.id is None:
        await session.flush()
    rows = [
        ReportPhoto(
            report_id=report.id,
            event_id=event.id if event else None,
            kind=kind,
            name=p.name,
            thumb_name=p.thumb_name,
            width=p.width,
            height=p.height,
        )
        for p in photos
    ]
    session.add_all(rows)
    await session.flush()
    return rows


def _event(
    report: Report,
    actor: Actor,
    kind: str,
    from_status: Status | str | None,
    to_status: Status | str | None,
    note: str | None,
    public: bool,
    **data: Any,
) -> ReportEvent:
    return ReportEvent(
        report_id=report.id,
        actor_id=actor.user.id if actor.user else None,
        actor_role=actor.role,
        kind=kind,
        from_status=str(from_status) if from_status else None,
        to_status=str(to_status) if to_status else None,
        note=note,
        is_public=public,
        data=data,
        created_at=utcnow(),
    )


# Idempotency -------------------------------------------------------------------------------


def request_fingerprint(payload: Any) -> str:
    return hashlib.sha256(json.dumps(payload, sort_keys=True, default=str).encode()).hexdigest()


async def idempotent_replay(
    session: AsyncSession, scope: str, key: str, fingerprint: str
) -> IdempotentRequest | None:
    """The stored first answer for this key, or None. A reused key with another payload is an error."""
    found = await repo.idempotent_lookup(session, scope, key)
    if found is None:
        return None
    if found.request_hash != fingerprint:
        raise InvalidInput(
            _("This Idempotency-Key was already used for a different request."),
            errors=[
                {
                    "field": "Idempotency-Key",
                    "in": "header",
                    "reason": _("reused with another payload"),
                }
            ],
        )
    return found


async def remember_answer(
    session: AsyncSession,
    scope: str,
    key: str,
    fingerprint: str,
    status_code: int,
    body: dict[str, Any],
) -> bool:
    """Store the answer in the same transaction as the report. False when a concurrent request
    with the same key got there first (the caller then replays that one)."""
    try:
        async with session.begin_nested():
            session.add(
                IdempotentRequest(
                    scope=scope,
                    key=key,
                    request_hash=fingerprint,
                    status_code=status_code,
                    body=body,
                )
            )
    except IntegrityError:
        return False
    return True


# Access ------------------------------------------------------------------------------------


def is_owner(report: Report, actor: Actor) -> bool:
    if actor.user is not None and report.reporter_id == actor.user.id:
        return True
    return actor.secret is not None and secrets.compare_digest(
        hash_secret(actor.secret), report.secret_hash
    )


def can_work(report: Report, user: User | None) -> bool:
    """Staff work their own department's cases; managers and admins any."""
    if user is None or not user.has_role(Role.staff):
        return False
    if user.has_role(Role.manager):
        return True
    return user.department_id == report.department_id


def can_read(report: Report, actor: Actor) -> bool:
    if report.is_public and not report.hidden:
        return True
    return is_owner(report, actor) or can_work(report, actor.user)


async def get_readable(session: AsyncSession, code: str, actor: Actor) -> Report:
    report = await repo.report_by_code(session, code)
    if report is None or not can_read(report, actor):
        raise NotFound(_("There is no report with this code."))
    return report


async def get_workable(session: AsyncSession, code: str, actor: Actor) -> Report:
    report = await repo.report_by_code(session, code, for_update=True)
    if report is None:
        raise NotFound(_("There is no report with this code."))
    if not can_work(report, actor.user):
        raise Forbidden(_("This case belongs to another department."))
    return report


async def get_owned(session: AsyncSession, code: str, actor: Actor) -> Report:
    report = await repo.report_by_code(session, code, for_update=True)
    if report is None or not (is_owner(report, actor) or can_read(report, actor)):
        raise NotFound(_("There is no report with this code."))
    if not is_owner(report, actor):
        raise Forbidden(_("Only the person who made the report can do this."))
    return report


# Notification records ----------------------------------------------------------------------


async def _notify(
    session: AsyncSession, report: Report, actor: Actor, event: str, **data: Any
) -> None:
    """A record for the reporter and every follower, in this transaction; never to the actor."""
    recipients = set(await repo.follower_ids(session, report.id))
    if report.reporter_id:
        recipients.add(report.reporter_id)
    if actor.user is not None:
        recipients.discard(actor.user.id)
    payload = {"code": report.code, "status": report.status, **data}
    await outbox.notify(
        session,
        [
            Notification(
                user_id=uid,
                event=f"report.{event}",
                subject_type="report",
                subject_id=report.id,
                data=payload,
                created_at=utcnow(),
            )
            for uid in sorted(recipients)
        ],
    )


# The workflow ------------------------------------------------------------------------------


async def _template_text(session: AsyncSession, template_id: int | None, locale: str) -> str | None:
    if template_id is None:
        return None
    template = await repo.get_template(session, template_id)
    if template is None:
        raise InvalidInput(
            _("There is no such response template."),
            errors=[{"field": "template_id", "in": "body", "reason": _("unknown template")}],
        )
    return template.body_en if locale == "en" and template.body_en else template.body_vi


async def change_status(
    session: AsyncSession,
    actor: Actor,
    report: Report,
    to: Status,
    note: str | None,
    public: bool = True,
    template_id: int | None = None,
    locale: str = "vi",
    proof_photos: list[Any] | None = None,
) -> Report:
    current = Status(report.status)
    if to not in STAFF_TRANSITIONS[current]:
        raise InvalidTransition(
            _(
                "A case that is %(current)s cannot become %(target)s.",
                current=current.value,
                target=to.value,
            )
        )
    if to is Status.duplicate:
        raise InvalidInput(
            _("Use merge to mark a duplicate."),
            errors=[{"field": "status", "in": "body", "reason": _("use merge")}],
        )
    note = note or await _template_text(session, template_id, locale)
    service = await session.get(Service, report.service_id)
    assert service is not None
    if to is Status.resolved:
        if not note or not public:
            raise InvalidInput(
                _("Resolving needs a public note that says what was done."),
                errors=[{"field": "note", "in": "body", "reason": _("a public note is required")}],
            )
        if service.proof_required and not proof_photos:
            raise InvalidInput(
                _("Resolving needs at least one photo that proves the fix."),
                errors=[
                    {"field": "photos", "in": "body", "reason": _("a proof photo is required")}
                ],
            )
    if to in (Status.rejected, Status.referred) and not note:
        raise InvalidInput(
            _("Give the reason."),
            errors=[{"field": "note", "in": "body", "reason": _("a reason is required")}],
        )
    now = utcnow()
    report.status = to.value
    report.updated_at = now
    if to is Status.acknowledged and report.acknowledged_at is None:
        report.acknowledged_at = now
    if to is Status.resolved:
        report.resolved_at = now
    if to is Status.closed:
        report.closed_at = now
    kind = {Status.acknowledged: "acknowledged", Status.resolved: "resolved"}.get(
        to, "status_changed"
    )
    event = _event(report, actor, kind, current, to, note, public)
    session.add(event)
    await session.flush()
    if proof_photos:
        await _attach_photos(session, report, event, proof_photos, "proof")
    if public:
        await _notify(session, report, actor, kind, note=(note or "")[:200])
    return report


async def add_note(
    session: AsyncSession,
    actor: Actor,
    report: Report,
    note: str | None,
    public: bool,
    template_id: int | None = None,
    locale: str = "vi",
) -> ReportEvent:
    text = note or await _template_text(session, template_id, locale)
    if not text:
        raise InvalidInput(
            _("Write a note."), errors=[{"field": "note", "in": "body", "reason": _("required")}]
        )
    event = _event(
        report, actor, "public_note" if public else "internal_note", None, None, text, public
    )
    session.add(event)
    report.updated_at = utcnow()
    await session.flush()
    if public:
        await _notify(session, report, actor, "public_note", note=text[:200])
    return event


async def assign(
    session: AsyncSession, actor: Actor, report: Report, assignee_id: int | None
) -> Report:
    if assignee_id is not None:
        assignee = await session.get(User, assignee_id)
        if (
            assignee is None
            or not assignee.is_active
            or not assignee.has_role(Role.staff)
            or (
                assignee.role == Role.staff.value and assignee.department_id != report.department_id
            )
        ):
            raise InvalidInput(
                _("Hand cases only to active staff of the department that has them."),
                errors=[{"field": "assignee_id", "in": "body", "reason": _("not a colleague")}],
            )
    report.assignee_id = assignee_id
    report.updated_at = utcnow()
    session.add(_event(report, actor, "assigned", None, None, None, False, assignee_id=assignee_id))
    await session.flush()
    return report


async def merge(
    session: AsyncSession, actor: Actor, report: Report, into_code: str, note: str | None
) -> Report:
    target = await repo.report_by_code(session, into_code, for_update=True)
    if target is None or target.id == report.id:
        raise InvalidInput(
            _("Choose another existing case to merge into."),
            errors=[{"field": "into_code", "in": "body", "reason": _("unknown case")}],
        )
    if not can_work(target, actor.user):
        raise Forbidden(_("This case belongs to another department."))
    if Status(target.status) not in OPEN_STATUSES:
        raise InvalidTransition(_("Merge into a case that is still open."))
    current = Status(report.status)
    if current not in OPEN_STATUSES:
        raise InvalidTransition(_("Only an open case can be merged."))
    report.status = Status.duplicate.value
    report.duplicate_of_id = target.id
    report.updated_at = utcnow()
    session.add(
        _event(report, actor, "merged", current, Status.duplicate, note, True, into=target.code)
    )
    session.add(_event(target, actor, "merged_in", None, None, None, False, source=report.code))
    if report.reporter_id:
        session.add(
            ReportSupport(
                report_id=target.id,
                user_id=report.reporter_id,
                supporter_key=f"user:{report.reporter_id}",
            )
        )
    await session.flush()
    await repo.move_supporters_and_followers(session, report.id, target.id)
    await _notify(session, report, actor, "merged", into=target.code)
    return report


async def hide(session: AsyncSession, actor: Actor, report: Report, reason: str) -> Report:
    """Abusive content leaves public view; the original stays for audit."""
    report.hidden = True
    report.hidden_reason = reason
    report.updated_at = utcnow()
    session.add(_event(report, actor, "hidden", None, None, reason, False))
    await session.flush()
    return report


# The resident's side -----------------------------------------------------------------------


async def support(session: AsyncSession, actor: Actor, report: Report) -> Report:
    if Status(report.status) not in OPEN_STATUSES:
        raise InvalidTransition(_("Only open reports can be supported."))
    if actor.user is not None:
        key = f"user:{actor.user.id}"
    elif actor.device_id:
        key = f"device:{actor.device_id}"
    else:
        raise InvalidInput(
            _("Sign in, or send your device id, to support a report."),
            errors=[
                {"field": "device_id", "in": "body", "reason": _("required when not signed in")}
            ],
        )
    if (
        report.reporter_id is not None
        and actor.user is not None
        and report.reporter_id == actor.user.id
    ):
        raise Conflict(_("This is your own report."))
    if await repo.has_supported(session, report.id, key):
        return report  # supporting twice changes nothing
    session.add(
        ReportSupport(
            report_id=report.id, user_id=actor.user.id if actor.user else None, supporter_key=key
        )
    )
    report.support_count += 1
    if actor.user is not None and not await repo.is_following(session, report.id, actor.user.id):
        session.add(ReportFollower(report_id=report.id, user_id=actor.user.id))
    session.add(_event(report, actor, "supported", None, None, None, False))
    await session.flush()
    return report


async def follow(session: AsyncSession, user: User, report: Report) -> None:
    if not await repo.is_following(session, report.id, user.id):
        session.add(ReportFollower(report_id=report.id, user_id=user.id))
        await session.flush()


async def unfollow(session: AsyncSession, user: User, report: Report) -> None:
    await repo.unfollow(session, report.id, user.id)


async def edit(session: AsyncSession, actor: Actor, report: Report, data: ReportEdit) -> Report:
    if report.status != Status.submitted.value:
        raise InvalidTransition(_("A report can be changed only until the province takes it up."))
    changed = {}
    for name in data.model_fields_set:
        value = getattr(data, name)
        if value is not None:
            setattr(report, name, value)
            changed[name] = True
    report.updated_at = utcnow()
    session.add(_event(report, actor, "edited", None, None, None, True, fields=sorted(changed)))
    await session.flush()
    return report


async def withdraw(session: AsyncSession, actor: Actor, report: Report) -> Report:
    if report.status != Status.submitted.value:
        raise InvalidTransition(_("A report can be withdrawn only until the province takes it up."))
    report.status = Status.withdrawn.value
    report.closed_at = report.updated_at = utcnow()
    session.add(_event(report, actor, "withdrawn", Status.submitted, Status.withdrawn, None, True))
    await session.flush()
    return report


async def confirm(session: AsyncSession, actor: Actor, report: Report) -> Report:
    if report.status != Status.resolved.value:
        raise InvalidTransition(_("Only a resolved report can be confirmed."))
    report.status = Status.closed.value
    report.closed_at = report.updated_at = utcnow()
    session.add(_event(report, actor, "confirmed", Status.resolved, Status.closed, None, True))
    await session.flush()
    return report


async def dispute(
    session: AsyncSession,
    actor: Actor,
    report: Report,
    reason: str,
    photos: list[Any] | None = None,
) -> Report:
    """'Closed but not fixed': the reporter reopens the case, with a reason and maybe a photo."""
    if report.status not in (Status.resolved.value, Status.closed.value):
        raise InvalidTransition(_("Only a resolved report can be disputed."))
    previous = Status(report.status)
    report.status = Status.reopened.value
    report.resolved_at = None
    report.closed_at = None
    report.updated_at = utcnow()
    event = _event(report, actor, "disputed", previous, Status.reopened, reason, True)
    session.add(event)
    await session.flush()
    if photos:
        await _attach_photos(session, report, event, photos, "dispute")
    await _notify(session, report, actor, "status_changed", note=reason[:200])
    return report


async def rate(
    session: AsyncSession, actor: Actor, report: Report, rating: int, comment: str | None
) -> Report:
    if report.status not in (Status.resolved.value, Status.closed.value):
        raise InvalidTransition(_("You can rate the outcome once the report is resolved."))
    if report.rating is not None:
        raise Conflict(_("You have already rated this report."))
    report.rating = rating
    report.rating_comment = comment
    session.add(_event(report, actor, "rated", None, None, None, False, rating=rating))
    await session.flush()
    return report


async def create_template(session: AsyncSession, data: TemplateIn) -> ResponseTemplate:
    department_id = None
    if data.department_code:
        department = await org_repo.department_by_code(session, data.department_code)
        if department is None:
            raise InvalidInput(
                _("There is no department with this code."),
                errors=[{"field": "department_code", "in": "body", "reason": "unknown department"}],
            )
        department_id = department.id
    template = ResponseTemplate(
        department_id=department_id, title=data.title, body_vi=data.body_vi, body_en=data.body_en
    )
    session.add(template)
    await session.flush()
    return template


async def close_quiet_resolved(session: AsyncSession, days: int) -> int:
    """Resolved cases nobody disputed within `days` are closed."""
    system = Actor()
    count = 0
    for report in await repo.stale_resolved(session, utcnow() - timedelta(days=days)):
        report.status = Status.closed.value
        report.closed_at = report.updated_at = utcnow()
        session.add(
            _event(
                report, system, "closed", Status.resolved, Status.closed, None, True, automatic=True
            )
        )
        count += 1
    await session.flush()
    return count
