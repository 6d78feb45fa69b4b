"""Public pages of dossiers (hồ sơ): tracking one by its code and a second factor (the last four
digits of the applicant's phone or the PIN on the receipt), its status page (the due date in
words, the paused clock and what is missing, lateness written out, the public history, rating
and following), and the dossiers a signed-in person follows. Plain forms, CSRF checked, no
JavaScript needed. Every rule is the service's (app.dossiers.service), as for the JSON API.

Proof for this browser: a successful lookup sets a short-lived HttpOnly cookie scoped to the
dossier's page, an HMAC over the code, the dossier and an expiry time (never the factor itself),
so the status page, rating and following work for a while without asking again and the factor
never appears in an address."""

from __future__ import annotations

import hashlib
import hmac
import math
import time
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Any
from urllib.parse import quote, urlencode
from zoneinfo import ZoneInfo

from babel.dates import format_date as babel_date
from babel.dates import format_datetime as babel_datetime
from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import ValidationError
from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.deps import (
    ClientIP,
    HasherDep,
    LimiterDep,
    PageUser,
    PageUserOptional,
    SettingsDep,
)
from app.auth.models import User
from app.db import SessionDep
from app.dossiers import repository as repo
from app.dossiers import service, views
from app.dossiers.models import Dossier
from app.dossiers.schemas import CODE_MAX, FactorIn, RatingIn, normalise_code
from app.errors import AppError, InvalidInput, NotFound, TooManyRequests
from app.kit.csrf import verify_csrf
from app.kit.i18n import N_, locale_of, ngettext
from app.kit.i18n import gettext as _
from app.kit.templating import cookie_secure, render
from app.procedures.pages import Shown, shown
from app.reports.pages import FormError, errors_from, field_errors, pager

router = APIRouter(include_in_schema=False)
csrf = [Depends(verify_csrf)]

PAGE_SIZE = 20
PROOF_COOKIE_PREFIX = "ch_dossier_"  # + code, path /dossiers/<code>
PROOF_MINUTES = 60
SCORES = (1, 2, 3, 4, 5)
SCORE_LABELS: dict[int, str] = {
    1: N_("1: very dissatisfied"),
    2: N_("2: dissatisfied"),
    3: N_("3: neither satisfied nor dissatisfied"),
    4: N_("4: satisfied"),
    5: N_("5: very satisfied"),
}
# What a redirect after a successful form says (?done=...): fixed texts, nothing reflected.
DONE_MESSAGES: dict[str, str] = {
    "found": N_("We found your dossier. This browser will show it for the next hour."),
    "rated": N_("Thank you for rating the service."),
    "followed": N_("You follow this dossier. We will tell you when something changes."),
    "unfollowed": N_("You no longer follow this dossier."),
}


def done_message(done: str | None) -> str | None:
    return _(DONE_MESSAGES[done]) if done in DONE_MESSAGES else None


# Times in words --------------------------------------------------------------------------


def moment_text(value: datetime | None, time_zone: str, locale: str) -> str:
    """ "17:00 thứ Tư, 17/02/2027" (vi) or "5:00 PM on Wednesday 17 February 2027" (en)."""
    if value is None:
        return ""
    local = value.astimezone(ZoneInfo(time_zone))
    if locale == "vi":
        weekday = babel_date(local.date(), "EEEE", locale="vi")
        weekday = weekday[:1].lower() + weekday[1:]  # "thứ Tư" in the middle of a sentence
        return f"{local:%H:%M} {weekday}, {local:%d/%m/%Y}"
    return babel_datetime(local, "h:mm a 'on' EEEE d MMMM yyyy", locale=locale)


def day_text(value: datetime | None, time_zone: str, locale: str) -> str:
    """ "17/02/2027" in either language: short enough for a table cell."""
    if value is None:
        return ""
    return value.astimezone(ZoneInfo(time_zone)).strftime("%d/%m/%Y")


def overdue_text(item: Mapping[str, Any]) -> str:
    if not item.get("overdue"):
        return ""
    days = int(item.get("overdue_working_days") or 0)
    if days <= 0:
        return _("Overdue: the due time has passed")
    return ngettext(
        "Overdue by %(num)s working day", "Overdue by %(num)s working days", days, num=days
    )


def remaining_text(days: int | None) -> str:
    if days is None:
        return ""
    return ngettext(
        "%(num)s working day will be left when the documents arrive.",
        "%(num)s working days will be left when the documents arrive.",
        days,
        num=days,
    )


def event_what(event: Mapping[str, Any]) -> str:
    if event.get("to_status"):
        if event.get("from_status") is None:
            return _("Dossier received")
        return _("Status: %(status)s", status=views.status_label(event["to_status"]))
    return _("Note from the office")


def helpers(request: Request) -> dict[str, Any]:
    """Functions the dossier templates call."""
    settings = request.app.state.settings
    locale = locale_of(request)
    return {
        "when": lambda v: moment_text(v, settings.time_zone, locale),
        "day": lambda v: day_text(v, settings.time_zone, locale),
        "overdue_text": overdue_text,
        "remaining_text": remaining_text,
        "event_what": event_what,
        "status_label": views.status_label,
    }


async def names_of(
    session: AsyncSession, dossier: Dossier, locale: str
) -> tuple[Shown, Shown | None]:
    """The procedure's and the agency's names, with a lang= when they fall back to another
    language than the page's."""
    procedure, agency = (await repo.procedures_of(session, [dossier.procedure_id])).get(
        dossier.procedure_id, (None, None)
    )
    return (
        shown(procedure.name if procedure else {}, locale),
        shown(agency.name, locale) if agency else None,
    )


# Proof of the second factor, for this browser --------------------------------------------


def proof_cookie(code: str) -> str:
    return PROOF_COOKIE_PREFIX + code


def _proof_mac(secret_key: str, dossier: Dossier, expires: int) -> str:
    message = f"dossier-proof|{dossier.code}|{dossier.id}|{expires}".encode()
    return hmac.new(secret_key.encode(), message, hashlib.sha256).hexdigest()


def remember_proof(request: Request, response: Response, dossier: Dossier) -> None:
    expires = int(time.time()) + PROOF_MINUTES * 60
    secret_key = request.app.state.settings.secret_key
    response.set_cookie(
        proof_cookie(dossier.code),
        f"{expires}.{_proof_mac(secret_key, dossier, expires)}",
        max_age=PROOF_MINUTES * 60,
        httponly=True,
        secure=cookie_secure(request),
        samesite="lax",
        path=f"/dossiers/{dossier.code}",
    )


def has_proof(request: Request, dossier: Dossier) -> bool:
    value = request.cookies.get(proof_cookie(dossier.code), "")
    expires_text, _dot, mac = value.partition(".")
    if not expires_text.isdigit() or int(expires_text) < time.time():
        return False
    expected = _proof_mac(request.app.state.settings.secret_key, dossier, int(expires_text))
    return hmac.compare_digest(mac, expected)


@dataclass(frozen=True)
class Access:
    dossier: Dossier
    proof: bool  # this browser proved the second factor a moment ago
    linked: bool  # the signed-in person follows it, or it was registered to their account


async def access(
    request: Request, session: AsyncSession, user: User | None, code: str
) -> Access | None:
    """The dossier if this browser may see it: with a fresh proof, or as a follower. None for an
    unknown code and for a dossier this browser may not see alike."""
    try:
        dossier = await service.get(session, code)
    except NotFound:
        return None
    proof = has_proof(request, dossier)
    linked = user is not None and (
        await service.get_followed_or_none(session, user, dossier.code) is not None
    )
    if not (proof or linked):
        return None
    return Access(dossier, proof, linked)


def to_lookup(code: str) -> RedirectResponse:
    clean = normalise_code(code)[:CODE_MAX]
    return RedirectResponse(f"/dossiers/lookup?{urlencode({'code': clean})}", status_code=303)


def back_to(code: str, done: str) -> RedirectResponse:
    return RedirectResponse(f"/dossiers/{code}?{urlencode({'done': done})}", status_code=303)


# Looking a dossier up --------------------------------------------------------------------

LOOKUP_FIELDS = {"code": "code", "phone_last4": "phone_last4", "pin": "pin"}


def _lookup_page(
    request: Request,
    values: Mapping[str, str] | None = None,
    errors: list[FormError] | None = None,
    *,
    status_code: int = 200,
    headers: Mapping[str, str] | None = None,
    throttled_minutes: int | None = None,
) -> Response:
    errors = errors or []
    return render(
        request,
        "dossiers/lookup.html",
        {
            "values": dict(values or {}),
            "errors": errors,
            "field_errors": field_errors(errors),
            "throttled_minutes": throttled_minutes,
        },
        status_code=status_code,
        headers=headers,
    )


def factor_errors(exc: ValidationError) -> list[FormError]:
    messages = {
        "code": _("Enter the dossier code printed on the receipt, such as YB-261126-0042."),
        "phone_last4": _("Enter exactly 4 digits: the last 4 of the phone number."),
        "pin": _("Enter the 6-digit PIN printed on the receipt."),
    }
    out: list[FormError] = []
    for error in exc.errors():
        loc = [str(p) for p in error.get("loc", ())]
        name = loc[0] if loc else ""
        if name in messages:
            out.append(FormError(messages[name], LOOKUP_FIELDS[name]))
        else:  # the model check: no factor at all
            out.append(
                FormError(
                    _("Enter the last 4 digits of the phone number or the PIN on the receipt."),
                    "phone_last4",
                )
            )
    return out


def _digits(raw: str) -> str | None:
    value = "".join(raw.split())
    return value or None


@router.get("/dossiers/lookup", response_class=HTMLResponse)
async def lookup_form(
    request: Request,
    user: PageUserOptional,
    code: Annotated[str, Query(max_length=200)] = "",
) -> Response:
    return _lookup_page(request, {"code": normalise_code(code)[:CODE_MAX]})


@router.post("/dossiers/lookup", dependencies=csrf)
async def lookup(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    hasher: HasherDep,
    limiter: LimiterDep,
    ip: ClientIP,
    user: PageUserOptional,
    code: Annotated[str, Form()] = "",
    phone_last4: Annotated[str, Form()] = "",
    pin: Annotated[str, Form()] = "",
) -> Response:
    """Like POST /api/v1/dossiers/lookup (the same service, throttles and one answer for an
    unknown code and a wrong factor); on success this browser keeps a proof for an hour."""
    kept = {"code": code.strip()[:200], "phone_last4": phone_last4.strip()[:20]}  # not the PIN
    try:
        data = FactorIn(code=code.strip(), phone_last4=_digits(phone_last4), pin=_digits(pin))
    except ValidationError as exc:
        return _lookup_page(request, kept, factor_errors(exc), status_code=422)
    try:
        dossier = await service.lookup(session, settings, hasher, limiter, ip, data)
    except TooManyRequests as exc:
        minutes = max(1, math.ceil(exc.retry_after / 60))
        return _lookup_page(
            request, kept, status_code=429, headers=exc.headers, throttled_minutes=minutes
        )
    except NotFound:
        message = _("No dossier matches this code and these digits. Check both on the receipt.")
        return _lookup_page(request, kept, [FormError(message, "code")], status_code=404)
    except AppError as exc:
        return _lookup_page(request, kept, errors_from(exc, {}), status_code=exc.status)
    response = back_to(dossier.code, "found")
    remember_proof(request, response, dossier)
    return response


# The dossiers I follow ------------------------------------------------------------------


@router.get("/me/dossiers", response_class=HTMLResponse)
async def my_dossiers(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    user: PageUser,
    page: Annotated[int, Query(ge=1, le=100_000)] = 1,
    done: Annotated[str | None, Query(max_length=20)] = None,
) -> Response:
    rows, total = await service.followed(
        session, user, limit=PAGE_SIZE, offset=(page - 1) * PAGE_SIZE
    )
    items = await views.items(session, rows, locale_of(request), time_zone=settings.time_zone)
    return render(
        request,
        "dossiers/mine.html",
        {
            **helpers(request),
            "items": items,
            "pager": pager(request, page, PAGE_SIZE, total),
            "notice": done_message(done),
        },
    )


# One dossier -----------------------------------------------------------------------------


async def _status_page(
    request: Request,
    session: AsyncSession,
    user: User | None,
    found: Access,
    *,
    errors: list[FormError] | None = None,
    form: Mapping[str, str] | None = None,
    status_code: int = 200,
    done: str | None = None,
) -> Response:
    settings = request.app.state.settings
    locale = locale_of(request)
    view = await views.applicant_view(
        session, found.dossier, locale, time_zone=settings.time_zone, viewer=user
    )
    procedure_name, agency_name = await names_of(session, found.dossier, locale)
    errors = errors or []
    return render(
        request,
        "dossiers/dossier.html",
        {
            **helpers(request),
            "d": view,
            "procedure_name": procedure_name,
            "agency_name": agency_name,
            "signed_in": user is not None,
            "following": bool(view.get("following")),
            "scores": [(n, _(SCORE_LABELS[n])) for n in SCORES],
            "notice": done_message(done),
            "errors": errors,
            "field_errors": field_errors(errors),
            "form": dict(form or {}),
            "login_url": f"/login?next={quote('/dossiers/' + found.dossier.code)}",
        },
        status_code=status_code,
    )


@router.get("/dossiers/{code}", response_class=HTMLResponse)
async def dossier_page(
    code: str,
    request: Request,
    session: SessionDep,
    user: PageUserOptional,
    done: Annotated[str | None, Query(max_length=20)] = None,
) -> Response:
    """For a browser that proved the second factor, or a follower signed in; everyone else is
    sent to the lookup form with the code filled in (an unknown code alike)."""
    clean = normalise_code(code)
    if clean != code and clean:  # one address per dossier: the proof cookie is scoped to it
        return RedirectResponse(f"/dossiers/{quote(clean)}", status_code=301)
    found = await access(request, session, user, code)
    if found is None:
        return to_lookup(code)
    return await _status_page(request, session, user, found, done=done)


RATING_FIELDS = {"score": ("", "score-1"), "comment": ("", "rating-comment")}


@router.post("/dossiers/{code}/rating", dependencies=csrf)
async def rate(
    code: str,
    request: Request,
    session: SessionDep,
    user: PageUserOptional,
    score: Annotated[str, Form()] = "",
    comment: Annotated[str, Form()] = "",
) -> Response:
    found = await access(request, session, user, code)
    if found is None:
        return to_lookup(code)
    form = {"score": score, "comment": comment}
    try:
        checked = RatingIn(score=int(score), comment=comment.strip() or None)
    except (ValueError, ValidationError):
        error = InvalidInput(
            _("Choose a score from 1 to 5; the comment may have at most 1,000 characters."),
            errors=[{"field": "score", "in": "form", "reason": "invalid"}],
        )
        return await _refused(request, session, user, found, error, RATING_FIELDS, form)
    try:
        async with session.begin_nested():
            await service.rate(session, found.dossier, checked.score, checked.comment)
    except AppError as exc:
        return await _refused(request, session, user, found, exc, RATING_FIELDS, form)
    return back_to(found.dossier.code, "rated")


async def _refused(
    request: Request,
    session: AsyncSession,
    user: User | None,
    found: Access,
    exc: AppError,
    fields: Mapping[str, tuple[str, str | None]],
    form: Mapping[str, str],
) -> Response:
    """The service said no (its savepoint is rolled back): the page again, with the reason."""
    return await _status_page(
        request,
        session,
        user,
        found,
        errors=errors_from(exc, fields),
        form=form,
        status_code=exc.status,
    )


@router.post("/dossiers/{code}/follow", dependencies=csrf)
async def follow(code: str, request: Request, session: SessionDep, user: PageUser) -> Response:
    """Following needs what seeing needs: a fresh proof of the second factor in this browser."""
    found = await access(request, session, user, code)
    if found is None:
        return to_lookup(code)
    await service.follow(session, user, found.dossier)
    return back_to(found.dossier.code, "followed")


@router.post("/dossiers/{code}/unfollow", dependencies=csrf)
async def unfollow(code: str, request: Request, session: SessionDep, user: PageUser) -> Response:
    dossier = await service.get_followed_or_none(session, user, code)
    if dossier is not None:
        await service.unfollow(session, user, dossier)
        if has_proof(request, dossier):
            return back_to(dossier.code, "unfollowed")
    return RedirectResponse("/me/dossiers?done=unfollowed", status_code=303)
