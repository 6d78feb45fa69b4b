from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, EmailStr, Field, field_validator, model_validator

from app.kit.phone import normalise_vn_mobile
from app.kit.text import nfc
from app.reports.models import AttributeType, ServiceGroup, ServiceKind, Status

# Catalogue ---------------------------------------------------------------------------------


class AttributeValue(BaseModel):
    key: str = Field(min_length=1, max_length=60)
    name_vi: str = Field(min_length=1, max_length=200)
    name_en: str = Field(min_length=1, max_length=200)


class AttributeIn(BaseModel):
    code: str = Field(pattern=r"^[a-z0-9_]{1,40}$")
    datatype: AttributeType
    label_vi: str = Field(min_length=1, max_length=300)
    label_en: str = Field(min_length=1, max_length=300)
    description_vi: str = ""
    description_en: str = ""
    required: bool = False
    order: int = 0
    values: list[AttributeValue] = Field(default_factory=list)

    @model_validator(mode="after")
    def _lists_need_values(self) -> AttributeIn:
        is_list = self.datatype in (AttributeType.singlevaluelist, AttributeType.multivaluelist)
        if is_list and not self.values:
            raise ValueError("list attributes need values")
        if not is_list and self.values:
            raise ValueError("only list attributes take values")
        return self


class AttributeRead(AttributeIn):
    model_config = ConfigDict(from_attributes=True)


class ServiceIn(BaseModel):
    code: str = Field(pattern=r"^[a-z0-9_-]{2,40}$")
    name_vi: str = Field(min_length=2, max_length=200)
    name_en: str = Field(min_length=2, max_length=200)
    description_vi: str = ""
    description_en: str = ""
    group: ServiceGroup
    kind: ServiceKind = ServiceKind.report
    department_code: str
    deadline_value: int = Field(ge=1, le=1000)
    deadline_unit: Literal["hours", "working_days"] = "working_days"
    keywords: str = ""
    is_public: bool = True
    location_required: bool = True
    allow_anonymous: bool = True
    proof_required: bool = True
    active: bool = True
    attributes: list[AttributeIn] = Field(default_factory=list)
    routes: dict[str, str] = Field(
        default_factory=dict, description="ward code -> department code, where it differs"
    )

    @field_validator("name_vi", "name_en", "description_vi", "description_en", "keywords")
    @classmethod
    def _nfc(cls, value: str) -> str:
        return nfc(value)


class ServiceRead(BaseModel):
    code: str
    name: str
    description: str
    name_vi: str
    name_en: str
    group: ServiceGroup
    kind: ServiceKind
    department_code: str
    deadline_value: int
    deadline_unit: str
    keywords: str
    is_public: bool
    location_required: bool
    allow_anonymous: bool
    proof_required: bool
    active: bool
    attributes: list[AttributeRead]


# Submitting --------------------------------------------------------------------------------


class ReportIn(BaseModel):
    """What a resident sends. Status, department and reporter are never taken from here."""

    model_config = ConfigDict(extra="ignore")

    service_code: str = Field(min_length=1, max_length=40)
    description: str = Field(min_length=3, max_length=5000)
    lat: float | None = Field(None, ge=-90, le=90)
    lon: float | None = Field(None, ge=-180, le=180)
    address: str | None = Field(None, max_length=500, description="Address or landmark")
    ward_code: str | None = Field(None, max_length=40, description="Chosen from /api/v1/wards")
    attributes: dict[str, Any] = Field(default_factory=dict)
    reporter_name: str | None = Field(None, max_length=200)
    reporter_email: EmailStr | None = None
    reporter_phone: str | None = None
    device_id: str | None = Field(None, max_length=64, pattern=r"^[A-Za-z0-9._:-]{8,64}$")
    public: bool = Field(True, description="False keeps it out of public lists")

    @field_validator("description", "address", "reporter_name")
    @classmethod
    def _nfc(cls, value: str | None) -> str | None:
        return nfc(value) if value is not None else None

    @field_validator("reporter_phone")
    @classmethod
    def _phone(cls, value: str | None) -> str | None:
        if not value:
            return None
        normalised = normalise_vn_mobile(value)
        if normalised is None:
            raise ValueError("not a Vietnamese mobile number")
        return normalised

    @model_validator(mode="after")
    def _point_needs_both(self) -> ReportIn:
        if (self.lat is None) != (self.lon is None):
            raise ValueError("give both lat and lon, or neither")
        return self


class ReportEdit(BaseModel):
    model_config = ConfigDict(extra="forbid")

    description: str | None = Field(None, min_length=3, max_length=5000)
    address: str | None = Field(None, max_length=500)

    @field_validator("description", "address")
    @classmethod
    def _nfc(cls, value: str | None) -> str | None:
        return nfc(value) if value is not None else None


class SubmittedOut(BaseModel):
    code: str
    secret: str = Field(description="Keep it: with the code it lets you follow the case")
    status: Status
    deadline_at: datetime
    url: str


# Reading -----------------------------------------------------------------------------------


class PhotoRead(BaseModel):
    url: str
    thumb_url: str
    kind: str
    width: int
    height: int


class EventRead(BaseModel):
    kind: str
    from_status: str | None
    to_status: str | None
    note: str | None
    is_public: bool
    actor_role: str
    actor_name: str | None = None
    created_at: datetime
    photos: list[PhotoRead] = Field(default_factory=list)


class ReportPublic(BaseModel):
    code: str
    service_code: str
    service_name: str
    status: Status
    open: bool
    description: str
    lat: float | None
    lon: float | None
    address: str | None
    ward_code: str | None
    ward_name: str | None
    department_code: str
    department_name: str
    created_at: datetime
    updated_at: datetime
    deadline_at: datetime
    overdue: bool
    resolved_at: datetime | None
    support_count: int
    rating: int | None
    duplicate_of: str | None
    photos: list[PhotoRead] = Field(default_factory=list)


class ReportFull(ReportPublic):
    """For the reporter and for staff."""

    is_public: bool
    hidden: bool
    hidden_reason: str | None
    reporter_name: str | None
    reporter_email: str | None
    reporter_phone: str | None
    assignee_id: int | None
    attributes: dict[str, Any]
    rating_comment: str | None
    timeline: list[EventRead]


class LookupIn(BaseModel):
    code: str = Field(min_length=4, max_length=16)
    secret: str = Field(min_length=8, max_length=64)


class RatingIn(BaseModel):
    rating: int = Field(ge=1, le=5)
    comment: str | None = Field(None, max_length=2000)


class ReasonIn(BaseModel):
    reason: str = Field(min_length=3, max_length=2000)


# Staff -------------------------------------------------------------------------------------


class StatusChangeIn(BaseModel):
    status: Status
    note: str | None = Field(None, max_length=5000)
    public: bool = True
    template_id: int | None = None


class AssignIn(BaseModel):
    assignee_id: int | None


class NoteIn(BaseModel):
    note: str | None = Field(None, min_length=1, max_length=5000, description="Or a template_id")
    public: bool = False
    template_id: int | None = None


class MergeIn(BaseModel):
    into_code: str = Field(min_length=4, max_length=16)
    note: str | None = Field(None, max_length=2000)


class TemplateIn(BaseModel):
    title: str = Field(min_length=2, max_length=200)
    body_vi: str = Field(min_length=2, max_length=5000)
    body_en: str = ""
    department_code: str | None = None


class TemplateRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    title: str
    body_vi: str
    body_en: str
    department_id: int | None


class QueueItem(BaseModel):
    code: str
    service_code: str
    service_name: str
    status: Status
    ward_name: str | None
    address: str | None
    description: str
    assignee_id: int | None
    deadline_at: datetime
    overdue: bool
    support_count: int
    created_at: datetime
