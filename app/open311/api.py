"""Open311 GeoReport v2 over HTTP: every address ends in .json or .xml, errors are the spec's
[{code, description}] list in the same format (never problem+json), POST takes a form."""

from __future__ import annotations

import logging
from collections.abc import Callable, Coroutine
from typing import Annotated, Any
from urllib.parse import parse_qsl

from fastapi import APIRouter, Header, Path, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.routing import APIRoute
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import Response
from starlette.routing import Match

from app.auth.deps import ClientIP, SettingsDep
from app.db import SessionDep
from app.errors import AppError, Forbidden, InvalidInput, NotAuthenticated, validation_errors
from app.kit.i18n import gettext as _
from app.kit.i18n import locale_of
from app.open311 import render, service
from app.open311.render import FORMATS, Format

logger = logging.getLogger("citizenhub.open311")
PREFIX = "/open311/v2"


def _format_of(request: Request) -> Format:
    asked = request.path_params.get("format") or request.url.path.rpartition(".")[2]
    for fmt in FORMATS:
        if asked == fmt:
            return fmt
    # No usable suffix: answer in what the client says it reads.
    return "xml" if "xml" in request.headers.get("accept", "") else "json"


def _status_of(error: AppError) -> int:
    """The spec answers 400, 403 or 404; rate limits and outages keep their own status."""
    if isinstance(error, Forbidden | NotAuthenticated):
        return 403
    if error.status in (404, 413, 429, 503):
        return error.status
    return 400 if error.status < 500 else error.status


def _descriptions(error: AppError) -> list[str]:
    if error.errors:
        return [f"{e['field']}: {e['reason']}" for e in error.errors]
    return [str(error.detail or _(error.title))]


def error_response(request: Request, error: Exception) -> Response:
    fmt = _format_of(request)
    if isinstance(error, RequestValidationError):
        problems = validation_errors(error)
        if any(p["field"] == "format" and p["in"] == "path" for p in problems):
            return render.errors(fmt, 404, [_("Ask for .json or .xml.")])
        return render.errors(fmt, 400, [f"{p['field']}: {p['reason']}" for p in problems])
    if isinstance(error, AppError):
        headers = {k: v for k, v in error.headers.items() if k.lower() != "www-authenticate"}
        return render.errors(fmt, _status_of(error), _descriptions(error), headers)
    if isinstance(error, StarletteHTTPException):
        status = error.status_code if error.status_code in (403, 404, 405) else 400
        detail = error.detail if isinstance(error.detail, str) else ""
        return render.errors(fmt, status, [detail or _("The request could not be processed.")])
    logger.exception("unhandled error", extra={"path": request.url.path})
    return render.errors(
        fmt, 500, [_("Something went wrong on our side. It has been logged; please try again.")]
    )


class Open311Route(APIRoute):
    """Errors answer in the Open311 shape here, not through the app's problem+json handlers.
    They are caught outside the endpoint, so the session dependency has rolled back first."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def open311_handler(request: Request) -> Response:
            try:
                return await handler(request)
            except Exception as exc:
                return error_response(request, exc)

        return open311_handler


router = APIRouter(prefix=PREFIX, tags=["open311"], route_class=Open311Route)

FormatPath = Annotated[Format, Path(description="The answer's format: json or xml")]
Jurisdiction = Annotated[
    str | None, Query(description="Accepted and ignored: this endpoint serves one province")
]
_FORMATS_DOC: dict[int | str, dict[str, Any]] = {
    200: {"content": {"application/json": {}, "text/xml": {}}},
    400: {"description": "Invalid parameters: [{code, description}], one per field"},
    404: {"description": "Unknown address, format or id: [{code, description}]"},
}


def _endpoint_url(request: Request) -> str:
    return f"{str(request.base_url).rstrip('/')}{PREFIX}"


@router.get("/discovery.{format}", summary="Open311 service discovery", responses=_FORMATS_DOC)
async def discovery(
    format: FormatPath,
    request: Request,
    settings: SettingsDep,
    jurisdiction_id: Jurisdiction = None,
) -> Response:
    """Where this endpoint is, which specification and formats it speaks, how to get a key."""
    return render.answer(format, "discovery", service.discovery(settings, _endpoint_url(request)))


@router.get("/services.{format}", summary="Open311 service list", responses=_FORMATS_DOC)
async def services(
    format: FormatPath, request: Request, session: SessionDep, jurisdiction_id: Jurisdiction = None
) -> Response:
    """Every active service: code, name and description in the request's language (?lang= or
    Accept-Language), `metadata` true when it has questions, keywords and group."""
    return render.answer(
        format, "services", await service.service_list(session, locale_of(request))
    )


@router.get(
    "/services/{service_code}.{format}",
    summary="Open311 service definition (its questions)",
    responses=_FORMATS_DOC,
)
async def service_definition(
    service_code: str,
    format: FormatPath,
    request: Request,
    session: SessionDep,
    jurisdiction_id: Jurisdiction = None,
) -> Response:
    """The questions (attributes) to answer with `attribute[code]` when sending a request."""
    definition = await service.service_definition(session, service_code, locale_of(request))
    return render.answer(format, "service_definition", definition)


_POST_FIELDS: dict[str, dict[str, Any]] = {
    "api_key": {"type": "string", "description": "Issued by the administrators (required)"},
    "jurisdiction_id": {"type": "string", "description": "Accepted and ignored"},
    "service_code": {"type": "string", "description": "From services.json (required)"},
    "lat": {"type": "number", "description": "WGS84 latitude, with long"},
    "long": {"type": "number", "description": "WGS84 longitude, with lat"},
    "address_string": {"type": "string", "description": "Address or landmark"},
    "address_id": {"type": "string", "description": "Accepted and ignored"},
    "email": {"type": "string", "description": "Reporter's e-mail (never published)"},
    "device_id": {"type": "string", "description": "8-64 of A-Z a-z 0-9 . _ : -"},
    "account_id": {"type": "string", "description": "Accepted and ignored"},
    "first_name": {"type": "string", "description": "Never published"},
    "last_name": {"type": "string", "description": "Never published"},
    "phone": {"type": "string", "description": "Vietnamese mobile number (never published)"},
    "description": {"type": "string", "description": "What is wrong (3-5000 characters)"},
    "media_url": {"type": "string", "description": "Accepted and ignored"},
}
_POST_BODY = {
    "requestBody": {
        "required": True,
        "content": {
            media: {
                "schema": {
                    "type": "object",
                    "properties": _POST_FIELDS,
                    "required": ["api_key", "service_code", "description"],
                    "patternProperties": {
                        r"^attribute\[[^\]]+\](\[\])?$": {
                            "type": "string",
                            "description": "attribute[CODE]=answer; attribute[CODE][]=answer, "
                            "repeated, for a multivaluelist",
                        }
                    },
                }
            }
            for media in ("application/x-www-form-urlencoded", "multipart/form-data")
        },
    }
}


@router.post(
    "/requests.{format}",
    status_code=201,
    summary="Open311: send a service request (partners, with an api_key)",
    responses={
        201: {"content": {"application/json": {}, "text/xml": {}}},
        400: _FORMATS_DOC[400],
        403: {"description": "api_key missing, unknown or revoked"},
    },
    openapi_extra=_POST_BODY,
)
async def create_request(
    format: FormatPath,
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    ip: ClientIP,
    idempotency_key: Annotated[
        str | None,
        Header(
            alias="Idempotency-Key",
            max_length=120,
            description="Resending with the same key returns the first answer, creates nothing",
        ),
    ] = None,
) -> Response:
    """Form-encoded as the spec says. It goes through the same rules as our own API (routing by
    ward, questions, deadlines); the answer is [{service_request_id, service_notice,
    account_id}], the id being the report's tracking code."""
    submission = service.parse_form(await _form_items(request))
    if not submission.api_key and request.query_params.get("api_key"):
        submission.fields["api_key"] = request.query_params["api_key"]
    key = await service.authenticate(session, submission.api_key)
    result = await service.submit(session, settings, key, submission, ip, idempotency_key)
    headers = {"Idempotent-Replayed": "true"} if result.replayed else None
    return render.answer(
        format, "service_requests", result.items, status_code=result.status_code, headers=headers
    )


@router.get(
    "/requests.{format}", summary="Open311: public service requests", responses=_FORMATS_DOC
)
async def list_requests(
    format: FormatPath,
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    service_request_id: Annotated[
        str | None, Query(description="Ids, comma-separated; overrides every other filter")
    ] = None,
    service_code: Annotated[str | None, Query(description="Service codes, comma-separated")] = None,
    start_date: Annotated[
        str | None, Query(description="Earliest requested_datetime, ISO 8601 with a time zone")
    ] = None,
    end_date: Annotated[
        str | None,
        Query(description="Latest requested_datetime; at most 90 days after start_date"),
    ] = None,
    status: Annotated[str | None, Query(description="open, closed, or open,closed")] = None,
    page: Annotated[str | None, Query(description="1-based page (extension)")] = None,
    page_size: Annotated[
        str | None, Query(description="Requests per page, at most 1000 (extension)")
    ] = None,
    extensions: Annotated[
        str | None,
        Query(description="true adds extended_attributes: our detailed status and public notes"),
    ] = None,
    jurisdiction_id: Jurisdiction = None,
) -> Response:
    """Public reports only, newest first; by default those of the last 90 days, at most 1000.
    Contacts are never included; personal data typed into the text is masked."""
    query = service.parse_query(
        service_request_id=service_request_id,
        service_code=service_code,
        start_date=start_date,
        end_date=end_date,
        status=status,
        page=page,
        page_size=page_size,
        extensions=extensions,
    )
    reports = await service.find_requests(session, query)
    items = await service.request_items(
        session,
        settings,
        reports,
        locale_of(request),
        str(request.base_url),
        extensions=query.extensions,
    )
    return render.answer(format, "service_requests", items)


@router.get(
    "/requests/{service_request_id}.{format}",
    summary="Open311: one public service request",
    responses=_FORMATS_DOC,
)
async def get_request(
    service_request_id: str,
    format: FormatPath,
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    extensions: Annotated[
        str | None, Query(description="true adds extended_attributes (see requests)")
    ] = None,
    jurisdiction_id: Jurisdiction = None,
) -> Response:
    flag = (extensions or "false").lower()
    if flag not in ("true", "false", "1", "0"):
        raise InvalidInput(
            errors=[{"field": "extensions", "in": "query", "reason": _("true or false")}]
        )
    reports = await service.request_by_id(session, service_request_id)
    items = await service.request_items(
        session,
        settings,
        reports,
        locale_of(request),
        str(request.base_url),
        extensions=flag in ("true", "1"),
    )
    return render.answer(format, "service_requests", items)


@router.get(
    "/tokens/{token}.{format}",
    summary="Open311: the request id for a token",
    responses=_FORMATS_DOC,
)
async def token(
    token: str, format: FormatPath, session: SessionDep, jurisdiction_id: Jurisdiction = None
) -> Response:
    """Requests are created at once ("realtime"), so no token is ever handed out: the token of a
    request is its id, and this answers [{service_request_id, token}] with both the same."""
    return render.answer(format, "service_requests", await service.token_lookup(session, token))


async def _form_items(request: Request) -> list[tuple[str, Any]]:
    """The spec assumes UTF-8 everywhere; Starlette reads raw bytes of a urlencoded body as
    Latin-1, so that body is decoded here (percent-escapes as UTF-8 too)."""
    content_type = request.headers.get("content-type", "")
    if content_type.startswith("application/x-www-form-urlencoded"):
        body = await request.body()
        try:
            return parse_qsl(
                body.decode("utf-8"), keep_blank_values=True, errors="strict", max_num_fields=1000
            )
        except ValueError as exc:  # UnicodeDecodeError included
            raise InvalidInput(_("The request is not valid UTF-8 form data.")) from exc
    form = await request.form()
    return list(form.multi_items())


_ALL_METHODS = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]


@router.api_route("/{rest:path}", methods=_ALL_METHODS, include_in_schema=False)
async def unknown(request: Request) -> Response:
    """Anything else under /open311/v2 answers in the Open311 shape too."""
    allowed: set[str] = set()
    for route in router.routes:
        if isinstance(route, APIRoute) and route.endpoint is not unknown:
            match, _child = route.matches(request.scope)
            if match is Match.PARTIAL:
                allowed |= route.methods or set()
    if allowed:
        return render.errors(
            _format_of(request),
            405,
            [_("This method is not allowed here.")],
            headers={"Allow": ", ".join(sorted(allowed))},
        )
    return render.errors(_format_of(request), 404, [_("We could not find what you asked for.")])
