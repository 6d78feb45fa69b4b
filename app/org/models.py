from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, Float, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from app.db import Base, IdMixin, utcnow


class Department(IdMixin, Base):
    """A provincial department or unit that handles cases (urban management, health …)."""

    __tablename__ = "department"

    code: Mapped[str] = mapped_column(String(40), unique=True)
    name_vi: Mapped[str] = mapped_column(String(200))
    name_en: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    def name(self, locale: str) -> str:
        return self.name_en if locale == "en" else self.name_vi


class Ward(IdMixin, Base):
    """A ward (phường, thị trấn) or commune (xã) with a simplified boundary polygon."""

    __tablename__ = "ward"
    __table_args__ = (CheckConstraint("kind IN ('ward', 'commune')", name="kind"),)

    code: Mapped[str] = mapped_column(String(40), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    name_folded: Mapped[str] = mapped_column(String(200), index=True)
    kind: Mapped[str] = mapped_column(String(10))
    district: Mapped[str] = mapped_column(String(200))
    # GeoJSON exterior ring [[lon, lat], ...]; the bounding box lets SQL narrow candidates first.
    polygon: Mapped[str] = mapped_column(Text)
    min_lat: Mapped[float] = mapped_column(Float)
    max_lat: Mapped[float] = mapped_column(Float)
    min_lon: Mapped[float] = mapped_column(Float)
    max_lon: Mapped[float] = mapped_column(Float)
