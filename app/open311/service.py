"""The rules of Open311: partner keys, the catalogue as GeoReport services, partner submissions
(through the reports service, with its routing, questions and deadlines) and the public list of
requests. Flushes, never commits."""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from pydantic import ValidationError
from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.tokens import hash_secret, new_secret
from app.config import Settings
from app.db import utcnow
from app.errors import Conflict, Forbidden, InvalidInput, NotFound
from app.kit.i18n import format_datetime
from app.kit.i18n import gettext as _
from app.kit.pii import mask_pii
from app.open311 import repository as repo
from app.open311.models import KEY_NAME_MAX, Open311Key
from app.reports import repository as reports_repo
from app.reports import service as reports_service
from app.reports import views
from app.reports.models import OPEN_STATUSES, Report, ServiceAttribute, Status
from app.reports.schemas import ReportIn

SPECIFICATION = "http://wiki.open311.org/GeoReport_v2"
CHANGESET = "2026-11-25T00:00:00Z"  # when this endpoint last changed shape
KEY_PREFIX = "o311_"
KEY_NAME = re.compile(rf"^[A-Za-z0-9][A-Za-z0-9._-]{{0,{KEY_NAME_MAX - 1}}}$")
MAX_REQUESTS = 1000
MAX_WINDOW = timedelta(days=90)
CLOSED_STATUSES = frozenset(Status) - OPEN_STATUSES


# Keys --------------------------------------------------------------------------------------


def valid_key_name(name: str) -> bool:
    return bool(KEY_NAME.match(name))


async def create_key(session: AsyncSession, name: str) -> tuple[Open311Key, str]:
    """A new key for a partner; the plain key is returned once and only its hash is stored."""
    if not valid_key_name(name):
        raise InvalidInput(
            _("A key name is 1 to 32 letters, digits, dots, dashes or underscores."),
            errors=[{"field": "name", "in": "body", "reason": _("not a valid key name")}],
        )
    if await repo.active_key_named(session, name) is not None:
        raise Conflict(_("An active key with this name exists. Revoke it first."))
    plain = KEY_PREFIX + new_secret()
    key = Open311Key(name=name, key_hash=hash_secret(plain), created_at=utcnow())
    session.add(key)
    await session.flush()
    return key, plain


async def revoke_key(session: AsyncSession, name: str) -> Open311Key:
    key = await repo.active_key_named(session, name)
    if key is None:
        raise NotFound(_("There is no active key with this name."))
    key.revoked_at = utcnow()
    await session.flush()
    return key


async def list_keys(session: AsyncSession) -> Sequence[Open311Key]:
    return await repo.list_keys(session)


async def authenticate(session: AsyncSession, api_key: str | None) -> Open311Key:
    if not api_key:
        raise Forbidden(_("An api_key is required to send requests."))
    key = await repo.key_by_hash(session, hash_secret(api_key))
    if key is None or not key.active:
        raise Forbidden(_("This api_key is not valid or has been revoked."))
    key.last_used_at = utcnow()
    return key


# Discovery and catalogue -------------------------------------------------------------------


def discovery(settings: Settings, endpoint_url: str) -> dict[str, Any]:
    return {
        "changeset": CHANGESET,
        "contact": _("The Citizen Hub team of the provincial People's Committee."),
        "key_service": _(
            "Ask the Citizen Hub administrators for an API key; it is needed to send requests."
        ),
        "max_requests": MAX_REQUESTS,
        "endpoints": [
            {
                "specification": SPECIFICATION,
                "url": endpoint_url,
                "changeset": CHANGESET,
                "type": "production" if settings.environment == "production" else "test",
                "formats": ["text/xml", "application/json"],
            }
        ],
    }


async def service_list(session: AsyncSession, locale: str) -> list[dict[str, Any]]:
    services = list(await reports_repo.list_services(session))
    attributes = await reports_repo.attributes_of(session, [s.id for s in services])
    return [
        {
            "service_code": s.code,
            "service_name": s.name(locale),
            "description": s.description(locale),
            "metadata": bool(attributes[s.id]),
            "type": "realtime",
            "keywords": s.keywords,
            "group": s.group,
        }
        for s in services
    ]


def _attribute(attribute: ServiceAttribute, locale: str) -> dict[str, Any]:
    english = locale == "en"
    return {
        "variable": True,
        "code": attribute.code,
        "datatype": attribute.datatype,
        "required": attribute.required,
        "datatype_description": (attribute.description_en if english else attribute.description_vi)
        or None,
        "order": attribute.order,
        "description": attribute.label_en if english else attribute.label_vi,
        "values": [
            {"key": v["key"], "name": v["name_en"] if english else v["name_vi"]}
            for v in attribute.values
        ],
    }


async def service_definition(session: AsyncSession, code: str, locale: str) -> dict[str, Any]:
    service = await reports_repo.service_by_code(session, code)
    if service is None or not service.active:
        raise NotFound(_("There is no such service."))
    attributes = (await reports_repo.attributes_of(session, [service.id]))[service.id]
    return {"service_code": service.code, "attributes": [_attribute(a, locale) for a in attributes]}


# Submitting --------------------------------------------------------------------------------

_ATTRIBUTE = re.compile(r"^attribute\[([^\[\]]+)\](\[\])?$")
# Our field -> the partner's field, so errors name what the partner sent.
_SPEC_NAMES = {
    "lon": "long",
    "address": "address_string",
    "reporter_email": "email",
    "reporter_phone": "phone",
    "reporter_name": "first_name",
}


@dataclass
class Submission:
    """A partner's form: the spec's fields (empty ones dropped) and the answers to questions."""

    fields: dict[str, str] = field(default_factory=dict)
    attributes: dict[str, Any] = field(default_factory=dict)

    @property
    def api_key(self) -> str | None:
        return self.fields.get("api_key")


def parse_form(items: Iterable[tuple[str, Any]]) -> Submission:
    """attribute[CODE]=v for one answer; attribute[CODE][]=v, repeated, for several. Fields we do
    not use (jurisdiction_id, address_id, account_id, media_url …) are accepted and ignored."""
    submission = Submission()
    for name, raw in items:
        if not isinstance(raw, str):  # a file in a multipart form: not part of GeoReport v2
            continue
        value = raw.strip()
        match = _ATTRIBUTE.match(name)
        if match:
            code, many = match.group(1), bool(match.group(2))
            if many:
                listed = submission.attributes.setdefault(code, [])
                if not isinstance(listed, list):
                    listed = submission.attributes[code] = [listed]
                if value:
                    listed.append(value)
            elif value:
                previous = submission.attributes.get(code)
                if previous is None:
                    submission.attributes[code] = value
                else:
                    listed = previous if isinstance(previous, list) else [previous]
                    submission.attributes[code] = [*listed, value]
        elif value and name not in submission.fields:
            submission.fields[name] = value
    return submission


def spec_field(field_name: str) -> str:
    if field_name.startswith("attributes."):
        return f"attribute[{field_name.removeprefix('attributes.')}]"
    return _SPEC_NAMES.get(field_name, field_name)


def report_in(submission: Submission) -> ReportIn:
    f = submission.fields
    name = " ".join(p for p in (f.get("first_name"), f.get("last_name")) if p) or None
    try:
        return ReportIn.model_validate(
            {
                "service_code": f.get("service_code", ""),
                "description": f.get("description", ""),
                "lat": f.get("lat"),
                "lon": f.get("long"),
                "address": f.get("address_string"),
                "attributes": submission.attributes,
                "reporter_name": name,
                "reporter_email": f.get("email"),
                "reporter_phone": f.get("phone"),
                "device_id": f.get("device_id"),
            }
        )
    except ValidationError as exc:
        errors = []
        for error in exc.errors():
            loc = ".".join(str(p) for p in error["loc"])
            errors.append(
                {
                    "field": spec_field(loc) if loc else "lat/long",
                    "in": "body",
                    "reason": error["msg"],
                }
            )
        raise InvalidInput(_("Some fields are not valid."), errors=errors) from exc


@dataclass
class Answer:
    items: list[dict[str, Any]]
    status_code: int
    replayed: bool = False


def service_notice(report: Report, settings: Settings) -> str | None:
    if Status(report.status) not in OPEN_STATUSES:
        return None
    return _(
        "Expected to be dealt with by %(deadline)s.",
        deadline=format_datetime(report.deadline_at, settings.time_zone),
    )


async def submit(
    session: AsyncSession,
    settings: Settings,
    key: Open311Key,
    submission: Submission,
    ip: str,
    idempotency_key: str | None,
) -> Answer:
    """Through the same submit as our own API. An Idempotency-Key replays the first answer, as
    POST /api/v1/reports does, scoped to the partner's key."""
    data = report_in(submission)
    scope = f"open311|key:{key.id}"
    fingerprint = reports_service.request_fingerprint(["open311", data.model_dump(mode="json")])
    if idempotency_key:
        stored = await reports_service.idempotent_replay(
            session, scope, idempotency_key, fingerprint
        )
        if stored is not None:
            return Answer(stored.body["service_requests"], stored.status_code, replayed=True)
    source = f"open311:{key.name}"
    try:
        result = await reports_service.submit(
            session, settings, reports_service.Actor(ip=ip), data, None
        )
    except InvalidInput as exc:
        # Name the fields as the partner sent them: attribute[code], long, email …
        exc.errors = [{**e, "field": spec_field(e["field"])} for e in exc.errors or []] or None
        raise
    except Forbidden as exc:
        # A service for signed-in residents only: the partner's key is fine, the choice is not.
        raise InvalidInput(
            _("This service needs a signed-in resident; it cannot be sent through Open311."),
            errors=[
                {
                    "field": "service_code",
                    "in": "body",
                    "reason": _("only signed-in residents may use this service"),
                }
            ],
        ) from exc
    result.report.source = source
    await session.flush()
    items = [
        {
            "service_request_id": result.report.code,
            "service_notice": service_notice(result.report, settings),
            "account_id": None,
        }
    ]
    if idempotency_key and not await reports_service.remember_answer(
        session, scope, idempotency_key, fingerprint, 201, {"service_requests": items}
    ):
        # A concurrent retry with the same key committed first: drop ours, answer with theirs.
        await session.rollback()
        stored = await reports_service.idempotent_replay(
            session, scope, idempotency_key, fingerprint
        )
        assert stored is not None
        return Answer(stored.body["service_requests"], stored.status_code, replayed=True)
    return Answer(items, 201)


# Reading -----------------------------------------------------------------------------------


@dataclass
class RequestQuery:
    codes: list[str] | None = None
    service_codes: list[str] | None = None
    start: datetime | None = None
    end: datetime | None = None
    statuses: list[str] | None = None
    page: int = 1
    page_size: int = MAX_REQUESTS
    extensions: bool = False


def _split(value: str | None) -> list[str]:
    return [p.strip() for p in (value or "").split(",") if p.strip()]


def _date(name: str, value: str | None, errors: list[dict[str, str]]) -> datetime | None:
    if not value:
        return None
    # A "+07:00" offset sent without URL-encoding arrives as " 07:00".
    text = re.sub(r" (\d{2}:?\d{2})$", r"+\1", value.strip())
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        parsed = None
    if parsed is None or parsed.tzinfo is None:
        errors.append(
            {
                "field": name,
                "in": "query",
                "reason": _(
                    "an ISO 8601 date and time with a time zone, e.g. 2026-11-25T08:00:00Z"
                ),
            }
        )
        return None
    return parsed


def _int(
    name: str, value: str | None, default: int, high: int, errors: list[dict[str, str]]
) -> int:
    if not value:
        return default
    try:
        number = int(value)
    except ValueError:
        number = 0
    if not 1 <= number <= high:
        errors.append(
            {
                "field": name,
                "in": "query",
                "reason": _("a whole number from 1 to %(high)s", high=high),
            }
        )
        return default
    return number


def parse_query(
    *,
    service_request_id: str | None,
    service_code: str | None,
    start_date: str | None,
    end_date: str | None,
    status: str | None,
    page: str | None,
    page_size: str | None,
    extensions: str | None,
    now: datetime | None = None,
) -> RequestQuery:
    """Empty parameters count as missing. All problems are reported at once."""
    errors: list[dict[str, str]] = []
    query = RequestQuery()
    query.page = _int("page", page, 1, 100_000, errors)
    query.page_size = _int("page_size", page_size, MAX_REQUESTS, MAX_REQUESTS, errors)
    flag = (extensions or "false").lower()
    if flag not in ("true", "false", "1", "0"):
        errors.append({"field": "extensions", "in": "query", "reason": _("true or false")})
    query.extensions = flag in ("true", "1")
    codes = _split(service_request_id)
    if codes:
        if len(codes) > MAX_REQUESTS:
            errors.append(
                {
                    "field": "service_request_id",
                    "in": "query",
                    "reason": _("at most %(n)s ids", n=MAX_REQUESTS),
                }
            )
        query.codes = list(dict.fromkeys(c.upper() for c in codes))
    else:
        query.service_codes = _split(service_code) or None
        wanted = {s.lower() for s in _split(status)}
        if wanted - {"open", "closed"}:
            errors.append({"field": "status", "in": "query", "reason": _("open or closed")})
        elif wanted == {"open"}:
            query.statuses = sorted(s.value for s in OPEN_STATUSES)
        elif wanted == {"closed"}:
            query.statuses = sorted(s.value for s in CLOSED_STATUSES)
        start = _date("start_date", start_date, errors)
        end = _date("end_date", end_date, errors)
        if start is None and end is None:
            end = now or utcnow()
            start = end - MAX_WINDOW
        elif end is None:
            assert start is not None
            end = start + MAX_WINDOW
        elif start is None:
            start = end - MAX_WINDOW
        if start > end:
            errors.append(
                {
                    "field": "end_date",
                    "in": "query",
                    "reason": _("must not be before start_date"),
                }
            )
        elif end - start > MAX_WINDOW:
            errors.append(
                {
                    "field": "end_date",
                    "in": "query",
                    "reason": _("at most 90 days after start_date"),
                }
            )
        query.start, query.end = start, end
    if errors:
        raise InvalidInput(_("Some parameters are not valid."), errors=errors)
    return query


async def find_requests(session: AsyncSession, query: RequestQuery) -> list[Report]:
    """Public, not hidden reports only. service_request_id overrides every other filter."""
    if query.codes is not None:
        found = await repo.public_reports_by_code(session, query.codes)
        offset = (query.page - 1) * query.page_size
        return found[offset : offset + query.page_size]
    service_ids = None
    if query.service_codes is not None:
        services = [await reports_repo.service_by_code(session, c) for c in query.service_codes]
        service_ids = [s.id for s in services if s is not None]
    rows, _total = await reports_repo.public_reports(
        session,
        bbox=None,
        ward_id=None,
        service_ids=service_ids,
        statuses=query.statuses,
        since=query.start,
        # end_date is the latest time included
        until=query.end + timedelta(microseconds=1) if query.end else None,
        limit=query.page_size,
        offset=(query.page - 1) * query.page_size,
    )
    return list(rows)


async def request_by_id(session: AsyncSession, code: str) -> list[Report]:
    found = await repo.public_reports_by_code(session, [code.strip().upper()])
    if not found:
        raise NotFound(_("There is no public request with this id."))
    return found


async def token_lookup(session: AsyncSession, token: str) -> list[dict[str, str]]:
    """Requests are created at once, so the token we would hand out is the request id itself."""
    code = await repo.report_code(session, token.strip().upper())
    if code is None:
        raise NotFound(_("There is no request for this token."))
    return [{"service_request_id": code, "token": code}]


def _local(value: datetime | None, time_zone: str) -> str | None:
    if value is None:
        return None
    return value.astimezone(ZoneInfo(time_zone)).isoformat(timespec="seconds")


async def request_items(
    session: AsyncSession,
    settings: Settings,
    reports: Sequence[Report],
    locale: str,
    base_url: str,
    *,
    extensions: bool = False,
) -> list[dict[str, Any]]:
    """The spec's fields; never the reporter's contacts, personal data in text masked."""
    views_ = await views.public_list(session, reports, locale)
    notes = await repo.public_notes(session, [r.id for r in reports])
    tz = settings.time_zone
    items = []
    for report, view in zip(reports, views_, strict=True):
        status = Status(report.status)
        report_notes = notes[report.id]
        photo = view.photos[0].url if view.photos else None
        item: dict[str, Any] = {
            "service_request_id": view.code,
            "status": "open" if status in OPEN_STATUSES else "closed",
            "status_notes": mask_pii(report_notes[-1].note or "") if report_notes else None,
            "service_name": view.service_name,
            "service_code": view.service_code,
            "description": view.description,
            "agency_responsible": view.department_name,
            "service_notice": service_notice(report, settings),
            "requested_datetime": _local(view.created_at, tz),
            "updated_datetime": _local(view.updated_at, tz),
            "expected_datetime": _local(view.deadline_at, tz),
            "address": view.address,
            "address_id": None,
            "zipcode": None,
            "lat": view.lat,
            "long": view.lon,
            "media_url": f"{base_url.rstrip('/')}{photo}" if photo else None,
        }
        if extensions:
            item["extended_attributes"] = {
                "detailed_status": status.value,
                "notes": [
                    {
                        "datetime": _local(e.created_at, tz),
                        "status": e.to_status,
                        "description": mask_pii(e.note or ""),
                    }
                    for e in report_notes
                ],
            }
        items.append(item)
    return items
