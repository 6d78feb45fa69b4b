"""Staff pages to look after places: a list with search and "not checked lately", one form to
add or change a place (names and descriptions in Vietnamese and English, where, contact and
opening hours, and accessibility where "not known" is never "no"), retiring and restoring with a
confirmation step, and the place's history. Plain forms, POST-redirect-GET, CSRF checked; every
change goes through the same service as the JSON API (app.places.api)."""

from __future__ import annotations

import json
import re
from dataclasses import asdict, dataclass, field, fields, replace
from datetime import timedelta
from typing import Annotated, Any
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

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
from app.kit.csrf import verify_csrf
from app.kit.i18n import N_, locale_of
from app.kit.i18n import gettext as _
from app.kit.langtext import language_of, pick
from app.kit.templating import render
from app.org import repository as org_repo
from app.org.service import wards_by_district
from app.places import hours, repository, service
from app.places.labels import CATEGORY_LABELS, FEATURE_LABELS, category_label, feature_label
from app.places.models import FEATURES, Category, Place
from app.places.schemas import Accessibility, PlaceIn, PlacePatch, dump_accessibility
from app.reports.pages import FormError, field_errors, pager, user_names

router = APIRouter(include_in_schema=False)
csrf = [Depends(verify_csrf)]

PAGE_SIZE = 25
FORM_LANGUAGES = ("vi", "en")  # the form edits these; other languages of a text are kept
UNKNOWN = "unknown"  # the radio value of "Not known"

DONE_MESSAGES: dict[str, str] = {
    "created": N_("The place is added. Check it below; it is already in the public lists."),
    "saved": N_("Your changes are saved."),
    "unchanged": N_("Nothing was changed: the form said what the place already said."),
    "retired": N_("The place is retired: lists, maps and the offline app no longer show it."),
    "restored": N_("The place is back in lists, maps and the offline app."),
}
AUDIT_LABELS: dict[str, str] = {
    "place.create": N_("Added"),
    "place.update": N_("Changed"),
    "place.retire": N_("Retired"),
    "place.restore": N_("Brought back"),
    "place.import": N_("Imported"),
}
# The columns an audit entry names -> what staff call them.
COLUMN_LABELS: dict[str, str] = {
    "category": N_("Kind of place"),
    "name": N_("Name of the place"),
    "description": N_("Description"),
    "address": N_("Address"),
    "ward_id": N_("Ward or commune"),
    "lat": N_("Latitude"),
    "lon": N_("Longitude"),
    "phone": N_("Telephone"),
    "website": N_("Website"),
    "opening_hours": N_("Opening hours"),
    "photos": N_("Photos"),
    "price_level": N_("Price"),
    "tags": N_("Tags"),
    "department_id": N_("Looked after by"),
    "last_verified_at": N_("Last checked"),
    "wheelchair": N_("Wheelchair access"),
    "door_width_cm": N_("Door width"),
    "accessibility_notes": N_("Accessibility notes"),
    **FEATURE_LABELS,
}
PRICE_LABELS: dict[str, str] = {
    "0": N_("Free"),
    "1": N_("Cheap"),
    "2": N_("Moderate"),
    "3": N_("Expensive"),
    "4": N_("Very expensive"),
}
WHEELCHAIR_CHOICES: dict[str, str] = {
    "yes": N_("Yes: step-free entry and inside, an accessible toilet where there are toilets"),
    "limited": N_("Partly: some areas or entrances only, or with help"),
    "no": N_("No"),
    UNKNOWN: N_("Not known"),
}
# Where the error summary sends the reader: the id of the first control of each field.
FIELD_IDS: dict[str, str] = {
    "name": "name_vi",
    "description": "description_vi",
    "category": "category",
    "address": "address",
    "ward_code": "ward",
    "lat": "lat",
    "lon": "lon",
    "phone": "phone",
    "website": "website",
    "opening_hours": "opening_hours",
    "price_level": "price_level",
    "tags": "tags",
    "department_code": "department",
    "wheelchair": "wheelchair-yes",
    "door_width_cm": "door_width_cm",
    "notes": "notes_vi",
    **{name: f"{name}-yes" for name in FEATURES},
}
_POSITION = re.compile(r"-->\s*\d+:(\d+)")


def done_message(done: str | None) -> str | None:
    return _(DONE_MESSAGES[done]) if done in DONE_MESSAGES else None


def back_to(code: str, done: str) -> RedirectResponse:
    return RedirectResponse(
        f"/staff/places/{code}/edit?{urlencode({'done': done})}", status_code=303
    )


def audit_label(action: str) -> str:
    return _(AUDIT_LABELS.get(action, action))


def column_label(column: str) -> str:
    return _(COLUMN_LABELS[column]) if column in COLUMN_LABELS else column


HELPERS: dict[str, Any] = {
    "category_label": category_label,
    "feature_label": feature_label,
    "audit_label": audit_label,
    "column_label": column_label,
}


# The list ---------------------------------------------------------------------------------


@router.get("/staff/places", response_class=HTMLResponse)
async def staff_places(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    user: PageStaff,
    q: Annotated[str, Query(max_length=200)] = "",
    category: Annotated[str, Query(max_length=20)] = "",
    stale: Annotated[str, Query(max_length=5)] = "",
    retired: Annotated[str, Query(max_length=5)] = "",
    page: Annotated[int, Query(ge=1, le=100_000)] = 1,
) -> Response:
    now = utcnow()
    stale_before = now - timedelta(days=settings.place_stale_after_days)
    chosen = category if category in CATEGORY_LABELS else ""
    filters = repository.Filters(categories=(chosen,) if chosen else (), query=q.strip() or None)
    rows, total = await repository.for_staff(
        session,
        filters,
        retired=bool(retired),
        verified_before=stale_before if stale else None,
        limit=PAGE_SIZE,
        offset=(page - 1) * PAGE_SIZE,
    )
    locale = locale_of(request)
    zone = ZoneInfo(settings.time_zone)
    items = [
        {
            "code": r["code"],
            "name": pick(r["name"], locale),
            "category": r["category"],
            "ward": r["ward_name"],
            "department": (r["department_name_en"] if locale == "en" else r["department_name_vi"]),
            "verified": r["last_verified_at"],
            "verified_date": r["last_verified_at"].astimezone(zone).date()
            if r["last_verified_at"]
            else None,
            "stale": r["last_verified_at"] is None or r["last_verified_at"] < stale_before,
            "retired": r["retired_at"] is not None,
        }
        for r in rows
    ]
    return render(
        request,
        "places/staff_list.html",
        {
            **HELPERS,
            "items": items,
            "filters": {"q": q, "category": chosen, "stale": bool(stale), "retired": bool(retired)},
            "categories": [(c.value, category_label(c.value)) for c in Category],
            "stale_days": settings.place_stale_after_days,
            "pager": pager(request, page, PAGE_SIZE, total),
        },
    )


# The form ---------------------------------------------------------------------------------


@dataclass
class PlaceForm:
    """What staff typed, kept as typed so that an error never loses it."""

    name_vi: str = ""
    name_en: str = ""
    description_vi: str = ""
    description_en: str = ""
    category: str = ""
    address: str = ""
    ward: str = ""
    lat: str = ""
    lon: str = ""
    phone: str = ""
    website: str = ""
    opening_hours: str = ""
    price_level: str = ""
    tags: str = ""
    department: str = ""
    wheelchair: str = UNKNOWN
    features: dict[str, str] = field(default_factory=lambda: dict.fromkeys(FEATURES, UNKNOWN))
    door_width_cm: str = ""
    notes_vi: str = ""
    notes_en: str = ""
    verified: bool = False

    @classmethod
    def read(cls, form: FormData) -> PlaceForm:
        def text(name: str) -> str:
            value = form.get(name)
            return _one_way(value) if isinstance(value, str) else ""

        def choice(name: str, allowed: tuple[str, ...]) -> str:
            value = text(name)
            return value if value in allowed else UNKNOWN

        return cls(
            name_vi=text("name_vi"),
            name_en=text("name_en"),
            description_vi=text("description_vi"),
            description_en=text("description_en"),
            category=text("category"),
            address=text("address"),
            ward=text("ward"),
            lat=text("lat"),
            lon=text("lon"),
            phone=text("phone"),
            website=text("website"),
            opening_hours=text("opening_hours"),
            price_level=text("price_level"),
            tags=text("tags"),
            department=text("department"),
            wheelchair=choice("wheelchair", tuple(WHEELCHAIR_CHOICES)),
            features={name: choice(name, ("yes", "no")) for name in FEATURES},
            door_width_cm=text("door_width_cm"),
            notes_vi=text("notes_vi"),
            notes_en=text("notes_en"),
            verified=bool(text("verified")),
        )

    @classmethod
    def blank(cls, department_code: str | None) -> PlaceForm:
        return cls(department=department_code or "")

    @classmethod
    def of(cls, place: Place, ward_code: str | None, department_code: str | None) -> PlaceForm:
        def yes_no(value: bool | None) -> str:
            return UNKNOWN if value is None else ("yes" if value else "no")

        notes = place.accessibility_notes or {}
        description = place.description or {}
        return cls(
            name_vi=place.name.get("vi", ""),
            name_en=place.name.get("en", ""),
            description_vi=_one_way(description.get("vi", "")),
            description_en=_one_way(description.get("en", "")),
            category=place.category,
            address=place.address or "",
            ward=ward_code or "",
            lat=repr(place.lat),
            lon=repr(place.lon),
            phone=place.phone or "",
            website=place.website or "",
            opening_hours=place.opening_hours or "",
            price_level="" if place.price_level is None else str(place.price_level),
            tags=", ".join(place.tags or []),
            department=department_code or "",
            wheelchair=place.wheelchair or UNKNOWN,
            features={name: yes_no(getattr(place, name)) for name in FEATURES},
            door_width_cm="" if place.door_width_cm is None else str(place.door_width_cm),
            notes_vi=_one_way(notes.get("vi", "")),
            notes_en=_one_way(notes.get("en", "")),
        )

    def snapshot(self) -> str:
        """The form as opened, sent back hidden: what the editor changed is what differs."""
        values = asdict(self)
        values.pop("verified")
        return json.dumps(values, ensure_ascii=False, separators=(",", ":"))

    @classmethod
    def from_snapshot(cls, text: object) -> PlaceForm | None:
        try:
            values = json.loads(text) if isinstance(text, str) else None
        except ValueError:
            return None
        if not isinstance(values, dict):
            return None
        form = cls()
        for name in TEXT_FIELDS:
            if not isinstance(values.get(name), str):
                return None
            setattr(form, name, values[name])
        features = values.get("features")
        if not isinstance(features, dict):
            return None
        form.features = {name: str(features.get(name, UNKNOWN)) for name in FEATURES}
        return form

    def parse(self, *, may_choose_department: bool) -> tuple[PlaceIn | None, list[FormError]]:
        """The place the form describes, validated as the API validates it; or the errors, each
        pointing at its field."""
        errors: list[FormError] = []
        said: set[str] = set()

        def number(name: str, value: str, message: str) -> float | None:
            if not value:
                errors.append(FormError(message, FIELD_IDS[name]))
                said.add(name)
                return None
            try:
                return float(value.replace(",", "."))
            except ValueError:
                errors.append(FormError(message, FIELD_IDS[name]))
                said.add(name)
                return None

        lat = number("lat", self.lat, _("Enter the latitude, such as 21.72290."))
        lon = number("lon", self.lon, _("Enter the longitude, such as 104.91130."))
        door: int | None = None
        if self.door_width_cm:
            try:
                door = int(self.door_width_cm)
            except ValueError:
                errors.append(FormError(_door_message(), FIELD_IDS["door_width_cm"]))
                said.add("door_width_cm")
        price: int | None = None
        if self.price_level:
            price = int(self.price_level) if self.price_level in PRICE_LABELS else -1
        payload: dict[str, Any] = {
            "category": self.category,
            "name": {"vi": self.name_vi, "en": self.name_en},
            "description": {"vi": self.description_vi, "en": self.description_en},
            "address": self.address or None,
            "ward_code": self.ward or None,
            "lat": lat,
            "lon": lon,
            "phone": self.phone or None,
            "website": self.website or None,
            "opening_hours": self.opening_hours or None,
            "price_level": price,
            "tags": [t.strip() for t in self.tags.split(",") if t.strip()],
            "department_code": (self.department or None) if may_choose_department else None,
            "accessibility": {
                "wheelchair": None if self.wheelchair == UNKNOWN else self.wheelchair,
                "door_width_cm": door,
                **{
                    name: None if value == UNKNOWN else value == "yes"
                    for name, value in self.features.items()
                },
                "notes": {"vi": self.notes_vi, "en": self.notes_en},
            },
        }
        try:
            data = PlaceIn.model_validate(payload)
        except ValidationError as exc:
            for error in exc.errors():
                loc = [str(part) for part in error.get("loc", ())]
                name = loc[1] if loc[:1] == ["accessibility"] and len(loc) > 1 else loc[0]
                if name in said:
                    continue
                said.add(name)
                errors.append(FormError(_validation_message(name, error), FIELD_IDS.get(name)))
            return None, in_form_order(errors)
        return (data, []) if not errors else (None, in_form_order(errors))


def _one_way(text: str) -> str:
    """Browsers send the lines of a textarea with CR LF: read "\n" either way, so that text
    sent back as it was shown is not taken for a change."""
    return text.replace("\r\n", "\n").replace("\r", "\n").strip()


TEXT_FIELDS = tuple(f.name for f in fields(PlaceForm) if f.name not in ("features", "verified"))
# A form field -> (the column its history names, the id of its control).
FORM_FIELDS: dict[str, tuple[str, str]] = {
    **{name: (name, name) for name in TEXT_FIELDS},
    "name_vi": ("name", "name_vi"),
    "name_en": ("name", "name_en"),
    "description_vi": ("description", "description_vi"),
    "description_en": ("description", "description_en"),
    "ward": ("ward_id", "ward"),
    "department": ("department_id", "department"),
    "wheelchair": ("wheelchair", "wheelchair-yes"),
    "notes_vi": ("accessibility_notes", "notes_vi"),
    "notes_en": ("accessibility_notes", "notes_en"),
    **{name: (name, f"{name}-yes") for name in FEATURES},
}


def merge(typed: PlaceForm, opened: PlaceForm, stored: PlaceForm) -> tuple[PlaceForm, list[str]]:
    """The place as stored with the editor's changes (what differs from the form they opened)
    on top, so that a change someone else saved meanwhile is kept; and the fields both changed,
    differently (the editor must look again)."""
    merged = replace(stored, features=dict(stored.features), verified=typed.verified)
    clashes: list[str] = []

    def take(name: str, mine: str, before: str, now: str) -> str:
        if mine == before:
            return now
        if before != now and mine != now:
            clashes.append(name)
        return mine

    for name in TEXT_FIELDS:
        value = take(name, getattr(typed, name), getattr(opened, name), getattr(stored, name))
        setattr(merged, name, value)
    for name in FEATURES:
        merged.features[name] = take(
            name, typed.features[name], opened.features[name], stored.features[name]
        )
    return merged, clashes


# The ids of the controls from the top of the form down: the summary lists errors in this order.
FORM_ORDER = {
    target: n
    for n, target in enumerate(
        [
            "name_vi",
            "name_en",
            "description_vi",
            "description_en",
            "category",
            "address",
            "lat",
            "lon",
            "ward",
            "phone",
            "website",
            "opening_hours",
            "price_level",
            "tags",
            "department",
            "wheelchair-yes",
            *(f"{name}-yes" for name in FEATURES),
            "door_width_cm",
            "notes_vi",
            "notes_en",
        ]
    )
}


def in_form_order(errors: list[FormError]) -> list[FormError]:
    return sorted(errors, key=lambda e: FORM_ORDER.get(e.target or "", -1))


def _clash_errors(clashes: list[str]) -> list[FormError]:
    return in_form_order(
        [
            FormError(
                _(
                    "%(field)s: someone else changed it after you opened this form. Yours is "
                    "below: check it, then save again.",
                    field=column_label(FORM_FIELDS[name][0]),
                ),
                FORM_FIELDS[name][1],
            )
            for name in clashes
        ]
    )


def _door_message() -> str:
    return _("Enter the door width in whole centimetres, from 30 to 1000.")


def _hours_message(expression: str) -> str:
    """The parser's complaint in words: the text where reading stopped (from the start of its
    word), or that something is missing at the end."""
    try:
        hours.validate(expression)
    except hours.InvalidHours as exc:
        found = _POSITION.search(str(exc))
        if found:
            start = min(int(found.group(1)) - 1, len(expression))
            while start > 0 and expression[start - 1] not in " ;,":
                start -= 1
            rest = expression[start:].strip()
            if not rest:
                return _(
                    "The opening hours are not in the OpenStreetMap syntax: something is missing "
                    "at the end. See the examples under the field."
                )
            return _(
                "The opening hours are not in the OpenStreetMap syntax: the problem is at "
                "“%(rest)s”. See the examples under the field.",
                rest=rest[:30],
            )
        return _(
            "The opening hours are not in the OpenStreetMap syntax (%(detail)s). See the "
            "examples under the field.",
            detail=str(exc),
        )
    return _("The opening hours are not in the OpenStreetMap syntax.")


def _validation_message(name: str, error: Any) -> str:
    if name == "opening_hours":
        return _hours_message(str(error.get("input") or ""))
    messages = {
        "category": lambda: _("Choose the kind of place."),
        "name": lambda: _("Give the name in Vietnamese or English, at most 200 characters each."),
        "description": lambda: _("Keep each description under 10,000 characters."),
        "address": lambda: _("Keep the address under 300 characters."),
        "lat": lambda: _("The latitude is a number from -90 to 90, such as 21.72290."),
        "lon": lambda: _("The longitude is a number from -180 to 180, such as 104.91130."),
        "phone": lambda: _(
            "Enter a telephone number with digits, spaces, +, -, dots or brackets, such as "
            "0216 3852 318."
        ),
        "website": lambda: _("Enter the website's full address, starting with https://."),
        "price_level": lambda: _("Choose a price from the list."),
        "tags": lambda: _("Give at most 30 tags, each 1 to 60 characters, separated by commas."),
        "wheelchair": lambda: _("Choose how accessible it is for wheelchairs."),
        "door_width_cm": _door_message,
        "notes": lambda: _("Keep the accessibility notes under 10,000 characters each."),
    }
    if name in FEATURE_LABELS:
        return _("Choose Yes, No or Not known for “%(feature)s”.", feature=feature_label(name))
    return messages.get(name, lambda: _("Some fields are not valid."))()


def _merged(current: dict[str, str] | None, typed: dict[str, str]) -> dict[str, str]:
    """The form's Vietnamese and English over the stored text: other languages are kept."""
    kept = {k: v for k, v in (current or {}).items() if k not in FORM_LANGUAGES}
    return {**kept, **typed}


def _changes(
    place: Place,
    data: PlaceIn,
    ward_code: str | None,
    department_code: str | None,
    *,
    may_choose_department: bool,
) -> dict[str, Any]:
    """What differs between the form and the place, as a PlacePatch sends it: only these are
    written, so an edit never rewrites what its author did not touch."""
    patch: dict[str, Any] = {}
    if data.category.value != place.category:
        patch["category"] = data.category
    for name in ("name", "description"):
        merged = _merged(getattr(place, name), getattr(data, name))
        if merged != (getattr(place, name) or {}):
            patch[name] = merged
    for name in ("address", "phone", "website", "opening_hours", "price_level"):
        if getattr(data, name) != getattr(place, name):
            patch[name] = getattr(data, name)
    if data.tags != (place.tags or []):
        patch["tags"] = data.tags
    moved = (data.lat, data.lon) != (place.lat, place.lon)
    if moved:
        patch["lat"], patch["lon"] = data.lat, data.lon
    # The ward shown is the ward stored: "find it from the coordinates" is asked for by name.
    if moved or data.ward_code != ward_code:
        patch["ward_code"] = data.ward_code
    if may_choose_department and data.department_code != department_code:
        patch["department_code"] = data.department_code
    access = data.accessibility.model_copy(
        update={"notes": _merged(place.accessibility_notes, data.accessibility.notes)}
    )
    wanted = dump_accessibility(access)
    if any(getattr(place, column) != value for column, value in wanted.items()):
        patch["accessibility"] = Accessibility.model_validate(access.model_dump())
    return patch


async def _form_page(
    request: Request,
    session: AsyncSession,
    user: User,
    form: PlaceForm,
    *,
    place: Place | None = None,
    errors: list[FormError] | None = None,
    notice: str | None = None,
    status_code: int = 200,
) -> Response:
    """The form; for a place, with what it was when the page was made (hidden), its actions
    and its history."""
    errors = errors or []
    locale = locale_of(request)
    may_choose = user.has_role(Role.manager)
    departments = await org_repo.list_departments(session)
    own = next((d for d in departments if d.id == user.department_id), None)
    context: dict[str, Any] = {
        **HELPERS,
        "form": form,
        "place": place,
        "errors": errors,
        "field_errors": field_errors(errors),
        "notice": notice,
        "categories": [(c.value, category_label(c.value)) for c in Category],
        "ward_groups": wards_by_district(await org_repo.list_wards(session), "ward-{}"),
        "may_choose_department": may_choose,
        "departments": [(d.code, d.name(locale)) for d in departments],
        "own_department": own.name(locale) if own else None,
        "price_choices": [(k, _(v)) for k, v in PRICE_LABELS.items()],
        "wheelchair_choices": [(k, _(v)) for k, v in WHEELCHAIR_CHOICES.items()],
        "features": [(name, feature_label(name)) for name in FEATURES],
        "hours_examples": HOURS_EXAMPLES,
        "trail": [],
        "names": {},
    }
    if place is not None:
        row = await repository.one(session, place.code)
        assert row is not None
        context["place_department"] = (
            (row["department_name_en"] if locale == "en" else row["department_name_vi"])
            if row["department_code"]
            else None
        )
        opened = PlaceForm.of(place, row["ward_code"], row["department_code"])
        context["opened"] = opened.snapshot()
        context["place_name"] = pick(place.name, locale) or place.code
        context["place_name_lang"] = language_of(place.name, locale)
        trail = await audit.trail(session, service.SUBJECT, place.id)
        context["trail"] = list(reversed(trail))  # newest first
        context["names"] = await user_names(session, [e.actor_id for e in trail])
    return render(request, "places/staff_form.html", context, status_code=status_code)


# (expression, what it means); shown under the opening hours field.
HOURS_EXAMPLES: list[tuple[str, str]] = [
    ("Mo-Fr 07:30-11:30,13:30-17:00", N_("Monday to Friday, with a lunch break")),
    (
        "Mo-Fr 07:30-11:30,13:30-17:00; Sa 07:30-11:30; PH off",
        N_("Also Saturday mornings; closed on public holidays"),
    ),
    ("Mo-Su 06:00-22:00", N_("Every day")),
    ("24/7", N_("Always open")),
    ("Mo-Su 18:00-02:00", N_("Evenings, past midnight")),
]


@router.get("/staff/places/new", response_class=HTMLResponse)
async def new_place(request: Request, session: SessionDep, user: PageStaff) -> Response:
    own = await org_repo.get_department(session, user.department_id) if user.department_id else None
    return await _form_page(request, session, user, PlaceForm.blank(own.code if own else None))


@router.post("/staff/places/new", dependencies=csrf)
async def create_place(request: Request, session: SessionDep, user: PageStaff) -> Response:
    form = PlaceForm.read(await request.form())
    may_choose = user.has_role(Role.manager)
    data, errors = form.parse(may_choose_department=may_choose)
    if data is None:
        return await _form_page(request, session, user, form, errors=errors, status_code=422)
    data.last_verified_at = utcnow() if form.verified else None
    try:
        async with session.begin_nested():
            place = await service.create_place(session, user, data)
    except AppError as exc:
        return await _form_page(
            request, session, user, form, errors=service_errors(exc), status_code=exc.status
        )
    return back_to(place.code, "created")


def service_errors(exc: AppError) -> list[FormError]:
    if not exc.errors:
        return [FormError(exc.detail or _(exc.title))]
    messages = {
        "department_code": _("Choose a department from the list."),
        "ward_code": _("Choose a ward or commune from the list."),
    }
    return [
        FormError(
            messages.get(e.get("field", ""), e.get("reason", "")),
            FIELD_IDS.get(e.get("field", "")),
        )
        for e in exc.errors
    ]


async def _editable(session: AsyncSession, user: User, code: str) -> Place:
    """The place, if this person may change it (a readable 403 page otherwise)."""
    place = await service.get_by_code(session, code)
    service.check_may_edit(user, place.department_id)
    return place


async def _codes(session: AsyncSession, place: Place) -> tuple[str | None, str | None]:
    row = await repository.one(session, place.code)
    assert row is not None
    return row["ward_code"], row["department_code"]


@router.get("/staff/places/{place_code}/edit", response_class=HTMLResponse)
async def edit_place(
    place_code: str,
    request: Request,
    session: SessionDep,
    user: PageStaff,
    done: Annotated[str | None, Query(max_length=20)] = None,
) -> Response:
    place = await _editable(session, user, place_code)
    form = PlaceForm.of(place, *await _codes(session, place))
    return await _form_page(request, session, user, form, place=place, notice=done_message(done))


@router.post("/staff/places/{place_code}/edit", dependencies=csrf)
async def save_place(
    place_code: str, request: Request, session: SessionDep, user: PageStaff
) -> Response:
    place = await _editable(session, user, place_code)
    sent = await request.form()
    typed = PlaceForm.read(sent)
    may_choose = user.has_role(Role.manager)
    ward_code, department_code = await _codes(session, place)
    stored = PlaceForm.of(place, ward_code, department_code)
    opened = PlaceForm.from_snapshot(sent.get("opened")) or stored
    if not may_choose:
        typed.department = opened.department  # not on their form: never theirs to change
    form, clashes = merge(typed, opened, stored)
    if clashes:
        return await _form_page(
            request,
            session,
            user,
            form,
            place=place,
            errors=_clash_errors(clashes),
            status_code=409,
        )
    data, errors = form.parse(may_choose_department=may_choose)
    if data is None:
        return await _form_page(
            request, session, user, form, place=place, errors=errors, status_code=422
        )
    changes = _changes(place, data, ward_code, department_code, may_choose_department=may_choose)
    if not changes and not form.verified:
        return back_to(place.code, "unchanged")
    try:
        async with session.begin_nested():
            patch = PlacePatch.model_validate({**changes, "verified": form.verified})
            await service.update_place(session, user, place, patch)
    except AppError as exc:
        await session.refresh(place)  # as stored, not as the form had it
        return await _form_page(
            request,
            session,
            user,
            form,
            place=place,
            errors=service_errors(exc),
            status_code=exc.status,
        )
    return back_to(place.code, "saved")


# Retire and restore -----------------------------------------------------------------------


@router.get("/staff/places/{place_code}/retire", response_class=HTMLResponse)
async def confirm_retire(
    place_code: str, request: Request, session: SessionDep, user: PageStaff
) -> Response:
    return await _confirm_page(request, session, user, place_code, "retire")


@router.get("/staff/places/{place_code}/restore", response_class=HTMLResponse)
async def confirm_restore(
    place_code: str, request: Request, session: SessionDep, user: PageStaff
) -> Response:
    return await _confirm_page(request, session, user, place_code, "restore")


async def _confirm_page(
    request: Request, session: AsyncSession, user: User, code: str, action: str
) -> Response:
    place = await _editable(session, user, code)
    if (place.retired_at is None) != (action == "retire"):  # already done: nothing to confirm
        return RedirectResponse(f"/staff/places/{place.code}/edit", status_code=303)
    return render(
        request,
        "places/staff_confirm.html",
        {
            "place": place,
            "name": pick(place.name, locale_of(request)),
            "action": action,
        },
    )


@router.post("/staff/places/{place_code}/retire", dependencies=csrf)
async def retire_place(
    place_code: str, request: Request, session: SessionDep, user: PageStaff
) -> Response:
    place = await _editable(session, user, place_code)
    await service.retire_place(session, user, place)
    return back_to(place.code, "retired")


@router.post("/staff/places/{place_code}/restore", dependencies=csrf)
async def restore_place(
    place_code: str, request: Request, session: SessionDep, user: PageStaff
) -> Response:
    place = await _editable(session, user, place_code)
    await service.restore_place(session, user, place)
    return back_to(place.code, "restored")
