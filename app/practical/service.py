"""The rules of practical help: what the public help shows and in which order, guide text as
paragraphs and lists, and staff creating, changing, retiring and restoring numbers and guides
(audited). Services flush, never commit.

113, 114 and 115 are national: the help always shows them. A record with one of these numbers
replaces the built-in text (staff can word it for the province); without one, the built-in
number is shown, so a fresh installation never has a help page without emergency numbers."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from app.audit import service as audit
from app.auth.models import Role, User
from app.db import utcnow
from app.errors import Conflict, Forbidden, InvalidInput, NotFound
from app.kit.i18n import N_
from app.kit.i18n import gettext as _
from app.kit.langtext import language_of, pick
from app.kit.text import fold
from app.places import hours
from app.places.models import Place
from app.practical import repository as repo
from app.practical.models import GuidePage, HelpContact
from app.practical.schemas import (
    EMERGENCY_KINDS,
    PHONE_REQUIRED,
    Block,
    BulletList,
    ContactIn,
    ContactPatch,
    ContactPublic,
    ContactStaff,
    GuideIn,
    GuidePatch,
    GuidePublic,
    GuideStaff,
    GuideSummary,
    HelpPublic,
    Kind,
    Paragraph,
    PlaceLink,
)

CONTACT = "help_contact"
GUIDE = "guide_page"

KIND_LABELS: dict[str, str] = {
    "police": N_("Police"),
    "fire": N_("Fire and rescue"),
    "ambulance": N_("Ambulance"),
    "hotline": N_("Hotline"),
    "tourist_info": N_("Tourist information"),
    "other": N_("Other"),
}


@dataclass(frozen=True, slots=True)
class BuiltIn:
    code: str
    kind: Kind
    phone: str
    description: str


BUILT_IN: tuple[BuiltIn, ...] = (
    BuiltIn(
        "police-113",
        Kind.police,
        "113",
        N_("Crime, violence, a threat to your safety. Free from any phone, day and night."),
    ),
    BuiltIn(
        "fire-114",
        Kind.fire,
        "114",
        N_(
            "Fires, and rescue when people are trapped: floods, landslides, accidents. Free "
            "from any phone, day and night."
        ),
    ),
    BuiltIn(
        "ambulance-115",
        Kind.ambulance,
        "115",
        N_("Medical emergencies: serious illness or injury. Free from any phone, day and night."),
    ),
)


def kind_label(kind: str) -> str:
    return _(KIND_LABELS.get(kind, kind))


def digits(phone: str | None) -> str:
    return "".join(ch for ch in phone or "" if ch.isdigit() or ch == "+")


def tel_uri(phone: str | None) -> str | None:
    """tel:+842163862222 for "+84 216 3862 222" (RFC 3966: no spaces)."""
    compact = digits(phone)
    return f"tel:{compact}" if compact else None


def is_staff(user: User | None) -> bool:
    return user is not None and user.has_role(Role.staff)


def check_staff(actor: User | None) -> None:
    """Numbers and guides are the province's: any staff member may keep them (none for the demo)."""
    if actor is not None and not is_staff(actor):
        raise Forbidden(_("This needs the %(role)s role.", role=Role.staff.value))


# Guide text ---------------------------------------------------------------------------------


def parse_body(text: str) -> list[Block]:
    """Blank lines separate paragraphs; lines starting "- " form a bulleted list; an indented
    line under an item continues it. Lines of one paragraph are joined with a space."""
    blocks: list[Block] = []
    lines: list[str] = []
    items: list[str] = []

    def close() -> None:
        if lines:
            blocks.append(Paragraph(text=" ".join(lines)))
            lines.clear()
        if items:
            blocks.append(BulletList(items=list(items)))
            items.clear()

    for raw in text.replace("\r\n", "\n").split("\n"):
        line = raw.strip()
        if not line:
            close()
        elif line.startswith("- "):
            if lines:
                close()
            items.append(line[2:].strip())
        elif items and raw[:1].isspace():
            items[-1] = f"{items[-1]} {line}"
        else:
            if items:
                close()
            lines.append(line)
    close()
    return blocks


# Opening hours --------------------------------------------------------------------------------


def open_state(
    expression: str | None, now: datetime, is_holiday: Callable[[date], bool], zone: str
) -> tuple[bool | None, datetime | None]:
    if not expression:
        return None, None
    try:
        state = hours.evaluate(expression, now, is_holiday, zone)
    except hours.InvalidHours:
        return None, None
    if state.state == "unknown":
        return None, state.next_change
    return state.is_open, state.next_change


# Public views -------------------------------------------------------------------------------


def place_link(place: Place | None, locale: str) -> PlaceLink | None:
    if place is None or place.retired_at is not None:
        return None
    return PlaceLink(
        code=place.code,
        name=pick(place.name, locale),
        lat=place.lat,
        lon=place.lon,
        address=place.address,
        url=f"/places/{place.code}",
    )


def contact_public(
    contact: HelpContact,
    place: Place | None,
    locale: str,
    now: datetime,
    is_holiday: Callable[[date], bool],
    zone: str,
) -> ContactPublic:
    link = place_link(place, locale)
    expression = contact.hours or (place.opening_hours if link and place else None)
    open_now, next_change = open_state(expression, now, is_holiday, zone)
    name = pick(contact.name, locale) or (link.name if link else "")
    return ContactPublic(
        code=contact.code,
        kind=Kind(contact.kind),
        kind_label=kind_label(contact.kind),
        phone=contact.phone,
        tel=tel_uri(contact.phone),
        name=name,
        description=pick(contact.description, locale),
        lang=language_of(contact.name, locale) or (locale if name else None),
        hours=expression,
        open_now=open_now,
        next_change=next_change,
        place=link,
    )


def built_in_public(number: BuiltIn, locale: str) -> ContactPublic:
    return ContactPublic(
        code=number.code,
        kind=number.kind,
        kind_label=kind_label(number.kind),
        phone=number.phone,
        tel=tel_uri(number.phone),
        name=kind_label(number.kind),
        description=_(number.description),
        lang=locale,
        hours="24/7",
        open_now=True,
        next_change=None,
        place=None,
        built_in=True,
    )


def guide_summary(guide: GuidePage, locale: str) -> GuideSummary:
    return GuideSummary(
        slug=guide.slug,
        title=pick(guide.title, locale),
        summary=pick(guide.summary, locale),
        lang=language_of(guide.title, locale),
        url=f"/help/{guide.slug}",
        updated_at=guide.updated_at,
    )


def guide_public(guide: GuidePage, locale: str) -> GuidePublic:
    return GuidePublic(
        slug=guide.slug,
        title=pick(guide.title, locale),
        summary=pick(guide.summary, locale),
        lang=language_of(guide.body, locale) or language_of(guide.title, locale),
        blocks=parse_body(pick(guide.body, locale)),
        updated_at=guide.updated_at,
        url=f"/help/{guide.slug}",
    )


_EMERGENCY_RANK = {kind.value: rank for rank, kind in enumerate(EMERGENCY_KINDS)}


async def overview(session: AsyncSession, locale: str, now: datetime, zone: str) -> HelpPublic:
    """Emergency numbers first (police, fire, ambulance), the province's hotlines, tourist
    information points with whether they are open now, and the guides: all in `locale`, each
    text falling back to Vietnamese, English, then any language."""
    rows = await repo.contacts(session)
    places = await repo.places_by_ids(session, (c.place_id for c in rows))
    needs_calendar = any(
        c.hours or (c.place_id in places and places[c.place_id].opening_hours) for c in rows
    )
    is_holiday = (
        await hours.holiday_checker(session, now, zone) if needs_calendar else (lambda _day: False)
    )

    def view(contact: HelpContact) -> ContactPublic:
        place = places.get(contact.place_id) if contact.place_id else None
        return contact_public(contact, place, locale, now, is_holiday, zone)

    emergency_rows = [c for c in rows if c.kind in _EMERGENCY_RANK]
    held = {digits(c.phone) for c in emergency_rows}
    emergency = [(c.kind, c.sort_order, c.code, view(c)) for c in emergency_rows]
    emergency += [
        (n.kind.value, -1, n.code, built_in_public(n, locale))
        for n in BUILT_IN
        if n.phone not in held
    ]
    emergency.sort(key=lambda item: (_EMERGENCY_RANK[item[0]], item[1], item[2]))
    return HelpPublic(
        locale=locale,
        emergency=[item[3] for item in emergency],
        hotlines=[view(c) for c in rows if c.kind in (Kind.hotline, Kind.other)],
        tourist_info=[view(c) for c in rows if c.kind == Kind.tourist_info],
        guides=[guide_summary(g, locale) for g in await repo.guides(session)],
    )


# Staff views --------------------------------------------------------------------------------


def contact_staff(contact: HelpContact, place_code: str | None) -> ContactStaff:
    return ContactStaff(
        code=contact.code,
        kind=Kind(contact.kind),
        phone=contact.phone,
        name=contact.name,
        description=contact.description,
        place_code=place_code,
        hours=contact.hours,
        sort_order=contact.sort_order,
        is_demo=contact.is_demo,
        retired_at=contact.retired_at,
        created_at=contact.created_at,
        updated_at=contact.updated_at,
    )


def guide_staff(guide: GuidePage) -> GuideStaff:
    return GuideStaff(
        slug=guide.slug,
        title=guide.title,
        summary=guide.summary,
        body=guide.body,
        sort_order=guide.sort_order,
        is_demo=guide.is_demo,
        retired_at=guide.retired_at,
        created_at=guide.created_at,
        updated_at=guide.updated_at,
    )


async def place_code_of(session: AsyncSession, contact: HelpContact) -> str | None:
    if contact.place_id is None:
        return None
    places = await repo.places_by_ids(session, [contact.place_id])
    return places[contact.place_id].code if contact.place_id in places else None


async def staff_contacts(session: AsyncSession) -> list[ContactStaff]:
    rows = await repo.contacts(session, include_retired=True)
    places = await repo.places_by_ids(session, (c.place_id for c in rows))
    return [
        contact_staff(c, places[c.place_id].code if c.place_id in places else None) for c in rows
    ]


# Reading ------------------------------------------------------------------------------------


class ContactNotFound(NotFound):
    code = "help-contact-not-found"
    title = N_("There is no number or information point with this code.")


class GuideNotFound(NotFound):
    code = "guide-not-found"
    title = N_("There is no guide at this address.")


async def get_contact(session: AsyncSession, code: str, *, for_update: bool = False) -> HelpContact:
    contact = await repo.contact_by_code(session, code, for_update=for_update)
    if contact is None:
        raise ContactNotFound()
    return contact


async def get_guide(
    session: AsyncSession, slug: str, *, for_update: bool = False, public: bool = False
) -> GuidePage:
    """`public`: a retired guide is gone for readers (staff still find it to restore it)."""
    guide = await repo.guide_by_slug(session, slug, for_update=for_update)
    if guide is None or (public and guide.retired_at is not None):
        raise GuideNotFound()
    return guide


# Changing -----------------------------------------------------------------------------------


def _error(field: str, reason: str) -> dict[str, str]:
    return {"field": field, "in": "body", "reason": reason}


async def _place_id(session: AsyncSession, code: str | None) -> int | None:
    if not code:
        return None
    place = await repo.place_by_code(session, code.strip())
    if place is None:
        raise InvalidInput(
            _("There is no place with the code %(code)s.", code=code),
            errors=[_error("place_code", _("unknown place"))],
        )
    if place.retired_at is not None:
        raise InvalidInput(
            _("The place %(code)s is retired: choose another or leave it empty.", code=code),
            errors=[_error("place_code", _("retired place"))],
        )
    return place.id


def _check_phone(kind: str, phone: str | None) -> None:
    if not phone and kind in PHONE_REQUIRED:
        raise InvalidInput(
            _("Give the number to call."),
            errors=[_error("phone", _("a number is needed for this kind"))],
        )


def _slugify(text: str) -> str:
    folded = "".join(ch if ch.isalnum() else "-" for ch in fold(text))
    return "-".join(part for part in folded.split("-") if part)


async def _new_code(session: AsyncSession, data: ContactIn) -> str:
    kind = data.kind.value.replace("_", "-")
    tail = digits(data.phone).lstrip("+") or _slugify(pick(data.name, "en"))
    base = f"{kind}-{tail}"[:55].strip("-") or kind
    code, n = base, 1
    while await repo.code_taken(session, code):
        n += 1
        code = f"{base}-{n}"
    return code


def _taken(field: str, message: str) -> Conflict:
    return Conflict(message, errors=[_error(field, _("already in use"))])


async def create_contact(
    session: AsyncSession, actor: User | None, data: ContactIn, *, is_demo: bool = False
) -> HelpContact:
    check_staff(actor)
    _check_phone(data.kind.value, data.phone)
    place_id = await _place_id(session, data.place_code)
    code = data.code or await _new_code(session, data)
    taken = _taken("code", _("A number or information point with this code already exists."))
    if await repo.code_taken(session, code):
        raise taken
    contact = HelpContact(
        code=code,
        kind=data.kind.value,
        phone=data.phone,
        name=data.name,
        description=data.description,
        place_id=place_id,
        hours=data.hours,
        sort_order=data.sort_order,
        is_demo=is_demo,
    )
    try:
        async with session.begin_nested():
            session.add(contact)
            await session.flush()
    except IntegrityError as exc:  # created meanwhile by another request
        raise taken from exc
    await audit.record(
        session, actor.id if actor else None, "help_contact.create", CONTACT, contact.id, code=code
    )
    return contact


def _changes(row: Any, values: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in values.items() if getattr(row, k) != v}


async def update_contact(
    session: AsyncSession, actor: User, contact: HelpContact, patch: ContactPatch
) -> HelpContact:
    check_staff(actor)
    sent = patch.model_fields_set
    values: dict[str, Any] = {}
    for name in ("phone", "name", "hours", "sort_order"):
        if name in sent:
            values[name] = getattr(patch, name)
    if "kind" in sent and patch.kind is not None:
        values["kind"] = patch.kind.value
    if "description" in sent:
        values["description"] = patch.description or {}
    if "place_code" in sent:
        values["place_id"] = await _place_id(session, patch.place_code)
    _check_phone(values.get("kind", contact.kind), values.get("phone", contact.phone))
    changed = _changes(contact, values)
    if not changed:
        return contact
    for key, value in changed.items():
        setattr(contact, key, value)
    contact.updated_at = utcnow()
    await session.flush()
    fields = sorted("place_code" if k == "place_id" else k for k in changed)
    await audit.record(session, actor.id, "help_contact.update", CONTACT, contact.id, fields=fields)
    return contact


async def retire_contact(session: AsyncSession, actor: User, contact: HelpContact) -> HelpContact:
    """Gone from the public help; kept, so staff can restore it and the trail stays whole."""
    check_staff(actor)
    await audit.set_retired(session, actor.id, contact, CONTACT, True)
    return contact


async def restore_contact(session: AsyncSession, actor: User, contact: HelpContact) -> HelpContact:
    check_staff(actor)
    await audit.set_retired(session, actor.id, contact, CONTACT, False)
    return contact


async def create_guide(
    session: AsyncSession, actor: User | None, data: GuideIn, *, is_demo: bool = False
) -> GuidePage:
    check_staff(actor)
    taken = _taken("slug", _("A guide with this address already exists."))
    if await repo.guide_by_slug(session, data.slug) is not None:
        raise taken
    guide = GuidePage(
        slug=data.slug,
        title=data.title,
        summary=data.summary,
        body=data.body,
        sort_order=data.sort_order,
        is_demo=is_demo,
    )
    try:
        async with session.begin_nested():
            session.add(guide)
            await session.flush()
    except IntegrityError as exc:
        raise taken from exc
    await audit.record(
        session, actor.id if actor else None, "guide_page.create", GUIDE, guide.id, slug=data.slug
    )
    return guide


async def update_guide(
    session: AsyncSession, actor: User, guide: GuidePage, patch: GuidePatch
) -> GuidePage:
    check_staff(actor)
    values: dict[str, Any] = {}
    for name in ("title", "sort_order"):
        if name in patch.model_fields_set:
            values[name] = getattr(patch, name)
    for name in ("summary", "body"):
        if name in patch.model_fields_set:
            values[name] = getattr(patch, name) or {}
    changed = _changes(guide, values)
    if not changed:
        return guide
    for key, value in changed.items():
        setattr(guide, key, value)
    guide.updated_at = utcnow()
    await session.flush()
    await audit.record(
        session, actor.id, "guide_page.update", GUIDE, guide.id, fields=sorted(changed)
    )
    return guide


async def retire_guide(session: AsyncSession, actor: User, guide: GuidePage) -> GuidePage:
    check_staff(actor)
    await audit.set_retired(session, actor.id, guide, GUIDE, True)
    return guide


async def restore_guide(session: AsyncSession, actor: User, guide: GuidePage) -> GuidePage:
    check_staff(actor)
    await audit.set_retired(session, actor.id, guide, GUIDE, False)
    return guide


# The trail ----------------------------------------------------------------------------------


@dataclass
class TrailEntry:
    action: str
    at: datetime
    actor_name: str | None
    fields: Sequence[str]


async def trail(session: AsyncSession, subject_type: str, subject_id: int) -> list[TrailEntry]:
    """Newest first, with who did it."""
    entries = list(await audit.trail(session, subject_type, subject_id))
    names = await repo.user_names(session, [e.actor_id for e in entries])
    return [
        TrailEntry(
            e.action,
            e.at,
            names.get(e.actor_id) if e.actor_id else None,
            list((e.data or {}).get("fields", [])),
        )
        for e in reversed(entries)
    ]
