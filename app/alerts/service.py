"""The rules of emergency alerts and announcements: composing a draft, checking it fits in a
push in both languages, sending it once to every topic of its area and language, cancelling it,
and the audit trail. Services flush, never commit; every function takes `now` so tests (and the
quiet-hours rule) can set the clock."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession

from app.alerts import repository as repo
from app.alerts import texts
from app.alerts.models import Alert, AlertStatus, Severity
from app.alerts.schemas import AlertIn, AlertUpdate
from app.audit import service as audit
from app.auth.models import Role, User
from app.config import Settings
from app.db import utcnow
from app.errors import Conflict, InvalidInput, NotFound
from app.kit.i18n import N_, SUPPORTED_LOCALES, format_number
from app.kit.i18n import gettext as _
from app.org import repository as org_repo
from app.org.models import Ward
from app.push import outbox
from app.push.topics import alert_topics

SUBJECT = "alert"
MAX_AHEAD = timedelta(days=14)
MIN_AHEAD = timedelta(minutes=5)
#: Announcements sent in these hours (province time) wait until the end; alerts never wait.
QUIET_START = time(21, 0)
QUIET_END = time(6, 0)
TEXT_FIELDS = ("title_vi", "body_vi", "title_en", "body_en")
#: Language names inside a sentence, in the reader's language ("the Vietnamese push").
LANGUAGE_LABELS = {"vi": N_("Vietnamese"), "en": N_("English")}


def language_label(locale: str) -> str:
    return _(LANGUAGE_LABELS.get(locale, locale))


class AlertNotFound(NotFound):
    code = "alert-not-found"
    title = N_("There is no such alert.")


class AlertNotDraft(Conflict):
    code = "alert-not-draft"
    title = N_("This alert has already been sent: it can no longer be changed or sent again.")


class AlertNotSent(Conflict):
    code = "alert-not-sent"
    title = N_("Only an alert that has been sent can be cancelled.")


class AlertExpired(Conflict):
    code = "alert-expired"
    title = N_("This alert has expired. Set a later expiry before sending it.")


@dataclass
class LanguagePreview:
    locale: str
    language: str
    title: str
    body: str
    bytes: int
    limit: int
    topics: list[str]
    devices: int

    @property
    def fits(self) -> bool:
        return self.bytes <= self.limit


@dataclass
class Preview:
    alert: Alert
    languages: list[LanguagePreview]
    devices: int
    priority: str
    held_until: datetime | None
    problems: list[str] = field(default_factory=list)

    @property
    def can_send(self) -> bool:
        return self.alert.status == AlertStatus.draft.value and not self.problems


@dataclass
class AuditView:
    action: str
    at: datetime
    actor_id: int | None
    actor_name: str | None
    data: dict[str, Any]


def is_manager(user: User | None) -> bool:
    return user is not None and user.has_role(Role.manager)


def is_active(alert: Alert, now: datetime | None = None) -> bool:
    return alert.status == AlertStatus.sent.value and alert.expires_at > (now or utcnow())


def state(alert: Alert, now: datetime | None = None) -> str:
    """draft, active, expired or cancelled: what a reader needs to know first."""
    if alert.status == AlertStatus.sent.value:
        return "active" if is_active(alert, now) else "expired"
    return alert.status


def ward_codes(alert: Alert) -> list[str] | None:
    """None for the whole province, else the chosen codes, sorted."""
    return None if alert.whole_province else sorted(w.code for w in alert.wards)


def topics_of(alert: Alert) -> list[tuple[str, str]]:
    return alert_topics(ward_codes(alert))


# Reading ---------------------------------------------------------------------------------


async def get_alert(session: AsyncSession, alert_id: int, *, for_update: bool = False) -> Alert:
    alert = await repo.get(session, alert_id, for_update=for_update)
    if alert is None:
        raise AlertNotFound()
    return alert


async def get_readable(session: AsyncSession, alert_id: int, user: User | None) -> Alert:
    """Sent and cancelled alerts are public; a draft exists only for managers."""
    alert = await get_alert(session, alert_id)
    if alert.status == AlertStatus.draft.value and not is_manager(user):
        raise AlertNotFound()
    return alert


# Checks ----------------------------------------------------------------------------------


def _error(field_name: str, reason: str) -> dict[str, str]:
    return {"field": field_name, "in": "body", "reason": reason}


def _raise(errors: list[dict[str, str]]) -> None:
    if errors:
        detail = errors[0]["reason"] if len(errors) == 1 else _("Some fields are not valid.")
        raise InvalidInput(detail, errors=errors)


def _check_expiry(expires_at: datetime, now: datetime) -> list[dict[str, str]]:
    if expires_at <= now + MIN_AHEAD:
        return [_error("expires_at", _("The expiry must be in the future."))]
    if expires_at > now + MAX_AHEAD:
        return [
            _error(
                "expires_at",
                _("The expiry can be at most %(days)s days ahead.", days=MAX_AHEAD.days),
            )
        ]
    return []


async def _resolve_area(
    session: AsyncSession, whole_province: bool, codes: list[str]
) -> tuple[list[Ward], list[dict[str, str]]]:
    if whole_province:
        return [], []
    wanted = sorted({c.strip() for c in codes if c.strip()})
    if not wanted:
        return [], [
            _error(
                "ward_codes",
                _("Choose at least one ward or commune, or send it to the whole province."),
            )
        ]
    found = await org_repo.wards_by_codes(session, wanted)
    unknown = sorted(set(wanted) - {w.code for w in found})
    if unknown:
        return found, [
            _error(
                "ward_codes",
                _(
                    "There is no ward or commune with the code: %(codes)s.",
                    codes=", ".join(unknown),
                ),
            )
        ]
    return sorted(found, key=lambda w: (w.district, w.name)), []


def size_errors(alert: Alert, base_url: str | None = None) -> list[dict[str, str]]:
    """One error per language whose push is over FCM's topic limit, counted in UTF-8 bytes."""
    errors = []
    limit = texts.size_limit()
    for locale in SUPPORTED_LOCALES:
        size = texts.payload_size(alert, locale, base_url)
        if size <= limit:
            continue
        # English falls back to the Vietnamese text when it has none of its own.
        own = bool(alert.body_en) if locale == "en" else True
        field_name = f"body_{locale}" if own else "body_vi"
        errors.append(
            _error(
                field_name,
                _(
                    "The %(language)s push would be %(size)s bytes, over the limit of "
                    "%(limit)s bytes. Shorten the %(language)s title or text by at least "
                    "%(over)s bytes (a Vietnamese letter with marks takes 2 or 3 bytes).",
                    language=language_label(locale),
                    size=format_number(size),
                    limit=format_number(limit),
                    over=format_number(size - limit),
                ),
            )
        )
    return errors


# Composing --------------------------------------------------------------------------------


async def create(
    session: AsyncSession,
    settings: Settings,
    user: User,
    data: AlertIn,
    *,
    now: datetime | None = None,
) -> Alert:
    now = now or utcnow()
    wards, errors = await _resolve_area(session, data.whole_province, data.ward_codes)
    errors += _check_expiry(data.expires_at, now)
    _raise(errors)
    alert = Alert(
        severity=data.severity.value,
        status=AlertStatus.draft.value,
        title_vi=data.title_vi,
        body_vi=data.body_vi,
        title_en=data.title_en,
        body_en=data.body_en,
        whole_province=data.whole_province,
        wards=wards,
        expires_at=data.expires_at,
        created_by_id=user.id,
        created_at=now,
        updated_at=now,
    )
    session.add(alert)
    await session.flush()  # the id is part of the push, so of its size
    _raise(size_errors(alert, settings.public_base_url))
    await audit.record(session, user.id, "alert.created", SUBJECT, alert.id, **_summary(alert))
    return alert


async def update(
    session: AsyncSession,
    settings: Settings,
    user: User,
    alert: Alert,
    data: AlertUpdate,
    *,
    now: datetime | None = None,
) -> Alert:
    """Change a draft. Load it with `get_alert(..., for_update=True)`."""
    now = now or utcnow()
    if alert.status != AlertStatus.draft.value:
        raise AlertNotDraft()
    changes = data.model_dump(exclude_unset=True)
    for name in ("severity", "title_vi", "body_vi", "whole_province", "expires_at"):
        if name in changes and changes[name] is None:
            changes.pop(name)  # null for a required field: leave it as it is
    whole = changes.get("whole_province", alert.whole_province)
    codes = changes.get("ward_codes")
    if codes is None:
        codes = [w.code for w in alert.wards]
    wards, errors = await _resolve_area(session, whole, codes)
    if "expires_at" in changes:
        errors += _check_expiry(changes["expires_at"], now)
    _raise(errors)
    changed = sorted(k for k in changes if k != "ward_codes")
    if {w.id for w in wards} != {w.id for w in alert.wards}:
        changed.append("ward_codes")
    if "severity" in changes:
        alert.severity = Severity(changes["severity"]).value
    for name in TEXT_FIELDS:
        if name in changes:
            setattr(alert, name, changes[name] or "")
    if "expires_at" in changes:
        alert.expires_at = changes["expires_at"]
    alert.whole_province = bool(whole)
    alert.wards = wards
    alert.updated_at = now
    await session.flush()
    _raise(size_errors(alert, settings.public_base_url))
    await audit.record(
        session, user.id, "alert.updated", SUBJECT, alert.id, fields=changed, **_summary(alert)
    )
    return alert


def _summary(alert: Alert) -> dict[str, Any]:
    return {
        "severity": alert.severity,
        "whole_province": alert.whole_province,
        "ward_codes": ward_codes(alert) or [],
        "expires_at": alert.expires_at.isoformat(),
    }


# Preview and sending ----------------------------------------------------------------------


def held_until(alert: Alert, now: datetime, tz: ZoneInfo) -> datetime | None:
    """When an announcement sent at `now` may go out, if quiet hours hold it; else None."""
    if alert.severity != Severity.announcement.value:
        return None
    return outbox.quiet_until(now, QUIET_START, QUIET_END, tz)


async def preview(
    session: AsyncSession, settings: Settings, alert: Alert, *, now: datetime | None = None
) -> Preview:
    """Both languages exactly as pushed, their size, topics and the devices that follow them,
    and what would stop sending it now."""
    now = now or utcnow()
    tz = ZoneInfo(settings.time_zone)
    pairs = topics_of(alert)
    languages = []
    for locale in SUPPORTED_LOCALES:
        message = texts.push_message(alert, locale, now=now)
        topics = [topic for topic, lang in pairs if lang == locale]
        languages.append(
            LanguagePreview(
                locale=locale,
                language=language_label(locale),
                title=message.title,
                body=message.body,
                bytes=texts.payload_size(alert, locale, settings.public_base_url),
                limit=texts.size_limit(),
                topics=topics,
                devices=await repo.devices_following(session, topics),
            )
        )
    problems = [e["reason"] for e in size_errors(alert, settings.public_base_url)]
    held = held_until(alert, now, tz)
    if alert.status == AlertStatus.draft.value:
        if alert.expires_at <= now:
            problems.insert(0, _(AlertExpired.title))
        elif held is not None and held >= alert.expires_at:
            problems.append(_held_past_expiry())
        if not alert.whole_province and not alert.wards:
            problems.append(_("Choose at least one ward or commune."))
    return Preview(
        alert=alert,
        languages=languages,
        devices=await repo.devices_following(session, [t for t, _lang in pairs]),
        priority=texts.priority_of(alert.severity),
        held_until=held,
        problems=problems,
    )


def _held_past_expiry() -> str:
    return _(
        "Announcements sent between 21:00 and 06:00 wait until 06:00, and this one expires "
        "before then. Set a later expiry, or choose another severity if it cannot wait."
    )


async def send(
    session: AsyncSession,
    settings: Settings,
    user: User,
    alert: Alert,
    *,
    now: datetime | None = None,
) -> list[tuple[str, str]]:
    """Send a draft: one outbox delivery per (topic, language) of its area, in this transaction.
    Load it with `get_alert(..., for_update=True)`, so two managers cannot both send it.
    Returns the (topic, language) pairs."""
    now = now or utcnow()
    if alert.status != AlertStatus.draft.value:
        raise AlertNotDraft()
    if alert.expires_at <= now:
        raise AlertExpired()
    errors = size_errors(alert, settings.public_base_url)
    if not alert.whole_province and not alert.wards:
        errors.append(_error("ward_codes", _("Choose at least one ward or commune.")))
    held = held_until(alert, now, ZoneInfo(settings.time_zone))
    if held is not None and held >= alert.expires_at:
        errors.append(_error("expires_at", _held_past_expiry()))
    _raise(errors)
    pairs = topics_of(alert)
    priority = texts.priority_of(alert.severity)
    alert.status = AlertStatus.sent.value
    alert.sent_by_id = user.id
    alert.sent_at = now
    alert.updated_at = now
    await session.flush()
    for topic, locale in pairs:
        await outbox.enqueue_topic(
            session,
            alert_id=alert.id,
            topic=topic,
            locale=locale,
            priority=priority,
            not_before=held,
        )
    await audit.record(
        session,
        user.id,
        "alert.sent",
        SUBJECT,
        alert.id,
        severity=alert.severity,
        topics=[topic for topic, _lang in pairs],
        ward_codes=ward_codes(alert) or [],
        whole_province=alert.whole_province,
        priority=priority,
        held_until=held.isoformat() if held else None,
        devices=await repo.devices_following(session, [t for t, _lang in pairs]),
    )
    return pairs


async def cancel(
    session: AsyncSession, user: User, alert: Alert, *, now: datetime | None = None
) -> Alert:
    """Withdraw a sent alert: it shows as cancelled, and the dispatcher drops what has not gone
    out yet. Load it with `get_alert(..., for_update=True)`."""
    now = now or utcnow()
    if alert.status != AlertStatus.sent.value:
        raise AlertNotSent()
    alert.status = AlertStatus.cancelled.value
    alert.cancelled_by_id = user.id
    alert.cancelled_at = now
    alert.updated_at = now
    await session.flush()
    await audit.record(
        session,
        user.id,
        "alert.cancelled",
        SUBJECT,
        alert.id,
        was_active=alert.expires_at > now,
    )
    return alert


async def audit_trail(session: AsyncSession, alert: Alert) -> list[AuditView]:
    entries = await audit.trail(session, SUBJECT, alert.id)
    names = await repo.user_names(session, [e.actor_id for e in entries])
    return [
        AuditView(
            action=e.action,
            at=e.at,
            actor_id=e.actor_id,
            actor_name=names.get(e.actor_id) if e.actor_id else None,
            data=dict(e.data or {}),
        )
        for e in entries
    ]
