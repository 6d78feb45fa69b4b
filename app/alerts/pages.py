"""Accessible pages for alerts: the public list and an alert's page, the Atom feed, and the
managers' composer (plain forms, POST-redirect-GET, a confirmation step before sending or
cancelling). Every action calls the same service functions as the JSON API (app.alerts.api)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Annotated, Any
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import ValidationError
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.datastructures import FormData

from app.alerts import repository as repo
from app.alerts import service, texts, views
from app.alerts.api import ward_of
from app.alerts.models import Alert, AlertStatus, Severity
from app.alerts.schemas import AlertIn, AlertUpdate
from app.auth.deps import PageManager, PageUserOptional, SettingsDep
from app.config import Settings
from app.db import SessionDep, utcnow
from app.errors import AppError
from app.kit.csrf import verify_csrf
from app.kit.i18n import N_, SUPPORTED_LOCALES, format_datetime, language_name, locale_of
from app.kit.i18n import gettext as _
from app.kit.templating import render, templates
from app.org import repository as org_repo
from app.org.models import Ward
from app.org.service import wards_by_district
from app.reports.pages import FormError, field_errors, pager

router = APIRouter(include_in_schema=False)
csrf = [Depends(verify_csrf)]

PAGE_SIZE = 20
FEED_SIZE = 50
DEFAULT_HOURS = 24
LOCAL_INPUT = "%Y-%m-%dT%H:%M"  # what <input type="datetime-local"> sends and shows

DONE_MESSAGES: dict[str, str] = {
    "created": N_("The draft is saved. Check the preview below, then send it."),
    "saved": N_("Your changes are saved. Check the preview again before sending."),
    "sent": N_("The alert is sent. It is in the public list, and the pushes are on their way."),
    "cancelled": N_("The alert is cancelled. The public list shows it as cancelled."),
}
AUDIT_LABELS: dict[str, str] = {
    "alert.created": N_("Draft written"),
    "alert.updated": N_("Draft changed"),
    "alert.sent": N_("Sent"),
    "alert.cancelled": N_("Cancelled"),
}
# The service's field names -> the id of the form control the error summary links to.
FIELD_IDS = {
    "severity": "severity-0",
    "title_vi": "title_vi",
    "body_vi": "body_vi",
    "title_en": "title_en",
    "body_en": "body_en",
    "whole_province": "area-province",
    "ward_codes": "wards-0",
    "expires_at": "expires_at",
}


def _tz(settings: Settings) -> ZoneInfo:
    return ZoneInfo(settings.time_zone)


def done_message(done: str | None) -> str | None:
    return _(DONE_MESSAGES[done]) if done in DONE_MESSAGES else None


def back_to(path: str, done: str) -> RedirectResponse:
    return RedirectResponse(f"{path}?{urlencode({'done': done})}", status_code=303)


def audit_label(action: str) -> str:
    return _(AUDIT_LABELS.get(action, action))


def area_text(alert: Alert) -> str:
    if alert.whole_province:
        return _("The whole province")
    return ", ".join(w.name for w in sorted(alert.wards, key=lambda w: (w.district, w.name)))


STATE_LABELS: dict[str, str] = {
    "draft": N_("Draft, not sent"),
    "active": N_("In force"),
    "expired": N_("Expired"),
    "cancelled": N_("Cancelled"),
}


def state_label(state: str) -> str:
    return _(STATE_LABELS.get(state, state))


HELPERS: dict[str, Any] = {
    "severity_label": texts.severity_label,
    "severity_hint": texts.severity_hint,
    "status_label": texts.status_label,
    "state_label": state_label,
    "audit_label": audit_label,
    "area_text": area_text,
    "language_name": language_name,
}


def ward_groups(wards: Sequence[Ward]) -> list[tuple[str, list[tuple[str, Ward]]]]:
    """Wards by district, each with the id of its checkbox (wards-0, wards-1 …)."""
    return wards_by_district(wards, "wards-{}")


# The public list, an alert's page and the feed ----------------------------------------------


async def _ward_filter(session: AsyncSession, ward: str) -> tuple[list[Ward], Ward | None]:
    wards = list(await org_repo.list_wards(session))
    return wards, next((w for w in wards if w.code == ward), None)


@router.get("/alerts", response_class=HTMLResponse)
async def alert_list(
    request: Request,
    session: SessionDep,
    user: PageUserOptional,
    ward: Annotated[str, Query(max_length=40)] = "",
    page: Annotated[int, Query(ge=1, le=100_000)] = 1,
) -> Response:
    now = utcnow()
    wards, chosen = await _ward_filter(session, ward)
    errors = []
    if ward and chosen is None:
        errors.append(FormError(_("Choose a ward or commune from the list."), "filter-ward"))
    ward_id = chosen.id if chosen else None
    active, _n = await repo.published(session, now=now, active=True, ward_id=ward_id, limit=200)
    earlier, total = await repo.published(
        session,
        now=now,
        active=False,
        ward_id=ward_id,
        limit=PAGE_SIZE,
        offset=(page - 1) * PAGE_SIZE,
    )
    in_force = sorted(active, key=lambda a: texts.SEVERITY_RANK.get(a.severity, 9))
    feed_params = {"lang": locale_of(request), **({"ward": chosen.code} if chosen else {})}
    return render(
        request,
        "alerts/list.html",
        {
            **HELPERS,
            "active": in_force,
            "earlier": earlier,
            "now": now,
            "state_of": lambda a: service.state(a, now),
            "ward_groups": ward_groups(wards),
            "chosen": chosen,
            "filters": {"ward": ward},
            "errors": errors,
            "field_errors": field_errors(errors),
            "pager": pager(request, page, PAGE_SIZE, total),
            "feed_url": f"/alerts.atom?{urlencode(feed_params)}",
            "is_manager": service.is_manager(user),
        },
        status_code=422 if errors else 200,
    )


@router.get("/alerts.atom")
async def alert_feed(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    ward: Annotated[str, Query(max_length=40)] = "",
) -> Response:
    """Atom 1.0 in the language of ?lang= or Accept-Language; ?ward= narrows it like the list."""
    now = utcnow()
    locale = locale_of(request)
    chosen = await ward_of(session, ward)  # an unknown code is an error, not an empty feed
    ward_id = chosen.id if chosen else None
    rows, _total = await repo.published(session, now=now, ward_id=ward_id, limit=FEED_SIZE)
    base = (settings.public_base_url or str(request.base_url)).rstrip("/")
    updated = max(
        [a.cancelled_at or a.sent_at or a.updated_at for a in rows], default=None
    ) or datetime(2026, 1, 1, tzinfo=ZoneInfo("UTC"))
    query = urlencode({"lang": locale, **({"ward": ward} if ward else {})})
    entries = [
        {
            "alert": a,
            "view": views.public(a, locale, now),
            "state": service.state(a, now),
            "updated": a.cancelled_at or a.sent_at or a.updated_at,
        }
        for a in rows
    ]
    template = templates.env.get_template("alerts/feed.xml")
    body = template.render(
        {
            **HELPERS,
            "_": _,
            "locale": locale,
            "base": base,
            "self_url": f"{base}/alerts.atom?{query}",
            "page_url": f"{base}/alerts?{query}",
            "feed_id": f"{base}/alerts.atom" + (f"?ward={ward}" if ward else ""),
            "chosen": chosen,
            "updated": updated,
            "entries": entries,
            "feed_title": _("Alerts and announcements of Yên Bái province"),
            "feed_subtitle": _(
                "Warnings about floods, landslides and other dangers, and announcements from "
                "the province."
            ),
            "feed_author": _("People's Committee of Yên Bái province"),
            "rfc3339": _rfc3339,
            "format_datetime": lambda v: format_datetime(v, settings.time_zone, locale),
        }
    )
    return Response(
        body.encode(),
        media_type="application/atom+xml; charset=utf-8",
        headers={
            "Cache-Control": "public, max-age=60",
            "Vary": "Accept-Language",
            "Content-Language": locale,
        },
    )


def _rfc3339(value: datetime) -> str:
    return value.astimezone(ZoneInfo("UTC")).strftime("%Y-%m-%dT%H:%M:%SZ")


@router.get("/alerts/{alert_id}", response_class=HTMLResponse)
async def alert_page(
    alert_id: int,
    request: Request,
    session: SessionDep,
    user: PageUserOptional,
) -> Response:
    alert = await service.get_readable(session, alert_id, user)
    now = utcnow()
    locale = locale_of(request)
    other = [code for code in SUPPORTED_LOCALES if code != locale]
    return render(
        request,
        "alerts/alert.html",
        {
            **HELPERS,
            "alert": alert,
            "state": service.state(alert, now),
            "other_languages": [
                (code, alert.title(code), alert.body(code))
                for code in other
                if (alert.title(code), alert.body(code))
                != (alert.title(locale), alert.body(locale))
            ],
            "is_manager": service.is_manager(user),
        },
    )


# The composer ----------------------------------------------------------------------------


@dataclass
class AlertForm:
    """What the manager typed, kept as typed so an error never loses it."""

    severity: str = ""
    title_vi: str = ""
    body_vi: str = ""
    title_en: str = ""
    body_en: str = ""
    area: str = "province"
    wards: list[str] = field(default_factory=list)
    expires_at: str = ""

    @classmethod
    def read(cls, form: FormData) -> AlertForm:
        def text(name: str) -> str:
            value = form.get(name)
            return value.strip() if isinstance(value, str) else ""

        return cls(
            severity=text("severity"),
            title_vi=text("title_vi"),
            body_vi=text("body_vi"),
            title_en=text("title_en"),
            body_en=text("body_en"),
            area="wards" if text("area") == "wards" else "province",
            wards=[w for w in form.getlist("wards") if isinstance(w, str) and w],
            expires_at=text("expires_at"),
        )

    @classmethod
    def blank(cls, now: datetime, tz: ZoneInfo) -> AlertForm:
        start = now.astimezone(tz).replace(minute=0, second=0, microsecond=0)
        return cls(expires_at=(start + timedelta(hours=DEFAULT_HOURS + 1)).strftime(LOCAL_INPUT))

    @classmethod
    def of(cls, alert: Alert, tz: ZoneInfo) -> AlertForm:
        return cls(
            severity=alert.severity,
            title_vi=alert.title_vi,
            body_vi=alert.body_vi,
            title_en=alert.title_en,
            body_en=alert.body_en,
            area="province" if alert.whole_province else "wards",
            wards=[w.code for w in alert.wards],
            expires_at=alert.expires_at.astimezone(tz).strftime(LOCAL_INPUT),
        )

    def parse(self, tz: ZoneInfo) -> tuple[AlertIn | None, list[FormError]]:
        errors: list[FormError] = []
        expires: datetime | None = None
        try:
            expires = datetime.fromisoformat(self.expires_at)
            if expires.tzinfo is None:  # a datetime-local field: the province's time
                expires = expires.replace(tzinfo=tz)
        except ValueError:
            errors.append(
                FormError(
                    _("Enter the expiry as a date and a time, such as 28/11/2026 18:00."),
                    "expires_at",
                )
            )
        payload: dict[str, Any] = {
            "severity": self.severity,
            "title_vi": self.title_vi,
            "body_vi": self.body_vi,
            "title_en": self.title_en,
            "body_en": self.body_en,
            "whole_province": self.area != "wards",
            "ward_codes": self.wards if self.area == "wards" else [],
            "expires_at": expires,
        }
        try:
            data = AlertIn.model_validate(payload)
        except ValidationError as exc:
            for error in exc.errors():
                name = str(error["loc"][0]) if error.get("loc") else ""
                if name == "expires_at" and expires is None:
                    continue  # already said
                errors.append(FormError(_validation_message(name), FIELD_IDS.get(name)))
            return None, errors
        return (data, []) if not errors else (None, errors)


def _validation_message(name: str) -> str:
    messages = {
        "severity": _("Choose how serious it is."),
        "title_vi": _("Give a Vietnamese title of 3 to 200 characters."),
        "body_vi": _("Write the Vietnamese text, 3 to 2000 characters."),
        "title_en": _("Keep the English title under 200 characters."),
        "body_en": _("Keep the English text under 2000 characters."),
        "ward_codes": _("Choose at most 500 wards and communes."),
        "expires_at": _("Enter the expiry as a date and a time, such as 28/11/2026 18:00."),
    }
    return messages.get(name, _("Some fields are not valid."))


def service_errors(exc: AppError) -> list[FormError]:
    if not exc.errors:
        return [FormError(exc.detail or _(exc.title))]
    return [FormError(e.get("reason", ""), FIELD_IDS.get(e.get("field", ""))) for e in exc.errors]


async def _form_page(
    request: Request,
    session: AsyncSession,
    form: AlertForm,
    *,
    alert: Alert | None = None,
    errors: list[FormError] | None = None,
    status_code: int = 200,
) -> Response:
    errors = errors or []
    return render(
        request,
        "alerts/form.html",
        {
            **HELPERS,
            "alert": alert,
            "form": form,
            "severities": [s.value for s in Severity],
            "ward_groups": ward_groups(await org_repo.list_wards(session)),
            "errors": errors,
            "field_errors": field_errors(errors),
            "max_days": service.MAX_AHEAD.days,
            "limit": texts.size_limit(),
        },
        status_code=status_code,
    )


@router.get("/staff/alerts", response_class=HTMLResponse)
async def staff_alerts(
    request: Request,
    session: SessionDep,
    user: PageManager,
    status: Annotated[str, Query(max_length=12)] = "",
    page: Annotated[int, Query(ge=1, le=100_000)] = 1,
) -> Response:
    chosen = status if status in texts.STATUS_LABELS else None
    rows, total = await repo.all_alerts(
        session, status=chosen, limit=PAGE_SIZE, offset=(page - 1) * PAGE_SIZE
    )
    now = utcnow()
    return render(
        request,
        "alerts/staff_list.html",
        {
            **HELPERS,
            "items": rows,
            "state_of": lambda a: service.state(a, now),
            "filters": {"status": chosen or ""},
            "status_choices": list(texts.STATUS_LABELS),
            "pager": pager(request, page, PAGE_SIZE, total),
        },
    )


@router.get("/staff/alerts/new", response_class=HTMLResponse)
async def new_alert(
    request: Request, session: SessionDep, settings: SettingsDep, user: PageManager
) -> Response:
    return await _form_page(request, session, AlertForm.blank(utcnow(), _tz(settings)))


@router.post("/staff/alerts/new", dependencies=csrf)
async def create_alert(
    request: Request, session: SessionDep, settings: SettingsDep, user: PageManager
) -> Response:
    form = AlertForm.read(await request.form())
    data, errors = form.parse(_tz(settings))
    if data is None:
        return await _form_page(request, session, form, errors=errors, status_code=422)
    try:
        async with session.begin_nested():
            alert = await service.create(session, settings, user, data)
    except AppError as exc:
        return await _form_page(
            request, session, form, errors=service_errors(exc), status_code=exc.status
        )
    return back_to(f"/staff/alerts/{alert.id}", "created")


async def _alert_page(
    request: Request,
    session: AsyncSession,
    settings: Settings,
    alert_id: int,
    *,
    done: str | None = None,
    errors: list[FormError] | None = None,
    status_code: int = 200,
) -> Response:
    alert = await service.get_alert(session, alert_id)
    now = utcnow()
    found = await service.preview(session, settings, alert, now=now)
    trail = await service.audit_trail(session, alert)
    names = await repo.user_names(
        session, [alert.created_by_id, alert.sent_by_id, alert.cancelled_by_id]
    )
    return render(
        request,
        "alerts/staff_alert.html",
        {
            **HELPERS,
            "alert": alert,
            "state": service.state(alert, now),
            "preview": found,
            "trail": trail,
            "names": names,
            "notice": done_message(done),
            "errors": errors or [],
        },
        status_code=status_code,
    )


@router.get("/staff/alerts/{alert_id}", response_class=HTMLResponse)
async def staff_alert(
    alert_id: int,
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    user: PageManager,
    done: Annotated[str | None, Query(max_length=20)] = None,
) -> Response:
    return await _alert_page(request, session, settings, alert_id, done=done)


@router.get("/staff/alerts/{alert_id}/edit", response_class=HTMLResponse)
async def edit_alert(
    alert_id: int,
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    user: PageManager,
) -> Response:
    alert = await service.get_alert(session, alert_id)
    if alert.status != AlertStatus.draft.value:
        return await _alert_page(
            request,
            session,
            settings,
            alert_id,
            errors=[FormError(_(service.AlertNotDraft.title))],
            status_code=409,
        )
    return await _form_page(request, session, AlertForm.of(alert, _tz(settings)), alert=alert)


@router.post("/staff/alerts/{alert_id}/edit", dependencies=csrf)
async def save_alert(
    alert_id: int,
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    user: PageManager,
) -> Response:
    alert = await service.get_alert(session, alert_id, for_update=True)
    form = AlertForm.read(await request.form())
    data, errors = form.parse(_tz(settings))
    if data is None:
        return await _form_page(request, session, form, alert=alert, errors=errors, status_code=422)
    try:
        async with session.begin_nested():
            await service.update(session, settings, user, alert, AlertUpdate(**data.model_dump()))
    except AppError as exc:
        alert = await service.get_alert(session, alert_id)  # as it is, not as it was edited
        return await _form_page(
            request, session, form, alert=alert, errors=service_errors(exc), status_code=exc.status
        )
    return back_to(f"/staff/alerts/{alert.id}", "saved")


@router.get("/staff/alerts/{alert_id}/send", response_class=HTMLResponse)
async def confirm_send(
    alert_id: int,
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    user: PageManager,
) -> Response:
    """The confirmation step: what goes where, to how many devices; one more button to send."""
    alert = await service.get_alert(session, alert_id)
    if alert.status != AlertStatus.draft.value:
        return RedirectResponse(f"/staff/alerts/{alert.id}", status_code=303)
    found = await service.preview(session, settings, alert)
    return render(
        request,
        "alerts/confirm_send.html",
        {**HELPERS, "alert": alert, "preview": found},
    )


@router.post("/staff/alerts/{alert_id}/send", dependencies=csrf)
async def send_alert(
    alert_id: int,
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    user: PageManager,
) -> Response:
    async def send(alert: Alert) -> None:
        await service.send(session, settings, user, alert)

    return await _act_on(alert_id, request, session, settings, send, "sent")


async def _act_on(
    alert_id: int,
    request: Request,
    session: AsyncSession,
    settings: Settings,
    action: Callable[[Alert], Awaitable[None]],
    done: str,
) -> Response:
    """Lock the alert, act on it; a refusal shows the alert page with the reason, nothing
    changed."""
    try:
        async with session.begin_nested():
            await action(await service.get_alert(session, alert_id, for_update=True))
    except AppError as exc:
        if exc.status == 404:
            raise
        return await _alert_page(
            request,
            session,
            settings,
            alert_id,
            errors=service_errors(exc),
            status_code=exc.status,
        )
    return back_to(f"/staff/alerts/{alert_id}", done)


@router.get("/staff/alerts/{alert_id}/cancel", response_class=HTMLResponse)
async def confirm_cancel(
    alert_id: int, request: Request, session: SessionDep, user: PageManager
) -> Response:
    alert = await service.get_alert(session, alert_id)
    if alert.status != AlertStatus.sent.value:
        return RedirectResponse(f"/staff/alerts/{alert.id}", status_code=303)
    return render(request, "alerts/confirm_cancel.html", {**HELPERS, "alert": alert})


@router.post("/staff/alerts/{alert_id}/cancel", dependencies=csrf)
async def cancel_alert(
    alert_id: int,
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    user: PageManager,
) -> Response:
    async def cancel(alert: Alert) -> None:
        await service.cancel(session, user, alert)

    return await _act_on(alert_id, request, session, settings, cancel, "cancelled")
