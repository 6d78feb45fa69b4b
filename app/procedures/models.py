"""The catalogue of administrative procedures (thủ tục hành chính), carrying the fields the
national public-service portal publishes, and life events: procedures in the order a person
needs them. Multilingual text is stored as {"vi": ..., "en": ...} (app.kit.langtext)."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    Date,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from app.db import Base, IdMixin, TimestampMixin, check_in, utcnow


class Level(StrEnum):
    """Who settles it: since the 2025 reform a province has two levels of government."""

    province = "province"
    commune = "commune"


class Online(StrEnum):
    """Online public service: none, partly (dịch vụ công một phần) or fully (toàn trình)."""

    none = "none"
    partial = "partial"
    full = "full"


class Channel(StrEnum):
    """Ways to submit a dossier."""

    in_person = "in_person"
    post = "post"
    online = "online"


class ProcedureField(IdMixin, TimestampMixin, Base):
    """A field (lĩnh vực) of procedures: business registration, construction, civil status …"""

    __tablename__ = "procedure_field"

    code: Mapped[str] = mapped_column(String(40), unique=True)
    name: Mapped[dict[str, str]] = mapped_column(JSON, default=dict)
    position: Mapped[int] = mapped_column(Integer, default=0)


class Agency(IdMixin, TimestampMixin, Base):
    """An implementing agency (cơ quan thực hiện), and where a person goes to it."""

    __tablename__ = "procedure_agency"

    code: Mapped[str] = mapped_column(String(40), unique=True)
    name: Mapped[dict[str, str]] = mapped_column(JSON, default=dict)
    address: Mapped[str | None] = mapped_column(String(300))
    phone: Mapped[str | None] = mapped_column(String(60))
    opening_hours: Mapped[str | None] = mapped_column(String(500))  # OSM opening_hours syntax
    place_id: Mapped[int | None] = mapped_column(
        ForeignKey("place.id", ondelete="SET NULL"), index=True
    )
    department_id: Mapped[int | None] = mapped_column(
        ForeignKey("department.id", ondelete="SET NULL"), index=True
    )


class Procedure(IdMixin, TimestampMixin, Base):
    __tablename__ = "procedure"
    __table_args__ = (
        CheckConstraint(check_in("level", Level), name="level"),
        CheckConstraint(check_in("online", Online), name="online"),
        CheckConstraint("processing_days >= 0", name="processing_days"),
        CheckConstraint("fee_total_vnd >= 0", name="fee_total"),
        Index("ix_procedure_field_id_retired_at", "field_id", "retired_at"),
        Index("ix_procedure_agency_id_retired_at", "agency_id", "retired_at"),
        Index("ix_procedure_updated", "updated_at", "id"),
    )

    code: Mapped[str] = mapped_column(String(30), unique=True)  # the portal's, e.g. "1.001612"
    name: Mapped[dict[str, str]] = mapped_column(JSON, default=dict)
    field_id: Mapped[int] = mapped_column(ForeignKey("procedure_field.id", ondelete="RESTRICT"))
    agency_id: Mapped[int] = mapped_column(ForeignKey("procedure_agency.id", ondelete="RESTRICT"))
    level: Mapped[str] = mapped_column(String(10))
    online: Mapped[str] = mapped_column(String(8), default=Online.none.value)
    # ["in_person", "post", "online"]
    channels: Mapped[list[str]] = mapped_column(JSON, default=list)
    # Who may apply (đối tượng thực hiện).
    applicants: Mapped[dict[str, str]] = mapped_column(JSON, default=dict)
    # Ordered steps: [{"vi": ..., "en": ...}]
    steps: Mapped[list[dict[str, str]]] = mapped_column(JSON, default=list)
    # [{"name": {..}, "originals": 1, "copies": 0, "template_url": str | None, "note": {..}}]
    documents: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    processing_days: Mapped[int] = mapped_column(Integer)  # working days
    processing_note: Mapped[dict[str, str]] = mapped_column(JSON, default=dict)
    # [{"name": {..}, "amount_vnd": 100000, "note": {..}}]
    fees: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    fee_total_vnd: Mapped[int] = mapped_column(Integer, default=0)
    fee_note: Mapped[dict[str, str]] = mapped_column(JSON, default=dict)
    conditions: Mapped[dict[str, str]] = mapped_column(JSON, default=dict)
    result: Mapped[dict[str, str]] = mapped_column(JSON, default=dict)
    # [{"number": "01/2021/NĐ-CP", "title": {..}, "issued_on": "2021-01-04"}]
    legal_basis: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    source_url: Mapped[str | None] = mapped_column(String(500))
    updated_on: Mapped[date | None] = mapped_column(Date)  # when the portal last updated it
    is_demo: Mapped[bool] = mapped_column(Boolean, default=False)
    retired_at: Mapped[datetime | None]

    # Accent-folded search keys, rewritten with every change (app.procedures.service):
    # the names in every language; the field's names; everything else a person might type.
    search_name: Mapped[str] = mapped_column(Text, default="")
    search_field: Mapped[str] = mapped_column(Text, default="")
    search_body: Mapped[str] = mapped_column(Text, default="")


class ProcedureTerm(Base):
    """Every folded word of the catalogue, for typo-tolerant search ("dang ki" → "dang ky")."""

    __tablename__ = "procedure_term"

    term: Mapped[str] = mapped_column(String(60), primary_key=True)


class ProcedureForm(IdMixin, Base):
    """A form template (mẫu đơn, tờ khai) uploaded by staff, served for download."""

    __tablename__ = "procedure_form"
    # Never reuse the id of a deleted form: its download URL is cached as immutable for a year.
    __table_args__ = ({"sqlite_autoincrement": True},)

    procedure_id: Mapped[int] = mapped_column(
        ForeignKey("procedure.id", ondelete="CASCADE"), index=True
    )
    filename: Mapped[str] = mapped_column(String(200))
    media_type: Mapped[str] = mapped_column(String(100))
    size: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64))
    content: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("user_account.id", ondelete="SET NULL")
    )


class LifeEvent(IdMixin, TimestampMixin, Base):
    """A curated sequence of procedures for a moment in life (open a restaurant …)."""

    __tablename__ = "life_event"

    slug: Mapped[str] = mapped_column(String(80), unique=True)
    name: Mapped[dict[str, str]] = mapped_column(JSON, default=dict)
    description: Mapped[dict[str, str]] = mapped_column(JSON, default=dict)
    audience: Mapped[str] = mapped_column(String(10), default="business")  # business | citizen
    position: Mapped[int] = mapped_column(Integer, default=0)
    is_demo: Mapped[bool] = mapped_column(Boolean, default=False)
    retired_at: Mapped[datetime | None]


class LifeEventStep(IdMixin, Base):
    __tablename__ = "life_event_step"
    __table_args__ = (UniqueConstraint("life_event_id", "position"),)

    life_event_id: Mapped[int] = mapped_column(ForeignKey("life_event.id", ondelete="CASCADE"))
    procedure_id: Mapped[int] = mapped_column(
        ForeignKey("procedure.id", ondelete="RESTRICT"), index=True
    )
    position: Mapped[int] = mapped_column(Integer)
    # Why this step, or when it applies ("only if you sell alcohol").
    note: Mapped[dict[str, str]] = mapped_column(JSON, default=dict)
    optional: Mapped[bool] = mapped_column(Boolean, default=False)
