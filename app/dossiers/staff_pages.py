"""Staff pages of dossiers: the queue (plain GET filters, overdue first, counts by status), the
one-stop desk's registration form with a printable receipt (the code, the PIN shown once, the
due date and how to track it), and a dossier's whole case (contacts, internal notes, the next
statuses as a form, notes). Plain forms, CSRF checked, no JavaScript needed. The rules are the
service's (app.dossiers.service), as for the JSON API (app.dossiers.api)."""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from datetime import datetime
from typing import Annotated, Any
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import ValidationError
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.datastructures import FormData

from app.auth.deps import HasherDep, LimiterDep, PageStaff, SettingsDep
from app.auth.models import Role, User
from app.db import SessionDep, utcnow
from app.dossiers import service, views
from app.dossiers.models import ApplicantKind, Channel, Dossier, Status
from app.dossiers.pages import helpers, names_of
from app.dossiers.schemas import DossierIn, NoteIn, StatusIn, last4
from app.errors import AppError, Conflict, InvalidInput
from app.kit.csrf import verify_csrf
from app.kit.i18n import N_, locale_of
from app.kit.i18n import gettext as _
from app.kit.ratelimit import per_window
from app.kit.templating import render
from app.org import repository as org_repo
from app.procedures import repository as procedures_repo
from app.procedures.pages import shown
from app.reports.pages import FormError, errors_from, field_errors, pager

router = APIRouter(include_in_schema=False)
csrf = [Depends(verify_csrf)]

PAGE_SIZE = 25
FIND_LIMIT = 10
# A registration form is sent once: its token is spent when the dossier is registered, so a
# reload of the receipt (the browser sends the form again) registers nothing twice.
FORM_TOKEN_SECONDS = 24 * 3600

DONE_MESSAGES: dict[str, str] = {
    "status": N_("The status is changed."),
    "noted": N_("The note is added."),
}


def done_message(done: str | None) -> str | None:
    return _(DONE_MESSAGES[done]) if done in DONE_MESSAGES else None


def _text(value: Any) -> str:
    return value.strip() if isinstance(value, str) else ""


# The queue -------------------------------------------------------------------------------


@router.get("/staff/dossiers", response_class=HTMLResponse)
async def queue(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    user: PageStaff,
    status: Annotated[str, Query(max_length=30)] = "",
    overdue: Annotated[str, Query(max_length=5)] = "",
    procedure: Annotated[str, Query(max_length=30)] = "",
    q: Annotated[str, Query(max_length=100)] = "",
    department: Annotated[str, Query(max_length=40)] = "",
    page: Annotated[int, Query(ge=1, le=100_000)] = 1,
) -> Response:
    """Like GET /api/v1/staff/dossiers: the department's dossiers (managers: every one, or one
    department's), overdue first, then by due date."""
    locale = locale_of(request)
    is_manager = user.has_role(Role.manager)
    chosen = Status(status) if status in {s.value for s in Status} else None
    filters = service.StaffFilters(
        statuses=(chosen,) if chosen else (),
        overdue=bool(overdue),
        procedure=procedure.strip() or None,
        q=q.strip() or None,
        department=department or None,  # the service heeds it for managers only
    )
    found = await service.list_for_staff(
        session, user, filters, limit=PAGE_SIZE, offset=(page - 1) * PAGE_SIZE
    )
    items = await views.items(session, found.dossiers, locale, time_zone=settings.time_zone)
    departments = list(await org_repo.list_departments(session)) if is_manager else []
    department_name = None
    if not is_manager and user.department_id is not None:
        own = await org_repo.get_department(session, user.department_id)
        department_name = own.name(locale) if own else None

    def with_status(value: str | None, only_overdue: bool = False) -> str:
        params = [
            (k, v)
            for k, v in request.query_params.multi_items()
            if k not in ("status", "overdue", "page")
        ]
        if value:
            params.append(("status", value))
        if only_overdue:
            params.append(("overdue", "1"))
        return f"/staff/dossiers?{urlencode(params)}" if params else "/staff/dossiers"

    counts = [
        {
            "status": s.value,
            "count": found.counts.get(s.value, 0),
            "url": with_status(s.value),
            "current": chosen is s and not overdue,
        }
        for s in Status
        if found.counts.get(s.value)
    ]
    return render(
        request,
        "dossiers/staff_queue.html",
        {
            **helpers(request),
            "items": items,
            "counts": counts,
            "all_url": with_status(None),
            "all_count": sum(found.counts.values()),
            "overdue_url": with_status(None, only_overdue=True),
            "overdue_count": found.overdue_count,
            "filters": {
                "status": chosen.value if chosen else "",
                "overdue": bool(overdue),
                "procedure": procedure,
                "q": q,
                "department": department,
            },
            "status_choices": [s.value for s in Status],
            "is_manager": is_manager,
            "departments": departments,
            "department_name": department_name,
            "locale": locale,
            "pager": pager(request, page, PAGE_SIZE, found.total),
        },
    )


# Registering at the desk -----------------------------------------------------------------

REGISTER_FIELDS = {
    "procedure_code": "procedure_code",
    "channel": "channel-in_person",
    "applicant_kind": "applicant_kind-person",
    "applicant_name": "applicant_name",
    "tax_code": "tax_code",
    "phone": "phone",
    "email": "email",
    "address": "address",
    "applicant_user_email": "applicant_user_email",
    "received_at": "received_at",
}
FORM_NAMES = (
    "procedure_code",
    "channel",
    "applicant_kind",
    "applicant_name",
    "tax_code",
    "phone",
    "email",
    "address",
    "applicant_user_email",
    "received_at",
    "form_token",
)


def register_labels() -> dict[str, str]:
    return {
        "procedure_code": _("Procedure"),
        "channel": _("How it was lodged"),
        "applicant_kind": _("Applicant"),
        "applicant_name": _("Name of the applicant"),
        "tax_code": _("Tax code"),
        "phone": _("Phone number"),
        "email": _("E-mail address"),
        "address": _("Address"),
        "applicant_user_email": _("The applicant's Citizen Hub account"),
        "received_at": _("Received at"),
    }


def register_fields() -> dict[str, tuple[str, str | None]]:
    labels = register_labels()
    return {name: (labels[name], target) for name, target in REGISTER_FIELDS.items()}


def register_errors(exc: ValidationError) -> list[FormError]:
    messages = {
        "procedure_code": _("Give the procedure's code, or find the procedure by its name."),
        "channel": _("Choose how the dossier was lodged."),
        "applicant_kind": _("Choose a person or a business."),
        "applicant_name": _("Write the applicant's name, 2 to 200 characters."),
        "tax_code": _(
            "A tax code has 10 digits, or 10 digits, a dash and 3 digits for a branch, "
            "such as 5200123456 or 5200123456-001."
        ),
        "phone": _("Enter a phone number such as 0912 345 678, or leave it empty."),
        "email": _("Enter an e-mail address such as name@example.vn, or leave it empty."),
        "address": _("Keep the address under 300 characters."),
        "applicant_user_email": _(
            "Enter the e-mail address of the applicant's account, or leave it empty."
        ),
        "received_at": _("Enter the date and time of receipt, or leave it as it is for now."),
    }
    labels = register_labels()
    out: list[FormError] = []
    seen: set[str] = set()
    for error in exc.errors():
        loc = [str(p) for p in error.get("loc", ())]
        name = loc[0] if loc else ""
        if name in seen:
            continue
        seen.add(name)
        if name in messages:
            out.append(FormError(f"{labels[name]}: {messages[name]}", REGISTER_FIELDS[name]))
        else:
            out.append(FormError(str(error.get("msg", "")), None))
    return out


def _local_now(time_zone: str) -> str:
    return utcnow().astimezone(ZoneInfo(time_zone)).strftime("%Y-%m-%dT%H:%M")


def _received_at(raw: str) -> datetime | str | None:
    """A datetime-local field: local time without a zone (the schema takes it as local)."""
    if not raw:
        return None
    try:
        return datetime.fromisoformat(raw)
    except ValueError:
        return raw  # the schema names the field


async def _new_page(
    request: Request,
    session: AsyncSession,
    values: Mapping[str, str],
    *,
    find: str = "",
    errors: list[FormError] | None = None,
    status_code: int = 200,
    already_sent: bool = False,
) -> Response:
    settings = request.app.state.settings
    locale = locale_of(request)
    matches: list[dict[str, Any]] = []
    searched = bool(find.strip())
    if searched:
        found = await procedures_repo.search(
            session, procedures_repo.Filters(query=find.strip()), limit=FIND_LIMIT
        )
        matches = [
            {
                "code": row["code"],
                "name": shown(row["name"], locale),
                "agency": shown(row.get("agency_name") or {}, locale),
            }
            for row in found.items
        ]
    form = {"channel": Channel.in_person.value, "applicant_kind": ApplicantKind.person.value}
    form.update({k: v for k, v in values.items() if v})
    form.setdefault("received_at", _local_now(settings.time_zone))
    form["form_token"] = secrets.token_urlsafe(18)  # a new one with every form shown
    errors = errors or []
    return render(
        request,
        "dossiers/staff_new.html",
        {
            "form": form,
            "find": find,
            "searched": searched,
            "matches": matches,
            "channels": [(c.value, views.channel_label(c.value)) for c in Channel],
            "kinds": [(k.value, views.applicant_kind_label(k.value)) for k in ApplicantKind],
            "errors": errors,
            "field_errors": field_errors(errors),
            "already_sent": already_sent,
        },
        status_code=status_code,
    )


@router.get("/staff/dossiers/new", response_class=HTMLResponse)
async def new_dossier(
    request: Request,
    session: SessionDep,
    user: PageStaff,
    find: Annotated[str, Query(max_length=200)] = "",
    procedure: Annotated[str, Query(max_length=30)] = "",
) -> Response:
    """Step 1 (optional): find the procedure by its name (a GET form); step 2: the form."""
    return await _new_page(request, session, {"procedure_code": procedure.strip()}, find=find)


def _read_new(form: FormData) -> dict[str, str]:
    return {name: _text(form.get(name)) for name in FORM_NAMES}


@router.post("/staff/dossiers/new", dependencies=csrf)
async def register(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    hasher: HasherDep,
    limiter: LimiterDep,
    user: PageStaff,
) -> Response:
    """Like POST /api/v1/staff/dossiers; answers the printable receipt with the PIN (shown this
    once: only its hash is kept)."""
    values = _read_new(await request.form())
    payload: dict[str, Any] = {
        "procedure_code": values["procedure_code"],
        "channel": values["channel"] or Channel.in_person.value,
        "applicant_kind": values["applicant_kind"] or ApplicantKind.person.value,
        "applicant_name": values["applicant_name"],
        "tax_code": values["tax_code"] or None,
        "phone": values["phone"] or None,
        "email": values["email"] or None,
        "address": values["address"] or None,
        "applicant_user_email": values["applicant_user_email"] or None,
        "received_at": _received_at(values["received_at"]),
    }
    try:
        data = DossierIn.model_validate(payload)
    except ValidationError as exc:
        return await _new_page(
            request, session, values, errors=register_errors(exc), status_code=422
        )
    token = values["form_token"][:60]
    if token:
        spent = await limiter.hit(
            per_window(1, FORM_TOKEN_SECONDS), "dossier-register-form", str(user.id), token
        )
        if not spent.allowed:
            error = FormError(
                _(
                    "This form was already sent, so the dossier is registered: find it in the "
                    "list of dossiers. The PIN cannot be shown again."
                )
            )
            return await _new_page(
                request, session, values, errors=[error], status_code=409, already_sent=True
            )
    try:
        async with session.begin_nested():
            done = await service.register(session, hasher, user, data, time_zone=settings.time_zone)
    except AppError as exc:
        errors = errors_from(exc, register_fields())
        return await _new_page(request, session, values, errors=errors, status_code=exc.status)
    return await _receipt(request, session, done.dossier, done.pin, status_code=201)


async def _receipt(
    request: Request,
    session: AsyncSession,
    dossier: Dossier,
    pin: str,
    *,
    status_code: int,
    reissued: bool = False,
) -> Response:
    """The printable receipt with the PIN, shown this once (after registering, or a new PIN)."""
    settings = request.app.state.settings
    locale = locale_of(request)
    view = await views.applicant_view(session, dossier, locale, time_zone=settings.time_zone)
    procedure_name, agency_name = await names_of(session, dossier, locale)
    base = (settings.public_base_url or str(request.base_url)).rstrip("/")
    return render(
        request,
        "dossiers/receipt.html",
        {
            **helpers(request),
            "d": view,
            "pin": pin,
            "reissued": reissued,
            "has_phone": last4(dossier.phone) is not None,
            "procedure_name": procedure_name,
            "agency_name": agency_name,
            "track_url": f"{base}/dossiers/lookup",
        },
        status_code=status_code,
    )


# One case --------------------------------------------------------------------------------

CASE_FIELDS: dict[str, tuple[str, str | None]] = {
    "status": ("", "status-to"),
    "missing": ("", "status-missing"),
    "note": ("", "status-note"),
}
NOTE_FIELDS: dict[str, tuple[str, str | None]] = {"note": ("", "note-text")}


async def _case_page(
    request: Request,
    session: AsyncSession,
    user: User,
    code: str,
    *,
    errors: list[FormError] | None = None,
    form: Mapping[str, str] | None = None,
    status_code: int = 200,
    done: str | None = None,
) -> Response:
    settings = request.app.state.settings
    locale = locale_of(request)
    dossier = await service.get_workable(session, user, code)
    view = await views.staff_view(
        session, dossier, locale, time_zone=settings.time_zone, viewer=user
    )
    procedure_name, agency_name = await names_of(session, dossier, locale)
    errors = errors or []
    return render(
        request,
        "dossiers/staff_case.html",
        {
            **helpers(request),
            "d": view,
            "procedure_name": procedure_name,
            "agency_name": agency_name,
            "notice": done_message(done),
            "errors": errors,
            "field_errors": field_errors(errors),
            "form": dict(form or {}),
            "can_reissue_pin": service.can_reissue_pin(dossier),
            "pin_token": secrets.token_urlsafe(18),  # a resent form re-issues nothing
        },
        status_code=status_code,
    )


@router.get("/staff/dossiers/{code}", response_class=HTMLResponse)
async def case(
    code: str,
    request: Request,
    session: SessionDep,
    user: PageStaff,
    done: Annotated[str | None, Query(max_length=20)] = None,
) -> Response:
    """404 for an unknown code; 403 for a dossier of another department (managers see all)."""
    return await _case_page(request, session, user, code, done=done)


def missing_lines(raw: str) -> list[str]:
    """What is missing, one item per line; blank lines and list marks typed by habit dropped."""
    out = []
    for line in raw.splitlines():
        item = line.strip().lstrip("-•*").strip()
        if item:
            out.append(item)
    return out


def status_errors(exc: ValidationError) -> list[FormError]:
    messages = {
        "status": (_("Choose the new status."), "status-to"),
        "missing": (
            _("List at most 30 missing documents, one a line, each under 300 characters."),
            "status-missing",
        ),
        "note": (_("Keep the note under 5,000 characters."), "status-note"),
    }
    out: list[FormError] = []
    for error in exc.errors():
        loc = [str(p) for p in error.get("loc", ())]
        message, target = messages.get(loc[0] if loc else "", (str(error.get("msg")), None))
        if not any(e.target == target and e.message == message for e in out):
            out.append(FormError(message, target))
    return out


async def _refused(
    request: Request,
    session: AsyncSession,
    user: User,
    code: str,
    error: AppError,
    fields: dict[str, tuple[str, str | None]],
    form: Mapping[str, str],
) -> Response:
    """The case page again, with what the service refused and what the form held."""
    return await _case_page(
        request,
        session,
        user,
        code,
        errors=errors_from(error, fields),
        form=form,
        status_code=error.status,
    )


@router.post("/staff/dossiers/{code}/status", dependencies=csrf)
async def change_status(
    code: str,
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    user: PageStaff,
    to: Annotated[str, Form(alias="status")] = "",
    note: Annotated[str, Form()] = "",
    missing: Annotated[str, Form()] = "",
    internal: Annotated[str, Form()] = "",
) -> Response:
    dossier = await service.get_workable(session, user, code, for_update=True)
    form = {
        "status": to,
        "status_note": note,
        "status_missing": missing,
        "status_internal": "1" if internal else "",
    }
    try:
        data = StatusIn(
            status=to,  # validated here: a wrong one is a readable error
            note=note.strip() or None,
            missing=missing_lines(missing),
            internal=bool(internal),
        )
    except ValidationError as exc:
        return await _case_page(
            request, session, user, code, errors=status_errors(exc), form=form, status_code=422
        )
    try:
        async with session.begin_nested():
            await service.change_status(
                session,
                user,
                dossier,
                data.status,
                note=data.note,
                missing=data.missing,
                internal=data.internal,
                time_zone=settings.time_zone,
            )
    except AppError as exc:
        return await _refused(request, session, user, code, exc, CASE_FIELDS, form)
    return RedirectResponse(f"/staff/dossiers/{dossier.code}?done=status", status_code=303)


@router.post("/staff/dossiers/{code}/notes", dependencies=csrf)
async def add_note(
    code: str,
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    user: PageStaff,
    note: Annotated[str, Form()] = "",
    internal: Annotated[str, Form()] = "",
) -> Response:
    dossier = await service.get_workable(session, user, code, for_update=True)
    form = {"note_text": note, "note_internal": "1" if internal else ""}
    try:
        data = NoteIn(note=note.strip(), internal=bool(internal))
    except ValidationError:
        error = InvalidInput(
            _("Write the note, up to 5,000 characters."),
            errors=[{"field": "note", "in": "form", "reason": "invalid"}],
        )
        return await _refused(request, session, user, code, error, NOTE_FIELDS, form)
    try:
        async with session.begin_nested():
            await service.add_note(
                session,
                user,
                dossier,
                data.note,
                internal=data.internal,
                time_zone=settings.time_zone,
            )
    except AppError as exc:
        return await _refused(request, session, user, code, exc, NOTE_FIELDS, form)
    return RedirectResponse(f"/staff/dossiers/{dossier.code}?done=noted", status_code=303)


@router.post("/staff/dossiers/{code}/pin", dependencies=csrf)
async def reissue_pin(
    code: str,
    request: Request,
    session: SessionDep,
    hasher: HasherDep,
    limiter: LimiterDep,
    user: PageStaff,
    form_token: Annotated[str, Form()] = "",
) -> Response:
    """Like POST /api/v1/staff/dossiers/{code}/pin: a new PIN on a new printable receipt (the
    old PIN stops working). The form's token is spent, so a reload of the receipt (the browser
    sends the form again) does not replace the PIN just printed."""
    dossier = await service.get_workable(session, user, code, for_update=True)
    token = form_token.strip()[:60]
    if token:
        spent = await limiter.hit(
            per_window(1, FORM_TOKEN_SECONDS), "dossier-pin-form", str(user.id), token
        )
        if not spent.allowed:
            error = Conflict(
                _(
                    "This form was already sent, so the PIN was re-issued and the receipt shown. "
                    "The PIN cannot be shown again: re-issue it once more if the receipt is lost."
                )
            )
            return await _refused(request, session, user, code, error, {}, {})
    try:
        async with session.begin_nested():
            pin = await service.reissue_pin(session, hasher, user, dossier)
    except AppError as exc:
        return await _refused(request, session, user, code, exc, {}, {})
    return await _receipt(request, session, dossier, pin, status_code=200, reissued=True)
