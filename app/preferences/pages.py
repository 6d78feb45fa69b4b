"""The notification settings page: language, what to be pushed about, quiet hours, emergency-alert
areas and report subscriptions, as plain forms (POST, then redirect) that work without
JavaScript. Every change goes through app.preferences.service, like the JSON API; this module
only reads the form, shows what the service refused, and keeps what the person typed."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import ValidationError
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.datastructures import FormData

from app.auth.deps import PageUser
from app.auth.models import User
from app.db import SessionDep
from app.errors import AppError, InvalidInput
from app.kit.csrf import verify_csrf
from app.kit.i18n import N_
from app.kit.i18n import gettext as _
from app.kit.templating import render
from app.org import repository as org_repo
from app.org.service import wards_by_district
from app.preferences import service
from app.preferences.schemas import PreferencesRead, PreferencesUpdate, SubscriptionIn
from app.reports.pages import GROUP_LABELS, FormError, field_errors

router = APIRouter(include_in_schema=False)
csrf = [Depends(verify_csrf)]

PATH = "/account/notifications"
# What the empty time fields suggest when quiet hours are off: ticking the box is then enough.
SUGGESTED_QUIET = ("22:00", "06:00")
ALERT_WARD_ID = "alert-ward-{}"  # the checkboxes' ids; the first one is where errors link to

DONE_MESSAGES: dict[str, str] = {
    "saved": N_("Your notification settings are saved."),
    "followed": N_("You now follow new reports in that area."),
    "unfollowed": N_("You no longer follow that area."),
}


@dataclass
class SettingsForm:
    """The settings form as shown: from the stored settings, or as the person sent it."""

    locale: str
    report_updates: bool
    area_reports: bool
    quiet_on: bool
    quiet_start: str
    quiet_end: str
    alert_wards: list[str] = field(default_factory=list)

    @classmethod
    def stored(cls, prefs: PreferencesRead) -> SettingsForm:
        quiet = prefs.quiet_hours
        return cls(
            locale=prefs.locale,
            report_updates=prefs.report_updates,
            area_reports=prefs.area_reports,
            quiet_on=quiet is not None,
            quiet_start=quiet.start.strftime("%H:%M") if quiet else SUGGESTED_QUIET[0],
            quiet_end=quiet.end.strftime("%H:%M") if quiet else SUGGESTED_QUIET[1],
            alert_wards=list(prefs.alert_wards),
        )

    @classmethod
    def sent(cls, form: FormData) -> SettingsForm:
        codes: list[str] = []
        for value in form.getlist("alert_wards"):
            code = value.strip()[:40] if isinstance(value, str) else ""
            if code and code not in codes:
                codes.append(code)
        return cls(
            locale=_text(form.get("locale"))[:5],
            report_updates=form.get("report_updates") == "1",
            area_reports=form.get("area_reports") == "1",
            quiet_on=form.get("quiet_hours") == "1",
            quiet_start=_text(form.get("quiet_start"))[:8],
            quiet_end=_text(form.get("quiet_end"))[:8],
            alert_wards=codes,
        )


@dataclass
class SubscriptionForm:
    ward: str = ""
    group: str = ""


def _text(value: Any) -> str:
    return value.strip() if isinstance(value, str) else ""


def _parse(form: SettingsForm) -> tuple[PreferencesUpdate | None, list[FormError]]:
    """The form as the API's PreferencesUpdate (every field sent), or what is wrong with it.
    The rules (the languages, quiet hours that do not start and end at once, at most so many
    wards) are the schema's; this only says them in words and points at the field."""
    errors: list[FormError] = []
    if form.quiet_on:
        if not form.quiet_start:
            errors.append(FormError(_("Quiet hours: give the time they start."), "quiet-start"))
        if not form.quiet_end:
            errors.append(FormError(_("Quiet hours: give the time they end."), "quiet-end"))
        if errors:
            return None, errors
    payload: dict[str, Any] = {
        "locale": form.locale,
        "report_updates": form.report_updates,
        "area_reports": form.area_reports,
        "quiet_hours": {"start": form.quiet_start, "end": form.quiet_end}
        if form.quiet_on
        else None,
        "alert_wards": form.alert_wards,
    }
    try:
        return PreferencesUpdate.model_validate(payload), []
    except ValidationError as exc:
        return None, _validation_errors(exc)


def _validation_errors(exc: ValidationError) -> list[FormError]:
    out: list[FormError] = []
    for error in exc.errors():
        loc = [str(part) for part in error.get("loc", ())]
        name = loc[0] if loc else ""
        if name == "locale":
            out.append(FormError(_("Choose the language of your notifications."), "locale-vi"))
        elif name == "quiet_hours" and len(loc) > 1 and loc[1] in ("start", "end"):
            target = "quiet-start" if loc[1] == "start" else "quiet-end"
            message = (
                _("Quiet hours: enter the start as hours and minutes, such as 22:00.")
                if loc[1] == "start"
                else _("Quiet hours: enter the end as hours and minutes, such as 06:00.")
            )
            out.append(FormError(message, target))
        elif name == "quiet_hours":
            out.append(
                FormError(
                    _("Quiet hours: the end must be a different time from the start."),
                    "quiet-end",
                )
            )
        elif name == "alert_wards" and error.get("type") == "too_long":
            most = (error.get("ctx") or {}).get("max_length", "")
            out.append(
                FormError(
                    _("Emergency alerts: choose at most %(n)s wards and communes.", n=most),
                    ALERT_WARD_ID.format(0),
                )
            )
        else:
            out.append(FormError(_("Check this setting: %(name)s", name=name)))
    return out


def _settings_fields() -> dict[str, tuple[str, str | None]]:
    """The service's field names as labels and the ids the error summary links to."""
    return {
        "locale": (_("Language of notifications"), "locale-vi"),
        "quiet_hours": (_("Quiet hours"), "quiet-start"),
        "alert_wards": (_("Emergency alerts"), ALERT_WARD_ID.format(0)),
    }


def _subscription_fields() -> dict[str, tuple[str, str | None]]:
    return {
        "ward_code": (_("Ward or commune"), "sub-ward"),
        "service_group": (_("Kind of report"), "sub-group"),
    }


def _service_errors(
    exc: AppError, fields: dict[str, tuple[str, str | None]], default_target: str
) -> list[FormError]:
    """What the service refused, one line per field it named, each linked to its field."""
    message = exc.detail or _(exc.title)
    out: list[FormError] = []
    seen: set[str] = set()
    for item in exc.errors or []:
        name = item.get("field", "")
        if name in seen:
            continue
        seen.add(name)
        label, target = fields.get(name, ("", default_target))
        out.append(FormError(f"{label}: {message}" if label else message, target))
    return out or [FormError(message, default_target)]


def group_label(group: str | None) -> str:
    if not group:
        return _("All kinds of report")
    return _(GROUP_LABELS[group]) if group in GROUP_LABELS else group


def _back(done: str) -> RedirectResponse:
    return RedirectResponse(f"{PATH}?done={done}", status_code=303)


async def _page(
    request: Request,
    session: AsyncSession,
    user: User,
    *,
    form: SettingsForm | None = None,
    subscription: SubscriptionForm | None = None,
    errors: list[FormError] | None = None,
    done: str | None = None,
    status_code: int = 200,
) -> Response:
    prefs = await service.read(session, user)
    wards = await org_repo.list_wards(session)
    errors = errors or []
    subscriptions = [
        {
            "id": s.id,
            "place": s.ward_name or _("The whole province"),
            "kind": group_label(s.service_group),
        }
        for s in prefs.subscriptions
    ]
    return render(
        request,
        "preferences/notifications.html",
        {
            "form": form or SettingsForm.stored(prefs),
            "subscription": subscription or SubscriptionForm(),
            "subscriptions": subscriptions,
            "ward_groups": wards_by_district(wards, ALERT_WARD_ID),
            "groups": [(code, _(label)) for code, label in GROUP_LABELS.items()],
            "errors": errors,
            "field_errors": field_errors(errors),
            "notice": _(DONE_MESSAGES[done]) if done in DONE_MESSAGES else None,
        },
        status_code=status_code,
    )


async def _refused(
    request: Request,
    session: AsyncSession,
    user: User,
    errors: list[FormError],
    status_code: int,
    **kept: Any,
) -> Response:
    # The savepoint's rollback expired what it changed (the account's language, say).
    await session.refresh(user)
    return await _page(request, session, user, errors=errors, status_code=status_code, **kept)


@router.get(PATH, response_class=HTMLResponse)
async def settings_page(
    request: Request,
    session: SessionDep,
    user: PageUser,
    done: Annotated[str | None, Query(max_length=20)] = None,
) -> Response:
    return await _page(request, session, user, done=done)


@router.post(PATH, dependencies=csrf)
async def save_settings(request: Request, session: SessionDep, user: PageUser) -> Response:
    form = SettingsForm.sent(await request.form())
    data, errors = _parse(form)
    if data is None:
        return await _refused(request, session, user, errors, 422, form=form)
    try:
        async with session.begin_nested():
            await service.update(session, user, data)
    except AppError as exc:
        errors = _service_errors(exc, _settings_fields(), "locale-vi")
        return await _refused(request, session, user, errors, exc.status, form=form)
    return _back("saved")


@router.post(f"{PATH}/subscriptions", dependencies=csrf)
async def follow_area(request: Request, session: SessionDep, user: PageUser) -> Response:
    raw = await request.form()
    kept = SubscriptionForm(
        ward=_text(raw.get("ward_code"))[:40], group=_text(raw.get("service_group"))[:40]
    )
    try:
        try:
            data = SubscriptionIn(ward_code=kept.ward or None, service_group=kept.group or None)
        except ValidationError:
            raise InvalidInput(
                _("Choose a kind of report from the list."),
                errors=[{"field": "service_group", "in": "form", "reason": "unknown"}],
            ) from None
        async with session.begin_nested():
            await service.subscribe(session, user, data)
    except AppError as exc:
        errors = _service_errors(exc, _subscription_fields(), "sub-ward")
        return await _refused(request, session, user, errors, exc.status, subscription=kept)
    return _back("followed")


@router.post(f"{PATH}/subscriptions/{{subscription_id}}/delete", dependencies=csrf)
async def unfollow_area(
    subscription_id: int, request: Request, session: SessionDep, user: PageUser
) -> Response:
    try:
        async with session.begin_nested():
            await service.unsubscribe(session, user, subscription_id)
    except AppError as exc:
        errors = [FormError(exc.detail or _(exc.title), "subscriptions-title")]
        return await _refused(request, session, user, errors, exc.status)
    return _back("unfollowed")
