"""Jinja2 rendering with the request's language, preferences, CSRF token and signed-in user."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from fastapi import Request
from fastapi.templating import Jinja2Templates
from starlette.responses import HTMLResponse, Response
from starlette.types import Scope

from app.kit import i18n
from app.kit.csrf import CSRF_COOKIE, CSRF_FIELD, csrf_token
from app.kit.prefs import PREFS_COOKIE, Preferences

TEMPLATES_DIR = Path(__file__).resolve().parent.parent / "templates"
templates = Jinja2Templates(directory=str(TEMPLATES_DIR))
templates.env.add_extension("jinja2.ext.i18n")
templates.env.policies["ext.i18n.trimmed"] = True


def _with_lang(request: Request, lang: str) -> str:
    params = dict(request.query_params)
    params["lang"] = lang
    return f"{request.url.path}?{urlencode(params)}"


def page_context(request: Request) -> dict[str, Any]:
    locale = getattr(request.state, "locale", i18n.get_locale())
    translations = i18n.get_translations(locale)
    settings = request.app.state.settings
    prefs = Preferences.from_cookie(request.cookies.get(PREFS_COOKIE))
    return {
        "request": request,
        "locale": locale,
        "gettext": translations.gettext,
        "ngettext": translations.ngettext,
        "_": translations.gettext,
        "prefs": prefs,
        "csrf_field": CSRF_FIELD,
        "csrf_token": csrf_token(request),
        "current_user": getattr(request.state, "user", None),
        # Read when the user was loaded: an error page renders after a rollback expired it.
        "current_role": getattr(request.state, "user_role", None),
        "languages": [(code, i18n.language_name(code)) for code in i18n.SUPPORTED_LOCALES],
        "lang_url": lambda code: _with_lang(request, code),
        "format_datetime": lambda v: i18n.format_datetime(v, settings.time_zone, locale),
        "format_date": lambda v: i18n.format_date(v, locale),
        "format_number": lambda v: i18n.format_number(v, locale),
        "format_money": lambda v: i18n.format_money(v, locale),
    }


def finish(request: Request, response: Response) -> Response:
    """Set cookies the rendering decided on (a new CSRF seed)."""
    seed = getattr(request.state, "new_csrf_seed", None)
    if seed:
        response.set_cookie(
            CSRF_COOKIE,
            seed,
            httponly=True,
            secure=cookie_secure(request),
            samesite="lax",
            path="/",
        )
    return response


def cookie_secure(request: Request) -> bool:
    return request.url.scheme == "https" or not request.app.state.settings.is_development


def render(
    request: Request,
    name: str,
    context: Mapping[str, Any] | None = None,
    status_code: int = 200,
    headers: Mapping[str, str] | None = None,
) -> Response:
    ctx = page_context(request)
    if context:
        ctx.update(context)
    response = templates.TemplateResponse(
        request, name, ctx, status_code=status_code, headers=dict(headers or {})
    )
    response.headers.setdefault("Cache-Control", "no-store")
    return finish(request, response)


def render_error_page(
    scope: Scope,
    status: int,
    title: str,
    detail: str | None,
    errors: list[dict[str, str]] | None,
    headers: Mapping[str, str],
) -> Response:
    request = Request(scope)
    if "app" not in scope:
        return HTMLResponse(f"<h1>{status}</h1>", status_code=status, headers=dict(headers))
    return render(
        request,
        "errors/error.html",
        {"status": status, "title": title, "detail": detail, "errors": errors or []},
        status_code=status,
        headers=headers,
    )
