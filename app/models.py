"""Every domain's models, imported in one place: the target of Alembic's autogenerate."""

from app.auth.models import AuthSession, Consent, RefreshToken, User
from app.calendar.models import CalendarDay
from app.db import Base
from app.devices.models import Device
from app.inbox.models import Notification
from app.open311.models import Open311Key
from app.org.models import Department, Ward
from app.reports.models import (
    IdempotentRequest,
    Report,
    ReportEvent,
    ReportFollower,
    ReportPhoto,
    ReportSupport,
    ResponseTemplate,
    Service,
    ServiceAttribute,
    ServiceRoute,
)

__all__ = [
    "AuthSession",
    "Base",
    "CalendarDay",
    "Consent",
    "Department",
    "Device",
    "IdempotentRequest",
    "Notification",
    "Open311Key",
    "RefreshToken",
    "Report",
    "ReportEvent",
    "ReportFollower",
    "ReportPhoto",
    "ReportSupport",
    "ResponseTemplate",
    "Service",
    "ServiceAttribute",
    "ServiceRoute",
    "User",
    "Ward",
]
