"""The rules of dossiers (hồ sơ): registering one at the one-stop desk, looking it up with a
second factor, the workflow and its working-day clock, followers and their notifications,
rating. Services flush, never commit. The JSON API (app.dossiers.api) and the pages call these
functions; neither re-implements a rule.

Time: every function that reads the clock takes `now=` (default: utcnow()) so tests control it,
and `time_zone=` (pass settings.time_zone) where it counts working days.

Codes: "YB-<yymmdd>-<nnnn>", the local date of receipt and a sequence number of that day
("YB-261126-0042"). They are readable over the phone but guessable; a code alone never shows a
dossier: a lookup also needs the last four digits of the applicant's phone or the six-digit PIN
printed on the receipt (stored as an argon2 hash), and is throttled per address and, for failed
attempts, per code (a code under attack is locked for everyone for the window)."""

from __future__ import annotations

import logging
import secrets
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from app.audit import service as audit
from app.auth.models import Role, User
from app.auth.passwords import Hasher
from app.calendar.models import MAX_YEAR, MIN_YEAR
from app.calendar.service import (
    DEFAULT_TIME_ZONE,
    WorkingCalendar,
    load_calendar,
    years_between,
    years_for_deadline,
)
from app.config import Settings
from app.db import utcnow
from app.dossiers import repository as repo
from app.dossiers.models import (
    FINAL,
    RATEABLE,
    RUNNING,
    TRANSITIONS,
    Dossier,
    DossierEvent,
    DossierFollower,
    Status,
)
from app.dossiers.schemas import DossierIn, FactorIn, last4, normalise_code
from app.errors import AppError, Conflict, Forbidden, InvalidInput, NotFound, TooManyRequests
from app.inbox.models import Notification
from app.kit.i18n import gettext as _
from app.kit.langtext import pick
from app.kit.ratelimit import Limiter, per_minute, per_window
from app.kit.text import fold
from app.org import repository as org_repo
from app.procedures.models import Procedure
from app.push import outbox

logger = logging.getLogger("citizenhub.dossiers")

CODE_PREFIX = "YB"  # Yên Bái
SEQUENCE_WIDTH = 4  # up to 9,999 dossiers a day keep the codes one width
PIN_DIGITS = 6
# A clock a little ahead of the server's is not "the future".
FUTURE_TOLERANCE = timedelta(minutes=5)


class InvalidTransition(AppError):
    status = 409
    code = "invalid-transition"
    title = "This change of status is not allowed."


@dataclass(frozen=True)
class Registered:
    dossier: Dossier
    pin: str  # print it on the receipt; only its hash is stored


@dataclass(frozen=True)
class Lateness:
    """overdue: a running dossier past its due moment, or one decided (completed, rejected)
    after it. working_days: working days past the due day (0 on the evening of the due day)."""

    overdue: bool = False
    working_days: int = 0


# Access ------------------------------------------------------------------------------------


def can_work(dossier: Dossier, user: User | None) -> bool:
    """Staff work their own department's dossiers; managers and admins any."""
    if user is None or not user.has_role(Role.staff):
        return False
    if user.has_role(Role.manager):
        return True
    return user.department_id is not None and user.department_id == dossier.department_id


async def get(session: AsyncSession, code: str, *, for_update: bool = False) -> Dossier:
    """By code (any case, spaces ignored), or NotFound. No access check: use the ones below."""
    dossier = await repo.by_code(session, normalise_code(code), for_update=for_update)
    if dossier is None:
        raise NotFound(_("There is no dossier with this code."))
    return dossier


async def get_workable(
    session: AsyncSession, user: User, code: str, *, for_update: bool = False
) -> Dossier:
    """The dossier for a staff member who may work it: NotFound when unknown, Forbidden when it
    belongs to another department (staff) or the user is not staff."""
    dossier = await get(session, code, for_update=for_update)
    if not can_work(dossier, user):
        raise Forbidden(_("This dossier belongs to another department."))
    return dossier


async def is_following(session: AsyncSession, user: User | None, dossier: Dossier) -> bool:
    return user is not None and await repo.is_following(session, dossier.id, user.id)


async def get_followed_or_none(session: AsyncSession, user: User, code: str) -> Dossier | None:
    """The dossier if the user follows it (or it was registered to their account), else None."""
    dossier = await repo.by_code(session, normalise_code(code))
    if dossier is None or not (
        dossier.user_id == user.id or await repo.is_following(session, dossier.id, user.id)
    ):
        return None
    return dossier


async def get_followed(session: AsyncSession, user: User, code: str) -> Dossier:
    """A dossier the signed-in user follows (or that was registered to their account). The same
    NotFound for an unknown code and for someone else's dossier."""
    dossier = await get_followed_or_none(session, user, code)
    if dossier is None:
        raise NotFound(_("You do not follow a dossier with this code."))
    return dossier


def next_statuses(dossier: Dossier) -> list[Status]:
    """What staff may move it to now, in the workflow's order."""
    allowed = TRANSITIONS[Status(dossier.status)]
    return [s for s in Status if s in allowed]


# The clock ---------------------------------------------------------------------------------


def _years(*ranges: Iterable[int]) -> list[int]:
    return sorted({y for r in ranges for y in r if MIN_YEAR <= y <= MAX_YEAR})


async def calendar_for(
    session: AsyncSession,
    start: datetime,
    *,
    days: int = 0,
    until: datetime | None = None,
    time_zone: str = DEFAULT_TIME_ZONE,
) -> WorkingCalendar:
    """The working calendar (holidays plus the staff's days off and make-up days, as they are
    now) for counting `days` working days from `start`, or the days from `start` to `until`."""
    ranges = [years_for_deadline(start, days, time_zone)]
    if until is not None:
        ranges.append(years_between(start, until, time_zone))
    return await load_calendar(session, _years(*ranges), time_zone=time_zone)


def _late_end(dossier: Dossier, now: datetime) -> datetime | None:
    """The moment lateness is measured at: now while the clock runs, the decision once made."""
    status = Status(dossier.status)
    if status in RUNNING:
        return now
    if status in RATEABLE:
        return dossier.completed_at
    if status is Status.rejected:
        return dossier.closed_at
    return None  # paused, or withdrawn by the applicant


def lateness(dossier: Dossier, calendar: WorkingCalendar, now: datetime) -> Lateness:
    """Whether the dossier is (or was decided) late, and by how many working days. The calendar
    must cover the years from its due date to `now` (lateness_of loads the right one)."""
    end = _late_end(dossier, now)
    if dossier.due_at is None or end is None or end <= dossier.due_at:
        return Lateness()
    return Lateness(True, max(0, calendar.working_days_between(dossier.due_at, end)))


async def lateness_of(
    session: AsyncSession,
    dossiers: Sequence[Dossier],
    *,
    now: datetime | None = None,
    time_zone: str = DEFAULT_TIME_ZONE,
) -> dict[int, Lateness]:
    """Lateness of each dossier by id, with one calendar for them all."""
    now = now or utcnow()
    spans = []
    for dossier in dossiers:
        end = _late_end(dossier, now)
        if dossier.due_at is not None and end is not None and end > dossier.due_at:
            spans.append(years_between(dossier.due_at, end, time_zone))
    if not spans:
        return {d.id: Lateness() for d in dossiers}
    calendar = await load_calendar(session, _years(*spans), time_zone=time_zone)
    return {d.id: lateness(d, calendar, now) for d in dossiers}


# Notification records ----------------------------------------------------------------------


async def _payload(
    session: AsyncSession, dossier: Dossier, time_zone: str, **data: Any
) -> dict[str, Any]:
    procedure = await session.get(Procedure, dossier.procedure_id)
    names = procedure.name if procedure else {}
    due_on = ""
    if dossier.due_at is not None:
        due_on = dossier.due_at.astimezone(ZoneInfo(time_zone)).strftime("%d/%m/%Y")
    # Not "status": the inbox's texts give that key a report's status label.
    return {
        "code": dossier.code,
        "dossier_status": dossier.status,
        "procedure_vi": pick(names, "vi"),
        "procedure_en": pick(names, "en"),
        "due_on": due_on,
        "note": "",
        "missing": [],
        **data,
    }


async def _notify(
    session: AsyncSession,
    dossier: Dossier,
    actor: User | None,
    event: str,
    time_zone: str,
    *,
    recipients: Iterable[int] | None = None,
    now: datetime | None = None,
    **data: Any,
) -> None:
    """A record for every follower (or `recipients`), in this transaction; never the actor."""
    users = set(
        recipients if recipients is not None else await repo.follower_ids(session, dossier.id)
    )
    if actor is not None:
        users.discard(actor.id)
    if not users:
        return
    payload = await _payload(session, dossier, time_zone, **data)
    now = now or utcnow()
    await outbox.notify(
        session,
        [
            Notification(
                user_id=uid,
                event=f"dossier.{event}",
                subject_type="dossier",
                subject_id=dossier.id,
                data=payload,
                created_at=now,
            )
            for uid in sorted(users)
        ],
    )


# Registering -------------------------------------------------------------------------------


def new_pin() -> str:
    return f"{secrets.randbelow(10**PIN_DIGITS):0{PIN_DIGITS}d}"


def code_prefix(received_at: datetime, time_zone: str = DEFAULT_TIME_ZONE) -> str:
    day = received_at.astimezone(ZoneInfo(time_zone)).date()
    return f"{CODE_PREFIX}-{day:%y%m%d}-"


def _problem(field_name: str, reason: str, message: str) -> InvalidInput:
    return InvalidInput(message, errors=[{"field": field_name, "in": "body", "reason": reason}])


def _received_at(value: datetime | None, now: datetime, time_zone: str) -> datetime:
    if value is None:
        return now
    if value.tzinfo is None or value.utcoffset() is None:
        value = value.replace(tzinfo=ZoneInfo(time_zone))
    if value > now + FUTURE_TOLERANCE:
        raise _problem(
            "received_at", "in the future", _("The date of receipt must not be in the future.")
        )
    if not MIN_YEAR <= value.astimezone(ZoneInfo(time_zone)).year <= MAX_YEAR:
        raise _problem(
            "received_at",
            "out of range",
            _(
                "The calendar covers the years %(first)s to %(last)s.",
                first=MIN_YEAR,
                last=MAX_YEAR,
            ),
        )
    return value.astimezone(now.tzinfo)


async def register(
    session: AsyncSession,
    hasher: Hasher,
    actor: User | None,
    data: DossierIn,
    *,
    time_zone: str = DEFAULT_TIME_ZONE,
    now: datetime | None = None,
    code: str | None = None,
    pin: str | None = None,
    is_demo: bool = False,
) -> Registered:
    """Register a dossier received at the desk, by post or online (`actor`: the staff member
    who received it; None for the demo and importers). The due moment is the end (17:00 local)
    of the procedure's processing_days-th working day after the day of receipt. The department
    is the procedure's agency's, else the receiver's. An applicant_user_email names an existing
    account: it follows the dossier (and hears that it was received).

    Returns the dossier and its PIN, shown once. `code` and `pin` are for the demo's fixed ones;
    by default the next code of the day of receipt and a random PIN."""
    found = await repo.procedure_with_agency(session, data.procedure_code)
    if found is None or found[0].retired_at is not None:
        raise _problem(
            "procedure_code", "unknown procedure", _("There is no procedure with this code.")
        )
    procedure, agency = found
    if procedure.channels and data.channel.value not in procedure.channels:
        raise _problem(
            "channel",
            "not offered",
            _("This procedure cannot be lodged this way."),
        )
    now = now or utcnow()
    received_at = _received_at(data.received_at, now, time_zone)
    applicant = None
    if data.applicant_user_email:
        applicant = await repo.active_user_by_email(session, data.applicant_user_email)
        if applicant is None:
            raise _problem(
                "applicant_user_email",
                "unknown account",
                _("There is no account with this e-mail address."),
            )
    calendar = await calendar_for(
        session, received_at, days=procedure.processing_days, time_zone=time_zone
    )
    pin = pin or new_pin()
    dossier = Dossier(
        procedure_id=procedure.id,
        department_id=agency.department_id or (actor.department_id if actor else None),
        channel=data.channel.value,
        applicant_kind=data.applicant_kind.value,
        applicant_name=data.applicant_name,
        applicant_key=fold(data.applicant_name),
        tax_code=data.tax_code,
        phone=data.phone,
        phone_last4=last4(data.phone),
        pin_hash=await hasher.hash(pin),
        email=str(data.email) if data.email else None,
        address=data.address,
        user_id=applicant.id if applicant else None,
        received_by_id=actor.id if actor else None,
        status=Status.received.value,
        received_at=received_at,
        due_at=calendar.add_working_days(received_at, procedure.processing_days),
        missing=[],
        is_demo=is_demo,
        created_at=now,
        updated_at=now,
    )
    await _insert_with_code(session, dossier, code, code_prefix(received_at, time_zone))
    session.add(
        DossierEvent(
            dossier_id=dossier.id,
            at=received_at,
            actor_id=actor.id if actor else None,
            from_status=None,
            to_status=Status.received.value,
            missing=[],
            internal=False,
            due_at=dossier.due_at,
        )
    )
    if applicant is not None:
        session.add(DossierFollower(dossier_id=dossier.id, user_id=applicant.id, created_at=now))
    await session.flush()
    if applicant is not None:
        await _notify(
            session, dossier, actor, "received", time_zone, recipients=[applicant.id], now=now
        )
    logger.info(
        "dossier registered",
        extra={"code": dossier.code, "actor_id": actor.id if actor else None},
    )
    return Registered(dossier, pin)


async def _insert_with_code(
    session: AsyncSession, dossier: Dossier, fixed: str | None, prefix: str
) -> None:
    """Take the next free code of the day; a concurrent registration that took it first makes
    this one try the following number."""
    if fixed is not None:
        if await repo.by_code(session, fixed) is not None:
            raise Conflict(_("A dossier with this code already exists."))
        dossier.code = fixed
        session.add(dossier)
        await session.flush()
        return
    last = await repo.last_code_with(session, prefix)
    number = int(last[len(prefix) :]) + 1 if last and last[len(prefix) :].isdigit() else 1
    for _attempt in range(20):
        dossier.code = f"{prefix}{number:0{SEQUENCE_WIDTH}d}"
        try:
            async with session.begin_nested():
                session.add(dossier)
                await session.flush()
        except IntegrityError:
            number += 1
            continue
        return
    raise RuntimeError("could not find a free dossier code")


# Looking up --------------------------------------------------------------------------------


async def _factor_matches(
    hasher: Hasher, dossier: Dossier | None, phone_last4: str | None, pin: str | None
) -> bool:
    """Every factor given must match. An unknown code costs the same argon2 work."""
    ok = dossier is not None
    if pin is not None:
        ok = await hasher.verify(dossier.pin_hash if dossier else None, pin) and ok
    if phone_last4 is not None:
        known = dossier.phone_last4 if dossier is not None else None
        ok = ok and known is not None and secrets.compare_digest(known, phone_last4)
    return ok


def _too_many(retry_after: int) -> TooManyRequests:
    return TooManyRequests(
        retry_after,
        _(
            "Too many attempts to look up a dossier. Please wait %(seconds)s seconds.",
            seconds=retry_after,
        ),
    )


async def lookup(
    session: AsyncSession,
    settings: Settings,
    hasher: Hasher,
    limiter: Limiter,
    ip: str,
    factor: FactorIn,
) -> Dossier:
    """The dossier with factor.code, if the second factor matches: the last four digits of the
    applicant's phone, or the receipt's PIN (give one; every one given must match).

    The same NotFound for an unknown code and a wrong factor. Throttled (TooManyRequests with
    retry_after): every attempt counts per client address (settings.dossier_lookups_per_minute);
    failed ones count per code (settings.dossier_lookup_failures_per_code within
    settings.dossier_lookup_window_seconds), and past that the code is locked for everyone
    until the window passes, so guessing four digits from many addresses fails too."""
    code, phone_last4, pin = factor.code, factor.phone_last4, factor.pin
    if phone_last4 is None and pin is None:
        raise _problem(
            "phone_last4",
            "a second factor is required",
            _("Give the last four digits of the phone number or the PIN on the receipt."),
        )
    key = normalise_code(code)[:60]
    decision = await limiter.hit(
        per_minute(settings.dossier_lookups_per_minute), "dossier-lookup", "ip", ip
    )
    if not decision.allowed:
        raise _too_many(decision.retry_after)
    failures = per_window(
        settings.dossier_lookup_failures_per_code, settings.dossier_lookup_window_seconds
    )
    locked = await limiter.test(failures, "dossier-lookup", "code", key)
    if not locked.allowed:
        raise _too_many(locked.retry_after)
    dossier = await repo.by_code(session, key)
    if not await _factor_matches(hasher, dossier, phone_last4, pin):
        await limiter.hit(failures, "dossier-lookup", "code", key)
        logger.info("dossier lookup failed", extra={"ip": ip})
        raise NotFound(_("No dossier matches this code and these digits."))
    assert dossier is not None
    return dossier


# The workflow ------------------------------------------------------------------------------


async def change_status(
    session: AsyncSession,
    actor: User | None,
    dossier: Dossier,
    to: Status,
    *,
    note: str | None = None,
    missing: Sequence[str] = (),
    internal: bool = False,
    time_zone: str = DEFAULT_TIME_ZONE,
    now: datetime | None = None,
) -> DossierEvent:
    """Move the dossier on (actor: staff who may work it; None for the demo).

    - Only TRANSITIONS are allowed (InvalidTransition, 409).
    - needs_supplement lists what is missing (InvalidInput without) and pauses the clock: due_at
      becomes None and remaining_working_days keeps max(0, working days from now to the due
      day); supplement_received resumes it: due at that many working days from now.
    - rejected needs a reason the applicant can read (a note, not internal).
    - completed sets completed_at; result_returned returned_at; final statuses closed_at.

    Writes a DossierEvent with the resulting due_at; followers hear about it (the note only
    when it is not internal), the actor never."""
    if actor is not None and not can_work(dossier, actor):
        raise Forbidden(_("This dossier belongs to another department."))
    current = Status(dossier.status)
    if to not in TRANSITIONS[current]:
        from app.dossiers.views import status_label  # views build on this module

        raise InvalidTransition(
            _(
                "A dossier that is “%(current)s” cannot become “%(target)s”.",
                current=status_label(current.value),
                target=status_label(to.value),
            ),
            allowed=[s.value for s in next_statuses(dossier)],
        )
    items = [m.strip() for m in missing if m and m.strip()]
    if to is Status.needs_supplement and not items:
        raise _problem(
            "missing",
            "required",
            _("List what the applicant must bring to complete the dossier."),
        )
    if to is not Status.needs_supplement and items:
        raise _problem(
            "missing",
            "only for needs_supplement",
            _("Only a request for a supplement lists missing documents."),
        )
    if to is Status.rejected and (not note or internal):
        raise _problem(
            "note",
            "a public reason is required",
            _("Give the reason for the refusal, in a note the applicant can read."),
        )
    now = now or utcnow()
    if to is Status.needs_supplement:
        if dossier.due_at is not None:
            calendar = await calendar_for(session, now, until=dossier.due_at, time_zone=time_zone)
            dossier.remaining_working_days = max(
                0, calendar.working_days_between(now, dossier.due_at)
            )
        dossier.due_at = None
        dossier.paused_at = now
        dossier.missing = items
    elif current is Status.needs_supplement:
        dossier.missing = []  # the history keeps what was asked for
        if to is Status.supplement_received:
            remaining = dossier.remaining_working_days or 0
            calendar = await calendar_for(session, now, days=remaining, time_zone=time_zone)
            dossier.due_at = calendar.add_working_days(now, remaining)
            dossier.paused_at = None
            dossier.remaining_working_days = None
    if to is Status.completed:
        dossier.completed_at = now
    if to is Status.result_returned:
        dossier.returned_at = now
    if to in (Status.rejected, Status.result_returned, Status.withdrawn):
        dossier.closed_at = now
    dossier.status = to.value
    dossier.updated_at = now
    event = DossierEvent(
        dossier_id=dossier.id,
        at=now,
        actor_id=actor.id if actor else None,
        from_status=current.value,
        to_status=to.value,
        note=note or None,
        missing=items,
        internal=internal and bool(note),
        due_at=dossier.due_at,
    )
    session.add(event)
    await session.flush()
    kind = {Status.needs_supplement: "needs_supplement", Status.completed: "completed"}.get(
        to, "status_changed"
    )
    await _notify(
        session,
        dossier,
        actor,
        kind,
        time_zone,
        now=now,
        note=(note or "")[:300] if not internal else "",
        missing=items,
    )
    return event


async def add_note(
    session: AsyncSession,
    actor: User | None,
    dossier: Dossier,
    note: str,
    *,
    internal: bool = False,
    time_zone: str = DEFAULT_TIME_ZONE,
    now: datetime | None = None,
) -> DossierEvent:
    """A note without a change of status: for the applicant (followers hear about it) or for
    staff only (internal: nobody is notified, the applicant never sees it)."""
    if actor is not None and not can_work(dossier, actor):
        raise Forbidden(_("This dossier belongs to another department."))
    text = (note or "").strip()
    if not text:
        raise _problem("note", "required", _("Write a note."))
    now = now or utcnow()
    event = DossierEvent(
        dossier_id=dossier.id,
        at=now,
        actor_id=actor.id if actor else None,
        note=text,
        missing=[],
        internal=internal,
        due_at=dossier.due_at,
    )
    session.add(event)
    dossier.updated_at = now
    await session.flush()
    if not internal:
        await _notify(session, dossier, actor, "note", time_zone, now=now, note=text[:300])
    return event


# A lost receipt ----------------------------------------------------------------------------


async def reissue_pin(
    session: AsyncSession,
    hasher: Hasher,
    actor: User,
    dossier: Dossier,
    *,
    now: datetime | None = None,
) -> str:
    """A new PIN for an applicant who lost the receipt, at the desk: staff who may work the
    dossier (Forbidden otherwise), not once it is closed (Conflict). The old PIN stops working
    at once. An internal note records it (nobody is notified) and the audit trail too, never
    the PIN. Returns the new PIN, to print on a new receipt: it is shown this once."""
    if not can_work(dossier, actor):
        raise Forbidden(_("This dossier belongs to another department."))
    if not can_reissue_pin(dossier):
        raise Conflict(_("This dossier is closed: its PIN cannot be re-issued."))
    now = now or utcnow()
    pin = new_pin()
    dossier.pin_hash = await hasher.hash(pin)
    dossier.updated_at = now
    session.add(
        DossierEvent(
            dossier_id=dossier.id,
            at=now,
            actor_id=actor.id,
            note=_("PIN re-issued"),
            missing=[],
            internal=True,
            due_at=dossier.due_at,
        )
    )
    await session.flush()
    await audit.record(
        session, actor.id, "dossier.reissue_pin", "dossier", dossier.id, code=dossier.code
    )
    logger.info("dossier PIN re-issued", extra={"code": dossier.code, "actor_id": actor.id})
    return pin


# Followers and rating ----------------------------------------------------------------------


async def follow(session: AsyncSession, user: User, dossier: Dossier) -> bool:
    """Follow (the caller has proved the second factor). True when it is new."""
    if await repo.is_following(session, dossier.id, user.id):
        return False
    try:
        async with session.begin_nested():
            session.add(
                DossierFollower(dossier_id=dossier.id, user_id=user.id, created_at=utcnow())
            )
            await session.flush()
    except IntegrityError:  # a concurrent request made the same follow
        return False
    return True


async def unfollow(session: AsyncSession, user: User, dossier: Dossier) -> None:
    await repo.unfollow(session, dossier.id, user.id)


async def followed(
    session: AsyncSession, user: User, *, limit: int, offset: int = 0
) -> tuple[list[Dossier], int]:
    """The dossiers the user follows, the latest received first, and how many in all."""
    return await repo.followed_by(session, user.id, limit=limit, offset=offset)


def can_reissue_pin(dossier: Dossier) -> bool:
    """A closed dossier (rejected, result returned, withdrawn) keeps its PIN."""
    return Status(dossier.status) not in FINAL


def can_rate(dossier: Dossier) -> bool:
    return Status(dossier.status) in RATEABLE and dossier.rating is None


async def rate(
    session: AsyncSession,
    dossier: Dossier,
    score: int,
    comment: str | None = None,
    *,
    now: datetime | None = None,
) -> Dossier:
    """The applicant's rating of the service (1-5, a comment up to 1,000 characters), once the
    result is ready (completed or returned), and only once (Conflict otherwise). The caller has
    checked who rates: the second factor, or a follower."""
    if not 1 <= score <= 5:
        raise _problem("score", "out of range", _("Give a score from 1 to 5."))
    if comment is not None and len(comment) > 1000:
        raise _problem("comment", "too long", _("Keep the comment under 1,000 characters."))
    if Status(dossier.status) not in RATEABLE:
        raise Conflict(_("You can rate the service once the result of the dossier is ready."))
    if dossier.rating is not None:
        raise Conflict(_("This dossier has already been rated."))
    dossier.rating = score
    dossier.rating_comment = (comment or "").strip() or None
    dossier.rated_at = now or utcnow()
    await session.flush()
    return dossier


# The staff's list --------------------------------------------------------------------------


@dataclass(frozen=True)
class StaffFilters:
    statuses: tuple[Status, ...] = ()
    overdue: bool = False  # only running dossiers past due
    procedure: str | None = None  # procedure code
    q: str | None = None  # part of the code or the applicant's name, or a tax code's start
    department: str | None = None  # department code; managers only (staff see their own)


@dataclass
class StaffList:
    dossiers: list[Dossier]
    total: int
    counts: dict[str, int] = field(default_factory=dict)  # by status, other filters applied
    overdue_count: int = 0


async def list_for_staff(
    session: AsyncSession,
    user: User,
    filters: StaffFilters,
    *,
    limit: int,
    offset: int = 0,
    now: datetime | None = None,
) -> StaffList:
    """The dossiers staff may work, filtered: overdue first, then by due date (paused and
    stopped last), then the latest received. Staff see their department's; managers and admins
    every one, or one department's with filters.department."""
    if not user.has_role(Role.staff):
        raise Forbidden(_("This needs the %(role)s role.", role=Role.staff.value))
    now = now or utcnow()
    department_id: int | None
    if user.has_role(Role.manager):
        department_id = None
        if filters.department:
            found = await org_repo.department_by_code(session, filters.department)
            department_id = found.id if found else -1
    else:
        department_id = user.department_id if user.department_id is not None else -1
    procedure_id = None
    if filters.procedure:
        procedure = await repo.procedure_with_agency(session, filters.procedure)
        procedure_id = procedure[0].id if procedure else -1
    scope = repo.Scope(
        department_id=department_id, procedure_id=procedure_id, query=(filters.q or None)
    )
    dossiers, total = await repo.staff_list(
        session,
        scope,
        statuses=[s.value for s in filters.statuses] or None,
        overdue_only=filters.overdue,
        now=now,
        limit=limit,
        offset=offset,
    )
    counts, overdue_count = await repo.status_counts(session, scope, now=now)
    return StaffList(dossiers, total, counts, overdue_count)
