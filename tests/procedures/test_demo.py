"""The demo catalogue: loads once, as the importer would validate it, with the required codes
and life events whose steps all resolve to live procedures."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.config import Settings
from app.demo.loader import load_demo as load_everything
from app.procedures import service
from app.procedures.demo import load_demo, read_catalogue
from app.procedures.models import Agency, LifeEvent, Procedure, ProcedureField
from tests.builders import _hasher

REQUIRED_EVENTS = {
    "mo-ho-kinh-doanh",
    "mo-nha-hang",
    "xay-nha-o",
    "sinh-con",
    "thanh-lap-doanh-nghiep",
}


async def test_the_catalogue_loads_once_and_marks_everything_as_demo(session: AsyncSession) -> None:
    procedures, events = read_catalogue()
    assert 25 <= len(procedures) <= 40
    assert await load_demo(session) == len(procedures) + len(events)
    assert await load_demo(session) == 0
    stored = await session.scalar(
        select(func.count()).select_from(Procedure).where(Procedure.is_demo)
    )
    assert stored == len(procedures)
    assert await session.scalar(
        select(func.count()).select_from(LifeEvent).where(LifeEvent.is_demo)
    ) == len(events)
    fields = await session.scalar(select(func.count()).select_from(ProcedureField))
    agencies = await session.scalar(select(func.count()).select_from(Agency))
    assert fields is not None and fields >= 8 and agencies is not None and agencies >= 6
    levels = set(await session.scalars(select(Procedure.level).distinct()))
    online = set(await session.scalars(select(Procedure.online).distinct()))
    assert levels == {"province", "commune"} and online == {"none", "partial", "full"}


async def test_household_business_registration_is_as_the_portal_publishes_it(
    session: AsyncSession,
) -> None:
    await load_demo(session)
    procedure = await service.get(session, "2.000720")
    assert procedure.name["vi"] == "Đăng ký thành lập hộ kinh doanh" and procedure.name["en"]
    assert (procedure.level, procedure.online, procedure.processing_days) == ("commune", "full", 3)
    assert procedure.fee_total_vnd == 100_000
    assert any(b["number"] == "168/2025/NĐ-CP" for b in procedure.legal_basis)
    names = {p.name["vi"] for p in await session.scalars(select(Procedure))}
    for expected in (
        "Đăng ký khai sinh",
        "Đăng ký kết hôn",
        "Đăng ký thường trú",
        "Cấp giấy phép xây dựng nhà ở riêng lẻ",
        "Cấp Giấy phép bán lẻ rượu",
        "Cấp Giấy phép bán lẻ sản phẩm thuốc lá",
        "Đăng ký thành lập doanh nghiệp tư nhân",
    ):
        assert expected in names
    assert any(
        n.startswith("Cấp Giấy chứng nhận cơ sở đủ điều kiện an toàn thực phẩm") for n in names
    )
    assert any(n.startswith("Cấp Phiếu lý lịch tư pháp") for n in names)


async def test_every_life_event_lists_its_steps_in_order_with_optional_ones_explained(
    session: AsyncSession,
) -> None:
    await load_demo(session)
    events = await service.life_events(session)
    assert {e.slug for e in events} >= REQUIRED_EVENTS
    _, declared = read_catalogue()
    by_slug = {e.slug: e for e in declared}
    for event in events:
        steps = await service.life_event_steps(session, event)
        assert 2 <= len(steps) <= 5
        assert [p.code for _, p in steps] == [s.procedure for s in by_slug[event.slug].steps]
        for step, _ in steps:
            if step.optional:
                assert step.note.get("vi") and step.note.get("en")
        totals = service.totals(steps)
        assert totals.working_days > 0
    opening = await service.life_event(session, "mo-ho-kinh-doanh")
    first, _ = (await service.life_event_steps(session, opening))[0]
    assert not first.optional


async def test_with_the_whole_demo_agencies_point_at_the_one_stop_centre_and_departments(
    session: AsyncSession, settings: Settings
) -> None:
    report = await load_everything(session, _hasher, settings)
    assert report.created["procedures and life events"] > 30
    construction = await service.agency_by_code(session, "so-xay-dung")
    assert construction is not None
    assert construction.place_id is not None and construction.department_id is not None
    again = await load_everything(session, _hasher, settings)
    assert "procedures and life events" not in again.created
