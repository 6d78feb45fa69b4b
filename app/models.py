"""Every domain's models, imported in one place: the target of Alembic's autogenerate."""

from app.alerts.models import Alert, alert_ward
from app.audit.models import AuditEntry
from app.auth.models import AuthSession, Consent, RefreshToken, User
from app.calendar.models import CalendarDay
from app.db import Base
from app.devices.models import Device
from app.dossiers.models import Dossier, DossierEvent, DossierFollower
from app.events.models import Event
from app.inbox.models import Notification
from app.open311.models import Open311Key
from app.org.models import Department, Ward
from app.places.models import Place
from app.practical.models import GuidePage, HelpContact
from app.preferences.models import AlertArea, NotificationPreference, ReportSubscription
from app.procedures.models import (
    Agency,
    LifeEvent,
    LifeEventStep,
    Procedure,
    ProcedureField,
    ProcedureForm,
    ProcedureTerm,
)
from app.push.models import ChannelHalt, Delivery, DeviceTopic, TopicChange
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
    "Agency",
    "Alert",
    "AlertArea",
    "AuditEntry",
    "AuthSession",
    "Base",
    "CalendarDay",
    "ChannelHalt",
    "Consent",
    "Delivery",
    "Department",
    "Device",
    "DeviceTopic",
    "Dossier",
    "DossierEvent",
    "DossierFollower",
    "Event",
    "GuidePage",
    "HelpContact",
    "IdempotentRequest",
    "LifeEvent",
    "LifeEventStep",
    "Notification",
    "NotificationPreference",
    "Open311Key",
    "Place",
    "Procedure",
    "ProcedureField",
    "ProcedureForm",
    "ProcedureTerm",
    "RefreshToken",
    "Report",
    "ReportEvent",
    "ReportFollower",
    "ReportPhoto",
    "ReportSubscription",
    "ReportSupport",
    "ResponseTemplate",
    "Service",
    "ServiceAttribute",
    "ServiceRoute",
    "TopicChange",
    "User",
    "Ward",
    "alert_ward",
]
