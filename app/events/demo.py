"""Demo events of Yên Bái: the province's big festivals on their usual dates, a weekly market and
a weekly Xòe night. Dates follow the year it is loaded in (a festival already over this year is
next year's), so the demo always has something coming up. Venues are the demo places when they
are loaded (they are loaded first); without them the venue is written out instead.
Loading twice adds nothing."""

from __future__ import annotations

from calendar import monthrange
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.db import utcnow
from app.events import repository as repo
from app.events import service
from app.events.models import Event
from app.events.schemas import EventIn

ZONE = ZoneInfo("Asia/Ho_Chi_Minh")
MO, TU, WE, TH, FR, SA, SU = range(7)


def nth_weekday(year: int, month: int, weekday: int, n: int) -> date:
    """The n-th (1-based; -1 the last) given weekday of a month."""
    if n > 0:
        first = date(year, month, 1)
        return first + timedelta(days=(weekday - first.weekday()) % 7 + 7 * (n - 1))
    last = date(year, month, monthrange(year, month)[1])
    return last - timedelta(days=(last.weekday() - weekday) % 7)


def first_weekday_on_or_after(day: date, weekday: int) -> date:
    return day + timedelta(days=(weekday - day.weekday()) % 7)


@dataclass(frozen=True)
class Festival:
    """A yearly event on a weekday of a month (n-th Saturday …), for `days` days, all day."""

    code: str
    category: str
    month: int
    weekday: int
    nth: int
    days: int
    title: dict[str, str]
    description: dict[str, str]
    place_code: str
    venue: dict[str, str]
    price_vnd: int | None = 0
    price_note: dict[str, str] = field(default_factory=dict)
    accessibility_notes: dict[str, str] = field(default_factory=dict)
    url: str | None = None

    def dates(self, today: date) -> tuple[date, date]:
        """This year's, or next year's when this year's is over."""
        for year in (today.year, today.year + 1):
            first = nth_weekday(year, self.month, self.weekday, self.nth)
            last = first + timedelta(days=self.days - 1)
            if last >= today:
                return first, last
        raise AssertionError("unreachable")


@dataclass(frozen=True)
class Weekly:
    """Every week on a weekday, from the first one of the year, at a local time."""

    code: str
    category: str
    weekday: int
    starts: time
    ends: time
    title: dict[str, str]
    description: dict[str, str]
    place_code: str
    venue: dict[str, str]
    price_vnd: int | None = 0
    price_note: dict[str, str] = field(default_factory=dict)
    accessibility_notes: dict[str, str] = field(default_factory=dict)


BYDAY = ("MO", "TU", "WE", "TH", "FR", "SA", "SU")

FESTIVALS: tuple[Festival, ...] = (
    Festival(
        code="demo-mu-cang-chai-terraces-festival",
        category="festival",
        month=9,
        weekday=FR,
        nth=3,
        days=3,
        title={
            "vi": "Lễ hội Danh thắng Quốc gia Ruộng bậc thang Mù Cang Chải",
            "en": "Mù Cang Chải Terraced Fields National Landscape Festival",
        },
        description={
            "vi": "Mùa lúa chín vàng trên những thửa ruộng bậc thang của người Mông: chợ phiên "
            "vùng cao, thi giã bánh dày, ném pao, thổi khèn Mông, trình diễn trang phục dân tộc "
            "và chụp ảnh ruộng bậc thang ở La Pán Tẩn, Chế Cu Nha, Dế Xu Phình.",
            "en": "The rice turns gold on the Hmong terraces: a highland market, rice-cake "
            "pounding, pao throwing, khèn pipes, costume shows and photo walks over the terraces "
            "of La Pán Tẩn, Chế Cu Nha and Dế Xu Phình.",
        },
        place_code="demo-mu-cang-chai-terraces",
        venue={"vi": "Thị trấn Mù Cang Chải", "en": "Mù Cang Chải town"},
        price_note={
            "vi": "Vào cửa tự do. Nhà nghỉ, homestay kín chỗ sớm: nên đặt trước.",
            "en": "Free entry. Guesthouses and homestays fill up early: book ahead.",
        },
        accessibility_notes={
            "vi": "Sân khấu chính ở sân vận động thị trấn, mặt bằng phẳng. Các điểm ngắm ruộng "
            "bậc thang là đường đất dốc, xe lăn không đi được.",
            "en": "The main stage is at the town stadium, on level ground. The viewpoints over "
            "the terraces are on steep dirt paths that wheelchairs cannot use.",
        },
    ),
    Festival(
        code="demo-khau-pha-paragliding",
        category="sport",
        month=9,
        weekday=SA,
        nth=3,
        days=2,
        title={
            "vi": "Bay trên mùa vàng: Lễ hội dù lượn đèo Khau Phạ",
            "en": "Flying over the golden season: Khau Phạ pass paragliding festival",
        },
        description={
            "vi": "Phi công dù lượn trong nước và quốc tế cất cánh từ đỉnh đèo Khau Phạ, một trong "
            "tứ đại đỉnh đèo miền Bắc, bay trên thung lũng lúa chín Lìm Mông. Có bay đôi cùng "
            "phi công có chứng chỉ.",
            "en": "Paragliders from Việt Nam and abroad take off from Khau Phạ, one of the four "
            "great passes of the North, and fly over the ripe rice of the Lìm Mông valley. "
            "Tandem flights with a licensed pilot are offered.",
        },
        place_code="demo-khau-pha-pass",
        venue={"vi": "Đèo Khau Phạ, Mù Cang Chải", "en": "Khau Phạ pass, Mù Cang Chải"},
        price_note={
            "vi": "Xem miễn phí. Bay đôi khoảng 1.800.000 ₫ một lượt, tùy thời tiết.",
            "en": "Free to watch. A tandem flight costs about 1,800,000 ₫, weather permitting.",
        },
        accessibility_notes={
            "vi": "Điểm cất cánh là sườn cỏ dốc ở độ cao khoảng 1.200 m, xe lăn không lên được. "
            "Có thể xem hạ cánh từ đường bản Lìm Mông.",
            "en": "The launch site is a steep grassy slope at about 1,200 m, out of reach for "
            "wheelchairs. Landings can be watched from the road in Lìm Mông village.",
        },
    ),
    Festival(
        code="demo-muong-lo-culture-week",
        category="festival",
        month=9,
        weekday=WE,
        nth=-1,
        days=5,
        title={
            "vi": "Tuần Văn hóa – Du lịch Mường Lò",
            "en": "Mường Lò Culture and Tourism Week",
        },
        description={
            "vi": "Cánh đồng Mường Lò vào mùa gặt: đại xòe Thái hàng nghìn người (Nghệ thuật Xòe "
            "Thái là di sản văn hóa phi vật thể của nhân loại), hội chợ ẩm thực với cốm, xôi "
            "ngũ sắc, cá nướng, thi dệt thổ cẩm và đêm nhạc dân tộc.",
            "en": "The Mường Lò fields at harvest time: a Xòe Thái circle dance of thousands "
            "(the Art of Xòe Thái is on UNESCO's list of intangible heritage), a food fair with "
            "young green rice, five-colour sticky rice and grilled fish, brocade weaving "
            "contests and nights of folk music.",
        },
        place_code="demo-nghia-lo-muong-lo-field",
        venue={"vi": "Cánh đồng Mường Lò, Nghĩa Lộ", "en": "Mường Lò fields, Nghĩa Lộ"},
        accessibility_notes={
            "vi": "Khu hội chợ trên sân bê tông phẳng, có nhà vệ sinh cho người khuyết tật. Lối "
            "ra cánh đồng là bờ ruộng hẹp.",
            "en": "The fair is on a level concrete square with an accessible toilet. The way "
            "into the fields is along narrow paddy banks.",
        },
    ),
    Festival(
        code="demo-suoi-giang-tea-festival",
        category="festival",
        month=11,
        weekday=SA,
        nth=2,
        days=2,
        title={
            "vi": "Ngày hội Trà Shan Tuyết Suối Giàng",
            "en": "Suối Giàng Shan Tuyết tea festival",
        },
        description={
            "vi": "Những cây chè Shan Tuyết cổ thụ hàng trăm năm tuổi của người Mông Suối Giàng "
            "vào mùa hoa: thi hái và sao chè, thưởng trà, chợ nông sản và đêm lửa trại.",
            "en": "The centuries-old Shan Tuyết tea trees of the Hmong of Suối Giàng in flower: "
            "picking and roasting contests, tea tasting, a farm produce market and a campfire "
            "night.",
        },
        place_code="demo-suoi-giang-tea-hills",
        venue={"vi": "Đồi chè Suối Giàng, Văn Chấn", "en": "Suối Giàng tea hills, Văn Chấn"},
        accessibility_notes={
            "vi": "Đường lên Suối Giàng quanh co, dốc. Khu trung tâm xã có sân phẳng; vườn chè cổ "
            "trên sườn đồi, lối đi đất.",
            "en": "The road up to Suối Giàng is steep and winding. The commune centre has a "
            "level square; the old tea gardens are on hillsides along dirt paths.",
        },
    ),
    Festival(
        code="demo-thac-ba-lake-festival",
        category="festival",
        month=3,
        weekday=SA,
        nth=3,
        days=2,
        title={"vi": "Lễ hội Hồ Thác Bà", "en": "Thác Bà lake festival"},
        description={
            "vi": "Đua thuyền, thi câu cá, lễ dâng hương ở các đền trên đảo và chợ đặc sản cá "
            "hồ Thác Bà, một trong những hồ nhân tạo lớn nhất Việt Nam với hơn 1.300 đảo.",
            "en": "Boat races, a fishing contest, incense offerings at the island temples and a "
            "market of lake fish on Thác Bà, one of Việt Nam's largest man-made lakes, with "
            "more than 1,300 islands.",
        },
        place_code="demo-thac-ba-lake",
        venue={"vi": "Hồ Thác Bà, Lục Yên", "en": "Thác Bà lake, Lục Yên"},
        price_note={
            "vi": "Vào cửa tự do; thuyền ra đảo có vé riêng.",
            "en": "Free entry; boats to the islands are ticketed.",
        },
        accessibility_notes={
            "vi": "Bến thuyền có bậc lên xuống, không có cầu dẫn cho xe lăn.",
            "en": "The boat landing has steps and no ramp for wheelchairs.",
        },
    ),
    Festival(
        code="demo-tu-le-new-rice-festival",
        category="festival",
        month=10,
        weekday=SA,
        nth=1,
        days=1,
        title={"vi": "Lễ hội Cốm Tú Lệ", "en": "Tú Lệ young green rice festival"},
        description={
            "vi": "Người Thái Tú Lệ làm cốm từ nếp non: thi giã cốm, ẩm thực xôi nếp Tú Lệ, suối "
            "khoáng nóng và các điệu xòe trong thung lũng.",
            "en": "The Thái of Tú Lệ make cốm from young sticky rice: cốm pounding contests, the "
            "valley's famous sticky rice, hot springs and Xòe dances.",
        },
        place_code="demo-tu-le-valley",
        venue={"vi": "Thung lũng Tú Lệ, Văn Chấn", "en": "Tú Lệ valley, Văn Chấn"},
    ),
)

WEEKLY: tuple[Weekly, ...] = (
    Weekly(
        code="demo-nghia-lo-sunday-market",
        category="market",
        weekday=SU,
        starts=time(6, 0),
        ends=time(11, 0),
        title={"vi": "Chợ phiên Nghĩa Lộ", "en": "Nghĩa Lộ Sunday market"},
        description={
            "vi": "Người Thái, Mông, Dao từ các bản quanh Mường Lò xuống chợ: thổ cẩm, rau rừng, "
            "cốm, lợn bản, dao rèn. Đông nhất từ 7 đến 9 giờ sáng.",
            "en": "Thái, Hmong and Dao people come down from the villages around Mường Lò: "
            "brocade, wild greens, young green rice, local pigs, forged knives. Busiest from "
            "7 to 9 in the morning.",
        },
        place_code="demo-nghia-lo-market",
        venue={"vi": "Chợ Mường Lò, Nghĩa Lộ", "en": "Mường Lò market, Nghĩa Lộ"},
        accessibility_notes={
            "vi": "Lối đi giữa các sạp hẹp và đông vào giữa buổi sáng; có lối vào bằng phẳng từ "
            "đường chính.",
            "en": "The aisles between stalls are narrow and crowded mid-morning; there is a "
            "step-free way in from the main road.",
        },
    ),
    Weekly(
        code="demo-nghia-lo-xoe-saturday",
        category="performance",
        weekday=SA,
        starts=time(20, 0),
        ends=time(21, 30),
        title={"vi": "Đêm Xòe Thái Mường Lò", "en": "Xòe Thái night in Mường Lò"},
        description={
            "vi": "Các đội văn nghệ bản Thái biểu diễn xòe quạt, xòe nón, xòe khăn; cuối buổi mọi "
            "người cùng nắm tay vào vòng xòe lớn.",
            "en": "Thái village troupes dance the fan, hat and scarf xòe; at the end everyone "
            "joins hands in the big circle dance.",
        },
        place_code="demo-nghia-lo-muong-lo-field",
        venue={"vi": "Quảng trường Mường Lò, Nghĩa Lộ", "en": "Mường Lò square, Nghĩa Lộ"},
        price_note={
            "vi": "Miễn phí. Hủy khi trời mưa to.",
            "en": "Free. Called off in heavy rain.",
        },
        accessibility_notes={
            "vi": "Khu ghế ngồi trên mặt bằng phẳng, có chiếu sáng. Không có vòng từ cho máy trợ "
            "thính.",
            "en": "Seating on level ground, lit. No hearing loop.",
        },
    ),
)


def _body(item: Festival | Weekly, today: date) -> dict[str, Any]:
    if isinstance(item, Festival):
        first, last = item.dates(today)
        timing: dict[str, Any] = {"starts_at": first, "ends_at": last, "all_day": True}
    else:
        day = first_weekday_on_or_after(date(today.year, 1, 1), item.weekday)
        timing = {
            "starts_at": datetime.combine(day, item.starts),
            "ends_at": datetime.combine(day, item.ends),
            "rrule": f"FREQ=WEEKLY;BYDAY={BYDAY[item.weekday]}",
        }
    return {
        "code": item.code,
        "category": item.category,
        "title": item.title,
        "description": item.description,
        "time_zone": ZONE.key,
        "price_vnd": item.price_vnd,
        "price_note": item.price_note,
        "accessibility_notes": item.accessibility_notes,
        "url": getattr(item, "url", None),
        "is_demo": True,
        **timing,
    }


async def load_demo(session: AsyncSession, now: datetime | None = None) -> int:
    """Adds the demo events that are not there yet; returns how many it added."""
    today = (now or utcnow()).astimezone(ZONE).date()
    existing = set(
        (await session.scalars(select(Event.code).where(Event.code.like("demo-%")))).all()
    )
    added = 0
    items: tuple[Festival | Weekly, ...] = (*FESTIVALS, *WEEKLY)
    for item in items:
        if item.code in existing:
            continue
        body = _body(item, today)
        place = await repo.place_by_code(session, item.place_code)
        if place is not None and place.retired_at is None:
            body["place_code"] = item.place_code
        else:
            body["venue"] = item.venue
        await service.create_event(session, None, EventIn.model_validate(body))
        added += 1
    return added
