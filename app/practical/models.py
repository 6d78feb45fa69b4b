"""Practical help: emergency numbers and hotlines, tourist information points, and short guide
pages that staff manage."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, CheckConstraint, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from app.db import Base, IdMixin, TimestampMixin

CONTACT_KINDS = ("police", "fire", "ambulance", "hotline", "tourist_info", "other")


class HelpContact(IdMixin, TimestampMixin, Base):
    """A number to call (113, 114, 115, a provincial hotline) or a tourist information point."""

    __tablename__ = "help_contact"
    __table_args__ = (
        CheckConstraint(
            "kind IN ('police', 'fire', 'ambulance', 'hotline', 'tourist_info', 'other')",
            name="kind",
        ),
    )

    code: Mapped[str] = mapped_column(String(60), unique=True)
    kind: Mapped[str] = mapped_column(String(20))
    phone: Mapped[str | None] = mapped_column(String(30))
    name: Mapped[dict[str, str]] = mapped_column(JSON, default=dict)
    description: Mapped[dict[str, str]] = mapped_column(JSON, default=dict)
    place_id: Mapped[int | None] = mapped_column(
        ForeignKey("place.id", ondelete="SET NULL"), index=True
    )
    hours: Mapped[str | None] = mapped_column(String(200))  # OSM opening_hours, "24/7" …
    sort_order: Mapped[int] = mapped_column(Integer, default=100)
    is_demo: Mapped[bool] = mapped_column(default=False)
    retired_at: Mapped[datetime | None]


class GuidePage(IdMixin, TimestampMixin, Base):
    """A short multilingual guide ("Getting to Mù Cang Chải", "Tết: what is open")."""

    __tablename__ = "guide_page"

    slug: Mapped[str] = mapped_column(String(80), unique=True)
    title: Mapped[dict[str, str]] = mapped_column(JSON, default=dict)
    summary: Mapped[dict[str, str]] = mapped_column(JSON, default=dict)
    # Plain text per language; blank lines separate paragraphs, lines starting "- " are a list.
    body: Mapped[dict[str, str]] = mapped_column(JSON, default=dict)
    sort_order: Mapped[int] = mapped_column(Integer, default=100)
    is_demo: Mapped[bool] = mapped_column(default=False)
    retired_at: Mapped[datetime | None]
