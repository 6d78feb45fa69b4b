"""Reports, feedback and requests: the service catalogue, the case, its timeline, photos,
supporters and followers."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from app.db import Base, IdMixin, TimestampMixin, utcnow


class ServiceKind(StrEnum):
    report = "report"
    feedback = "feedback"
    request = "request"


class ServiceGroup(StrEnum):
    roads_lighting = "roads_lighting"
    environment_sanitation = "environment_sanitation"
    water_drainage = "water_drainage"
    public_order = "public_order"
    education = "education"
    health = "health"
    administration = "administration"
    other = "other"


class AttributeType(StrEnum):
    """Open311 GeoReport v2 attribute datatypes."""

    string = "string"
    number = "number"
    datetime = "datetime"
    text = "text"
    singlevaluelist = "singlevaluelist"
    multivaluelist = "multivaluelist"


class Status(StrEnum):
    submitted = "submitted"
    acknowledged = "acknowledged"
    in_progress = "in_progress"
    resolved = "resolved"
    rejected = "rejected"
    duplicate = "duplicate"
    referred = "referred"
    closed = "closed"
    reopened = "reopened"
    withdrawn = "withdrawn"


OPEN_STATUSES = frozenset(
    {Status.submitted, Status.acknowledged, Status.in_progress, Status.reopened}
)


class Service(IdMixin, TimestampMixin, Base):
    __tablename__ = "report_service"
    __table_args__ = (
        CheckConstraint("kind IN ('report', 'feedback', 'request')", name="kind"),
        CheckConstraint("deadline_unit IN ('hours', 'working_days')", name="deadline_unit"),
    )

    code: Mapped[str] = mapped_column(String(40), unique=True)
    name_vi: Mapped[str] = mapped_column(String(200))
    name_en: Mapped[str] = mapped_column(String(200))
    description_vi: Mapped[str] = mapped_column(Text, default="")
    description_en: Mapped[str] = mapped_column(Text, default="")
    group: Mapped[str] = mapped_column(String(40))
    kind: Mapped[str] = mapped_column(String(10))
    department_id: Mapped[int] = mapped_column(ForeignKey("department.id", ondelete="RESTRICT"))
    deadline_value: Mapped[int] = mapped_column(Integer)
    deadline_unit: Mapped[str] = mapped_column(String(14))
    keywords: Mapped[str] = mapped_column(Text, default="")
    search_key: Mapped[str] = mapped_column(Text, default="")
    is_public: Mapped[bool] = mapped_column(Boolean, default=True)
    location_required: Mapped[bool] = mapped_column(Boolean, default=True)
    allow_anonymous: Mapped[bool] = mapped_column(Boolean, default=True)
    proof_required: Mapped[bool] = mapped_column(Boolean, default=True)
    active: Mapped[bool] = mapped_column(Boolean, default=True)

    def name(self, locale: str) -> str:
        return self.name_en if locale == "en" else self.name_vi

    def description(self, locale: str) -> str:
        return self.description_en if locale == "en" else self.description_vi


class ServiceRoute(IdMixin, Base):
    """Another department handles this service in this ward or commune."""

    __tablename__ = "report_service_route"
    __table_args__ = (UniqueConstraint("service_id", "ward_id"),)

    service_id: Mapped[int] = mapped_column(
        ForeignKey("report_service.id", ondelete="CASCADE"), index=True
    )
    ward_id: Mapped[int] = mapped_column(ForeignKey("ward.id", ondelete="CASCADE"))
    department_id: Mapped[int] = mapped_column(ForeignKey("department.id", ondelete="RESTRICT"))


class ServiceAttribute(IdMixin, Base):
    """An extra question of a service (Open311 'attribute')."""

    __tablename__ = "report_service_attribute"
    __table_args__ = (UniqueConstraint("service_id", "code"),)

    service_id: Mapped[int] = mapped_column(
        ForeignKey("report_service.id", ondelete="CASCADE"), index=True
    )
    code: Mapped[str] = mapped_column(String(40))
    datatype: Mapped[str] = mapped_column(String(20))
    label_vi: Mapped[str] = mapped_column(String(300))
    label_en: Mapped[str] = mapped_column(String(300))
    description_vi: Mapped[str] = mapped_column(Text, default="")
    description_en: Mapped[str] = mapped_column(Text, default="")
    required: Mapped[bool] = mapped_column(Boolean, default=False)
    order: Mapped[int] = mapped_column(Integer, default=0)
    # [{"key": "...", "name_vi": "...", "name_en": "..."}] for the list datatypes.
    values: Mapped[list[dict[str, str]]] = mapped_column(JSON, default=list)


class Report(IdMixin, TimestampMixin, Base):
    __tablename__ = "report"
    __table_args__ = (
        Index(
            "ix_report_department_id_status_deadline_at", "department_id", "status", "deadline_at"
        ),
        Index("ix_report_service_id_status", "service_id", "status"),
        Index("ix_report_lat_lon", "lat", "lon"),
        Index("ix_report_public_created_at", "is_public", "hidden", "created_at"),
    )

    code: Mapped[str] = mapped_column(String(16), unique=True)
    # sha256 of the secret that, with the code, lets an anonymous reporter follow the case.
    secret_hash: Mapped[str] = mapped_column(String(64))
    service_id: Mapped[int] = mapped_column(ForeignKey("report_service.id", ondelete="RESTRICT"))
    status: Mapped[str] = mapped_column(String(16), default=Status.submitted.value)
    description: Mapped[str] = mapped_column(Text)
    lat: Mapped[float | None] = mapped_column(Float)
    lon: Mapped[float | None] = mapped_column(Float)
    address: Mapped[str | None] = mapped_column(String(500))
    ward_id: Mapped[int | None] = mapped_column(
        ForeignKey("ward.id", ondelete="SET NULL"), index=True
    )
    department_id: Mapped[int] = mapped_column(ForeignKey("department.id", ondelete="RESTRICT"))
    assignee_id: Mapped[int | None] = mapped_column(
        ForeignKey("user_account.id", ondelete="SET NULL"), index=True
    )
    reporter_id: Mapped[int | None] = mapped_column(
        ForeignKey("user_account.id", ondelete="SET NULL"), index=True
    )
    # Contacts are never public; anonymous reporters may leave them for a call-back.
    reporter_name: Mapped[str | None] = mapped_column(String(200))
    reporter_email: Mapped[str | None] = mapped_column(String(254))
    reporter_phone: Mapped[str | None] = mapped_column(String(16))
    device_id: Mapped[str | None] = mapped_column(String(64))
    source: Mapped[str] = mapped_column(String(40), default="web")
    is_public: Mapped[bool] = mapped_column(Boolean, default=True)
    hidden: Mapped[bool] = mapped_column(Boolean, default=False)
    hidden_reason: Mapped[str | None] = mapped_column(String(500))
    duplicate_of_id: Mapped[int | None] = mapped_column(
        ForeignKey("report.id", ondelete="SET NULL")
    )
    attributes: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    deadline_at: Mapped[datetime]
    acknowledged_at: Mapped[datetime | None]
    resolved_at: Mapped[datetime | None]
    closed_at: Mapped[datetime | None]
    support_count: Mapped[int] = mapped_column(Integer, default=0)
    rating: Mapped[int | None] = mapped_column(Integer)
    rating_comment: Mapped[str | None] = mapped_column(Text)


class ReportEvent(IdMixin, Base):
    """One line of a case's timeline: who, when, what, public or internal."""

    __tablename__ = "report_event"
    __table_args__ = (Index("ix_report_event_report_id_id", "report_id", "id"),)

    report_id: Mapped[int] = mapped_column(ForeignKey("report.id", ondelete="CASCADE"))
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id", ondelete="SET NULL"))
    actor_role: Mapped[str] = mapped_column(String(16))
    kind: Mapped[str] = mapped_column(String(30))
    from_status: Mapped[str | None] = mapped_column(String(16))
    to_status: Mapped[str | None] = mapped_column(String(16))
    note: Mapped[str | None] = mapped_column(Text)
    is_public: Mapped[bool] = mapped_column(Boolean, default=True)
    data: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class ReportPhoto(IdMixin, Base):
    __tablename__ = "report_photo"

    report_id: Mapped[int] = mapped_column(ForeignKey("report.id", ondelete="CASCADE"), index=True)
    event_id: Mapped[int | None] = mapped_column(ForeignKey("report_event.id", ondelete="SET NULL"))
    kind: Mapped[str] = mapped_column(String(12))  # submission | proof | dispute
    name: Mapped[str] = mapped_column(String(80), unique=True)
    thumb_name: Mapped[str] = mapped_column(String(80))
    width: Mapped[int]
    height: Mapped[int]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class ReportFollower(IdMixin, Base):
    __tablename__ = "report_follower"
    __table_args__ = (UniqueConstraint("report_id", "user_id"),)

    report_id: Mapped[int] = mapped_column(ForeignKey("report.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(
        ForeignKey("user_account.id", ondelete="CASCADE"), index=True
    )
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class ReportSupport(IdMixin, Base):
    """'Me too': one per person (or per anonymous device)."""

    __tablename__ = "report_support"
    __table_args__ = (UniqueConstraint("report_id", "supporter_key"),)

    report_id: Mapped[int] = mapped_column(ForeignKey("report.id", ondelete="CASCADE"))
    user_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id", ondelete="SET NULL"))
    supporter_key: Mapped[str] = mapped_column(String(80))  # "user:ID" or "device:ID"
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class ResponseTemplate(IdMixin, TimestampMixin, Base):
    __tablename__ = "report_response_template"

    department_id: Mapped[int | None] = mapped_column(
        ForeignKey("department.id", ondelete="CASCADE"), index=True
    )
    title: Mapped[str] = mapped_column(String(200))
    body_vi: Mapped[str] = mapped_column(Text)
    body_en: Mapped[str] = mapped_column(Text, default="")


class IdempotentRequest(IdMixin, Base):
    """The first answer to a request sent with an Idempotency-Key, replayed to its retries."""

    __tablename__ = "idempotent_request"
    __table_args__ = (UniqueConstraint("scope", "key"),)

    scope: Mapped[str] = mapped_column(String(120))  # who: user, device or address, and route
    key: Mapped[str] = mapped_column(String(120))
    request_hash: Mapped[str] = mapped_column(String(64))
    status_code: Mapped[int]
    body: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
