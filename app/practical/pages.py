"""Pages of practical help: /help (emergency numbers as big tel: links first, hotlines, tourist
information, guides) and a guide, small enough for one bar of signal and readable printed; and
the staff pages that keep numbers and guides (plain forms, POST-redirect-GET, a confirmation
before taking something off). Every change goes through app.practical.service, like the API."""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from functools import partial
from typing import Annotated, Any
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from babel.dates import format_datetime as babel_datetime
from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import ValidationError
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.datastructures import FormData

from app.auth.deps import PageStaff, PageUserOptional, SettingsDep
from app.db import SessionDep, utcnow
from app.errors import AppError
from app.kit.cache import etag_of
from app.kit.csrf import verify_csrf
from app.kit.i18n import N_, language_name, locale_of
from app.kit.i18n import gettext as _
from app.kit.langtext import language_of, pick
from app.kit.templating import render
from app.practical import repository as repo
from app.practical import service
from app.practical.models import GuidePage, HelpContact
from app.practical.schemas import (
    SORT_MAX,
    ContactIn,
    ContactPatch,
    ContactPublic,
    GuideIn,
    GuidePatch,
    Kind,
)
from app.reports.pages import FormError, field_errors

router = APIRouter(include_in_schema=False)
csrf = [Depends(verify_csrf)]
FORM_LANGUAGES = ("vi", "en")

DONE_MESSAGES: dict[str, str] = {
    "contact-created": N_("The number is saved and shown on the help page."),
    "contact-saved": N_("Your changes to the number are saved."),
    "contact-retired": N_("The number is taken off the help page. You can put it back later."),
    "contact-restored": N_("The number is back on the help page."),
    "guide-created": N_("The guide is saved and listed on the help page."),
    "guide-saved": N_("Your changes to the guide are saved."),
    "guide-retired": N_("The guide is taken off the help page. You can put it back later."),
    "guide-restored": N_("The guide is back on the help page."),
}
TRAIL_LABELS: dict[str, str] = {
    "create": N_("Added"),
    "update": N_("Changed"),
    "retire": N_("Taken off the help page"),
    "restore": N_("Put back"),
}


def trail_label(action: str) -> str:
    return _(TRAIL_LABELS.get(action.rpartition(".")[2], action))


def done_message(done: str | None) -> str | None:
    return _(DONE_MESSAGES[done]) if done in DONE_MESSAGES else None


def back_to_list(done: str) -> RedirectResponse:
    return RedirectResponse(f"/staff/help?{urlencode({'done': done})}", status_code=303)


def revalidated(request: Request, response: Response) -> Response:
    """An ETag on a rendered page, so a second visit on a weak signal costs a 304 instead of
    the page. `private, no-cache`: kept by the browser only, and checked every time (open now
    and the numbers stay current)."""
    body = bytes(response.body)
    tag = etag_of(body)
    response.headers["ETag"] = tag
    response.headers["Cache-Control"] = "private, no-cache"
    if tag in request.headers.get("if-none-match", ""):
        headers = {k: v for k, v in response.headers.items() if k.lower() != "content-length"}
        headers.pop("content-type", None)
        return Response(status_code=304, headers=headers)
    return response


_HOURS_WORD = re.compile(r"\b(?:Mo|Tu|We|Th|Fr|Sa|Su|PH|off|closed)\b")
HOURS_WORDS: dict[str, str] = {
    "Mo": N_("Mon"),
    "Tu": N_("Tue"),
    "We": N_("Wed"),
    "Th": N_("Thu"),
    "Fr": N_("Fri"),
    "Sa": N_("Sat"),
    "Su": N_("Sun"),
    "PH": N_("public holidays"),
    "off": N_("closed"),
    "closed": N_("closed"),
}


def readable_hours(expression: str | None) -> str | None:
    """OpenStreetMap hours with the day names of the reader's language: "T2-CN 07:30-17:00"."""
    if not expression:
        return None
    if expression.strip() == "24/7":
        return _("Every day, 24 hours")
    text = _HOURS_WORD.sub(lambda m: _(HOURS_WORDS[m.group(0)]), expression)
    return re.sub(r",(?=\S)", ", ", text)


def hours_text(contact: ContactPublic, now: datetime, zone: str, locale: str) -> str | None:
    """Whether it is open and until when: "Open now, until 17:00", "Closed now, opens Monday,
    07:30"; None when not known."""
    if contact.open_now is None:
        return None
    change = contact.next_change
    if change is None:
        return _("Open now, day and night") if contact.open_now else _("Closed now")
    tz = ZoneInfo(zone)
    local = change.astimezone(tz)
    if local.date() == now.astimezone(tz).date():
        when = local.strftime("%H:%M")
    else:
        when = babel_datetime(local, "EEEE, HH:mm", locale=locale)
    if contact.open_now:
        return _("Open now, until %(when)s", when=when)
    return _("Closed now, opens %(when)s", when=when)


# Public pages --------------------------------------------------------------------------------


@router.get("/help", response_class=HTMLResponse)
async def help_page(
    request: Request, session: SessionDep, settings: SettingsDep, user: PageUserOptional
) -> Response:
    now = utcnow()
    locale = locale_of(request)
    found = await service.overview(session, locale, now, settings.time_zone)
    response = render(
        request,
        "practical/help.html",
        {
            "help": found,
            "hours_text": lambda c: hours_text(c, now, settings.time_zone, locale),
            "readable_hours": readable_hours,
            "is_staff": service.is_staff(user),
        },
    )
    return revalidated(request, response)


@router.get("/help/{slug}", response_class=HTMLResponse)
async def guide_page(
    slug: str,
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    user: PageUserOptional,
) -> Response:
    guide = await service.get_guide(session, slug, public=True)
    locale = locale_of(request)
    shown = service.guide_public(guide, locale)
    response = render(
        request,
        "practical/guide.html",
        {
            "guide": shown,
            "title_lang": language_of(guide.title, locale),
            "summary_lang": language_of(guide.summary, locale),
            "in_other_language": shown.lang if shown.lang and shown.lang != locale else None,
            "updated_on": shown.updated_at.astimezone(ZoneInfo(settings.time_zone)).date(),
            "language_name": language_name,
            "is_staff": service.is_staff(user),
        },
    )
    return revalidated(request, response)


# Staff: the list -----------------------------------------------------------------------------


@router.get("/staff/help", response_class=HTMLResponse)
async def staff_list(
    request: Request,
    session: SessionDep,
    user: PageStaff,
    done: Annotated[str | None, Query(max_length=30)] = None,
) -> Response:
    locale = locale_of(request)
    contacts = await service.staff_contacts(session)
    held = {service.digits(c.phone) for c in contacts if c.retired_at is None}
    return render(
        request,
        "practical/staff_list.html",
        {
            "contacts": contacts,
            "guides": await repo.guides(session, include_retired=True),
            "built_in": [n for n in service.BUILT_IN if n.phone not in held],
            "kind_label": service.kind_label,
            "pick_text": lambda texts: pick(texts, locale),
            "notice": done_message(done),
        },
    )


# Staff: numbers and information points -------------------------------------------------------

CONTACT_FIELDS = {
    "code": "code",
    "kind": "kind",
    "phone": "phone",
    "name": "name_vi",
    "description": "description_vi",
    "place_code": "place_code",
    "hours": "hours",
    "sort_order": "sort_order",
}


def _text(form: FormData, name: str) -> str:
    value = form.get(name)
    return value.strip() if isinstance(value, str) else ""


def _texts(kept: dict[str, str], typed: dict[str, str]) -> dict[str, str]:
    """The languages the form edits, over those it does not show (kept as they are)."""
    merged = {k: v for k, v in kept.items() if k not in FORM_LANGUAGES}
    merged.update({k: v for k, v in typed.items() if v})
    return merged


def _sort_order(value: str) -> str | int:
    return value or 100


@dataclass
class ContactForm:
    """What was typed, kept as typed so a mistake never loses it."""

    code: str = ""
    kind: str = ""
    phone: str = ""
    name_vi: str = ""
    name_en: str = ""
    description_vi: str = ""
    description_en: str = ""
    place_code: str = ""
    hours: str = ""
    sort_order: str = "100"

    @classmethod
    def read(cls, form: FormData) -> ContactForm:
        return cls(**{name: _text(form, name) for name in cls.__dataclass_fields__})

    @classmethod
    def of(cls, contact: HelpContact, place_code: str | None) -> ContactForm:
        return cls(
            code=contact.code,
            kind=contact.kind,
            phone=contact.phone or "",
            name_vi=contact.name.get("vi", ""),
            name_en=contact.name.get("en", ""),
            description_vi=contact.description.get("vi", ""),
            description_en=contact.description.get("en", ""),
            place_code=place_code or "",
            hours=contact.hours or "",
            sort_order=str(contact.sort_order),
        )

    def parse(self, kept: HelpContact | None = None) -> tuple[ContactIn | None, list[FormError]]:
        payload: dict[str, Any] = {
            "kind": self.kind,
            "phone": self.phone or None,
            "name": _texts(kept.name if kept else {}, {"vi": self.name_vi, "en": self.name_en}),
            "description": _texts(
                kept.description if kept else {},
                {"vi": self.description_vi, "en": self.description_en},
            ),
            "place_code": self.place_code or None,
            "hours": self.hours or None,
            "sort_order": _sort_order(self.sort_order),
        }
        if kept is None and self.code:
            payload["code"] = self.code
        try:
            return ContactIn.model_validate(payload), []
        except ValidationError as exc:
            return None, _form_errors(exc, CONTACT_FIELDS, _contact_message)


def _contact_message(name: str) -> str:
    messages = {
        "code": _(
            "Use 2 to 60 lower-case letters, digits and hyphens for the code, or leave it empty."
        ),
        "kind": _("Choose what kind of number or place this is."),
        "phone": _(
            "Enter the number with digits and spaces, and + only in front, such as 0216 3862 222."
        ),
        "name": _("Give a name in Vietnamese or in English, at most 200 characters."),
        "description": _("Keep each description under 10,000 characters."),
        "place_code": _("Enter the code of a place, or leave it empty."),
        "hours": _(
            "Write the hours the OpenStreetMap way, such as Mo-Fr 07:30-17:00 or 24/7, or leave "
            "them empty."
        ),
        "sort_order": _("Enter a whole number from 0 to %(max)s.", max=SORT_MAX),
    }
    return messages.get(name, _("Some fields are not valid."))


def _form_errors(exc: ValidationError, fields: dict[str, str], message: Any) -> list[FormError]:
    errors: list[FormError] = []
    for error in exc.errors():
        name = str(error["loc"][0]) if error.get("loc") else ""
        if not any(e.target == fields.get(name) for e in errors):
            errors.append(FormError(message(name), fields.get(name)))
    return errors


def service_errors(exc: AppError, fields: dict[str, str]) -> list[FormError]:
    if not exc.errors:
        return [FormError(exc.detail or _(exc.title))]
    first = exc.errors[0].get("field", "")
    return [FormError(exc.detail or exc.errors[0].get("reason", ""), fields.get(first))]


def _kinds() -> list[tuple[str, str]]:
    return [(k.value, service.kind_label(k.value)) for k in Kind]


async def _contact_form(
    request: Request,
    session: AsyncSession,
    form: ContactForm,
    *,
    contact: HelpContact | None = None,
    errors: list[FormError] | None = None,
    status_code: int = 200,
) -> Response:
    errors = errors or []
    trail = await service.trail(session, service.CONTACT, contact.id) if contact else []
    return render(
        request,
        "practical/contact_form.html",
        {
            "contact": contact,
            "form": form,
            "kinds": _kinds(),
            "errors": errors,
            "field_errors": field_errors(errors),
            "trail": trail,
            "trail_label": trail_label,
        },
        status_code=status_code,
    )


async def _apply(
    session: AsyncSession,
    change: Callable[[], Awaitable[Any]],
    show_form: Callable[..., Awaitable[Response]],
    fields: dict[str, str],
    done: str,
) -> Response:
    """Make a change through the service; when the service refuses it (other than for who may),
    nothing is kept and the form comes back with what was typed and why."""
    try:
        async with session.begin_nested():
            await change()
    except AppError as exc:
        if exc.status in (401, 403):
            raise
        return await show_form(errors=service_errors(exc, fields), status_code=exc.status)
    return back_to_list(done)


@router.get("/staff/help/contacts/new", response_class=HTMLResponse)
async def new_contact(request: Request, session: SessionDep, user: PageStaff) -> Response:
    return await _contact_form(request, session, ContactForm())


@router.post("/staff/help/contacts/new", dependencies=csrf)
async def create_contact(request: Request, session: SessionDep, user: PageStaff) -> Response:
    form = ContactForm.read(await request.form())
    data, errors = form.parse()
    if data is None:
        return await _contact_form(request, session, form, errors=errors, status_code=422)
    return await _apply(
        session,
        lambda: service.create_contact(session, user, data),
        partial(_contact_form, request, session, form),
        CONTACT_FIELDS,
        "contact-created",
    )


@router.get("/staff/help/contacts/{code}/edit", response_class=HTMLResponse)
async def edit_contact(
    code: str, request: Request, session: SessionDep, user: PageStaff
) -> Response:
    contact = await service.get_contact(session, code)
    form = ContactForm.of(contact, await service.place_code_of(session, contact))
    return await _contact_form(request, session, form, contact=contact)


@router.post("/staff/help/contacts/{code}/edit", dependencies=csrf)
async def save_contact(
    code: str, request: Request, session: SessionDep, user: PageStaff
) -> Response:
    contact = await service.get_contact(session, code, for_update=True)
    form = ContactForm.read(await request.form())
    form.code = contact.code
    data, errors = form.parse(kept=contact)
    if data is None:
        return await _contact_form(
            request, session, form, contact=contact, errors=errors, status_code=422
        )
    patch = ContactPatch(**data.model_dump(exclude={"code"}))

    async def show_form(**kw: Any) -> Response:
        fresh = await service.get_contact(session, code)
        return await _contact_form(request, session, form, contact=fresh, **kw)

    return await _apply(
        session,
        lambda: service.update_contact(session, user, contact, patch),
        show_form,
        CONTACT_FIELDS,
        "contact-saved",
    )


@router.get("/staff/help/contacts/{code}/retire", response_class=HTMLResponse)
async def confirm_retire_contact(
    code: str, request: Request, session: SessionDep, user: PageStaff
) -> Response:
    contact = await service.get_contact(session, code)
    if contact.retired_at is not None:
        return RedirectResponse(f"/staff/help/contacts/{contact.code}/edit", status_code=303)
    return render(
        request,
        "practical/confirm_retire.html",
        {
            "what": pick(contact.name, locale_of(request)) or contact.code,
            "action": f"/staff/help/contacts/{contact.code}/retire",
            "back": f"/staff/help/contacts/{contact.code}/edit",
            "question": _("Take this number off the help page?"),
        },
    )


@router.post("/staff/help/contacts/{code}/retire", dependencies=csrf)
async def retire_contact(
    code: str, request: Request, session: SessionDep, user: PageStaff
) -> Response:
    contact = await service.get_contact(session, code, for_update=True)
    await service.retire_contact(session, user, contact)
    return back_to_list("contact-retired")


@router.post("/staff/help/contacts/{code}/restore", dependencies=csrf)
async def restore_contact(
    code: str, request: Request, session: SessionDep, user: PageStaff
) -> Response:
    contact = await service.get_contact(session, code, for_update=True)
    await service.restore_contact(session, user, contact)
    return back_to_list("contact-restored")


# Staff: guides --------------------------------------------------------------------------------

GUIDE_FIELDS = {
    "slug": "slug",
    "title": "title_vi",
    "summary": "summary_vi",
    "body": "body_vi",
    "sort_order": "sort_order",
}


@dataclass
class GuideForm:
    slug: str = ""
    title_vi: str = ""
    title_en: str = ""
    summary_vi: str = ""
    summary_en: str = ""
    body_vi: str = ""
    body_en: str = ""
    sort_order: str = "100"

    @classmethod
    def read(cls, form: FormData) -> GuideForm:
        values = {name: _text(form, name) for name in cls.__dataclass_fields__}
        for name in ("body_vi", "body_en"):  # keep the blank lines and indents that shape it
            raw = form.get(name)
            values[name] = raw.replace("\r\n", "\n").strip("\n") if isinstance(raw, str) else ""
        values["slug"] = values["slug"].lower()
        return cls(**values)

    @classmethod
    def of(cls, guide: GuidePage) -> GuideForm:
        return cls(
            slug=guide.slug,
            title_vi=guide.title.get("vi", ""),
            title_en=guide.title.get("en", ""),
            summary_vi=guide.summary.get("vi", ""),
            summary_en=guide.summary.get("en", ""),
            body_vi=guide.body.get("vi", ""),
            body_en=guide.body.get("en", ""),
            sort_order=str(guide.sort_order),
        )

    def parse(self, kept: GuidePage | None = None) -> tuple[GuideIn | None, list[FormError]]:
        def texts(name: str) -> dict[str, str]:
            stored: dict[str, str] = getattr(kept, name) if kept else {}
            return _texts(
                stored, {lang: getattr(self, f"{name}_{lang}") for lang in FORM_LANGUAGES}
            )

        payload = {
            "slug": kept.slug if kept else self.slug,
            "title": texts("title"),
            "summary": texts("summary"),
            "body": texts("body"),
            "sort_order": _sort_order(self.sort_order),
        }
        try:
            return GuideIn.model_validate(payload), []
        except ValidationError as exc:
            return None, _form_errors(exc, GUIDE_FIELDS, _guide_message)


def _guide_message(name: str) -> str:
    messages = {
        "slug": _(
            "Use 2 to 80 lower-case letters without marks, digits and single hyphens for the "
            "address, such as getting-to-mu-cang-chai."
        ),
        "title": _("Give a title in Vietnamese or in English, at most 200 characters."),
        "summary": _("Keep each summary under 400 characters."),
        "body": _("Keep each text under 10,000 characters."),
        "sort_order": _("Enter a whole number from 0 to %(max)s.", max=SORT_MAX),
    }
    return messages.get(name, _("Some fields are not valid."))


async def _guide_form(
    request: Request,
    session: AsyncSession,
    form: GuideForm,
    *,
    guide: GuidePage | None = None,
    errors: list[FormError] | None = None,
    status_code: int = 200,
) -> Response:
    errors = errors or []
    trail = await service.trail(session, service.GUIDE, guide.id) if guide else []
    return render(
        request,
        "practical/guide_form.html",
        {
            "guide": guide,
            "form": form,
            "errors": errors,
            "field_errors": field_errors(errors),
            "trail": trail,
            "trail_label": trail_label,
        },
        status_code=status_code,
    )


@router.get("/staff/help/guides/new", response_class=HTMLResponse)
async def new_guide(request: Request, session: SessionDep, user: PageStaff) -> Response:
    return await _guide_form(request, session, GuideForm())


@router.post("/staff/help/guides/new", dependencies=csrf)
async def create_guide(request: Request, session: SessionDep, user: PageStaff) -> Response:
    form = GuideForm.read(await request.form())
    data, errors = form.parse()
    if data is None:
        return await _guide_form(request, session, form, errors=errors, status_code=422)
    return await _apply(
        session,
        lambda: service.create_guide(session, user, data),
        partial(_guide_form, request, session, form),
        GUIDE_FIELDS,
        "guide-created",
    )


@router.get("/staff/help/guides/{slug}/edit", response_class=HTMLResponse)
async def edit_guide(slug: str, request: Request, session: SessionDep, user: PageStaff) -> Response:
    guide = await service.get_guide(session, slug)
    return await _guide_form(request, session, GuideForm.of(guide), guide=guide)


@router.post("/staff/help/guides/{slug}/edit", dependencies=csrf)
async def save_guide(slug: str, request: Request, session: SessionDep, user: PageStaff) -> Response:
    guide = await service.get_guide(session, slug, for_update=True)
    form = GuideForm.read(await request.form())
    form.slug = guide.slug
    data, errors = form.parse(kept=guide)
    if data is None:
        return await _guide_form(
            request, session, form, guide=guide, errors=errors, status_code=422
        )
    patch = GuidePatch(**data.model_dump(exclude={"slug"}))

    async def show_form(**kw: Any) -> Response:
        fresh = await service.get_guide(session, slug)
        return await _guide_form(request, session, form, guide=fresh, **kw)

    return await _apply(
        session,
        lambda: service.update_guide(session, user, guide, patch),
        show_form,
        GUIDE_FIELDS,
        "guide-saved",
    )


@router.get("/staff/help/guides/{slug}/retire", response_class=HTMLResponse)
async def confirm_retire_guide(
    slug: str, request: Request, session: SessionDep, user: PageStaff
) -> Response:
    guide = await service.get_guide(session, slug)
    if guide.retired_at is not None:
        return RedirectResponse(f"/staff/help/guides/{guide.slug}/edit", status_code=303)
    return render(
        request,
        "practical/confirm_retire.html",
        {
            "what": pick(guide.title, locale_of(request)),
            "action": f"/staff/help/guides/{guide.slug}/retire",
            "back": f"/staff/help/guides/{guide.slug}/edit",
            "question": _("Take this guide off the help page?"),
        },
    )


@router.post("/staff/help/guides/{slug}/retire", dependencies=csrf)
async def retire_guide(
    slug: str, request: Request, session: SessionDep, user: PageStaff
) -> Response:
    guide = await service.get_guide(session, slug, for_update=True)
    await service.retire_guide(session, user, guide)
    return back_to_list("guide-retired")


@router.post("/staff/help/guides/{slug}/restore", dependencies=csrf)
async def restore_guide(
    slug: str, request: Request, session: SessionDep, user: PageStaff
) -> Response:
    guide = await service.get_guide(session, slug, for_update=True)
    await service.restore_guide(session, user, guide)
    return back_to_list("guide-restored")
