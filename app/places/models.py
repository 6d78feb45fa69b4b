"""Places of the province for visitors and residents: what they are, where, when open, and how
accessible (unknown is never "no": every accessibility field is nullable)."""

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

from app.db import Base, IdMixin, TimestampMixin, check_in


class Category(StrEnum):
    sights = "sights"  # sights and viewpoints
    nature = "nature"
    culture = "culture"  # culture and heritage
    accommodation = "accommodation"
    food = "food"  # food and drink
    shopping = "shopping"  # markets and shops
    transport = "transport"  # bus stations, taxi ranks, parking
    health = "health"  # hospitals, clinics, pharmacies
    education = "education"  # schools, colleges
    government = "government"  # offices and one-stop service centres
    finance = "finance"  # banks and ATMs
    toilets = "toilets"  # public toilets
    emergency = "emergency"  # police, fire and rescue, ambulance


class Wheelchair(StrEnum):
    """OSM's wheelchair=* grades."""

    yes = "yes"
    limited = "limited"
    no = "no"


# The yes/no/unknown accessibility features (None = not known), in the order pages list them.
FEATURES: tuple[str, ...] = (
    "step_free_entrance",
    "accessible_toilet",
    "wheelchair_parking",
    "tactile_guidance",
    "hearing_loop",
    "braille",
    "large_print",
    "audio_guide",
    "sign_language",
    "assistance_dogs",
)


class Place(IdMixin, TimestampMixin, Base):
    __tablename__ = "place"
    __table_args__ = (
        CheckConstraint(check_in("category", Category), name="category"),
        CheckConstraint(check_in("wheelchair", Wheelchair), name="wheelchair"),
        CheckConstraint("lat BETWEEN -90 AND 90 AND lon BETWEEN -180 AND 180", name="coordinates"),
        CheckConstraint("price_level BETWEEN 0 AND 4", name="price_level"),
        CheckConstraint("door_width_cm BETWEEN 30 AND 1000", name="door_width"),
        UniqueConstraint("source", "source_id"),
        # Deltas for the offline app: everything changed since a moment, retirements included.
        Index("ix_place_updated", "updated_at", "id"),
        Index("ix_place_category", "category"),
    )

    code: Mapped[str] = mapped_column(String(60), unique=True)
    category: Mapped[str] = mapped_column(String(20))
    # {"vi": "...", "en": "...", ...}: any language code; pages fall back vi -> en -> any.
    name: Mapped[dict[str, str]] = mapped_column(JSON, default=dict)
    description: Mapped[dict[str, str]] = mapped_column(JSON, default=dict)
    address: Mapped[str | None] = mapped_column(String(300))
    ward_id: Mapped[int | None] = mapped_column(
        ForeignKey("ward.id", ondelete="SET NULL"), index=True
    )
    lat: Mapped[float] = mapped_column(Float)
    lon: Mapped[float] = mapped_column(Float)
    phone: Mapped[str | None] = mapped_column(String(60))
    website: Mapped[str | None] = mapped_column(String(500))
    opening_hours: Mapped[str | None] = mapped_column(String(500))  # OSM opening_hours syntax
    # [{"url": "...", "caption": {"vi": ..., "en": ...}}]
    photos: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    price_level: Mapped[int | None] = mapped_column(Integer)  # 0 free .. 4 expensive
    tags: Mapped[list[str]] = mapped_column(JSON, default=list)
    source: Mapped[str] = mapped_column(String(20), default="staff")  # osm, demo, staff, …
    source_id: Mapped[str | None] = mapped_column(String(100))  # e.g. "node/123456"
    department_id: Mapped[int | None] = mapped_column(
        ForeignKey("department.id", ondelete="SET NULL"), index=True
    )
    last_verified_at: Mapped[datetime | None]
    is_demo: Mapped[bool] = mapped_column(Boolean, default=False)
    retired_at: Mapped[datetime | None]

    # Accessibility (None = unknown).
    wheelchair: Mapped[str | None] = mapped_column(String(8))
    door_width_cm: Mapped[int | None] = mapped_column(Integer)
    step_free_entrance: Mapped[bool | None] = mapped_column(Boolean)
    accessible_toilet: Mapped[bool | None] = mapped_column(Boolean)
    wheelchair_parking: Mapped[bool | None] = mapped_column(Boolean)
    tactile_guidance: Mapped[bool | None] = mapped_column(Boolean)
    hearing_loop: Mapped[bool | None] = mapped_column(Boolean)
    braille: Mapped[bool | None] = mapped_column(Boolean)
    large_print: Mapped[bool | None] = mapped_column(Boolean)
    audio_guide: Mapped[bool | None] = mapped_column(Boolean)
    sign_language: Mapped[bool | None] = mapped_column(Boolean)
    assistance_dogs: Mapped[bool | None] = mapped_column(Boolean)
    accessibility_notes: Mapped[dict[str, str]] = mapped_column(JSON, default=dict)

    # Accent-folded search keys, written with every change (app.places.service.refresh_keys):
    # names in every language; descriptions, tags and address.
    search_name: Mapped[str] = mapped_column(Text, default="")
    search_body: Mapped[str] = mapped_column(Text, default="")
