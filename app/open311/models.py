"""API keys issued to partner systems for Open311 (only the hash is stored)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from app.db import Base, IdMixin, utcnow

# Reports a partner sends carry source="open311:<name>" (report.source is 40 characters).
KEY_NAME_MAX = 32


class Open311Key(IdMixin, Base):
    """One partner's key. A name has at most one active key; revoked keys stay for the record."""

    __tablename__ = "open311_key"

    name: Mapped[str] = mapped_column(String(KEY_NAME_MAX), index=True)
    key_hash: Mapped[str] = mapped_column(String(64), unique=True)  # sha256, see hash_secret
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    revoked_at: Mapped[datetime | None]
    last_used_at: Mapped[datetime | None]

    @property
    def active(self) -> bool:
        return self.revoked_at is None
