"""What staff send for numbers and guides, and what the public help and a guide look like."""

from __future__ import annotations

import re
from datetime import datetime
from enum import StrEnum
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, field_validator, model_validator

from app.kit.langtext import LongText, ShortText
from app.places import hours

PHONE = re.compile(r"^\+?[0-9][0-9 ]{1,28}$")
CODE = r"^[a-z0-9][a-z0-9-]{1,59}$"
SLUG = r"^[a-z0-9]+(?:-[a-z0-9]+)*$"
SUMMARY_MAX = 400
SORT_MAX = 10_000


class Kind(StrEnum):
    police = "police"
    fire = "fire"
    ambulance = "ambulance"
    hotline = "hotline"
    tourist_info = "tourist_info"
    other = "other"


EMERGENCY_KINDS = (Kind.police, Kind.fire, Kind.ambulance)
#: A number to call is the whole point of these kinds; an information point may have none.
PHONE_REQUIRED = (*EMERGENCY_KINDS, Kind.hotline)


def clean_phone(value: str | None) -> str | None:
    if value is None:
        return None
    value = " ".join(value.split())
    if not value:
        return None
    if not PHONE.match(value) or sum(ch.isdigit() for ch in value) < 3:
        raise ValueError("must be a telephone number: digits and spaces, + only in front")
    return value


def clean_hours(value: str | None) -> str | None:
    if value is None or not value.strip():
        return None
    try:
        return hours.validate(value)
    except hours.InvalidHours as exc:
        raise ValueError(f"not valid OpenStreetMap opening_hours: {exc}") from exc


Phone = Annotated[str | None, AfterValidator(clean_phone)]
Hours = Annotated[str | None, Field(max_length=200), AfterValidator(clean_hours)]


def _some_language(value: dict[str, str]) -> dict[str, str]:
    if not value:
        raise ValueError("give it in at least one language")
    return value


def _short_summary(value: dict[str, str]) -> dict[str, str]:
    for code, text in value.items():
        if len(text) > SUMMARY_MAX:
            raise ValueError(f"the {code} summary is longer than {SUMMARY_MAX} characters")
    return value


Summary = Annotated[LongText, AfterValidator(_short_summary)]


def _required_stay(model: BaseModel, names: tuple[str, ...]) -> None:
    for name in names:
        if name in model.model_fields_set and getattr(model, name) in (None, {}):
            raise ValueError(f"{name} cannot be cleared")


# Contacts ---------------------------------------------------------------------------------


class ContactIn(BaseModel):
    """A number to call or a tourist information point. Texts are {"vi": …, "en": …}."""

    model_config = ConfigDict(extra="forbid")

    code: str | None = Field(
        default=None, pattern=CODE, description="Made from the kind and number when left out"
    )
    kind: Kind
    phone: Phone = Field(default=None, description="Digits and spaces, + in front: 0216 3862 222")
    name: ShortText
    description: LongText = Field(default_factory=dict)
    place_code: str | None = Field(
        default=None, max_length=60, description="The place it is at (a tourist information point)"
    )
    hours: Hours = Field(default=None, description='OpenStreetMap opening_hours, e.g. "24/7"')
    sort_order: int = Field(default=100, ge=0, le=SORT_MAX)

    @field_validator("name")
    @classmethod
    def _named(cls, value: dict[str, str]) -> dict[str, str]:
        return _some_language(value)


class ContactPatch(BaseModel):
    """Changes: only the fields sent change; null clears phone, description, place and hours."""

    model_config = ConfigDict(extra="forbid")

    kind: Kind | None = None
    phone: Phone = None
    name: ShortText | None = None
    description: LongText | None = None
    place_code: str | None = Field(default=None, max_length=60)
    hours: Hours = None
    sort_order: int | None = Field(default=None, ge=0, le=SORT_MAX)

    @model_validator(mode="after")
    def _kept(self) -> ContactPatch:
        _required_stay(self, ("kind", "name", "sort_order"))
        return self


class ContactStaff(BaseModel):
    code: str
    kind: Kind
    phone: str | None
    name: dict[str, str]
    description: dict[str, str]
    place_code: str | None
    hours: str | None
    sort_order: int
    is_demo: bool
    retired_at: datetime | None
    created_at: datetime
    updated_at: datetime


# Guides -----------------------------------------------------------------------------------


class GuideIn(BaseModel):
    """A guide. The body is plain text per language: a blank line starts a new paragraph, and
    lines starting with "- " make a bulleted list."""

    model_config = ConfigDict(extra="forbid")

    slug: str = Field(min_length=2, max_length=80, pattern=SLUG, description="Its address: /help/…")
    title: ShortText
    summary: Summary = Field(default_factory=dict)
    body: LongText = Field(default_factory=dict)
    sort_order: int = Field(default=100, ge=0, le=SORT_MAX)

    @field_validator("title")
    @classmethod
    def _titled(cls, value: dict[str, str]) -> dict[str, str]:
        return _some_language(value)


class GuidePatch(BaseModel):
    """Changes: only the fields sent change. The slug stays: it is the guide's address."""

    model_config = ConfigDict(extra="forbid")

    title: ShortText | None = None
    summary: Summary | None = None
    body: LongText | None = None
    sort_order: int | None = Field(default=None, ge=0, le=SORT_MAX)

    @model_validator(mode="after")
    def _kept(self) -> GuidePatch:
        _required_stay(self, ("title", "sort_order"))
        return self


class GuideStaff(BaseModel):
    slug: str
    title: dict[str, str]
    summary: dict[str, str]
    body: dict[str, str]
    sort_order: int
    is_demo: bool
    retired_at: datetime | None
    created_at: datetime
    updated_at: datetime


class StaffHelp(BaseModel):
    contacts: list[ContactStaff]
    guides: list[GuideStaff]


# Public -----------------------------------------------------------------------------------


class PlaceLink(BaseModel):
    code: str
    name: str
    lat: float
    lon: float
    address: str | None
    url: str = Field(description="Its page: /places/{code}")


class ContactPublic(BaseModel):
    code: str
    kind: Kind
    kind_label: str
    phone: str | None
    tel: str | None = Field(description="A tel: link for the number")
    name: str = Field(description="In the language asked for, else vi, en, any")
    description: str
    lang: str | None = Field(description="The language the name is in")
    hours: str | None = Field(description="OpenStreetMap opening_hours")
    open_now: bool | None = Field(description="None when there are no hours or they are unknown")
    next_change: datetime | None = Field(description="When it next opens or closes (local)")
    place: PlaceLink | None
    built_in: bool = Field(
        default=False, description="A national number shown because no record holds it"
    )


class GuideSummary(BaseModel):
    slug: str
    title: str
    summary: str
    lang: str | None
    url: str
    updated_at: datetime | None


class HelpPublic(BaseModel):
    locale: str
    emergency: list[ContactPublic] = Field(description="113 police, 114 fire, 115 ambulance")
    hotlines: list[ContactPublic] = Field(description="The province's hotlines")
    tourist_info: list[ContactPublic]
    guides: list[GuideSummary]


class Paragraph(BaseModel):
    type: Literal["paragraph"] = "paragraph"
    text: str


class BulletList(BaseModel):
    type: Literal["list"] = "list"
    items: list[str]


Block = Annotated[Paragraph | BulletList, Field(discriminator="type")]


class GuidePublic(BaseModel):
    slug: str
    title: str
    summary: str
    lang: str | None = Field(description="The language of the body")
    blocks: list[Block]
    updated_at: datetime
    url: str


def field_names(errors: list[dict[str, Any]]) -> list[str]:
    """The top-level field each pydantic error is about."""
    return [str(e["loc"][0]) if e.get("loc") else "" for e in errors]
