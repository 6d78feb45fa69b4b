"""Accessible pages for reports: the public list and a report's page, sending a report with a
plain form (no JavaScript, no map), tracking a report by code and secret, my reports, and the
staff workbench. Every action calls the same service functions as the JSON API (app.reports.api);
nothing here decides a rule, it only shows what the service allows and reports what it refused."""

from __future__ import annotations

import re
import secrets
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Annotated, Any
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Depends, File, Form, Query, Request, UploadFile
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import ValidationError
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.datastructures import FormData
from starlette.datastructures import UploadFile as StarletteUpload

from app.auth import repository as auth_repo
from app.auth.deps import ClientIP, PageStaff, PageUser, PageUserOptional, SettingsDep
from app.auth.models import Role, User
from app.db import SessionDep, utcnow
from app.errors import AppError, InvalidInput, TooManyRequests
from app.kit.csrf import verify_csrf
from app.kit.i18n import N_, locale_of
from app.kit.i18n import gettext as _
from app.kit.ratelimit import per_minute
from app.kit.templating import cookie_secure, render
from app.org import repository as org_repo
from app.reports import repository as repo
from app.reports import service, views
from app.reports.api import MAX_PHOTOS, _discard, _ingest, _throttle_submission
from app.reports.labels import STATUS_LABELS, status_label
from app.reports.models import (
    OPEN_STATUSES,
    AttributeType,
    Report,
    Service,
    ServiceAttribute,
    ServiceGroup,
    Status,
)
from app.reports.schemas import (
    EventRead,
    MergeIn,
    PhotoRead,
    RatingIn,
    ReasonIn,
    ReportEdit,
    ReportIn,
    SubmittedOut,
)

router = APIRouter(include_in_schema=False)
csrf = [Depends(verify_csrf)]

PAGE_SIZE = 20
QUEUE_PAGE_SIZE = 25
NEAR_RADIUS_M = 50
DEVICE_COOKIE = "ch_device"
OWNER_COOKIE_PREFIX = "ch_report_"  # + code, path /reports/<code>: the anonymous owner's secret
SECRET_COOKIE_DAYS = 180
_DEVICE_ID = re.compile(r"^[A-Za-z0-9._:-]{8,64}$")
_CODE_CHARS = re.compile(r"[^A-Z0-9]")
ACCEPTED_PHOTOS = "image/jpeg,image/png,image/webp"
THUMB_SIDE = 320

# Labels -----------------------------------------------------------------------------------

GROUP_LABELS: dict[str, str] = {
    ServiceGroup.roads_lighting: N_("Roads and street lights"),
    ServiceGroup.environment_sanitation: N_("Environment and sanitation"),
    ServiceGroup.water_drainage: N_("Water and drainage"),
    ServiceGroup.public_order: N_("Public order"),
    ServiceGroup.education: N_("Education"),
    ServiceGroup.health: N_("Health"),
    ServiceGroup.administration: N_("Administration"),
    ServiceGroup.other: N_("Other"),
}
EVENT_LABELS: dict[str, str] = {
    "submitted": N_("Report sent"),
    "acknowledged": N_("Received by the department"),
    "status_changed": N_("Status changed to: %(status)s"),
    "resolved": N_("Marked as resolved"),
    "public_note": N_("Note from the department"),
    "internal_note": N_("Internal note"),
    "merged": N_("Marked as a duplicate of another report"),
    "merged_in": N_("Another report was merged into this one"),
    "edited": N_("Changed by the person who reported it"),
    "withdrawn": N_("Withdrawn by the person who reported it"),
    "confirmed": N_("The person who reported it confirmed the fix"),
    "disputed": N_("The person who reported it says it is not fixed: reopened"),
    "closed": N_("Closed"),
    "assigned": N_("Handed to a member of staff"),
    "supported": N_("Someone else reported this too"),
    "rated": N_("The outcome was rated"),
    "hidden": N_("Hidden from public view"),
}
ROLE_LABELS: dict[str, str] = {
    "anonymous": N_("Resident"),
    "citizen": N_("Resident"),
    "staff": N_("Staff"),
    "manager": N_("Manager"),
    "admin": N_("Administrator"),
}
# What a redirect after a successful form says (?done=...): fixed texts, nothing reflected.
DONE_MESSAGES: dict[str, str] = {
    "supported": N_("Thank you. Your “me too” is counted."),
    "followed": N_("You are following this report. We will tell you when something changes."),
    "unfollowed": N_("You no longer follow this report."),
    "edited": N_("Your changes are saved."),
    "withdrawn": N_("Your report is withdrawn."),
    "confirmed": N_("Thank you for confirming. The report is closed."),
    "disputed": N_("The report is reopened. The department will look at it again."),
    "rated": N_("Thank you for rating the outcome."),
    "found": N_("We found your report. On this device you can now act on it."),
    "status": N_("The status is changed."),
    "assigned": N_("The case is handed over."),
    "noted": N_("The note is added."),
    "merged": N_("The case is merged."),
    "hidden": N_("The report is hidden from public view."),
}


def event_label(event: EventRead) -> str:
    label = EVENT_LABELS.get(event.kind)
    if label is None:
        return event.kind
    return _(label, status=status_label(event.to_status))


def role_label(role: str) -> str:
    return _(ROLE_LABELS.get(role, role))


def thumb_size(photo: PhotoRead) -> tuple[int, int]:
    longest = max(photo.width, photo.height, 1)
    scale = min(1.0, THUMB_SIDE / longest)
    return max(1, round(photo.width * scale)), max(1, round(photo.height * scale))


LABEL_HELPERS: dict[str, Any] = {
    "status_label": status_label,
    "event_label": event_label,
    "role_label": role_label,
    "thumb_size": thumb_size,
}


# Errors shown on a form -------------------------------------------------------------------


@dataclass
class FormError:
    message: str
    target: str | None = None  # the id of the field it is about: the summary links to it


def errors_from(exc: AppError, fields: Mapping[str, tuple[str, str | None]]) -> list[FormError]:
    """A service error as summary lines. `fields` maps the service's field name to (label, id)."""
    items = exc.errors or []
    if not items:
        return [FormError(exc.detail or _(exc.title))]
    first = items[0].get("field", "")
    if len(items) == 1 and exc.detail and not first.startswith("attributes."):
        return [FormError(exc.detail, fields[first][1] if first in fields else None)]
    out = []
    for item in items:
        name = item.get("field", "")
        label, target = fields.get(name, (name, None))
        out.append(FormError(f"{label}: {item.get('reason', '')}", target))
    return out


def field_errors(errors: Iterable[FormError]) -> dict[str, str]:
    out: dict[str, str] = {}
    for error in errors:
        if error.target and error.target not in out:
            out[error.target] = error.message
    return out


# Who is asking ----------------------------------------------------------------------------


def _device_cookie(request: Request) -> str | None:
    value = request.cookies.get(DEVICE_COOKIE)
    return value if value and _DEVICE_ID.match(value) else None


def ensure_device(request: Request) -> str:
    """The anonymous device id from its cookie, or a new one that `finish` will set."""
    existing = _device_cookie(request) or getattr(request.state, "new_device_id", None)
    if existing:
        return str(existing)
    new = secrets.token_urlsafe(18)
    request.state.new_device_id = new
    return new


def finish(request: Request, response: Response) -> Response:
    new = getattr(request.state, "new_device_id", None)
    if new:
        response.set_cookie(
            DEVICE_COOKIE,
            new,
            max_age=365 * 24 * 3600,
            httponly=True,
            secure=cookie_secure(request),
            samesite="lax",
            path="/",
        )
    return response


def secret_cookie(code: str) -> str:
    return OWNER_COOKIE_PREFIX + code.upper()


def remember_secret(request: Request, response: Response, code: str, secret: str) -> None:
    response.set_cookie(
        secret_cookie(code),
        secret,
        max_age=SECRET_COOKIE_DAYS * 24 * 3600,
        httponly=True,
        secure=cookie_secure(request),
        samesite="lax",
        path=f"/reports/{code}",
    )


def page_actor(request: Request, user: PageUserOptional, ip: ClientIP) -> service.Actor:
    return service.Actor(user=user, device_id=_device_cookie(request), ip=ip)


PageActor = Annotated[service.Actor, Depends(page_actor)]


def for_report(request: Request, actor: service.Actor, code: str) -> service.Actor:
    """The actor with the secret this browser keeps for this report, if any."""
    return replace(actor, secret=request.cookies.get(secret_cookie(code)))


def normalise_code(raw: str) -> str:
    """'abcd efgh', 'ABCDEFGH' and 'abcd-efgh' are the same tracking code."""
    letters = _CODE_CHARS.sub("", raw.upper())
    return f"{letters[:4]}-{letters[4:]}" if len(letters) == 8 else raw.strip().upper()


def back_to(path: str, done: str) -> RedirectResponse:
    return RedirectResponse(f"{path}?{urlencode({'done': done})}", status_code=303)


def done_message(done: str | None) -> str | None:
    return _(DONE_MESSAGES[done]) if done in DONE_MESSAGES else None


def pager(request: Request, page: int, page_size: int, total: int) -> dict[str, Any]:
    pages = max(1, -(-total // page_size))

    def url(number: int) -> str:
        params = [(k, v) for k, v in request.query_params.multi_items() if k != "page"]
        params.append(("page", str(number)))
        return f"{request.url.path}?{urlencode(params)}"

    return {
        "page": page,
        "pages": pages,
        "total": total,
        "prev_url": url(page - 1) if page > 1 else None,
        "next_url": url(page + 1) if page < pages else None,
    }


async def user_names(session: AsyncSession, ids: Iterable[int | None]) -> dict[int, str]:
    names: dict[int, str] = {}
    for user_id in {i for i in ids if i}:
        user = await session.get(User, user_id)
        if user is not None:
            names[user_id] = user.full_name or user.identifier
    return names


async def answers(session: AsyncSession, report: Report, locale: str) -> list[tuple[str, str]]:
    """The answers to the service's extra questions, labelled, in the question order."""
    questions = (await repo.attributes_of(session, [report.service_id]))[report.service_id]
    out = []
    for question in questions:
        value = (report.attributes or {}).get(question.code)
        if value in (None, "", []):
            continue
        names = {v["key"]: v["name_en" if locale == "en" else "name_vi"] for v in question.values}
        values = value if isinstance(value, list) else [value]
        shown = ", ".join(names.get(str(v), str(v)) for v in values)
        label = question.label_en if locale == "en" else question.label_vi
        out.append((label, shown))
    return out


# The public list --------------------------------------------------------------------------


@router.get("/reports", response_class=HTMLResponse)
async def report_list(
    request: Request,
    session: SessionDep,
    user: PageUserOptional,
    service_code: Annotated[str, Query(alias="service", max_length=40)] = "",
    ward: Annotated[str, Query(max_length=40)] = "",
    status: Annotated[str, Query(max_length=20)] = "",
    page: Annotated[int, Query(ge=1, le=100_000)] = 1,
) -> Response:
    locale = locale_of(request)
    services = list(await repo.list_services(session))
    wards = list(await org_repo.list_wards(session))
    chosen_service = next((s for s in services if s.code == service_code), None)
    chosen_ward = next((w for w in wards if w.code == ward), None)
    statuses: list[str] | None = None
    if status == "open":
        statuses = [s.value for s in OPEN_STATUSES]
    elif status in STATUS_LABELS:
        statuses = [status]
    rows: Sequence[Report] = []
    total = 0
    if not ((service_code and chosen_service is None) or (ward and chosen_ward is None)):
        rows, total = await repo.public_reports(
            session,
            bbox=None,
            ward_id=chosen_ward.id if chosen_ward else None,
            service_ids=[chosen_service.id] if chosen_service else None,
            statuses=statuses,
            since=None,
            until=None,
            limit=PAGE_SIZE,
            offset=(page - 1) * PAGE_SIZE,
        )
    items = await views.public_list(session, rows, locale)
    response = render(
        request,
        "reports/list.html",
        {
            **LABEL_HELPERS,
            "items": items,
            "services": services,
            "wards": wards,
            "filters": {"service": service_code, "ward": ward, "status": status},
            "status_choices": list(STATUS_LABELS),
            "pager": pager(request, page, PAGE_SIZE, total),
            "locale": locale,
        },
    )
    ensure_device(request)
    return finish(request, response)


# Sending a report -------------------------------------------------------------------------


@dataclass
class Question:
    code: str
    datatype: str
    label: str
    hint: str
    required: bool
    name: str
    id: str
    choices: list[tuple[str, str]]


def questions_of(attributes: Sequence[ServiceAttribute], locale: str) -> list[Question]:
    en = locale == "en"
    return [
        Question(
            code=a.code,
            datatype=a.datatype,
            label=a.label_en if en else a.label_vi,
            hint=a.description_en if en else a.description_vi,
            required=a.required,
            name=f"attr_{a.code}",
            # A list's first choice is what the error summary links to.
            id=f"attr_{a.code}-0" if a.values else f"attr_{a.code}",
            choices=[(v["key"], v["name_en" if en else "name_vi"]) for v in a.values],
        )
        for a in attributes
    ]


REPORT_FIELDS = {
    "service_code": "service",
    "description": "description",
    "lat": "lat",
    "lon": "lon",
    "address": "address",
    "ward_code": "ward_code",
    "location": "ward_code",
    "reporter_name": "reporter_name",
    "reporter_email": "reporter_email",
    "reporter_phone": "reporter_phone",
    "photos": "photos",
    "Idempotency-Key": "description",
}


def report_field_labels() -> dict[str, str]:
    return {
        "service_code": _("Service"),
        "description": _("Description"),
        "lat": _("Latitude"),
        "lon": _("Longitude"),
        "address": _("Address or landmark"),
        "ward_code": _("Ward or commune"),
        "location": _("Location"),
        "reporter_name": _("Your name"),
        "reporter_email": _("E-mail address"),
        "reporter_phone": _("Mobile number"),
        "photos": _("Photos"),
        "Idempotency-Key": _("Form"),
    }


def report_fields(questions: Sequence[Question]) -> dict[str, tuple[str, str]]:
    labels = report_field_labels()
    fields = {name: (labels[name], target) for name, target in REPORT_FIELDS.items()}
    for q in questions:
        fields[f"attributes.{q.code}"] = (q.label, q.id)
    return fields


@dataclass
class ReportForm:
    """What the resident typed, kept as typed so an error never loses it."""

    values: dict[str, str]
    lists: dict[str, list[str]]
    uploads: list[StarletteUpload]

    @classmethod
    def read(cls, form: FormData, questions: Sequence[Question]) -> ReportForm:
        names = (
            "service_code",
            "idempotency_key",
            "description",
            "ward_code",
            "address",
            "lat",
            "lon",
            "reporter_name",
            "reporter_email",
            "reporter_phone",
            "private",
        )
        values = {n: _text(form.get(n)) for n in names}
        lists: dict[str, list[str]] = {}
        for q in questions:
            if q.datatype == AttributeType.multivaluelist:
                lists[q.name] = [_text(v) for v in form.getlist(q.name) if _text(v)]
            else:
                values[q.name] = _text(form.get(q.name))
        uploads = [
            f
            for f in form.getlist("photos")
            if isinstance(f, StarletteUpload) and (f.filename or f.size)
        ]
        return cls(values, lists, uploads)

    def hidden_fields(self) -> list[tuple[str, str]]:
        """Everything typed, for the confirmation step's second POST."""
        out = [(k, v) for k, v in self.values.items() if v]
        for name, chosen in self.lists.items():
            out.extend((name, v) for v in chosen)
        return out


def _text(value: Any) -> str:
    return value.strip() if isinstance(value, str) else ""


def _decimal(raw: str) -> float:
    text = raw.strip().replace(" ", "")
    if text.count(",") == 1 and "." not in text:
        text = text.replace(",", ".")  # 21,7 as typed on a Vietnamese keyboard
    return float(text)


def parse_report(
    form: ReportForm,
    service_code: str,
    questions: Sequence[Question],
    signed_in: bool,
    time_zone: str,
) -> tuple[ReportIn | None, list[FormError]]:
    """The form as the API's ReportIn, or what is wrong with it (each error names its field)."""
    v = form.values
    errors: list[FormError] = []
    point: dict[str, float | None] = {"lat": None, "lon": None}
    for name, label in (("lat", _("Latitude")), ("lon", _("Longitude"))):
        if v.get(name):
            try:
                point[name] = _decimal(v[name])
            except ValueError:
                errors.append(
                    FormError(_("%(field)s: enter a number, such as 21.7", field=label), name)
                )
    attributes: dict[str, Any] = {}
    for q in questions:
        if q.datatype == AttributeType.multivaluelist:
            if form.lists.get(q.name):
                attributes[q.code] = form.lists[q.name]
            continue
        raw = v.get(q.name, "")
        if not raw:
            continue
        if q.datatype == AttributeType.number:
            try:
                attributes[q.code] = _decimal(raw)
            except ValueError:
                attributes[q.code] = raw  # the service names the field
        elif q.datatype == AttributeType.datetime:
            try:
                moment = datetime.fromisoformat(raw)
                if moment.tzinfo is None:  # a datetime-local field: the province's time
                    moment = moment.replace(tzinfo=ZoneInfo(time_zone))
                attributes[q.code] = moment.isoformat()
            except ValueError:
                attributes[q.code] = raw
        else:
            attributes[q.code] = raw
    payload: dict[str, Any] = {
        "service_code": service_code,
        "description": v.get("description", ""),
        "lat": point["lat"],
        "lon": point["lon"],
        "address": v.get("address") or None,
        "ward_code": v.get("ward_code") or None,
        "attributes": attributes,
        "public": v.get("private") != "1",
    }
    if not signed_in:
        payload.update(
            reporter_name=v.get("reporter_name") or None,
            reporter_email=v.get("reporter_email") or None,
            reporter_phone=v.get("reporter_phone") or None,
        )
    if errors:
        return None, errors
    try:
        return ReportIn.model_validate(payload), []
    except ValidationError as exc:
        return None, _report_validation_errors(exc)


def _report_validation_errors(exc: ValidationError) -> list[FormError]:
    labels = report_field_labels()
    specific = {
        "description": _("Describe the problem in 3 to 5000 characters."),
        "reporter_email": _("Enter an e-mail address such as name@example.vn, or leave it empty."),
        "reporter_phone": _(
            "Enter a Vietnamese mobile number such as 0912 345 678, or leave it empty."
        ),
        "lat": _("The latitude must be between -90 and 90."),
        "lon": _("The longitude must be between -180 and 180."),
        "address": _("Keep the address or landmark under 500 characters."),
        "reporter_name": _("Keep the name under 200 characters."),
    }
    out: list[FormError] = []
    for error in exc.errors():
        loc = [str(p) for p in error.get("loc", ())]
        name = loc[0] if loc else ""
        if not name:  # the model check: a point needs both numbers
            out.append(FormError(_("Give both the latitude and the longitude, or neither."), "lat"))
        elif name in specific:
            out.append(FormError(f"{labels[name]}: {specific[name]}", REPORT_FIELDS[name]))
        else:
            label = labels.get(name, name)
            out.append(FormError(f"{label}: {error.get('msg')}", REPORT_FIELDS.get(name)))
    return out


def _group_services(services: Sequence[Service], locale: str) -> list[dict[str, Any]]:
    groups: dict[str, list[Service]] = {}
    for s in services:
        groups.setdefault(s.group, []).append(s)
    order = list(GROUP_LABELS)
    return [
        {
            "code": code,
            "label": _(GROUP_LABELS.get(code, code)),
            "services": [
                {"code": s.code, "name": s.name(locale), "description": s.description(locale)}
                for s in sorted(members, key=lambda s: s.name(locale))
            ],
        }
        for code, members in sorted(
            groups.items(), key=lambda g: order.index(g[0]) if g[0] in order else len(order)
        )
    ]


def _ward_groups(wards: Sequence[Any]) -> list[tuple[str, list[Any]]]:
    groups: dict[str, list[Any]] = {}
    for ward in wards:
        groups.setdefault(ward.district, []).append(ward)
    return list(groups.items())


async def _choose_service_page(
    request: Request,
    session: AsyncSession,
    errors: list[FormError] | None = None,
    status_code: int = 200,
) -> Response:
    locale = locale_of(request)
    services = await repo.list_services(session)
    response = render(
        request,
        "reports/choose_service.html",
        {"groups": _group_services(services, locale), "errors": errors or []},
        status_code=status_code,
    )
    ensure_device(request)
    return finish(request, response)


async def _form_page(
    request: Request,
    session: AsyncSession,
    found: Service,
    user: User | None,
    form: ReportForm | None = None,
    errors: list[FormError] | None = None,
    status_code: int = 200,
    headers: Mapping[str, str] | None = None,
    new_key: bool = False,
) -> Response:
    locale = locale_of(request)
    attributes = (await repo.attributes_of(session, [found.id]))[found.id]
    questions = questions_of(attributes, locale)
    values = dict(form.values) if form else {}
    if new_key or not values.get("idempotency_key"):
        values["idempotency_key"] = secrets.token_urlsafe(24)
    errors = errors or []
    response = render(
        request,
        "reports/new.html",
        {
            "service": found,
            "service_name": found.name(locale),
            "service_description": found.description(locale),
            "questions": questions,
            "wards": _ward_groups(await org_repo.list_wards(session)),
            "values": values,
            "lists": form.lists if form else {},
            "had_photos": bool(form and form.uploads),
            "errors": errors,
            "field_errors": field_errors(errors),
            "signed_in": user is not None,
            "needs_sign_in": user is None and not found.allow_anonymous,
            "max_photos": MAX_PHOTOS,
            "accepted_photos": ACCEPTED_PHOTOS,
        },
        status_code=status_code,
        headers=headers,
    )
    ensure_device(request)
    return finish(request, response)


@router.get("/reports/new", response_class=HTMLResponse)
async def new_report(
    request: Request,
    session: SessionDep,
    user: PageUserOptional,
    service_code: Annotated[str, Query(alias="service", max_length=40)] = "",
) -> Response:
    if not service_code:
        return await _choose_service_page(request, session)
    found = await repo.service_by_code(session, service_code)
    if found is None or not found.active:
        return await _choose_service_page(
            request,
            session,
            [FormError(_("Choose one of the services in the list."), "service-0")],
            status_code=422,
        )
    return await _form_page(request, session, found, user)


def _sent_body(result: service.Submitted) -> dict[str, Any]:
    return SubmittedOut(
        code=result.report.code,
        secret=result.secret,
        status=Status(result.report.status),
        deadline_at=result.report.deadline_at,
        url=f"/reports/{result.report.code}",
    ).model_dump(mode="json")


def _sent_page(
    request: Request, actor: service.Actor, body: Mapping[str, Any], replayed: bool = False
) -> Response:
    sent = SubmittedOut.model_validate(body)
    response = render(
        request,
        "reports/sent.html",
        {"sent": sent, "replayed": replayed, "signed_in": actor.user is not None},
    )
    remember_secret(request, response, sent.code, sent.secret)
    return finish(request, response)


def _idempotency_scope(request: Request, actor: service.Actor) -> str:
    """Who resends: the account, else the device cookie the form page set (not one made up for
    this request), else the address; as in the API, with the page's own route name."""
    device = _device_cookie(request)
    who = (
        f"user:{actor.user.id}"
        if actor.user
        else (f"device:{device}" if device else f"ip:{actor.ip}")
    )
    return f"reports-page|{who}"


@router.post("/reports/new", dependencies=csrf)
async def send_report(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    user: PageUserOptional,
    ip: ClientIP,
) -> Response:
    """Step 2 of the plain form, and the confirmation step when open reports of the same service
    are within 50 m (a second POST with confirmed=1). Same idempotency, throttle, photo intake
    and service.submit as POST /api/v1/reports/multipart."""
    raw = await request.form()
    actor = service.Actor(user=user, device_id=ensure_device(request), ip=ip)
    service_code = _text(raw.get("service_code"))
    found = await repo.service_by_code(session, service_code) if service_code else None
    if found is None or not found.active:
        return await _choose_service_page(
            request,
            session,
            [FormError(_("Choose one of the services in the list."), "service-0")],
            status_code=422,
        )
    locale = locale_of(request)
    questions = questions_of((await repo.attributes_of(session, [found.id]))[found.id], locale)
    form = ReportForm.read(raw, questions)
    if raw.get("action") == "edit":  # back from the confirmation step, to change something
        return await _form_page(request, session, found, user, form)
    data, errors = parse_report(form, found.code, questions, user is not None, settings.time_zone)
    if data is None:
        return await _form_page(request, session, found, user, form, errors, status_code=422)

    key = form.values.get("idempotency_key", "")[:120] or None
    scope = _idempotency_scope(request, actor)
    names = [f"{u.filename}:{u.size}" for u in form.uploads]
    fingerprint = service.request_fingerprint([data.model_dump(mode="json"), names])
    if key:
        try:
            stored = await service.idempotent_replay(session, scope, key, fingerprint)
        except InvalidInput:
            already = FormError(
                _(
                    "This form was already sent, with other details. Check them and send again "
                    "to make a new report."
                ),
                "description",
            )
            return await _form_page(
                request, session, found, user, form, [already], status_code=409, new_key=True
            )
        if stored is not None:
            return _sent_page(request, actor, stored.body, replayed=True)

    if raw.get("confirmed") != "1" and data.lat is not None and data.lon is not None:
        near = await repo.open_reports_near(session, found.id, data.lat, data.lon, NEAR_RADIUS_M)
        if near:
            items = await views.public_list(session, [r for r, _d in near], locale)
            distances = {r.code: round(d) for r, d in near}
            response = render(
                request,
                "reports/near.html",
                {
                    **LABEL_HELPERS,
                    "items": items,
                    "distances": distances,
                    "hidden_fields": form.hidden_fields(),
                    "had_photos": bool(form.uploads),
                    "service_name": found.name(locale),
                    "max_photos": MAX_PHOTOS,
                    "accepted_photos": ACCEPTED_PHOTOS,
                },
            )
            return finish(request, response)

    fields = report_fields(questions)
    try:
        await _throttle_submission(request, settings, actor)
        photos = await _ingest(settings, list(form.uploads))  # type: ignore[arg-type]
    except AppError as exc:
        errors = errors_from(exc, fields)
        return await _form_page(
            request, session, found, user, form, errors, exc.status, exc.headers
        )
    try:
        # A savepoint: a refusal or a lost race undoes the report, and nothing else.
        async with session.begin_nested():
            result = await service.submit(session, settings, actor, data, photos)
            body = _sent_body(result)
            if key and not await service.remember_answer(
                session, scope, key, fingerprint, 201, body
            ):
                raise _Replay
    except _Replay:  # a concurrent send with the same key got there first: show its answer
        await _discard(settings, photos)
        stored = await service.idempotent_replay(session, scope, key or "", fingerprint)
        assert stored is not None
        return _sent_page(request, actor, stored.body, replayed=True)
    except AppError as exc:
        await _discard(settings, photos)
        errors = errors_from(exc, fields)
        return await _form_page(
            request, session, found, user, form, errors, exc.status, exc.headers
        )
    except BaseException:
        await _discard(settings, photos)
        raise
    return _sent_page(request, actor, body)


class _Replay(Exception):
    """Another request with the same idempotency key committed first."""


# Tracking and my reports ------------------------------------------------------------------


def _track_page(
    request: Request,
    code: str = "",
    errors: list[FormError] | None = None,
    status_code: int = 200,
    headers: Mapping[str, str] | None = None,
) -> Response:
    errors = errors or []
    return render(
        request,
        "reports/track.html",
        {"code": code, "errors": errors, "field_errors": field_errors(errors)},
        status_code=status_code,
        headers=headers,
    )


@router.get("/reports/track", response_class=HTMLResponse)
async def track_form(request: Request, user: PageUserOptional) -> Response:
    return _track_page(request)


@router.post("/reports/track", dependencies=csrf)
async def track(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    user: PageUserOptional,
    ip: ClientIP,
    code: Annotated[str, Form(max_length=40)] = "",
    secret: Annotated[str, Form(max_length=128)] = "",
) -> Response:
    """Like POST /api/v1/reports/lookup (the same throttle); on success this browser keeps the
    secret for that report in an HttpOnly cookie, so the owner's actions work on its page."""
    limiter = request.app.state.limiter
    decision = await limiter.hit(
        per_minute(settings.report_lookups_per_minute), "report-lookup", ip
    )
    if not decision.allowed:
        exc = TooManyRequests(decision.retry_after)
        return _track_page(
            request, code, [FormError(_(exc.title))], status_code=429, headers=exc.headers
        )
    code = normalise_code(code)
    secret = secret.strip()
    errors = []
    if not code:
        errors.append(FormError(_("Enter the tracking code, such as ABCD-2345."), "code"))
    if not secret:
        errors.append(FormError(_("Enter the secret you were given with the code."), "secret"))
    if errors:
        return _track_page(request, code, errors, status_code=422)
    report = await repo.report_by_code(session, code)
    if report is None or not service.is_owner(report, service.Actor(secret=secret, ip=ip)):
        return _track_page(
            request,
            code,
            [FormError(_("No report matches this code and secret."), "code")],
            status_code=404,
        )
    response = back_to(f"/reports/{report.code}", "found")
    remember_secret(request, response, report.code, secret)
    return response


@router.get("/account/reports", response_class=HTMLResponse)
async def my_reports(
    request: Request,
    session: SessionDep,
    user: PageUser,
    page: Annotated[int, Query(ge=1, le=100_000)] = 1,
) -> Response:
    rows, total = await repo.reports_of_user(session, user.id, PAGE_SIZE, (page - 1) * PAGE_SIZE)
    items = await views.public_list(session, rows, locale_of(request))
    return render(
        request,
        "reports/mine.html",
        {**LABEL_HELPERS, "items": items, "pager": pager(request, page, PAGE_SIZE, total)},
    )


# One report -------------------------------------------------------------------------------


async def _report_page(
    request: Request,
    session: AsyncSession,
    actor: service.Actor,
    code: str,
    *,
    errors: list[FormError] | None = None,
    form: Mapping[str, str] | None = None,
    status_code: int = 200,
    done: str | None = None,
) -> Response:
    report = await service.get_readable(session, code, actor)
    locale = locale_of(request)
    owner = service.is_owner(report, actor)
    view: Any
    if owner:
        view = await views.full_view(session, report, locale, for_staff=False)
        timeline = view.timeline
    else:
        view = (await views.public_list(session, [report], locale))[0]
        timeline = await views.timeline(session, report, for_staff=False)
    user = actor.user
    supporter_key = (
        f"user:{user.id}" if user else (f"device:{actor.device_id}" if actor.device_id else None)
    )
    status = Status(report.status)
    errors = errors or []
    response = render(
        request,
        "reports/report.html",
        {
            **LABEL_HELPERS,
            "report": view,
            "timeline": timeline,
            "owner": owner,
            "can_work": service.can_work(report, user),
            "is_reporter": user is not None and report.reporter_id == user.id,
            "following": bool(user and await repo.is_following(session, report.id, user.id)),
            "supported": bool(
                supporter_key and await repo.has_supported(session, report.id, supporter_key)
            ),
            "answers": await answers(session, report, locale) if owner else [],
            # The owner edits what they wrote, not the public (masked) text.
            "own_text": {"description": report.description, "address": report.address or ""}
            if owner
            else {},
            "can_edit": owner and status is Status.submitted,
            "can_confirm": owner and status is Status.resolved,
            "can_dispute": owner and status in (Status.resolved, Status.closed),
            "can_rate": owner
            and status in (Status.resolved, Status.closed)
            and report.rating is None,
            "notice": done_message(done),
            "errors": errors,
            "field_errors": field_errors(errors),
            "form": dict(form or {}),
            "accepted_photos": ACCEPTED_PHOTOS,
        },
        status_code=status_code,
    )
    return finish(request, response)


@router.get("/reports/{code}", response_class=HTMLResponse)
async def report_page(
    code: str,
    request: Request,
    session: SessionDep,
    actor: PageActor,
    done: Annotated[str | None, Query(max_length=20)] = None,
) -> Response:
    if code != code.upper():  # one address per report (the owner's cookie is scoped to it)
        return RedirectResponse(f"/reports/{code.upper()}", status_code=301)
    ensure_device(request)
    return await _report_page(request, session, for_report(request, actor, code), code, done=done)


async def _refused(
    request: Request,
    session: AsyncSession,
    actor: service.Actor,
    code: str,
    exc: AppError,
    fields: Mapping[str, tuple[str, str | None]] | None = None,
    form: Mapping[str, str] | None = None,
) -> Response:
    """The service said no (its savepoint is rolled back): the page again, with the reason."""
    return await _report_page(
        request,
        session,
        actor,
        code,
        errors=errors_from(exc, fields or {}),
        form=form,
        status_code=exc.status,
    )


@router.post("/reports/{code}/support", dependencies=csrf)
async def support(
    code: str, request: Request, session: SessionDep, user: PageUserOptional, ip: ClientIP
) -> Response:
    actor = service.Actor(
        user=user,
        device_id=ensure_device(request),
        ip=ip,
        secret=request.cookies.get(secret_cookie(code)),
    )
    report = await service.get_readable(session, code, actor)
    try:
        async with session.begin_nested():
            await service.support(session, actor, report)
    except AppError as exc:
        return finish(request, await _refused(request, session, actor, code, exc))
    return finish(request, back_to(f"/reports/{report.code}", "supported"))


@router.post("/reports/{code}/follow", dependencies=csrf)
async def follow(
    code: str, request: Request, session: SessionDep, user: PageUser, actor: PageActor
) -> Response:
    report = await service.get_readable(session, code, for_report(request, actor, code))
    await service.follow(session, user, report)
    return back_to(f"/reports/{report.code}", "followed")


@router.post("/reports/{code}/unfollow", dependencies=csrf)
async def unfollow(
    code: str, request: Request, session: SessionDep, user: PageUser, actor: PageActor
) -> Response:
    report = await service.get_readable(session, code, for_report(request, actor, code))
    await service.unfollow(session, user, report)
    return back_to(f"/reports/{report.code}", "unfollowed")


@router.post("/reports/{code}/edit", dependencies=csrf)
async def edit(
    code: str,
    request: Request,
    session: SessionDep,
    actor: PageActor,
    description: Annotated[str, Form()] = "",
    address: Annotated[str, Form()] = "",
) -> Response:
    actor = for_report(request, actor, code)
    report = await service.get_owned(session, code, actor)
    form = {"description": description, "address": address}
    try:
        data = ReportEdit(description=description.strip(), address=address.strip() or None)
    except ValidationError:
        error = InvalidInput(
            _(
                "Description: describe the problem in 3 to 5000 characters; the address in at most 500."
            ),
            errors=[{"field": "description", "in": "form", "reason": "invalid"}],
        )
        fields = {"description": ("", "edit-description")}
        return await _refused(request, session, actor, code, error, fields, form)
    try:
        async with session.begin_nested():
            await service.edit(session, actor, report, data)
    except AppError as exc:
        return await _refused(request, session, actor, code, exc, form=form)
    return back_to(f"/reports/{report.code}", "edited")


async def _owner_action(
    request: Request, session: Any, actor: service.Actor, code: str, action: Any, done: str
) -> Response:
    """The reporter's one-button actions: the service decides, the page reports back."""
    actor = for_report(request, actor, code)
    report = await service.get_owned(session, code, actor)
    try:
        async with session.begin_nested():
            await action(session, actor, report)
    except AppError as exc:
        return await _refused(request, session, actor, code, exc)
    return back_to(f"/reports/{report.code}", done)


@router.post("/reports/{code}/withdraw", dependencies=csrf)
async def withdraw(code: str, request: Request, session: SessionDep, actor: PageActor) -> Response:
    return await _owner_action(request, session, actor, code, service.withdraw, "withdrawn")


@router.post("/reports/{code}/confirm", dependencies=csrf)
async def confirm(code: str, request: Request, session: SessionDep, actor: PageActor) -> Response:
    return await _owner_action(request, session, actor, code, service.confirm, "confirmed")


@router.post("/reports/{code}/dispute", dependencies=csrf)
async def dispute(
    code: str,
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    actor: PageActor,
    reason: Annotated[str, Form()] = "",
    photo: Annotated[UploadFile | None, File()] = None,
) -> Response:
    actor = for_report(request, actor, code)
    report = await service.get_owned(session, code, actor)
    form = {"reason": reason}
    fields = {"reason": ("", "dispute-reason"), "photos": ("", "dispute-photo")}
    try:
        checked = ReasonIn(reason=reason.strip())
    except ValidationError:
        error = InvalidInput(
            _("Say what is still wrong, in 3 to 2000 characters."),
            errors=[{"field": "reason", "in": "form", "reason": "invalid"}],
        )
        return await _refused(request, session, actor, code, error, fields, form)
    try:
        photos = await _ingest(settings, [photo] if photo is not None and photo.filename else [])
    except AppError as exc:
        return await _refused(request, session, actor, code, exc, fields, form)
    try:
        async with session.begin_nested():
            await service.dispute(session, actor, report, checked.reason, photos)
    except AppError as exc:
        await _discard(settings, photos)
        return await _refused(request, session, actor, code, exc, fields, form)
    except BaseException:
        await _discard(settings, photos)
        raise
    return back_to(f"/reports/{report.code}", "disputed")


@router.post("/reports/{code}/rating", dependencies=csrf)
async def rate(
    code: str,
    request: Request,
    session: SessionDep,
    actor: PageActor,
    rating: Annotated[str, Form(max_length=4)] = "",
    comment: Annotated[str, Form()] = "",
) -> Response:
    actor = for_report(request, actor, code)
    report = await service.get_owned(session, code, actor)
    form = {"rating": rating, "comment": comment}
    fields = {"rating": ("", "rating-1"), "comment": ("", "rating-comment")}
    try:
        checked = RatingIn(rating=int(rating), comment=comment.strip() or None)
    except (ValueError, ValidationError):
        error = InvalidInput(
            _("Choose a rating from 1 to 5; a comment may have at most 2000 characters."),
            errors=[{"field": "rating", "in": "form", "reason": "invalid"}],
        )
        return await _refused(request, session, actor, code, error, fields, form)
    try:
        async with session.begin_nested():
            await service.rate(session, actor, report, checked.rating, checked.comment)
    except AppError as exc:
        return await _refused(request, session, actor, code, exc, fields, form)
    return back_to(f"/reports/{report.code}", "rated")


# Staff: the queue -------------------------------------------------------------------------


@router.get("/staff/reports", response_class=HTMLResponse)
async def staff_queue(
    request: Request,
    session: SessionDep,
    user: PageStaff,
    status: Annotated[str, Query(max_length=20)] = "",
    ward: Annotated[str, Query(max_length=40)] = "",
    service_code: Annotated[str, Query(alias="service", max_length=40)] = "",
    overdue: Annotated[str, Query(max_length=5)] = "",
    mine: Annotated[str, Query(max_length=5)] = "",
    department: Annotated[str, Query(max_length=40)] = "",
    page: Annotated[int, Query(ge=1, le=100_000)] = 1,
) -> Response:
    """Like GET /api/v1/staff/reports: the department's cases, soonest deadline first."""
    locale = locale_of(request)
    is_manager = user.has_role(Role.manager)
    department_id = user.department_id
    departments = list(await org_repo.list_departments(session)) if is_manager else []
    if department and is_manager:
        chosen = next((d for d in departments if d.code == department), None)
        department_id = chosen.id if chosen else -1
    services = list(await repo.list_services(session, include_inactive=True))
    wards = list(await org_repo.list_wards(session))
    ward_id = next((w.id for w in wards if w.code == ward), -1) if ward else None
    service_id = (
        next((s.id for s in services if s.code == service_code), -1) if service_code else None
    )
    statuses = None
    if status == "open":
        statuses = [s.value for s in OPEN_STATUSES]
    elif status in STATUS_LABELS:
        statuses = [status]
    rows, total = await repo.queue(
        session,
        department_id=department_id,
        statuses=statuses,
        ward_id=ward_id,
        service_id=service_id,
        overdue_at=utcnow() if overdue else None,
        assignee_id=user.id if mine else None,
        limit=QUEUE_PAGE_SIZE,
        offset=(page - 1) * QUEUE_PAGE_SIZE,
    )
    items = await views.queue_items(session, rows, locale)
    department_name = None
    if department_id and department_id > 0:
        found = await org_repo.get_department(session, department_id)
        department_name = found.name(locale) if found else None
    return render(
        request,
        "reports/staff_queue.html",
        {
            **LABEL_HELPERS,
            "items": items,
            "names": await user_names(session, [i.assignee_id for i in items]),
            "services": services,
            "wards": wards,
            "departments": departments,
            "is_manager": is_manager,
            "department_name": department_name,
            "filters": {
                "status": status,
                "ward": ward,
                "service": service_code,
                "overdue": bool(overdue),
                "mine": bool(mine),
                "department": department,
            },
            "status_choices": list(STATUS_LABELS),
            "pager": pager(request, page, QUEUE_PAGE_SIZE, total),
            "locale": locale,
        },
    )


# Staff: one case --------------------------------------------------------------------------


def staff_actor(user: PageStaff, ip: ClientIP) -> service.Actor:
    return service.Actor(user=user, ip=ip)


StaffActor = Annotated[service.Actor, Depends(staff_actor)]

CASE_FIELDS = {
    "status": ("", "status-to"),
    "note": ("", "status-note"),
    "photos": ("", "status-photos"),
    "template_id": ("", "status-template"),
}


async def _case_page(
    request: Request,
    session: AsyncSession,
    actor: service.Actor,
    code: str,
    *,
    errors: list[FormError] | None = None,
    form: Mapping[str, str] | None = None,
    status_code: int = 200,
    done: str | None = None,
) -> Response:
    report = await service.get_workable(session, code, actor)
    user = actor.user
    assert user is not None
    locale = locale_of(request)
    view = await views.full_view(session, report, locale, for_staff=True)
    colleagues, _total = await auth_repo.list_users(
        session, role=None, department_id=report.department_id, limit=500, offset=0
    )
    staff = [u for u in colleagues if u.is_active and u.has_role(Role.staff)]
    templates = await repo.templates_for(
        session, None if user.has_role(Role.manager) else user.department_id
    )
    next_statuses = [
        s.value
        for s in Status
        if s in service.STAFF_TRANSITIONS[Status(report.status)] and s is not Status.duplicate
    ]
    errors = errors or []
    return render(
        request,
        "reports/staff_case.html",
        {
            **LABEL_HELPERS,
            "report": view,
            "answers": await answers(session, report, locale),
            "assignee_name": (await user_names(session, [report.assignee_id])).get(
                report.assignee_id or 0
            ),
            "colleagues": staff,
            "templates": templates,
            "next_statuses": next_statuses,
            "can_merge": Status(report.status) in OPEN_STATUSES,
            "notice": done_message(done),
            "errors": errors,
            "field_errors": field_errors(errors),
            "form": dict(form or {}),
            "accepted_photos": ACCEPTED_PHOTOS,
            "max_photos": MAX_PHOTOS,
        },
        status_code=status_code,
    )


@router.get("/staff/reports/{code}", response_class=HTMLResponse)
async def staff_case(
    code: str,
    request: Request,
    session: SessionDep,
    actor: StaffActor,
    done: Annotated[str | None, Query(max_length=20)] = None,
) -> Response:
    return await _case_page(request, session, actor, code, done=done)


async def _case_refused(
    request: Request,
    session: AsyncSession,
    actor: service.Actor,
    code: str,
    exc: AppError,
    fields: Mapping[str, tuple[str, str | None]],
    form: Mapping[str, str],
) -> Response:
    return await _case_page(
        request,
        session,
        actor,
        code,
        errors=errors_from(exc, fields),
        form=form,
        status_code=exc.status,
    )


def _template_id(raw: str) -> int | None:
    if not raw:
        return None
    try:
        return int(raw)
    except ValueError:
        raise InvalidInput(
            _("There is no such response template."),
            errors=[{"field": "template_id", "in": "form", "reason": "unknown template"}],
        ) from None


@router.post("/staff/reports/{code}/status", dependencies=csrf)
async def staff_change_status(
    code: str,
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    actor: StaffActor,
    to: Annotated[str, Form(alias="status", max_length=20)] = "",
    note: Annotated[str, Form()] = "",
    visibility: Annotated[str, Form(max_length=10)] = "public",
    template_id: Annotated[str, Form(max_length=12)] = "",
    photos: Annotated[list[UploadFile] | None, File()] = None,
) -> Response:
    report = await service.get_workable(session, code, actor)
    form = {
        "status": to,
        "status_note": note,
        "status_visibility": visibility,
        "status_template": template_id,
    }
    try:
        if to not in STATUS_LABELS:
            raise InvalidInput(
                _("Choose the new status."),
                errors=[{"field": "status", "in": "form", "reason": "required"}],
            )
        if len(note) > 5000:
            raise InvalidInput(
                _("Keep the note under 5000 characters."),
                errors=[{"field": "note", "in": "form", "reason": "too long"}],
            )
        chosen_template = _template_id(template_id)
        stored = await _ingest(settings, [p for p in (photos or []) if p.filename])
    except AppError as exc:
        return await _case_refused(request, session, actor, code, exc, CASE_FIELDS, form)
    try:
        async with session.begin_nested():
            await service.change_status(
                session,
                actor,
                report,
                Status(to),
                note.strip() or None,
                visibility != "internal",
                chosen_template,
                locale_of(request),
                proof_photos=stored,
            )
    except AppError as exc:
        await _discard(settings, stored)
        return await _case_refused(request, session, actor, code, exc, CASE_FIELDS, form)
    except BaseException:
        await _discard(settings, stored)
        raise
    return back_to(f"/staff/reports/{report.code}", "status")


@router.post("/staff/reports/{code}/assign", dependencies=csrf)
async def staff_assign(
    code: str,
    request: Request,
    session: SessionDep,
    actor: StaffActor,
    assignee_id: Annotated[str, Form(max_length=12)] = "",
) -> Response:
    report = await service.get_workable(session, code, actor)
    form = {"assignee_id": assignee_id}
    fields = {"assignee_id": ("", "assignee")}
    try:
        chosen = int(assignee_id) if assignee_id else None
    except ValueError:
        chosen = -1
    try:
        async with session.begin_nested():
            await service.assign(session, actor, report, chosen)
    except AppError as exc:
        return await _case_refused(request, session, actor, code, exc, fields, form)
    return back_to(f"/staff/reports/{report.code}", "assigned")


@router.post("/staff/reports/{code}/note", dependencies=csrf)
async def staff_note(
    code: str,
    request: Request,
    session: SessionDep,
    actor: StaffActor,
    note: Annotated[str, Form()] = "",
    visibility: Annotated[str, Form(max_length=10)] = "internal",
    template_id: Annotated[str, Form(max_length=12)] = "",
) -> Response:
    report = await service.get_workable(session, code, actor)
    form = {"note_text": note, "note_visibility": visibility, "note_template": template_id}
    fields = {"note": ("", "note-text"), "template_id": ("", "note-template")}
    try:
        if len(note) > 5000:
            raise InvalidInput(
                _("Keep the note under 5000 characters."),
                errors=[{"field": "note", "in": "form", "reason": "too long"}],
            )
        chosen_template = _template_id(template_id)
        async with session.begin_nested():
            await service.add_note(
                session,
                actor,
                report,
                note.strip() or None,
                visibility == "public",
                chosen_template,
                locale_of(request),
            )
    except AppError as exc:
        return await _case_refused(request, session, actor, code, exc, fields, form)
    return back_to(f"/staff/reports/{report.code}", "noted")


@router.post("/staff/reports/{code}/merge", dependencies=csrf)
async def staff_merge(
    code: str,
    request: Request,
    session: SessionDep,
    actor: StaffActor,
    into_code: Annotated[str, Form(max_length=40)] = "",
    note: Annotated[str, Form()] = "",
) -> Response:
    report = await service.get_workable(session, code, actor)
    form = {"merge_into": into_code, "merge_note": note}
    fields = {"into_code": ("", "merge-into"), "note": ("", "merge-note")}
    try:
        try:
            data = MergeIn(into_code=normalise_code(into_code), note=note.strip() or None)
        except ValidationError:
            raise InvalidInput(
                _("Enter the tracking code of the case to merge into, such as ABCD-2345."),
                errors=[{"field": "into_code", "in": "form", "reason": "invalid"}],
            ) from None
        async with session.begin_nested():
            await service.merge(session, actor, report, data.into_code, data.note)
    except AppError as exc:
        return await _case_refused(request, session, actor, code, exc, fields, form)
    return back_to(f"/staff/reports/{report.code}", "merged")


@router.post("/staff/reports/{code}/hide", dependencies=csrf)
async def staff_hide(
    code: str,
    request: Request,
    session: SessionDep,
    actor: StaffActor,
    reason: Annotated[str, Form()] = "",
) -> Response:
    report = await service.get_workable(session, code, actor)
    form = {"hide_reason": reason}
    fields = {"reason": ("", "hide-reason")}
    try:
        try:
            data = ReasonIn(reason=reason.strip())
        except ValidationError:
            raise InvalidInput(
                _("Give the reason for hiding it, in 3 to 2000 characters."),
                errors=[{"field": "reason", "in": "form", "reason": "invalid"}],
            ) from None
        async with session.begin_nested():
            await service.hide(session, actor, report, data.reason)
    except AppError as exc:
        return await _case_refused(request, session, actor, code, exc, fields, form)
    return back_to(f"/staff/reports/{report.code}", "hidden")
