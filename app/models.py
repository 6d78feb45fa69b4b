"""Every domain's models, imported in one place: the target of Alembic's autogenerate."""

from app.auth.models import AuthSession, Consent, RefreshToken, User
from app.db import Base
from app.org.models import Department, Ward

__all__ = ["AuthSession", "Base", "Consent", "Department", "RefreshToken", "User", "Ward"]
