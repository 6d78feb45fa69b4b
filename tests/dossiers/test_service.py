"""The dossier rules: codes, due dates in working days (Tết, weekends, the staff's days off and
make-up days), the supplement pause, transitions, lateness with a fixed clock, followers'
notifications, rating, the staff's list, and the demo."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import holidays
import pytest
from pydantic import ValidationError
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.models import Role, User
from app.calendar import service as calendar_service
from app.calendar.models import DayKind
from app.calendar.schemas import CalendarDayCreate
from app.dossiers import service, views
from app.dossiers.models import Dossier, DossierEvent, Status
from app.dossiers.schemas import DossierIn
from app.errors import Conflict, Forbidden, InvalidInput
from app.inbox.models import Notification
from app.kit.i18n import use_locale
from tests.builders import (
    create_department,
    create_dossier,
    create_procedure,
    create_user,
)

TZ = ZoneInfo("Asia/Ho_Chi_Minh")


def local(y: int, m: int, d: int, hh: int = 9, mm: int = 0) -> datetime:
    return datetime(y, m, d, hh, mm, tzinfo=TZ).astimezone(UTC)


def due(day: date) -> datetime:
    return datetime.combine(day, time(17, 0), tzinfo=TZ).astimezone(UTC)


async def procedure_of(session: AsyncSession, department: Any, days: int, code: str) -> Any:
    return await create_procedure(
        session,
        code,
        processing_days=days,
        agency={
            "code": f"agency-{department.code}",
            "name": {"vi": "Sở Thử nghiệm"},
            "department_code": department.code,
        },
    )


async def setup(session: AsyncSession, days: int = 5) -> tuple[Any, Any, User]:
    department = await create_department(session)
    procedure = await procedure_of(session, department, days, f"8.{department.id:06d}")
    staff = await create_user(session, role=Role.staff, department=department)
    return department, procedure, staff


async def register(
    session: AsyncSession, procedure: Any, received: datetime, **fields: Any
) -> service.Registered:
    return await create_dossier(
        session, procedure, received_at=received, now=received + timedelta(hours=1), **fields
    )


def library_working_days_after(start: date, n: int) -> date:
    """The n-th working day after `start` by the holidays library alone (an independent count)."""
    years = range(start.year, start.year + 2)
    off = holidays.country_holidays("VN", years=years)
    worked = set(off.weekend_workdays)
    day, counted = start, 0
    while counted < n:
        day += timedelta(days=1)
        if day in worked or (day.weekday() < 5 and day not in off):
            counted += 1
    return day


# Codes and registration ----------------------------------------------------------------------


async def test_codes_follow_the_day_of_receipt_and_count_up(session: AsyncSession) -> None:
    _department, procedure, _staff = await setup(session)
    first = await register(session, procedure, local(2026, 11, 26))
    second = await register(session, procedure, local(2026, 11, 26, 15))
    other_day = await register(session, procedure, local(2026, 11, 27))
    assert first.dossier.code == "YB-261126-0001"
    assert second.dossier.code == "YB-261126-0002"
    assert other_day.dossier.code == "YB-261127-0001"
    assert first.pin.isdigit() and len(first.pin) == 6
    assert first.dossier.pin_hash != first.pin and first.pin not in first.dossier.pin_hash
    assert first.dossier.phone == "+84912345678" and first.dossier.phone_last4 == "5678"


async def test_the_department_is_the_agencys_else_the_receivers(session: AsyncSession) -> None:
    department, procedure, _staff = await setup(session)
    receiver_department = await create_department(session)
    receiver = await create_user(session, role=Role.staff, department=receiver_department)
    with_agency = await create_dossier(session, procedure, actor=receiver)
    assert with_agency.dossier.department_id == department.id
    plain = await create_procedure(session, "7.000001")  # its agency has no department
    without = await create_dossier(session, plain, actor=receiver)
    assert without.dossier.department_id == receiver_department.id
    assert without.dossier.received_by_id == receiver.id


def test_tax_codes_are_10_digits_or_10_dash_3() -> None:
    def build(tax_code: str) -> DossierIn:
        return DossierIn(
            procedure_code="2.000720",
            applicant_kind="business",
            applicant_name="Công ty TNHH Mường Lò",
            tax_code=tax_code,
        )

    assert build("5200123456").tax_code == "5200123456"
    assert build("5200123456-001").tax_code == "5200123456-001"
    assert build("5200123456001").tax_code == "5200123456-001"
    for bad in ("520012345", "52001234567", "5200123456-01", "52001234AB"):
        with pytest.raises(ValidationError, match="tax code"):
            build(bad)


async def test_receipt_in_the_future_or_of_an_unknown_procedure_is_refused(
    session: AsyncSession,
) -> None:
    _department, procedure, _staff = await setup(session)
    now = local(2026, 11, 26, 10)
    with pytest.raises(InvalidInput) as future:
        await create_dossier(session, procedure, received_at=now + timedelta(hours=2), now=now)
    assert future.value.errors and future.value.errors[0]["field"] == "received_at"
    # Without a time zone it is local time: 10:00 in Hà Nội is 03:00 UTC.
    naive = await create_dossier(session, procedure, received_at="2026-11-26T09:00:00", now=now)
    assert naive.dossier.received_at == local(2026, 11, 26, 9)
    with pytest.raises(InvalidInput) as unknown:
        await service.register(
            session,
            None,  # type: ignore[arg-type]  # refused before hashing
            None,
            DossierIn(procedure_code="0.000000", applicant_name="Nguyễn Văn An"),
        )
    assert unknown.value.errors and unknown.value.errors[0]["field"] == "procedure_code"


# Due dates -----------------------------------------------------------------------------------


async def test_due_date_skips_tet_2027(session: AsyncSession) -> None:
    _department, procedure, _staff = await setup(session, days=5)
    done = await register(session, procedure, local(2027, 2, 3, 14))
    tet = [
        d
        for d, name in holidays.country_holidays("VN", years=2027).items()
        if "Lunar New Year" in name
    ]
    expected = library_working_days_after(date(2027, 2, 3), 5)
    assert done.dossier.due_at == due(expected) == due(date(2027, 2, 17))
    assert min(tet) > date(2027, 2, 3) and max(tet) < expected  # the whole of Tết lies between


async def test_friday_afternoon_receipt_runs_over_the_weekend(session: AsyncSession) -> None:
    _department, procedure, _staff = await setup(session, days=1)
    friday = await register(session, procedure, local(2026, 11, 27, 16, 30))
    assert friday.dossier.due_at == due(date(2026, 11, 30))  # Monday
    longer = await create_procedure(session, "7.000003", processing_days=3)
    three = await register(session, longer, local(2026, 11, 27, 16, 30))
    assert three.dossier.due_at == due(date(2026, 12, 2))  # Wednesday


async def calendar_day(
    session: AsyncSession, staff: User, day: date, kind: DayKind, name_vi: str, name_en: str
) -> None:
    """A staff day off or make-up working day, as the calendar API adds one."""
    await calendar_service.add_day(
        session, staff, CalendarDayCreate(day=day, kind=kind, name_vi=name_vi, name_en=name_en)
    )


async def test_a_staff_day_off_moves_the_due_date(session: AsyncSession) -> None:
    _department, procedure, staff = await setup(session, days=5)
    before = await register(session, procedure, local(2026, 12, 7))  # Monday
    assert before.dossier.due_at == due(date(2026, 12, 14))
    await calendar_day(session, staff, date(2026, 12, 9), DayKind.day_off, "Nghỉ", "Day off")
    after = await register(session, procedure, local(2026, 12, 7))
    assert after.dossier.due_at == due(date(2026, 12, 15))


async def test_a_make_up_saturday_counts(session: AsyncSession) -> None:
    _department, procedure, staff = await setup(session, days=5)
    await calendar_day(session, staff, date(2026, 12, 12), DayKind.working_day, "Làm bù", "Make-up")
    done = await register(session, procedure, local(2026, 12, 7))
    assert done.dossier.due_at == due(date(2026, 12, 12))  # Tue..Fri, then the Saturday


# The supplement pause ------------------------------------------------------------------------


async def test_supplement_pauses_and_resume_moves_due_by_the_paused_working_days(
    session: AsyncSession,
) -> None:
    _department, procedure, staff = await setup(session, days=10)
    dossier = (await register(session, procedure, local(2026, 12, 7))).dossier  # Monday
    assert dossier.due_at == due(date(2026, 12, 21))
    original_due = dossier.due_at
    paused_at = local(2026, 12, 9, 10)
    await service.change_status(
        session,
        staff,
        dossier,
        Status.needs_supplement,
        missing=["Bản sao sổ đỏ"],
        now=paused_at,
    )
    assert dossier.due_at is None and dossier.paused_at == paused_at
    assert dossier.remaining_working_days == 8  # Dec 10, 11, 14, 15, 16, 17, 18, 21
    assert dossier.missing == ["Bản sao sổ đỏ"]
    # Paused: not overdue, however long it waits.
    late = await service.lateness_of(session, [dossier], now=local(2026, 12, 25))
    assert late[dossier.id] == service.Lateness()
    resumed_at = local(2026, 12, 28, 9)
    event = await service.change_status(
        session, staff, dossier, Status.supplement_received, now=resumed_at
    )
    # Dec 29, 30, 31, then New Year's Day is skipped: Jan 4, 5, 6, 7, 8.
    assert dossier.due_at == due(date(2027, 1, 8)) == event.due_at
    assert dossier.paused_at is None and dossier.remaining_working_days is None
    assert dossier.missing == []
    calendar = await calendar_service.load_calendar(session, [2026, 2027])
    assert original_due is not None
    paused = calendar.working_days_between(paused_at, resumed_at)
    assert calendar.working_days_between(original_due, dossier.due_at) == paused == 13


async def test_a_pause_after_the_due_day_resumes_with_nothing_left(
    session: AsyncSession,
) -> None:
    _department, procedure, staff = await setup(session, days=1)
    dossier = (await register(session, procedure, local(2026, 12, 7))).dossier  # due Tue 8
    await service.change_status(
        session,
        staff,
        dossier,
        Status.needs_supplement,
        missing=["Tờ khai"],
        now=local(2026, 12, 9),
    )
    assert dossier.remaining_working_days == 0
    await service.change_status(
        session, staff, dossier, Status.supplement_received, now=local(2026, 12, 12, 10)
    )
    assert dossier.due_at == due(date(2026, 12, 14))  # a Saturday: the next working day's end


async def test_refusing_a_paused_dossier_stops_it_without_missing_items(
    session: AsyncSession,
) -> None:
    _department, procedure, staff = await setup(session, days=1)
    dossier = (await register(session, procedure, local(2026, 12, 7))).dossier
    await service.change_status(
        session,
        staff,
        dossier,
        Status.needs_supplement,
        missing=["Tờ khai"],
        now=local(2026, 12, 8),
    )
    await service.change_status(
        session, staff, dossier, Status.rejected, note="Quá hạn bổ sung", now=local(2027, 1, 8)
    )
    assert dossier.missing == [] and dossier.closed_at == local(2027, 1, 8)
    late = await service.lateness_of(session, [dossier], now=local(2027, 2, 1))
    assert late[dossier.id] == service.Lateness()
    view = await views.applicant_view(session, dossier, "en", now=local(2027, 2, 1))
    assert [e["missing"] for e in view["history"]] == [[], ["Tờ khai"], []]


async def test_vietnam_cultural_day_is_skipped(session: AsyncSession) -> None:
    _department, procedure, _staff = await setup(session, days=1)
    dossier = (await register(session, procedure, local(2026, 11, 23))).dossier  # Monday
    assert dossier.due_at == due(date(2026, 11, 25))  # Nov 24 is a public holiday from 2026


# Transitions ---------------------------------------------------------------------------------


async def test_transitions_outside_the_workflow_are_refused(session: AsyncSession) -> None:
    _department, procedure, staff = await setup(session)
    dossier = (await create_dossier(session, procedure)).dossier
    with pytest.raises(service.InvalidTransition) as caught:
        await service.change_status(session, staff, dossier, Status.completed)
    assert caught.value.status == 409
    assert "in_processing" in caught.value.extra["allowed"]
    await service.change_status(session, staff, dossier, Status.in_processing)
    with pytest.raises(service.InvalidTransition):
        await service.change_status(session, staff, dossier, Status.in_processing)
    await service.change_status(session, staff, dossier, Status.rejected, note="Không đủ điều kiện")
    assert dossier.closed_at is not None
    for target in Status:
        with pytest.raises(service.InvalidTransition):
            await service.change_status(session, staff, dossier, target)


async def test_supplement_needs_missing_items_and_refusal_a_public_reason(
    session: AsyncSession,
) -> None:
    _department, procedure, staff = await setup(session)
    dossier = (await create_dossier(session, procedure)).dossier
    with pytest.raises(InvalidInput) as no_items:
        await service.change_status(session, staff, dossier, Status.needs_supplement)
    assert no_items.value.status == 422
    assert no_items.value.errors and no_items.value.errors[0]["field"] == "missing"
    with pytest.raises(InvalidInput):
        await service.change_status(session, staff, dossier, Status.in_processing, missing=["x"])
    with pytest.raises(InvalidInput) as no_reason:
        await service.change_status(session, staff, dossier, Status.rejected)
    assert no_reason.value.errors and no_reason.value.errors[0]["field"] == "note"
    with pytest.raises(InvalidInput):
        await service.change_status(
            session, staff, dossier, Status.rejected, note="Nội bộ", internal=True
        )
    assert dossier.status == Status.received.value


async def test_only_staff_of_the_department_or_managers_change_it(session: AsyncSession) -> None:
    _department, procedure, staff = await setup(session)
    dossier = (await create_dossier(session, procedure)).dossier
    outsider = await create_user(session, role=Role.staff)
    citizen = await create_user(session)
    manager = await create_user(session, role=Role.manager)
    for who in (outsider, citizen):
        with pytest.raises(Forbidden):
            await service.change_status(session, who, dossier, Status.in_processing)
        with pytest.raises(Forbidden):
            await service.add_note(session, who, dossier, "Ghi chú")
    await service.change_status(session, manager, dossier, Status.in_processing)
    await service.add_note(session, staff, dossier, "Đã kiểm tra", internal=True)


async def test_completion_and_return_set_their_moments_and_every_event_its_due(
    session: AsyncSession,
) -> None:
    _department, procedure, staff = await setup(session, days=3)
    dossier = (await register(session, procedure, local(2026, 12, 7))).dossier
    await service.change_status(
        session, staff, dossier, Status.in_processing, now=local(2026, 12, 8)
    )
    await service.change_status(session, staff, dossier, Status.completed, now=local(2026, 12, 9))
    await service.change_status(
        session, staff, dossier, Status.result_returned, now=local(2026, 12, 10)
    )
    assert dossier.completed_at == local(2026, 12, 9)
    assert dossier.returned_at == dossier.closed_at == local(2026, 12, 10)
    events = (
        await session.scalars(
            select(DossierEvent)
            .where(DossierEvent.dossier_id == dossier.id)
            .order_by(DossierEvent.id)
        )
    ).all()
    assert [e.to_status for e in events] == [
        "received",
        "in_processing",
        "completed",
        "result_returned",
    ]
    assert all(e.due_at == dossier.due_at == due(date(2026, 12, 10)) for e in events)


# Lateness ------------------------------------------------------------------------------------


async def test_overdue_with_a_fixed_clock(session: AsyncSession) -> None:
    _department, procedure, staff = await setup(session, days=3)
    dossier = (await register(session, procedure, local(2026, 12, 7))).dossier  # due Thu 10
    assert dossier.due_at == due(date(2026, 12, 10))

    async def late_at(now: datetime) -> service.Lateness:
        return (await service.lateness_of(session, [dossier], now=now))[dossier.id]

    assert await late_at(local(2026, 12, 10, 16)) == service.Lateness(False, 0)
    assert await late_at(local(2026, 12, 10, 17, 30)) == service.Lateness(True, 0)
    assert await late_at(local(2026, 12, 11)) == service.Lateness(True, 1)
    assert await late_at(local(2026, 12, 14)) == service.Lateness(True, 2)  # weekend skipped
    await service.change_status(
        session, staff, dossier, Status.in_processing, now=local(2026, 12, 8)
    )
    await service.change_status(session, staff, dossier, Status.completed, now=local(2026, 12, 15))
    # Completed late stays flagged, by the days it was late then.
    assert await late_at(local(2027, 1, 15)) == service.Lateness(True, 3)
    view = await views.applicant_view(session, dossier, "en", now=local(2027, 1, 15))
    assert (view["overdue"], view["overdue_working_days"]) == (True, 3)


async def test_completed_on_time_is_never_overdue(session: AsyncSession) -> None:
    _department, procedure, staff = await setup(session, days=3)
    dossier = (await register(session, procedure, local(2026, 12, 7))).dossier
    await service.change_status(
        session, staff, dossier, Status.in_processing, now=local(2026, 12, 8)
    )
    await service.change_status(
        session, staff, dossier, Status.completed, now=local(2026, 12, 10, 16)
    )
    late = await service.lateness_of(session, [dossier], now=local(2027, 3, 1))
    assert late[dossier.id] == service.Lateness()


# Followers and their notifications -------------------------------------------------------------


async def notes_of(session: AsyncSession, user: User) -> list[tuple[str, dict[str, Any]]]:
    rows = await session.execute(
        select(Notification.event, Notification.data)
        .where(Notification.user_id == user.id, Notification.subject_type == "dossier")
        .order_by(Notification.id)
    )
    return [(event, data) for event, data in rows.all()]


async def test_followers_hear_every_public_change_and_never_internal_notes(
    session: AsyncSession,
) -> None:
    _department, procedure, staff = await setup(session)
    applicant = await create_user(session, email="lan@example.vn")
    follower = await create_user(session)
    done = await create_dossier(
        session, procedure, actor=staff, applicant_user_email="LAN@example.vn"
    )
    dossier = done.dossier
    assert dossier.user_id == applicant.id
    assert await service.follow(session, follower, dossier) is True
    assert await service.follow(session, follower, dossier) is False  # once
    await service.follow(session, staff, dossier)  # staff following their own work
    await service.change_status(
        session, staff, dossier, Status.in_processing, note="Đang thẩm định"
    )
    await service.add_note(session, staff, dossier, "Chờ ý kiến phòng Tài chính", internal=True)
    await service.add_note(session, staff, dossier, "Hẹn gặp chủ hộ ngày mai")
    await service.change_status(
        session,
        staff,
        dossier,
        Status.needs_supplement,
        missing=["Bản sao căn cước"],
        note="Lý do nội bộ",
        internal=True,
    )
    assert [e for e, _d in await notes_of(session, applicant)] == [
        "dossier.received",
        "dossier.status_changed",
        "dossier.note",
        "dossier.needs_supplement",
    ]
    followed = await notes_of(session, follower)
    assert [e for e, _d in followed] == [
        "dossier.status_changed",
        "dossier.note",
        "dossier.needs_supplement",
    ]
    assert followed[0][1]["note"] == "Đang thẩm định"
    assert followed[2][1]["missing"] == ["Bản sao căn cước"]
    assert followed[2][1]["note"] == ""  # the internal note is not sent
    assert all(d["code"] == dossier.code for _e, d in followed)
    assert await notes_of(session, staff) == []  # the actor never hears of their own change
    await service.unfollow(session, follower, dossier)
    await service.change_status(session, staff, dossier, Status.supplement_received)
    assert len(await notes_of(session, follower)) == 3


# Rating --------------------------------------------------------------------------------------


async def test_rating_only_after_completion_and_only_once(session: AsyncSession) -> None:
    _department, procedure, staff = await setup(session)
    dossier = (await create_dossier(session, procedure)).dossier
    with use_locale("en"), pytest.raises(Conflict, match="once the result"):
        await service.rate(session, dossier, 5)
    await service.change_status(session, staff, dossier, Status.in_processing)
    await service.change_status(session, staff, dossier, Status.completed)
    await service.rate(session, dossier, 4, " Nhanh, chu đáo ")
    assert (dossier.rating, dossier.rating_comment) == (4, "Nhanh, chu đáo")
    with use_locale("en"), pytest.raises(Conflict, match="already"):
        await service.rate(session, dossier, 5)
    with pytest.raises(InvalidInput):
        await service.rate(session, (await create_dossier(session, procedure)).dossier, 6)


# The staff's list ----------------------------------------------------------------------------


async def test_staff_list_puts_overdue_first_and_keeps_to_the_department(
    session: AsyncSession,
) -> None:
    department, procedure, staff = await setup(session, days=3)
    other_department, other_procedure, _other = await setup(session, days=3)
    manager = await create_user(session, role=Role.manager)
    now = local(2026, 12, 15, 10)
    late = (await register(session, procedure, local(2026, 12, 7), tax_code="5200123456")).dossier
    soon = (await register(session, procedure, local(2026, 12, 14))).dossier
    later = (await register(session, procedure, local(2026, 12, 11))).dossier
    paused = (await register(session, procedure, local(2026, 12, 4))).dossier
    await service.change_status(
        session,
        staff,
        paused,
        Status.needs_supplement,
        missing=["Tờ khai"],
        now=local(2026, 11, 23),
    )
    elsewhere = (await register(session, other_procedure, local(2026, 12, 7))).dossier

    found = await service.list_for_staff(session, staff, service.StaffFilters(), limit=10, now=now)
    assert [d.code for d in found.dossiers] == [late.code, later.code, soon.code, paused.code]
    assert found.total == 4 and found.overdue_count == 1
    assert found.counts == {"received": 3, "needs_supplement": 1}

    overdue = await service.list_for_staff(
        session, staff, service.StaffFilters(overdue=True), limit=10, now=now
    )
    assert [d.code for d in overdue.dossiers] == [late.code]
    by_tax = await service.list_for_staff(
        session, staff, service.StaffFilters(q="52001"), limit=10, now=now
    )
    assert [d.code for d in by_tax.dossiers] == [late.code]
    by_status = await service.list_for_staff(
        session,
        staff,
        service.StaffFilters(statuses=(Status.needs_supplement,)),
        limit=10,
        now=now,
    )
    assert [d.code for d in by_status.dossiers] == [paused.code]

    everything = await service.list_for_staff(
        session, manager, service.StaffFilters(), limit=10, now=now
    )
    assert {late.code, elsewhere.code} <= {d.code for d in everything.dossiers}
    one = await service.list_for_staff(
        session, manager, service.StaffFilters(department=other_department.code), limit=10, now=now
    )
    assert [d.code for d in one.dossiers] == [elsewhere.code]
    # Staff cannot widen their view with the department filter.
    asked = await service.list_for_staff(
        session, staff, service.StaffFilters(department=other_department.code), limit=10, now=now
    )
    assert elsewhere.code not in {d.code for d in asked.dossiers}
    assert department.id != other_department.id
    items = await views.items(session, found.dossiers, "en", now=now)
    assert items[0]["overdue"] is True and items[0]["overdue_working_days"] == 3
    assert items[-1]["paused"] is True and items[-1]["due_at"] is None


# The demo ------------------------------------------------------------------------------------


async def test_demo_dossiers_load_once_with_their_documented_factors(
    session: AsyncSession,
) -> None:
    from app.auth.passwords import Hasher
    from app.dossiers.demo import DEMO_DOSSIERS, load_demo
    from app.procedures.service import by_code

    department = await create_department(session)
    await create_user(
        session, role=Role.staff, department=department, email="staff@demo.citizenhub.vn"
    )
    await create_user(session, role=Role.manager, email="manager@demo.citizenhub.vn")
    await create_user(session, email="citizen@demo.citizenhub.vn")
    for n, item in enumerate(DEMO_DOSSIERS):
        if await by_code(session, item.procedure) is None:
            await create_procedure(session, item.procedure, processing_days=3 + n)
    hasher = Hasher(time_cost=1, memory_kib=8192, parallelism=1)
    assert await load_demo(session, hasher) == len(DEMO_DOSSIERS) == 8
    assert await load_demo(session, hasher) == 0
    by_code_ = {
        d.code: d
        for d in (await session.scalars(select(Dossier).where(Dossier.is_demo.is_(True)))).all()
    }
    late = await service.lateness_of(session, list(by_code_.values()))
    statuses = {code: d.status for code, d in by_code_.items()}
    assert statuses["YB-DEMO-0001"] == "in_processing" and late[by_code_["YB-DEMO-0001"].id].overdue
    assert statuses["YB-DEMO-0002"] == "needs_supplement" and by_code_["YB-DEMO-0002"].missing
    assert by_code_["YB-DEMO-0002"].due_at is None
    assert statuses["YB-DEMO-0003"] == "completed" and by_code_["YB-DEMO-0003"].rating == 5
    assert statuses["YB-DEMO-0004"] == "received"
    for item in DEMO_DOSSIERS:
        dossier = by_code_[item.code]
        assert dossier.phone_last4 == item.phone_last4
        assert await hasher.verify(dossier.pin_hash, item.pin)


def test_demo_dossiers_use_procedures_of_the_demo_catalogue() -> None:
    import json
    from pathlib import Path

    from app.dossiers.demo import DEMO_DOSSIERS

    data = Path(__file__).resolve().parents[2] / "app" / "demo" / "data" / "procedures.json"
    codes = {p["code"] for p in json.loads(data.read_text(encoding="utf-8"))["procedures"]}
    assert {item.procedure for item in DEMO_DOSSIERS} <= codes
