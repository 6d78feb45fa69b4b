"""Dossiers over JSON: what staff send to register and work a dossier, what an applicant sends to
look one up (the code and a second factor), and the shapes of the answers."""

from __future__ import annotations

import re
from datetime import date, datetime
from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, EmailStr, Field, model_validator

from app.dossiers.models import ApplicantKind, Channel, Status
from app.kit.pagination import Page
from app.kit.phone import normalise_vn_mobile
from app.kit.text import nfc

# A tax code (mã số thuế): 10 digits, or 10 + "-" + 3 for a dependent unit (branch).
TAX_CODE = re.compile(r"^\d{10}(-\d{3})?$")
_PHONE_CHARS = re.compile(r"^\+?[0-9 .()-]+$")
MAX_MISSING = 30
CODE_MAX = 40


def normalise_tax_code(raw: str | None) -> str | None:
    """'0101234567', '0101234567-001'; 13 digits without the dash get it; spaces are dropped.
    Raises ValueError for anything else."""
    if raw is None:
        return None
    value = "".join(raw.split())
    if not value:
        return None
    if value.isdigit() and len(value) == 13:
        value = f"{value[:10]}-{value[10:]}"
    if not TAX_CODE.match(value):
        raise ValueError("a tax code has 10 digits, or 10 digits, a dash and 3 digits")
    return value


def normalise_phone(raw: str | None) -> str | None:
    """A Vietnamese mobile number is stored as +84XXXXXXXXX; a landline as typed (8 to 15
    digits). Raises ValueError for anything else."""
    if raw is None or not raw.strip():
        return None
    value = " ".join(raw.split())
    mobile = normalise_vn_mobile(value)
    if mobile is not None:
        return mobile
    digits = sum(ch.isdigit() for ch in value)
    if not _PHONE_CHARS.match(value) or not 8 <= digits <= 15:
        raise ValueError("not a telephone number")
    return value


def last4(phone: str | None) -> str | None:
    """The last four digits of a phone number (the lookup's second factor)."""
    if not phone:
        return None
    digits = "".join(ch for ch in phone if ch.isdigit())
    return digits[-4:] if len(digits) >= 4 else None


def normalise_code(raw: str) -> str:
    """Codes are upper case; what people type may not be (nor free of spaces)."""
    return "".join(raw.split()).upper()


def _text(value: str | None) -> str | None:
    if value is None:
        return None
    value = nfc(value)
    return value or None


def _items(values: list[str]) -> list[str]:
    out = [nfc(v) for v in values]
    if any(not v for v in out):
        raise ValueError("a missing item must not be empty")
    return out


TaxCode = Annotated[str | None, AfterValidator(normalise_tax_code)]
PhoneText = Annotated[str | None, AfterValidator(normalise_phone)]
Text = Annotated[str | None, AfterValidator(_text)]
MissingItems = Annotated[
    list[Annotated[str, Field(max_length=300)]],
    Field(max_length=MAX_MISSING),
    AfterValidator(_items),
]


# Staff -------------------------------------------------------------------------------------


class DossierIn(BaseModel):
    """A dossier as the one-stop desk registers it."""

    model_config = ConfigDict(extra="forbid")

    procedure_code: str = Field(min_length=1, max_length=30)
    channel: Channel = Channel.in_person
    applicant_kind: ApplicantKind = ApplicantKind.person
    applicant_name: Annotated[str, Field(min_length=2, max_length=200), AfterValidator(nfc)]
    tax_code: TaxCode = Field(None, description="10 digits, or 10-3 digits for a branch")
    phone: PhoneText = Field(None, description="Its last four digits look the dossier up")
    email: EmailStr | None = None
    address: Text = Field(None, max_length=300)
    applicant_user_email: EmailStr | None = Field(
        None, description="The applicant's account, if they have one: it follows the dossier"
    )
    received_at: datetime | None = Field(
        None,
        description="When it was received (default now; not in the future). Without a time "
        "zone it is local time.",
    )


class StatusIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    status: Status
    note: Text = Field(None, max_length=5000)
    missing: MissingItems = Field(
        default_factory=list, description="What the applicant must bring (needs_supplement)"
    )
    internal: bool = Field(False, description="The note is for staff only")


class NoteIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    note: Annotated[str, Field(min_length=1, max_length=5000), AfterValidator(nfc)]
    internal: bool = False


# The applicant -----------------------------------------------------------------------------


class FactorIn(BaseModel):
    """The dossier code and a second factor: the last four digits of the applicant's phone,
    or the six-digit PIN printed on the receipt."""

    model_config = ConfigDict(extra="forbid")

    code: str = Field(min_length=4, max_length=CODE_MAX)
    phone_last4: str | None = Field(None, pattern=r"^\d{4}$")
    pin: str | None = Field(None, pattern=r"^\d{6}$")

    @model_validator(mode="after")
    def _a_factor(self) -> FactorIn:
        if self.phone_last4 is None and self.pin is None:
            raise ValueError(
                "give the last four digits of the phone number (phone_last4) "
                "or the PIN on the receipt (pin)"
            )
        return self


class RatingIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    score: int = Field(ge=1, le=5)
    comment: Text = Field(None, max_length=1000)


class RateIn(FactorIn):
    score: int = Field(ge=1, le=5)
    comment: Text = Field(None, max_length=1000)


# Answers -----------------------------------------------------------------------------------


class ProcedureRef(BaseModel):
    code: str
    name: str
    processing_days: int


class AgencyRef(BaseModel):
    code: str
    name: str
    address: str | None
    phone: str | None


class DepartmentRef(BaseModel):
    code: str
    name: str


class RatingRead(BaseModel):
    score: int
    comment: str | None
    rated_at: datetime | None


class EventRead(BaseModel):
    at: datetime
    from_status: Status | None
    to_status: Status | None
    status_label: str | None
    note: str | None
    missing: list[str]
    due_at: datetime | None


class StaffEventRead(EventRead):
    internal: bool
    actor_name: str | None


class DossierItem(BaseModel):
    """A line of a list."""

    code: str
    status: Status
    status_label: str
    procedure: ProcedureRef
    applicant_name: str
    received_at: datetime
    due_at: datetime | None
    due_on: date | None = Field(description="The due day, local time")
    paused: bool
    remaining_working_days: int | None
    overdue: bool
    overdue_working_days: int


class ApplicantView(DossierItem):
    """What the applicant sees: no internal notes, none of their contact details."""

    channel: Channel
    channel_label: str
    applicant_kind: ApplicantKind
    applicant_kind_label: str
    agency: AgencyRef | None
    missing: list[str]
    completed_at: datetime | None
    returned_at: datetime | None
    closed_at: datetime | None
    can_rate: bool
    rating: RatingRead | None
    history: list[EventRead]
    following: bool | None = Field(None, description="Whether the signed-in caller follows it")


class StaffView(ApplicantView):
    department: DepartmentRef | None
    tax_code: str | None
    phone: str | None
    email: str | None
    address: str | None
    applicant_user_email: str | None
    received_by: str | None
    next_statuses: list[Status]
    is_demo: bool
    history: list[StaffEventRead]  # type: ignore[assignment]


class RegisteredOut(BaseModel):
    code: str
    pin: str = Field(description="Print it on the receipt: it is shown this once")
    due_at: datetime | None
    dossier: StaffView


class PinOut(BaseModel):
    code: str
    pin: str = Field(description="The new PIN for a new receipt: shown this once")


class StaffPage(Page[DossierItem]):
    counts: dict[str, int] = Field(description="Dossiers by status, with the other filters")
    overdue_count: int = Field(description="Running dossiers past due, with the other filters")
