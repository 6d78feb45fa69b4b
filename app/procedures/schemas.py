"""A procedure as the API, the importer (JSON and CSV) and the demo send it, validated once.

Each record is self-contained: it names its field and agency by code, with their names when
they may be new, so a file can be streamed record by record."""

from __future__ import annotations

import re
from datetime import date
from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, model_validator

from app.kit.langtext import LongText, NameText, ShortText
from app.places.schemas import Hours, Phone
from app.procedures.models import Channel, Level, Online

PROCEDURE_CODE = r"^[0-9A-Za-z][0-9A-Za-z._-]{2,29}$"
REF_CODE = r"^[a-z0-9][a-z0-9_.-]{1,39}$"
_URL = re.compile(r"^(https?://[^\s/$.?#][^\s]*|/[^\s]*)$", re.IGNORECASE)
MAX_FEE_VND = 100_000_000_000


def _url(value: str | None) -> str | None:
    if value is None or not value.strip():
        return None
    value = value.strip()
    if not _URL.match(value):
        raise ValueError("must be an http:// or https:// address, or a path on this site")
    return value


Url = Annotated[str | None, AfterValidator(_url)]


def _needs_vi(texts: dict[str, str], what: str) -> None:
    if not texts.get("vi"):
        raise ValueError(f"{what} needs a Vietnamese text (vi)")


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class FieldRef(Strict):
    """A field (lĩnh vực): an existing one by code, or a new one with its name."""

    code: str = Field(pattern=REF_CODE)
    name: ShortText = Field(default_factory=dict)


class AgencyRef(Strict):
    """An implementing agency: an existing one by code, or a new one with its name."""

    code: str = Field(pattern=REF_CODE)
    name: NameText = Field(default_factory=dict)
    address: str | None = Field(default=None, max_length=300)
    phone: Phone = None
    opening_hours: Hours = None
    place_code: str | None = Field(default=None, max_length=60)
    department_code: str | None = Field(default=None, max_length=40)


class DocumentIn(Strict):
    name: NameText
    originals: int = Field(default=1, ge=0, le=50)
    copies: int = Field(default=0, ge=0, le=50)
    template_url: Url = None
    note: LongText = Field(default_factory=dict)

    @model_validator(mode="after")
    def _named(self) -> DocumentIn:
        _needs_vi(self.name, "a document's name")
        if self.originals == 0 and self.copies == 0:
            raise ValueError("a document needs at least one original or one copy")
        return self


class FeeIn(Strict):
    name: NameText
    amount_vnd: int = Field(ge=0, le=MAX_FEE_VND)
    note: LongText = Field(default_factory=dict)


class LegalBasisIn(Strict):
    number: str = Field(min_length=1, max_length=100)  # e.g. "01/2021/NĐ-CP"
    title: NameText = Field(default_factory=dict)
    issued_on: date | None = None


class ProcedureIn(Strict):
    code: str = Field(pattern=PROCEDURE_CODE, description="The national portal's code")
    name: NameText
    field: FieldRef
    agency: AgencyRef
    level: Level
    online: Online = Online.none
    channels: list[Channel] = Field(min_length=1)
    applicants: LongText = Field(default_factory=dict)
    steps: list[LongText] = Field(min_length=1, max_length=50)
    documents: list[DocumentIn] = Field(default_factory=list, max_length=100)
    processing_days: int = Field(ge=0, le=365, description="Working days")
    processing_note: LongText = Field(default_factory=dict)
    fees: list[FeeIn] = Field(default_factory=list, max_length=50)
    fee_note: LongText = Field(default_factory=dict)
    conditions: LongText = Field(default_factory=dict)
    result: LongText = Field(default_factory=dict)
    legal_basis: list[LegalBasisIn] = Field(default_factory=list, max_length=100)
    source_url: Url = None
    updated_on: date | None = None

    @model_validator(mode="after")
    def _consistent(self) -> ProcedureIn:
        _needs_vi(self.name, "the name")
        for n, step in enumerate(self.steps, 1):
            _needs_vi(step, f"step {n}")
        if len(set(self.channels)) != len(self.channels):
            raise ValueError("a way to submit is listed twice")
        online = Channel.online in self.channels
        if self.online is Online.none and online:
            raise ValueError("channels lists online, but online is none")
        if self.online is not Online.none and not online:
            raise ValueError(f"online is {self.online.value}, but channels does not list online")
        return self


class LifeEventStepIn(Strict):
    procedure: str = Field(pattern=PROCEDURE_CODE)
    note: LongText = Field(default_factory=dict)
    optional: bool = False


class LifeEventIn(Strict):
    slug: str = Field(pattern=r"^[a-z0-9][a-z0-9-]{1,79}$")
    name: ShortText
    description: LongText = Field(default_factory=dict)
    audience: str = Field(default="business", pattern="^(business|citizen)$")
    position: int = Field(default=0, ge=0, le=10_000)
    steps: list[LifeEventStepIn] = Field(min_length=1, max_length=40)

    @model_validator(mode="after")
    def _named(self) -> LifeEventIn:
        _needs_vi(self.name, "the name")
        codes = [s.procedure for s in self.steps]
        if len(set(codes)) != len(codes):
            raise ValueError("a procedure is listed twice")
        return self
