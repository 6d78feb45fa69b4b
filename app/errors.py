"""Domain errors, mapped once to HTTP: RFC 9457 problem+json under /api, a readable page elsewhere."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from http import HTTPStatus
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.types import Scope

from app.kit.context import request_id_var
from app.kit.i18n import N_
from app.kit.i18n import gettext as _

logger = logging.getLogger("citizenhub.errors")

PROBLEM_JSON = "application/problem+json"
API_PREFIXES = ("/api/", "/open311/")


class AppError(Exception):
    """Base of every domain error. Subclasses set status and a translatable title."""

    status: int = 400
    code: str = "bad-request"
    title: str = "The request could not be processed."

    def __init__(
        self,
        detail: str | None = None,
        *,
        errors: list[dict[str, str]] | None = None,
        headers: Mapping[str, str] | None = None,
        **extra: Any,
    ) -> None:
        super().__init__(detail or self.title)
        self.detail = detail
        self.errors = errors
        self.headers = dict(headers or {})
        self.extra = extra


class BadRequest(AppError):
    pass


class InvalidInput(AppError):
    status = 422
    code = "invalid-input"
    title = N_("Some fields are not valid.")


class NotAuthenticated(AppError):
    status = 401
    code = "not-authenticated"
    title = N_("You need to sign in.")

    def __init__(self, detail: str | None = None, **kwargs: Any) -> None:
        kwargs.setdefault("headers", {"WWW-Authenticate": "Bearer"})
        super().__init__(detail, **kwargs)


class InvalidCredentials(NotAuthenticated):
    code = "invalid-credentials"
    title = N_("The account or the password is not right.")


class InvalidToken(NotAuthenticated):
    code = "invalid-token"
    title = N_("Your sign-in has expired or is not valid. Please sign in again.")


class Forbidden(AppError):
    status = 403
    code = "forbidden"
    title = N_("You are not allowed to do this.")


class CsrfFailed(Forbidden):
    code = "csrf-failed"
    title = N_("This form has expired. Please go back, reload the page and try again.")


class NotFound(AppError):
    status = 404
    code = "not-found"
    title = N_("We could not find what you asked for.")


class Conflict(AppError):
    status = 409
    code = "conflict"
    title = N_("This conflicts with something that already exists.")


class PayloadTooLarge(AppError):
    status = 413
    code = "payload-too-large"
    title = N_("What you sent is too large.")


class TooManyRequests(AppError):
    status = 429
    code = "too-many-requests"
    title = N_("Too many attempts. Please wait and try again.")

    def __init__(self, retry_after: int, detail: str | None = None, **kwargs: Any) -> None:
        retry_after = max(1, int(retry_after))
        kwargs.setdefault("headers", {"Retry-After": str(retry_after)})
        super().__init__(detail, retry_after=retry_after, **kwargs)
        self.retry_after = retry_after


class ServiceUnavailable(AppError):
    status = 503
    code = "unavailable"
    title = N_("The service is not ready. Please try again shortly.")


# Rendering --------------------------------------------------------------------------------


def current_request_id(scope: Scope) -> str | None:
    state = scope.get("state") or {}
    return state.get("request_id") or request_id_var.get()


def wants_problem_json(scope: Scope) -> bool:
    path: str = scope.get("path", "")
    if path.startswith(API_PREFIXES) or path in ("/healthz", "/readyz"):
        return True
    accept = ""
    for name, value in scope.get("headers", []):
        if name == b"accept":
            accept = value.decode("latin-1")
    return "json" in accept and "text/html" not in accept


def problem_body(
    scope: Scope,
    status: int,
    code: str,
    title: str,
    detail: str | None = None,
    errors: list[dict[str, str]] | None = None,
    extra: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    body: dict[str, Any] = {
        "type": f"/problems/{code}",
        "title": title,
        "status": status,
        "detail": detail or title,
        "instance": scope.get("path", ""),
    }
    request_id = current_request_id(scope)
    if request_id:
        body["request_id"] = request_id
    if errors:
        body["errors"] = errors
    if extra:
        body.update({k: v for k, v in extra.items() if k not in body})
    return body


def render_error(
    scope: Scope,
    status: int,
    code: str,
    title: str,
    detail: str | None = None,
    *,
    errors: list[dict[str, str]] | None = None,
    headers: Mapping[str, str] | None = None,
    extra: Mapping[str, Any] | None = None,
) -> Response:
    all_headers = dict(headers or {})
    request_id = current_request_id(scope)
    if request_id:
        all_headers.setdefault("X-Request-ID", request_id)
    if wants_problem_json(scope):
        body = problem_body(scope, status, code, title, detail, errors, extra)
        return JSONResponse(body, status_code=status, headers=all_headers, media_type=PROBLEM_JSON)
    from app.kit.templating import render_error_page  # templates import errors: import late

    return render_error_page(scope, status, title, detail, errors, all_headers)


def render_app_error(scope: Scope, exc: AppError) -> Response:
    if isinstance(exc, NotAuthenticated) and not wants_problem_json(scope):
        from urllib.parse import quote

        target = scope.get("path", "/")
        if scope.get("method") != "GET":
            target = "/"
        return RedirectResponse(f"/login?next={quote(target)}", status_code=303)
    return render_error(
        scope,
        exc.status,
        exc.code,
        _(exc.title),
        exc.detail,
        errors=exc.errors,
        headers=exc.headers,
        extra=exc.extra,
    )


def _field_name(loc: tuple[Any, ...] | list[Any]) -> str:
    parts = [str(p) for p in loc if p not in ("body", "query", "path", "header", "cookie", "form")]
    return ".".join(parts) or ".".join(str(p) for p in loc)


def validation_errors(exc: RequestValidationError) -> list[dict[str, str]]:
    out = []
    for error in exc.errors():
        loc = error.get("loc", ())
        out.append(
            {
                "field": _field_name(loc),
                "in": str(loc[0]) if loc else "body",
                "reason": str(error.get("msg", "invalid")),
            }
        )
    return out


async def _app_error_handler(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, AppError)
    return render_app_error(request.scope, exc)


async def _validation_handler(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, RequestValidationError)
    errors = validation_errors(exc)
    detail = "; ".join(f"{e['field']}: {e['reason']}" for e in errors)
    return render_error(
        request.scope, 422, "invalid-input", _(InvalidInput.title), detail, errors=errors
    )


_HTTP_TITLES = {
    404: NotFound.title,
    405: N_("This method is not allowed here."),
    401: NotAuthenticated.title,
    403: Forbidden.title,
}


async def _http_handler(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, StarletteHTTPException)
    status = exc.status_code
    phrase = HTTPStatus(status).phrase if status in HTTPStatus._value2member_map_ else "Error"
    title = _(_HTTP_TITLES.get(status, phrase))
    detail = exc.detail if isinstance(exc.detail, str) and exc.detail != phrase else None
    code = phrase.lower().replace(" ", "-")
    return render_error(request.scope, status, code, title, detail, headers=exc.headers)


async def _unhandled_handler(request: Request, exc: Exception) -> Response:
    logger.exception("unhandled error", extra={"path": request.url.path, "method": request.method})
    title = _("Something went wrong on our side. It has been logged; please try again later.")
    return render_error(request.scope, 500, "internal-error", title)


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(AppError, _app_error_handler)
    app.add_exception_handler(RequestValidationError, _validation_handler)
    app.add_exception_handler(StarletteHTTPException, _http_handler)
    app.add_exception_handler(Exception, _unhandled_handler)
