"""Practical help over JSON: the public help (emergency numbers, hotlines, tourist information,
guides) and one guide, small and cacheable; and staff keeping numbers and guides."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Request, Response
from pydantic import BaseModel

from app.auth.deps import SettingsDep, StaffUser
from app.db import SessionDep, utcnow
from app.kit.cache import cached_headers, conditional_response
from app.kit.i18n import locale_of
from app.practical import repository as repo
from app.practical import service
from app.practical.schemas import (
    SLUG,
    ContactIn,
    ContactPatch,
    ContactStaff,
    GuideIn,
    GuidePatch,
    GuidePublic,
    GuideStaff,
    HelpPublic,
    StaffHelp,
)

router = APIRouter(prefix="/api/v1", tags=["practical help"])

#: Numbers and guides change rarely; "open now" may be up to this old.
PUBLIC_CACHE_SECONDS = 300

Code = Annotated[str, Path(max_length=60)]
Slug = Annotated[str, Path(max_length=80, pattern=SLUG)]


def cached_json(request: Request, model: BaseModel) -> Response:
    """JSON with an ETag; 304 when the client has it already."""
    body = model.model_dump_json().encode()
    return conditional_response(
        request, body, cached_headers(body, PUBLIC_CACHE_SECONDS, "application/json")
    )


# Public ------------------------------------------------------------------------------------


@router.get("/help", response_model=HelpPublic, summary="Emergency numbers, hotlines, guides")
async def get_help(request: Request, session: SessionDep, settings: SettingsDep) -> Response:
    """Emergency numbers first (113 police, 114 fire and rescue, 115 ambulance), then the
    province's hotlines, tourist information points (with their place, address and whether
    they are open now), and the guides. Texts are in the language asked for, else Vietnamese,
    English or any other. Cacheable for five minutes; send If-None-Match for a 304."""
    found = await service.overview(session, locale_of(request), utcnow(), settings.time_zone)
    return cached_json(request, found)


@router.get("/guides/{guide_slug}", response_model=GuidePublic, summary="One guide")
async def get_guide(guide_slug: Slug, request: Request, session: SessionDep) -> Response:
    """Its title, summary and body as blocks: paragraphs and bulleted lists."""
    guide = await service.get_guide(session, guide_slug, public=True)
    return cached_json(request, service.guide_public(guide, locale_of(request)))


# Staff -------------------------------------------------------------------------------------


@router.get(
    "/staff/help",
    response_model=StaffHelp,
    summary="Every number and guide as stored, retired ones included",
)
async def staff_help(user: StaffUser, session: SessionDep) -> Any:
    guides = await repo.guides(session, include_retired=True)
    return StaffHelp(
        contacts=await service.staff_contacts(session),
        guides=[service.guide_staff(g) for g in guides],
    )


async def _contact_view(session: Any, contact: Any) -> ContactStaff:
    return service.contact_staff(contact, await service.place_code_of(session, contact))


@router.post(
    "/help/contacts",
    response_model=ContactStaff,
    status_code=201,
    summary="Add a number or a tourist information point",
)
async def create_contact(
    data: ContactIn, user: StaffUser, session: SessionDep, response: Response
) -> Any:
    """Police, fire, ambulance and hotlines need a phone number. A record with 113, 114 or 115
    replaces the built-in text of that national number."""
    contact = await service.create_contact(session, user, data)
    response.headers["Location"] = f"/api/v1/help/contacts/{contact.code}"
    return await _contact_view(session, contact)


@router.patch(
    "/help/contacts/{contact_code}", response_model=ContactStaff, summary="Change a number or point"
)
async def update_contact(
    contact_code: Code, data: ContactPatch, user: StaffUser, session: SessionDep
) -> Any:
    contact = await service.get_contact(session, contact_code, for_update=True)
    await service.update_contact(session, user, contact, data)
    return await _contact_view(session, contact)


@router.post(
    "/help/contacts/{contact_code}/retire",
    response_model=ContactStaff,
    summary="Take a number or point off the help",
)
async def retire_contact(contact_code: Code, user: StaffUser, session: SessionDep) -> Any:
    contact = await service.get_contact(session, contact_code, for_update=True)
    await service.retire_contact(session, user, contact)
    return await _contact_view(session, contact)


@router.post(
    "/help/contacts/{contact_code}/restore",
    response_model=ContactStaff,
    summary="Put a retired number or point back",
)
async def restore_contact(contact_code: Code, user: StaffUser, session: SessionDep) -> Any:
    contact = await service.get_contact(session, contact_code, for_update=True)
    await service.restore_contact(session, user, contact)
    return await _contact_view(session, contact)


@router.post("/guides", response_model=GuideStaff, status_code=201, summary="Write a guide")
async def create_guide(
    data: GuideIn, user: StaffUser, session: SessionDep, response: Response
) -> Any:
    guide = await service.create_guide(session, user, data)
    response.headers["Location"] = f"/api/v1/guides/{guide.slug}"
    return service.guide_staff(guide)


@router.patch("/guides/{guide_slug}", response_model=GuideStaff, summary="Change a guide")
async def update_guide(
    guide_slug: Slug, data: GuidePatch, user: StaffUser, session: SessionDep
) -> Any:
    guide = await service.get_guide(session, guide_slug, for_update=True)
    await service.update_guide(session, user, guide, data)
    return service.guide_staff(guide)


@router.post("/guides/{guide_slug}/retire", response_model=GuideStaff, summary="Take a guide down")
async def retire_guide(guide_slug: Slug, user: StaffUser, session: SessionDep) -> Any:
    guide = await service.get_guide(session, guide_slug, for_update=True)
    await service.retire_guide(session, user, guide)
    return service.guide_staff(guide)


@router.post(
    "/guides/{guide_slug}/restore", response_model=GuideStaff, summary="Put a retired guide back"
)
async def restore_guide(guide_slug: Slug, user: StaffUser, session: SessionDep) -> Any:
    guide = await service.get_guide(session, guide_slug, for_update=True)
    await service.restore_guide(session, user, guide)
    return service.guide_staff(guide)
