"""Guide text, opening hours with the province's holidays, and the demo."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.calendar.models import CalendarDay
from app.db import utcnow
from app.practical import demo, service
from app.practical.models import GuidePage, HelpContact
from app.practical.schemas import BulletList, ContactIn, Paragraph
from tests.practical.conftest import create_place

TZ = ZoneInfo("Asia/Ho_Chi_Minh")
ZONE = "Asia/Ho_Chi_Minh"


def test_blank_lines_make_paragraphs_and_hyphens_make_lists() -> None:
    text = (
        "First line\nof the first paragraph.\r\n\r\n"
        "Before the list:\n"
        "- one\n"
        "- two, which goes on\n"
        "  on the next line\n"
        "After the list, no blank line.\n\n\n"
        "  - indented item\n"
        "-not an item\n"
    )
    assert service.parse_body(text) == [
        Paragraph(text="First line of the first paragraph."),
        Paragraph(text="Before the list:"),
        BulletList(items=["one", "two, which goes on on the next line"]),
        Paragraph(text="After the list, no blank line."),
        BulletList(items=["indented item"]),
        Paragraph(text="-not an item"),
    ]
    assert service.parse_body("") == [] and service.parse_body("\n\n  \n") == []


async def _point(session: AsyncSession, hours: str) -> None:
    data = ContactIn(kind="tourist_info", name={"vi": "Điểm thông tin"}, hours=hours)
    await service.create_contact(session, None, data)


async def test_open_now_knows_public_holidays_and_the_provinces_days_off(
    session: AsyncSession,
) -> None:
    await _point(session, "Mo-Su 08:00-17:00; PH off")
    session.add(
        CalendarDay(day=date(2027, 3, 8), kind="day_off", name_vi="Nghỉ", name_en="Day off")
    )
    await session.flush()

    async def state(moment: datetime) -> tuple[bool | None, datetime | None]:
        found = await service.overview(session, "vi", moment, ZONE)
        point = found.tourist_info[0]
        return point.open_now, point.next_change

    open_now, change = await state(datetime(2027, 3, 5, 10, 0, tzinfo=TZ))  # a Friday
    assert open_now is True and change == datetime(2027, 3, 5, 17, 0, tzinfo=TZ)
    assert (await state(datetime(2027, 1, 1, 10, 0, tzinfo=TZ)))[0] is False  # New Year's Day
    open_now, change = await state(datetime(2027, 3, 8, 10, 0, tzinfo=TZ))  # the staff's day off
    assert open_now is False and change == datetime(2027, 3, 9, 8, 0, tzinfo=TZ)
    # Sunday evening: the Monday is the province's day off, so it reopens on Tuesday.
    assert (await state(datetime(2027, 3, 7, 18, 0, tzinfo=TZ))) == (
        False,
        datetime(2027, 3, 9, 8, 0, tzinfo=TZ),
    )


async def test_an_information_point_uses_its_places_hours_and_forgets_a_retired_place(
    session: AsyncSession,
) -> None:
    place = await create_place(
        session, "ti-place", {"vi": "Nhà văn hóa"}, opening_hours="Mo-Su 07:00-11:00"
    )
    await service.create_contact(
        session,
        None,
        ContactIn(kind="tourist_info", name={"vi": "Điểm thông tin"}, place_code="ti-place"),
    )
    morning = datetime(2027, 3, 5, 9, 0, tzinfo=TZ)
    point = (await service.overview(session, "en", morning, ZONE)).tourist_info[0]
    assert point.hours == "Mo-Su 07:00-11:00" and point.open_now is True
    assert point.place is not None and point.place.name == "Nhà văn hóa"
    place.retired_at = utcnow()
    await session.flush()
    point = (await service.overview(session, "en", morning, ZONE)).tourist_info[0]
    assert point.place is None and point.hours is None and point.open_now is None


async def test_the_demo_loads_once_and_links_the_places_when_they_come(
    session: AsyncSession,
) -> None:
    added = await demo.load_demo(session)
    assert added == len(demo.CONTACTS) + len(demo.GUIDES)
    assert 4 <= len(demo.GUIDES) <= 5
    assert await demo.load_demo(session) == 0
    guides = (await session.execute(select(GuidePage))).scalars().all()
    assert all(g.is_demo and set(g.body) == {"vi", "en"} for g in guides)
    assert all(set(g.title) == {"vi", "en"} and set(g.summary) == {"vi", "en"} for g in guides)
    for guide in guides:
        blocks = service.parse_body(guide.body["vi"])
        assert any(isinstance(b, BulletList) for b in blocks), guide.slug
        assert len(blocks) == len(service.parse_body(guide.body["en"])), guide.slug
    points = (
        await session.execute(select(HelpContact).where(HelpContact.kind == "tourist_info"))
    ).scalars()
    assert [p.place_id for p in points] == [None, None]

    await create_place(session, "demo-tourist-info-yen-bai", {"vi": "Trung tâm"})
    await create_place(session, "demo-tourist-info-mu-cang-chai", {"vi": "Mù Cang Chải"})
    assert await demo.load_demo(session) == 0
    found = await service.overview(session, "en", utcnow(), ZONE)
    assert [p.place.code for p in found.tourist_info if p.place] == [
        "demo-tourist-info-yen-bai",
        "demo-tourist-info-mu-cang-chai",
    ]
    assert [c.phone for c in found.emergency] == ["113", "114", "115"]
    assert not any(c.built_in for c in found.emergency)
    assert len(found.hotlines) == 2
    total = await session.scalar(select(func.count()).select_from(HelpContact))
    assert total == len(demo.CONTACTS)


def test_hours_read_in_the_readers_language() -> None:
    from app.kit.i18n import use_locale
    from app.practical.pages import hours_text, readable_hours
    from app.practical.schemas import ContactPublic

    with use_locale("en"):
        assert readable_hours("Mo-Fr 07:30-11:30,13:30-17:00; PH off") == (
            "Mon-Fri 07:30-11:30, 13:30-17:00; public holidays closed"
        )
        assert readable_hours("24/7") == "Every day, 24 hours" and readable_hours(None) is None

        def point(open_now: bool | None, change: datetime | None) -> ContactPublic:
            return ContactPublic(
                code="p",
                kind="tourist_info",
                kind_label="",
                phone=None,
                tel=None,
                name="",
                description="",
                lang="en",
                hours="x",
                open_now=open_now,
                next_change=change,
                place=None,
            )

        friday = datetime(2027, 3, 5, 10, 0, tzinfo=TZ)
        today = datetime(2027, 3, 5, 17, 0, tzinfo=TZ)
        monday = datetime(2027, 3, 8, 7, 30, tzinfo=TZ)
        assert hours_text(point(True, today), friday, ZONE, "en") == "Open now, until 17:00"
        assert (
            hours_text(point(False, monday), friday, ZONE, "en")
            == "Closed now, opens Monday, 07:30"
        )
        assert hours_text(point(True, None), friday, ZONE, "en") == "Open now, day and night"
        assert hours_text(point(None, None), friday, ZONE, "en") is None
