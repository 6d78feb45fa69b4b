"""Staff pages to look after events: a list (coming, over, retired) with search by words, one
form to add or change an event (titles and descriptions in Vietnamese and English, when, how it
repeats as plain choices that build the RRULE, the venue, price and accessibility notes),
retiring with a confirmation step, and the event's history. Plain forms, POST-redirect-GET, CSRF
checked; every change goes through the same service as the JSON API (app.events.api)."""

from __future__ import annotations

import json
import re
from dataclasses import asdict, dataclass, fields, replace
from datetime import date, datetime, timedelta
from typing import Annotated, Any
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from babel.dates import format_date, get_day_names
from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import ValidationError
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.datastructures import FormData

from app.audit import service as audit
from app.auth.deps import PageStaff, SettingsDep
from app.auth.models import Role, User
from app.db import SessionDep, utcnow
from app.errors import AppError
from app.events import recurrence, service, views
from app.events import repository as repo
from app.events.models import EventCategory
from app.events.pages import when_full
from app.events.repository import EventRow
from app.events.schemas import MAX_PRICE_VND, EventIn, EventPatch
from app.kit.csrf import verify_csrf
from app.kit.i18n import N_, format_number, locale_of
from app.kit.i18n import gettext as _
from app.kit.langtext import language_of, pick
from app.kit.templating import render
from app.kit.text import search_terms
from app.org import repository as org_repo
from app.places.service import check_may_edit
from app.reports.pages import FormError, field_errors, pager, user_names

router = APIRouter(include_in_schema=False)
csrf = [Depends(verify_csrf)]

PAGE_SIZE = 25
NEXT_SHOWN = 5
FORM_LANGUAGES = ("vi", "en")  # the form edits these; other languages of a text are kept
LOCAL_INPUT = "%Y-%m-%dT%H:%M"  # what <input type="datetime-local"> sends and shows
DAY_CODES = ("MO", "TU", "WE", "TH", "FR", "SA", "SU")  # Monday first, as date.weekday()
KEEP = "keep"  # the repetition choice that keeps a rule the form cannot show

SHOW_CHOICES: dict[str, str] = {
    "upcoming": N_("Coming and under way"),
    "past": N_("Over"),
    "retired": N_("Retired events"),
}
REPEAT_CHOICES: dict[str, str] = {
    "none": N_("It does not repeat"),
    "weekly": N_("Every week, on the days chosen below"),
    "monthly": N_(
        "Every month, on the same day of the month as the first date (months without that day "
        "are skipped)"
    ),
    "yearly": N_("Every year, on the same date as the first"),
}
DONE_MESSAGES: dict[str, str] = {
    "created": N_("The event is added. Check it below; it is already in the public list."),
    "saved": N_("Your changes are saved."),
    "unchanged": N_("Nothing was changed: the form said what the event already said."),
    "retired": N_(
        "The event is retired: the public list, its page and the calendar feeds no longer show it."
    ),
    "restored": N_("The event is back in the public list, on its page and in the calendar feeds."),
}
AUDIT_LABELS: dict[str, str] = {
    "event.create": N_("Added"),
    "event.update": N_("Changed"),
    "event.retire": N_("Retired from the public pages"),
    "event.restore": N_("Brought back"),
}
# The columns an audit entry names -> what staff call them.
COLUMN_LABELS: dict[str, str] = {
    "category": N_("Kind of event"),
    "title": N_("Title"),
    "description": N_("Description"),
    "starts_at": N_("Start"),
    "ends_at": N_("End"),
    "time_zone": N_("Time zone"),
    "all_day": N_("All day"),
    "rrule": N_("Repetition"),
    "last_ends_at": N_("End of the last date"),
    "place_id": N_("Place"),
    "venue": N_("Venue"),
    "price_vnd": N_("Price"),
    "price_note": N_("Note on the price"),
    "accessibility_notes": N_("Accessibility notes"),
    "url": N_("Organiser's website"),
    "department_id": N_("Looked after by"),
}
# The ids of the controls from the top of the form down: the summary lists errors in this order.
FORM_ORDER = {
    target: n
    for n, target in enumerate(
        [
            "title_vi",
            "title_en",
            "description_vi",
            "description_en",
            "category",
            "starts_at",
            "ends_at",
            "all_day",
            "first_day",
            "last_day",
            "repeat-none",
            "days-MO",
            "until",
            "place_code",
            "venue_vi",
            "venue_en",
            "price_vnd",
            "price_note_vi",
            "price_note_en",
            "notes_vi",
            "notes_en",
            "url",
            "department",
        ]
    )
}


def done_message(done: str | None) -> str | None:
    return _(DONE_MESSAGES[done]) if done in DONE_MESSAGES else None


def back_to(code: str, done: str) -> RedirectResponse:
    return RedirectResponse(
        f"/staff/events/{code}/edit?{urlencode({'done': done})}", status_code=303
    )


def audit_label(action: str) -> str:
    return _(AUDIT_LABELS.get(action, action))


def column_label(column: str) -> str:
    return _(COLUMN_LABELS[column]) if column in COLUMN_LABELS else column


def in_form_order(errors: list[FormError]) -> list[FormError]:
    return sorted(errors, key=lambda e: FORM_ORDER.get(e.target or "", -1))


def weekday_names(locale: str) -> list[tuple[str, str]]:
    names = get_day_names("wide", locale=locale)
    return [(code, str(names[n])) for n, code in enumerate(DAY_CODES)]


def long_date(day: date, locale: str) -> str:
    return str(format_date(day, "full", locale=locale))


HELPERS: dict[str, Any] = {
    "audit_label": audit_label,
    "column_label": column_label,
}


# The list ---------------------------------------------------------------------------------


@router.get("/staff/events", response_class=HTMLResponse)
async def staff_events(
    request: Request,
    session: SessionDep,
    user: PageStaff,
    q: Annotated[str, Query(max_length=200)] = "",
    show: Annotated[str, Query(max_length=20)] = "upcoming",
    page: Annotated[int, Query(ge=1, le=100_000)] = 1,
) -> Response:
    chosen = show if show in SHOW_CHOICES else "upcoming"
    now = utcnow()
    locale = locale_of(request)
    terms = search_terms(q) if q.strip() else []
    departments = {d.code: d.name(locale) for d in await org_repo.list_departments(session)}
    found: list[tuple[Any, dict[str, Any]]] = []
    for row in await repo.for_staff(session, retired=chosen == "retired"):
        if terms and not service.matches(row, terms):
            continue
        event = row.event
        over = event.last_ends_at is not None and event.last_ends_at <= now
        if (chosen == "upcoming" and over) or (chosen == "past" and not over):
            continue
        zone = ZoneInfo(event.time_zone)
        starts, ends = event.starts_at.astimezone(zone), event.ends_at.astimezone(zone)
        key: Any = starts
        if chosen == "upcoming":
            coming = service.next_occurrences(event, now, 1)
            if coming:
                starts, ends = coming[0]
            key = starts
        elif chosen == "past" and event.last_ends_at is not None:
            ends = event.last_ends_at.astimezone(zone)
            starts = ends - (event.ends_at - event.starts_at)
            key = -ends.timestamp()  # the latest first
        elif chosen == "retired" and event.retired_at is not None:
            key = -event.retired_at.timestamp()  # the latest retired first
        venue = views.venue(row, locale)
        found.append(
            (
                key,
                {
                    "code": event.code,
                    "title": pick(event.title, locale) or event.code,
                    "title_lang": language_of(event.title, locale),
                    "category": views.category_label(event.category),
                    "starts_at": starts,
                    "when": when_full(starts, ends, event.all_day, locale),
                    "under_way": chosen == "upcoming" and starts <= now < ends,
                    "rule": views.describe_rule(event, locale),
                    "venue": venue.name if venue else None,
                    "department": departments.get(row.department_code or ""),
                },
            )
        )
    found.sort(key=lambda pair: pair[0])
    start = (page - 1) * PAGE_SIZE
    return render(
        request,
        "events/staff_list.html",
        {
            "items": [item for _key, item in found[start : start + PAGE_SIZE]],
            "filters": {"q": q, "show": chosen},
            "show_choices": [(k, _(v)) for k, v in SHOW_CHOICES.items()],
            "pager": pager(request, page, PAGE_SIZE, len(found)),
        },
    )


# The form ---------------------------------------------------------------------------------


@dataclass
class EventForm:
    """What staff typed, kept as typed so that an error never loses it."""

    title_vi: str = ""
    title_en: str = ""
    description_vi: str = ""
    description_en: str = ""
    category: str = ""
    starts_at: str = ""  # datetime-local, in the event's time zone
    ends_at: str = ""
    all_day: str = ""  # "1" when ticked
    first_day: str = ""  # dates, for an all-day event
    last_day: str = ""
    repeat: str = "none"
    days: str = ""  # the weekdays ticked, "MO,FR"
    until: str = ""
    place_code: str = ""
    venue_vi: str = ""
    venue_en: str = ""
    price_vnd: str = ""
    price_note_vi: str = ""
    price_note_en: str = ""
    notes_vi: str = ""
    notes_en: str = ""
    url: str = ""
    department: str = ""

    @classmethod
    def read(cls, form: FormData) -> EventForm:
        def text(name: str) -> str:
            value = form.get(name)
            return _one_way(value) if isinstance(value, str) else ""

        ticked = {str(v) for v in form.getlist("days")}
        return cls(
            **{name: text(name) for name in TEXT_FIELDS if name not in ("all_day", "days")},
            all_day="1" if text("all_day") else "",
            days=",".join(code for code in DAY_CODES if code in ticked),
        )

    @classmethod
    def blank(cls, department_code: str | None) -> EventForm:
        return cls(department=department_code or "")

    @classmethod
    def of(cls, row: EventRow) -> EventForm:
        event = row.event
        zone = ZoneInfo(event.time_zone)
        starts, ends = event.starts_at.astimezone(zone), event.ends_at.astimezone(zone)
        form = cls(
            title_vi=event.title.get("vi", ""),
            title_en=event.title.get("en", ""),
            description_vi=_one_way(event.description.get("vi", "")),
            description_en=_one_way(event.description.get("en", "")),
            category=event.category,
            place_code=row.place.code if row.place else "",
            venue_vi=event.venue.get("vi", ""),
            venue_en=event.venue.get("en", ""),
            price_vnd="" if event.price_vnd is None else str(event.price_vnd),
            price_note_vi=event.price_note.get("vi", ""),
            price_note_en=event.price_note.get("en", ""),
            notes_vi=_one_way(event.accessibility_notes.get("vi", "")),
            notes_en=_one_way(event.accessibility_notes.get("en", "")),
            url=event.url or "",
            department=row.department_code or "",
        )
        if event.all_day:
            form.all_day = "1"
            form.first_day = starts.date().isoformat()
            form.last_day = (ends - timedelta(days=1)).date().isoformat()
        else:
            form.starts_at = starts.strftime(LOCAL_INPUT)
            form.ends_at = ends.strftime(LOCAL_INPUT)
        form.repeat, form.days, form.until = _repetition_of(event.rrule, starts, zone)
        return form

    def snapshot(self) -> str:
        """The form as opened, sent back hidden: what the editor changed is what differs."""
        return json.dumps(asdict(self), ensure_ascii=False, separators=(",", ":"))

    @classmethod
    def from_snapshot(cls, text: object) -> EventForm | None:
        try:
            values = json.loads(text) if isinstance(text, str) else None
        except ValueError:
            return None
        if not isinstance(values, dict) or not all(
            isinstance(values.get(name), str) for name in TEXT_FIELDS
        ):
            return None
        return cls(**{name: values[name] for name in TEXT_FIELDS})

    @property
    def day_codes(self) -> list[str]:
        return [d for d in self.days.split(",") if d]

    def parse(
        self, zone: ZoneInfo, locale: str, *, kept_rule: str | None, may_choose_department: bool
    ) -> tuple[EventIn | None, list[FormError]]:
        """The event the form describes, validated as the API validates it; or the errors, each
        pointing at its field."""
        errors: list[FormError] = []
        said: set[str] = set()

        def fail(target: str, message: str) -> None:
            if target not in said:
                said.add(target)
                errors.append(FormError(message, target))

        all_day = bool(self.all_day)
        starts: date | datetime | None = None
        ends: date | datetime | None = None
        if all_day:
            # Days not given but times shown (a timed event just made all day): their days.
            first_text = self.first_day or self.starts_at[:10]
            last_text = self.last_day or (self.ends_at[:10] if not self.first_day else "")
            if not first_text:
                fail("first_day", _("Enter the first day, or untick “All day” and give times."))
            else:
                starts = _day(first_text)
                if starts is None:
                    fail("first_day", _("Enter the first day as a date, such as 20/09/2030."))
            if last_text:
                ends = _day(last_text)
                if ends is None:
                    fail("last_day", _("Enter the last day as a date, such as 22/09/2030."))
            else:
                ends = starts
        else:
            if not self.starts_at:
                fail("starts_at", _("Enter the date and time it starts, or tick “All day”."))
            else:
                starts = _moment(self.starts_at)
                if starts is None:
                    fail(
                        "starts_at",
                        _("Enter the start as a date and a time, such as 20/09/2030 19:00."),
                    )
            if not self.ends_at:
                fail("ends_at", _("Enter the date and time it ends."))
            else:
                ends = _moment(self.ends_at)
                if ends is None:
                    fail(
                        "ends_at",
                        _("Enter the end as a date and a time, such as 20/09/2030 21:00."),
                    )
        first_target = "first_day" if all_day else "starts_at"
        first_day = starts.date() if isinstance(starts, datetime) else starts

        rule: str | None = None
        if self.repeat == "weekly":
            if not self.day_codes:
                fail("days-MO", _("Choose at least one day of the week, or another repetition."))
            else:
                rule = "FREQ=WEEKLY;BYDAY=" + ",".join(self.day_codes)
                if first_day is not None and DAY_CODES[first_day.weekday()] not in self.day_codes:
                    names = dict(weekday_names(locale))
                    fail(
                        first_target,
                        _(
                            "The first date, %(date)s, is not on a day chosen for the "
                            "repetition: start on one of those days, or tick %(weekday)s too.",
                            date=long_date(first_day, locale),
                            weekday=names[DAY_CODES[first_day.weekday()]],
                        ),
                    )
        elif self.repeat == "monthly":
            rule = "FREQ=MONTHLY"
        elif self.repeat == "yearly":
            rule = "FREQ=YEARLY"
        elif self.repeat == KEEP and kept_rule:
            rule = kept_rule
        elif self.repeat != "none":
            fail("repeat-none", _("Choose whether and how it repeats."))
        if self.until and self.repeat != KEEP:
            until = _day(self.until)
            if until is None:
                fail("until", _("Enter the “until” date as a date, such as 27/12/2030."))
            elif self.repeat == "none":
                fail("until", _("Choose how it repeats, or leave “until” empty."))
            elif first_day is not None and until < first_day:
                fail("until", _("The “until” date is before the first date."))
            elif rule:
                rule += f";UNTIL={until:%Y%m%d}"

        price: int | None = None
        typed_price = re.sub(r"(?i)(đồng|đ|₫|vnd)$", "", self.price_vnd).strip()
        if typed_price:
            digits = re.sub(r"[\s.,]", "", typed_price)
            if not digits.isdigit():
                fail("price_vnd", _price_message())
            else:
                price = int(digits)

        payload: dict[str, Any] = {
            "category": self.category,
            "title": {"vi": self.title_vi, "en": self.title_en},
            "description": {"vi": self.description_vi, "en": self.description_en},
            # A stand-in where the page already said what is wrong: the rest is still checked.
            "starts_at": starts if starts is not None else date(2000, 1, 1),
            "ends_at": ends,
            "time_zone": zone.key,
            "all_day": all_day,
            "rrule": rule,
            "place_code": _place_code(self.place_code) or None,
            "venue": {"vi": self.venue_vi, "en": self.venue_en},
            "price_vnd": price,
            "price_note": {"vi": self.price_note_vi, "en": self.price_note_en},
            "accessibility_notes": {"vi": self.notes_vi, "en": self.notes_en},
            "url": self.url or None,
            "department_code": (self.department or None) if may_choose_department else None,
        }
        try:
            data = EventIn.model_validate(payload)
        except ValidationError as exc:
            for error in exc.errors():
                name = str(error.get("loc", ("",))[0])
                target = _target(name, all_day)
                if target:
                    fail(target, _validation_message(name))
            return None, in_form_order(errors)
        return (data, []) if not errors else (None, in_form_order(errors))


TEXT_FIELDS = tuple(f.name for f in fields(EventForm))
# A form field -> the column its history names (for "someone else changed it" messages).
FORM_COLUMNS: dict[str, str] = {
    "title_vi": "title",
    "title_en": "title",
    "description_vi": "description",
    "description_en": "description",
    "category": "category",
    "starts_at": "starts_at",
    "ends_at": "ends_at",
    "all_day": "all_day",
    "first_day": "starts_at",
    "last_day": "ends_at",
    "repeat": "rrule",
    "days": "rrule",
    "until": "rrule",
    "place_code": "place_id",
    "venue_vi": "venue",
    "venue_en": "venue",
    "price_vnd": "price_vnd",
    "price_note_vi": "price_note",
    "price_note_en": "price_note",
    "notes_vi": "accessibility_notes",
    "notes_en": "accessibility_notes",
    "url": "url",
    "department": "department_id",
}
# Groups of form fields -> what an EventPatch sends when one of them changed.
GROUPS: dict[str, tuple[str, ...]] = {
    "category": ("category",),
    "title": ("title_vi", "title_en"),
    "description": ("description_vi", "description_en"),
    "times": ("starts_at", "ends_at", "all_day", "first_day", "last_day"),
    "rrule": ("repeat", "days", "until"),
    "place_code": ("place_code",),
    "venue": ("venue_vi", "venue_en"),
    "price_vnd": ("price_vnd",),
    "price_note": ("price_note_vi", "price_note_en"),
    "accessibility_notes": ("notes_vi", "notes_en"),
    "url": ("url",),
    "department_code": ("department",),
}
_MULTILINGUAL = ("title", "description", "venue", "price_note", "accessibility_notes")


def _one_way(text: str) -> str:
    """Browsers send the lines of a textarea with CR LF: read "\n" either way, so that text
    sent back as it was shown is not taken for a change."""
    return text.replace("\r\n", "\n").replace("\r", "\n").strip()


def _day(text: str) -> date | None:
    for pattern in ("%Y-%m-%d", "%d/%m/%Y"):
        try:
            return datetime.strptime(text.strip(), pattern).date()
        except ValueError:
            continue
    return None


def _moment(text: str) -> datetime | None:
    """A datetime-local value (or the same typed by hand, or day/month/year hour:minute) as a
    wall-clock time."""
    text = " ".join(text.replace("T", " ").split())
    for pattern in ("%Y-%m-%d %H:%M", "%Y-%m-%d %H:%M:%S", "%d/%m/%Y %H:%M"):
        try:
            return datetime.strptime(text, pattern)
        except ValueError:
            continue
    return None


def _place_code(text: str) -> str:
    """The code, also from a pasted address of the place's page (…/places/<code>)."""
    text = text.strip().split("?")[0].split("#")[0].rstrip("/")
    if "/places/" in text:
        text = text.rsplit("/", 1)[-1]
    return text


def _repetition_of(rule: str | None, starts: datetime, zone: ZoneInfo) -> tuple[str, str, str]:
    """(repeat, days, until) of the form for a stored rule; "keep" for a rule it cannot show."""
    if not rule:
        return "none", "", ""
    parts = recurrence.parts_of(rule)
    freq = parts.get("FREQ", "")
    days = [d for d in parts.get("BYDAY", "").split(",") if d]
    plain = set(parts) <= {"FREQ", "BYDAY", "UNTIL", "INTERVAL", "WKST"}
    plain = plain and parts.get("INTERVAL", "1") == "1" and all(d in DAY_CODES for d in days)
    if not plain or freq not in ("WEEKLY", "MONTHLY", "YEARLY") or (days and freq != "WEEKLY"):
        return KEEP, "", ""
    until = ""
    if "UNTIL" in parts:
        stamp = parts["UNTIL"]
        if stamp.endswith("Z"):
            moment = datetime.strptime(stamp, "%Y%m%dT%H%M%SZ").replace(tzinfo=ZoneInfo("UTC"))
            until = moment.astimezone(zone).date().isoformat()
        else:
            until = datetime.strptime(stamp[:8], "%Y%m%d").date().isoformat()
    if freq == "WEEKLY":
        chosen = set(days or [DAY_CODES[starts.weekday()]])
        return "weekly", ",".join(d for d in DAY_CODES if d in chosen), until
    return freq.lower(), "", until


def _price_message() -> str:
    return _(
        "Enter the price in đồng with digits only, such as 50000: 0 when it is free, empty "
        "when it is not known."
    )


def _target(name: str, all_day: bool) -> str | None:
    """The control an error about a field of EventIn (or of the service) points at."""
    targets = {
        "title": "title_vi",
        "description": "description_vi",
        "category": "category",
        "starts_at": "first_day" if all_day else "starts_at",
        "ends_at": "last_day" if all_day else "ends_at",
        "rrule": "repeat-none",
        "place_code": "place_code",
        "venue": "venue_vi",
        "price_vnd": "price_vnd",
        "price_note": "price_note_vi",
        "accessibility_notes": "notes_vi",
        "url": "url",
        "department_code": "department",
    }
    return targets.get(name)


def _validation_message(name: str) -> str:
    messages = {
        "title": lambda: _("Give the title in Vietnamese or English, at most 200 characters each."),
        "description": lambda: _("Keep each description under 10,000 characters."),
        "category": lambda: _("Choose the kind of event."),
        "venue": lambda: _("Keep the venue under 200 characters in each language."),
        "price_vnd": lambda: _(
            "The price is at most %(max)s đồng.", max=format_number(MAX_PRICE_VND)
        ),
        "price_note": lambda: _(
            "Keep the note on the price under 200 characters in each language."
        ),
        "accessibility_notes": lambda: _(
            "Keep the accessibility notes under 10,000 characters each."
        ),
        "url": lambda: _("Enter the website's full address, starting with https://."),
        "department_code": lambda: _("Choose a department from the list."),
        "place_code": lambda: _("Keep the code of the place under 60 characters."),
    }
    return messages.get(name, lambda: _("Some fields are not valid."))()


def service_errors(exc: AppError, all_day: bool) -> list[FormError]:
    if not exc.errors:
        return [FormError(exc.detail or _(exc.title))]
    out = []
    for error in exc.errors:
        name = error.get("field", "")
        message = error.get("reason", "")
        if name == "department_code":
            message = _("Choose a department from the list.")
        elif name == "place_code":
            message = _(
                "%(reason)s Copy the code from the staff list of places, or leave it empty "
                "and write the venue.",
                reason=message,
            )
        out.append(FormError(message, _target(name, all_day)))
    return in_form_order(out)


def merge(typed: EventForm, opened: EventForm, stored: EventForm) -> tuple[EventForm, list[str]]:
    """The event as stored with the editor's changes (what differs from the form they opened)
    on top, so that a change someone else saved meanwhile is kept; and the fields both changed,
    differently (the editor must look again)."""
    merged = replace(stored)
    clashes: list[str] = []
    for name in TEXT_FIELDS:
        mine, before, now = getattr(typed, name), getattr(opened, name), getattr(stored, name)
        if mine == before:
            continue
        if before != now and mine != now:
            clashes.append(name)
        setattr(merged, name, mine)
    return merged, clashes


def _clash_errors(clashes: list[str]) -> list[FormError]:
    seen: dict[str, str] = {}
    for name in clashes:
        column = FORM_COLUMNS[name]
        seen.setdefault(column, name)
    ids = {"repeat": "repeat-none", "days": "days-MO"}
    return in_form_order(
        [
            FormError(
                _(
                    "%(field)s: someone else changed it after you opened this form. Yours is "
                    "below: check it, then save again.",
                    field=column_label(column),
                ),
                ids.get(name, name),
            )
            for column, name in seen.items()
        ]
    )


def _merged(current: dict[str, str] | None, typed: dict[str, str]) -> dict[str, str]:
    """The form's Vietnamese and English over the stored text: other languages are kept."""
    kept = {k: v for k, v in (current or {}).items() if k not in FORM_LANGUAGES}
    return {**kept, **typed}


def _changes(
    row: EventRow, form: EventForm, stored: EventForm, data: EventIn, *, may_choose: bool
) -> dict[str, Any]:
    """What the form changes, as an EventPatch sends it: only the groups of fields that differ
    from the event as stored, so that an edit never rewrites what its author did not touch."""
    patch: dict[str, Any] = {}
    event = row.event
    for group, names in GROUPS.items():
        if all(getattr(form, n) == getattr(stored, n) for n in names):
            continue
        if group == "times":
            patch.update(starts_at=data.starts_at, ends_at=data.ends_at, all_day=data.all_day)
        elif group == "rrule":
            if form.repeat != KEEP:
                patch["rrule"] = data.rrule
        elif group in _MULTILINGUAL:
            patch[group] = _merged(getattr(event, group), getattr(data, group))
        elif group == "department_code":
            if may_choose:
                patch["department_code"] = data.department_code
        elif group == "category":
            patch["category"] = data.category
        else:
            patch[group] = getattr(data, group)
    return patch


async def _form_page(
    request: Request,
    session: AsyncSession,
    user: User,
    form: EventForm,
    zone_name: str,
    *,
    row: EventRow | None = None,
    errors: list[FormError] | None = None,
    notice: str | None = None,
    status_code: int = 200,
) -> Response:
    """The form; for an event, with what it was when the page was made (hidden), its dates,
    the retire action and its history."""
    errors = errors or []
    locale = locale_of(request)
    departments = await org_repo.list_departments(session)
    own = next((d for d in departments if d.id == user.department_id), None)
    context: dict[str, Any] = {
        **HELPERS,
        "form": form,
        "row": row,
        "event": row.event if row else None,
        "errors": errors,
        "field_errors": field_errors(errors),
        "notice": notice,
        "zone_name": zone_name,
        "categories": [(c.value, views.category_label(c.value)) for c in EventCategory],
        "repeat_choices": [(k, _(v)) for k, v in REPEAT_CHOICES.items()],
        "weekdays": weekday_names(locale),
        "may_choose_department": user.has_role(Role.manager),
        "departments": [(d.code, d.name(locale)) for d in departments],
        "own_department": own.name(locale) if own else None,
        "trail": [],
        "names": {},
    }
    if row is not None:
        event = row.event
        now = utcnow()
        item = views.event(row, locale, now)
        as_stored = EventForm.of(row)
        context.update(
            item=item,
            next_dates=[
                when_full(o.starts_at, o.ends_at, event.all_day, locale)
                for o in item.next_occurrences[:NEXT_SHOWN]
            ],
            rule_words=item.recurrence,
            opened=as_stored.snapshot(),
            can_keep=as_stored.repeat == KEEP,
            title=pick(event.title, locale) or event.code,
            title_lang=language_of(event.title, locale),
            event_department=next(
                (d.name(locale) for d in departments if d.id == event.department_id),
                None,
            ),
        )
        trail = await audit.trail(session, service.SUBJECT, event.id)
        context["trail"] = list(reversed(trail))  # newest first
        context["names"] = await user_names(session, [e.actor_id for e in trail])
    return render(request, "events/staff_form.html", context, status_code=status_code)


@router.get("/staff/events/new", response_class=HTMLResponse)
async def new_event(
    request: Request, session: SessionDep, settings: SettingsDep, user: PageStaff
) -> Response:
    own = await org_repo.get_department(session, user.department_id) if user.department_id else None
    form = EventForm.blank(own.code if own else None)
    return await _form_page(request, session, user, form, settings.time_zone)


@router.post("/staff/events/new", dependencies=csrf)
async def create_event(
    request: Request, session: SessionDep, settings: SettingsDep, user: PageStaff
) -> Response:
    form = EventForm.read(await request.form())
    zone = ZoneInfo(settings.time_zone)
    may_choose = user.has_role(Role.manager)
    data, errors = form.parse(
        zone, locale_of(request), kept_rule=None, may_choose_department=may_choose
    )
    if data is None:
        return await _form_page(
            request, session, user, form, zone.key, errors=errors, status_code=422
        )
    try:
        async with session.begin_nested():
            row = await service.create_event(session, user, data)
    except AppError as exc:
        return await _form_page(
            request,
            session,
            user,
            form,
            zone.key,
            errors=service_errors(exc, data.all_day),
            status_code=exc.status,
        )
    return back_to(row.event.code, "created")


async def _editable(session: AsyncSession, user: User, code: str, *, lock: bool) -> EventRow:
    """The event, if this person may change it (a readable 403 page otherwise)."""
    row = await service.get_for_change(session, code) if lock else await repo.by_code(session, code)
    if row is None:
        raise service.EventNotFound()
    check_may_edit(user, row.event.department_id)
    return row


@router.get("/staff/events/{code}/edit", response_class=HTMLResponse)
async def edit_event(
    code: str,
    request: Request,
    session: SessionDep,
    user: PageStaff,
    done: Annotated[str | None, Query(max_length=20)] = None,
) -> Response:
    row = await _editable(session, user, code, lock=False)
    return await _form_page(
        request,
        session,
        user,
        EventForm.of(row),
        row.event.time_zone,
        row=row,
        notice=done_message(done),
    )


@router.post("/staff/events/{code}/edit", dependencies=csrf)
async def save_event(code: str, request: Request, session: SessionDep, user: PageStaff) -> Response:
    row = await _editable(session, user, code, lock=True)
    event = row.event
    sent = await request.form()
    typed = EventForm.read(sent)
    may_choose = user.has_role(Role.manager)
    stored = EventForm.of(row)
    opened = EventForm.from_snapshot(sent.get("opened")) or stored
    if not may_choose:
        typed.department = opened.department  # not on their form: never theirs to change
    form, clashes = merge(typed, opened, stored)
    zone = ZoneInfo(event.time_zone)
    if clashes:
        return await _form_page(
            request,
            session,
            user,
            form,
            zone.key,
            row=row,
            errors=_clash_errors(clashes),
            status_code=409,
        )
    data, errors = form.parse(
        zone, locale_of(request), kept_rule=event.rrule, may_choose_department=may_choose
    )
    if data is None:
        return await _form_page(
            request, session, user, form, zone.key, row=row, errors=errors, status_code=422
        )
    changes = _changes(row, form, stored, data, may_choose=may_choose)
    if not changes:
        return back_to(event.code, "unchanged")
    try:
        async with session.begin_nested():
            await service.update_event(session, user, row, EventPatch.model_validate(changes))
    except AppError as exc:
        row = await _editable(session, user, code, lock=False)  # as stored, not as typed
        return await _form_page(
            request,
            session,
            user,
            form,
            zone.key,
            row=row,
            errors=service_errors(exc, data.all_day),
            status_code=exc.status,
        )
    return back_to(event.code, "saved")


# Retire -------------------------------------------------------------------------------------


@router.get("/staff/events/{code}/retire", response_class=HTMLResponse)
async def confirm_retire(
    code: str, request: Request, session: SessionDep, user: PageStaff
) -> Response:
    row = await _editable(session, user, code, lock=False)
    if row.event.retired_at is not None:  # already done: nothing to confirm
        return RedirectResponse(f"/staff/events/{row.event.code}/edit", status_code=303)
    locale = locale_of(request)
    return render(
        request,
        "events/staff_confirm.html",
        {
            "event": row.event,
            "title": pick(row.event.title, locale) or row.event.code,
            "title_lang": language_of(row.event.title, locale),
        },
    )


@router.post("/staff/events/{code}/retire", dependencies=csrf)
async def retire_event(
    code: str, request: Request, session: SessionDep, user: PageStaff
) -> Response:
    row = await _editable(session, user, code, lock=True)
    await service.retire_event(session, user, row)
    return back_to(row.event.code, "retired")


@router.post("/staff/events/{code}/restore", dependencies=csrf)
async def restore_event(
    code: str, request: Request, session: SessionDep, user: PageStaff
) -> Response:
    row = await _editable(session, user, code, lock=True)
    await service.restore_event(session, user, row)
    return back_to(row.event.code, "restored")
