"""What staff and importers send for a place, validated once for the API, the CLI and the demo."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, field_validator, model_validator

from app.kit.langtext import LongText, ShortText
from app.kit.text import nfc
from app.places import hours
from app.places.models import Category, Wheelchair

_URL = re.compile(r"^https?://[^\s/$.?#][^\s]*$", re.IGNORECASE)
_PHONE = re.compile(r"^\+?[0-9][0-9 .\-()]{1,28}$")
_CODE = r"^[a-z0-9][a-z0-9_.-]{1,59}$"


def _url(value: str | None) -> str | None:
    if value is None:
        return None
    value = value.strip()
    if not _URL.match(value):
        raise ValueError("must be an http:// or https:// address")
    return value


def _phone(value: str | None) -> str | None:
    if value is None:
        return None
    value = " ".join(value.split())
    if not _PHONE.match(value):
        raise ValueError("must be a telephone number (digits, spaces, +, -, . or brackets)")
    return value


def _hours(value: str | None) -> str | None:
    if value is None:
        return None
    try:
        return hours.validate(value)
    except hours.InvalidHours as exc:
        raise ValueError(f"not valid OpenStreetMap opening_hours: {exc}") from exc


Url = Annotated[str | None, AfterValidator(_url)]
Phone = Annotated[str | None, AfterValidator(_phone)]
Hours = Annotated[str | None, AfterValidator(_hours)]


class Photo(BaseModel):
    url: Annotated[str, AfterValidator(lambda v: _url(v) if not v.startswith("/") else v)]
    caption: ShortText = Field(default_factory=dict)


class Accessibility(BaseModel):
    """Unknown is not "no": leave a field out (or null) when nobody has checked."""

    wheelchair: Wheelchair | None = None
    door_width_cm: int | None = Field(default=None, ge=30, le=1000)
    step_free_entrance: bool | None = None
    accessible_toilet: bool | None = None
    wheelchair_parking: bool | None = None
    tactile_guidance: bool | None = None
    hearing_loop: bool | None = None
    braille: bool | None = None
    large_print: bool | None = None
    audio_guide: bool | None = None
    sign_language: bool | None = None
    assistance_dogs: bool | None = None
    notes: LongText = Field(default_factory=dict)


class PlaceIn(BaseModel):
    """A new place (also what the importer builds from OpenStreetMap)."""

    model_config = ConfigDict(extra="forbid")

    code: str | None = Field(default=None, pattern=_CODE)
    category: Category
    name: ShortText
    description: LongText = Field(default_factory=dict)
    address: str | None = Field(default=None, max_length=300)
    ward_code: str | None = None  # found from the coordinates when left out
    lat: float = Field(ge=-90, le=90)
    lon: float = Field(ge=-180, le=180)
    phone: Phone = None
    website: Url = None
    opening_hours: Hours = None
    photos: list[Photo] = Field(default_factory=list, max_length=20)
    price_level: int | None = Field(default=None, ge=0, le=4)
    tags: list[str] = Field(default_factory=list, max_length=30)
    source: str = Field(default="staff", pattern=r"^[a-z0-9_-]{2,20}$")
    source_id: str | None = Field(default=None, min_length=1, max_length=100)
    department_code: str | None = None
    last_verified_at: datetime | None = None
    accessibility: Accessibility = Field(default_factory=Accessibility)
    is_demo: bool = False

    @field_validator("name")
    @classmethod
    def _named(cls, value: dict[str, str]) -> dict[str, str]:
        if not value:
            raise ValueError("give a name in at least one language")
        return value

    @field_validator("address")
    @classmethod
    def _address(cls, value: str | None) -> str | None:
        return nfc(value) or None if value is not None else None

    @field_validator("tags")
    @classmethod
    def _tags(cls, value: list[str]) -> list[str]:
        tags = []
        for tag in value:
            tag = nfc(tag)
            if not tag or len(tag) > 60:
                raise ValueError("each tag is 1 to 60 characters")
            if tag not in tags:
                tags.append(tag)
        return tags

    @field_validator("last_verified_at")
    @classmethod
    def _aware(cls, value: datetime | None) -> datetime | None:
        if value is not None and value.tzinfo is None:
            raise ValueError("give a time zone (for example 2026-11-26T08:00:00+07:00)")
        return value


class PlacePatch(BaseModel):
    """Changes to a place: only the fields sent are changed; null clears an optional field."""

    model_config = ConfigDict(extra="forbid")

    category: Category | None = None
    name: ShortText | None = None
    description: LongText | None = None
    address: str | None = Field(default=None, max_length=300)
    ward_code: str | None = None
    lat: float | None = Field(default=None, ge=-90, le=90)
    lon: float | None = Field(default=None, ge=-180, le=180)
    phone: Phone = None
    website: Url = None
    opening_hours: Hours = None
    photos: list[Photo] | None = Field(default=None, max_length=20)
    price_level: int | None = Field(default=None, ge=0, le=4)
    tags: list[str] | None = Field(default=None, max_length=30)
    department_code: str | None = None
    last_verified_at: datetime | None = None
    accessibility: Accessibility | None = None
    verified: bool = False  # true: stamp last_verified_at with now

    _tags = field_validator("tags")(lambda cls, v: None if v is None else PlaceIn._tags(v))

    @field_validator("category", "name", "lat", "lon")
    @classmethod
    def _required_stay(cls, value: Any) -> Any:
        if value is None or value == {}:
            raise ValueError("cannot be cleared")
        return value

    @model_validator(mode="after")
    def _together(self) -> PlacePatch:
        if ("lat" in self.model_fields_set) != ("lon" in self.model_fields_set):
            raise ValueError("send lat and lon together")
        return self


def dump_accessibility(accessibility: Accessibility) -> dict[str, Any]:
    """Column values of the accessibility fields."""
    values = accessibility.model_dump(exclude={"notes"})
    values["accessibility_notes"] = accessibility.notes
    if values["wheelchair"] is not None:
        values["wheelchair"] = Wheelchair(values["wheelchair"]).value
    return values
