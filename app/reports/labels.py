"""Names of statuses as people read them (pages, notification texts)."""

from __future__ import annotations

from app.kit.i18n import N_
from app.kit.i18n import gettext as _
from app.reports.models import Status

STATUS_LABELS: dict[str, str] = {
    Status.submitted: N_("Sent"),
    Status.acknowledged: N_("Received"),
    Status.in_progress: N_("In progress"),
    Status.resolved: N_("Resolved"),
    Status.rejected: N_("Not accepted"),
    Status.duplicate: N_("Duplicate"),
    Status.referred: N_("Passed to another authority"),
    Status.closed: N_("Closed"),
    Status.reopened: N_("Reopened"),
    Status.withdrawn: N_("Withdrawn"),
}


def status_label(value: str | None) -> str:
    return _(STATUS_LABELS[value]) if value in STATUS_LABELS else (value or "")
