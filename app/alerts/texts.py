"""What an alert says: the push as it goes to a topic in one language, its size against FCM's
topic limit, and the labels the pages and the feed show.

The severity prefix of a push ("KHẨN CẤP: …") is fixed here per language rather than taken from
the message catalog: it is part of the payload whose size is checked before sending, so a later
change of wording in a catalog must not be able to push an approved alert over the limit, and it
is in the topic's language, whatever the language of the manager who sends it.
"""

from __future__ import annotations

from datetime import datetime

from app.alerts.models import Alert, Severity
from app.db import utcnow
from app.kit.i18n import N_
from app.kit.i18n import gettext as _
from notifications.message import TOPIC_PAYLOAD_LIMIT, PushMessage

PUSH_PREFIXES: dict[str, dict[str, str]] = {
    "vi": {
        Severity.emergency: "KHẨN CẤP",
        Severity.warning: "CẢNH BÁO",
        Severity.advisory: "KHUYẾN CÁO",
        Severity.announcement: "THÔNG BÁO",
    },
    "en": {
        Severity.emergency: "EMERGENCY",
        Severity.warning: "WARNING",
        Severity.advisory: "ADVISORY",
        Severity.announcement: "ANNOUNCEMENT",
    },
}
HIGH_PRIORITY = frozenset({Severity.emergency.value, Severity.warning.value})
#: Most urgent first, for ordering alerts in force.
SEVERITY_RANK = {s.value: i for i, s in enumerate(Severity)}

SEVERITY_LABELS: dict[str, str] = {
    Severity.emergency: N_("Emergency"),
    Severity.warning: N_("Warning"),
    Severity.advisory: N_("Advisory"),
    Severity.announcement: N_("Announcement"),
}
SEVERITY_HINTS: dict[str, str] = {
    Severity.emergency: N_(
        "Danger to life now: evacuate, flash flood, landslide on homes. High priority, day and "
        "night."
    ),
    Severity.warning: N_(
        "Danger expected soon: heavy rain, rising rivers, roads at risk. High priority, day and "
        "night."
    ),
    Severity.advisory: N_(
        "Take care: closed roads, boil water, outages. Normal priority, day and night."
    ),
    Severity.announcement: N_(
        "General news from the province. Normal priority; between 21:00 and 06:00 it waits until "
        "06:00."
    ),
}
STATUS_LABELS: dict[str, str] = {
    "draft": N_("Draft"),
    "sent": N_("Sent"),
    "cancelled": N_("Cancelled"),
}


def severity_label(severity: str) -> str:
    return _(SEVERITY_LABELS.get(severity, severity))


def severity_hint(severity: str) -> str:
    return _(SEVERITY_HINTS.get(severity, ""))


def status_label(status: str) -> str:
    return _(STATUS_LABELS.get(status, status))


def priority_of(severity: str) -> str:
    return "high" if severity in HIGH_PRIORITY else "normal"


def push_title(alert: Alert, locale: str) -> str:
    prefixes = PUSH_PREFIXES.get(locale, PUSH_PREFIXES["vi"])
    return f"{prefixes.get(alert.severity, alert.severity.upper())}: {alert.title(locale)}"


def push_message(
    alert: Alert, locale: str, *, now: datetime | None = None, base_url: str | None = None
) -> PushMessage:
    """The push sent to a topic in `locale` (the alert must have an id: it is in the link).
    With the site's public address the link is absolute, as the dispatcher sends it."""
    now = now or utcnow()
    ttl = max(0, int((alert.expires_at - now).total_seconds()))
    return PushMessage(
        title=push_title(alert, locale),
        body=alert.body(locale),
        data={"kind": "alert", "alert_id": str(alert.id), "severity": alert.severity},
        link=f"{(base_url or '').rstrip('/')}/alerts/{alert.id}",
        priority="high" if alert.severity in HIGH_PRIORITY else "normal",
        ttl_seconds=ttl,
        collapse_key=f"alert-{alert.id}",
    )


def payload_size(alert: Alert, locale: str, base_url: str | None = None) -> int:
    """UTF-8 bytes FCM counts for this language's push (Vietnamese letters take 2 or 3), with
    the link as the dispatcher sends it: absolute when the site's public address is set."""
    return push_message(alert, locale, base_url=base_url).payload_size()


def size_limit() -> int:
    return TOPIC_PAYLOAD_LIMIT
