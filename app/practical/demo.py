"""Demo practical help: 113, 114, 115, two provincial hotlines, two tourist information points
(linked to the demo places when those exist) and five short guides in Vietnamese and English.
The hotline and information-point numbers are made up for the demo. Loading twice adds nothing;
a later run links an information point to its place once the place exists."""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from app.practical import repository as repo
from app.practical import service
from app.practical.schemas import ContactIn, GuideIn

CONTACTS: list[dict[str, Any]] = [
    {
        "code": "police-113",
        "kind": "police",
        "phone": "113",
        "name": {"vi": "Công an", "en": "Police"},
        "description": {
            "vi": "Tội phạm, bạo lực, mất an ninh trật tự. Miễn phí, gọi được cả ngày lẫn đêm.",
            "en": "Crime, violence, a threat to your safety. Free, day and night.",
        },
        "hours": "24/7",
        "sort_order": 10,
    },
    {
        "code": "fire-114",
        "kind": "fire",
        "phone": "114",
        "name": {"vi": "Cứu hỏa, cứu nạn cứu hộ", "en": "Fire and rescue"},
        "description": {
            "vi": "Cháy nổ; người mắc kẹt, lũ, sạt lở đất, tai nạn. Miễn phí, cả ngày lẫn đêm.",
            "en": "Fire; people trapped, floods, landslides, accidents. Free, day and night.",
        },
        "hours": "24/7",
        "sort_order": 10,
    },
    {
        "code": "ambulance-115",
        "kind": "ambulance",
        "phone": "115",
        "name": {"vi": "Cấp cứu", "en": "Ambulance"},
        "description": {
            "vi": "Ốm nặng, tai nạn, chấn thương cần cấp cứu. Miễn phí, cả ngày lẫn đêm.",
            "en": "Serious illness or injury. Free, day and night.",
        },
        "hours": "24/7",
        "sort_order": 10,
    },
    {
        "code": "hotline-tourism",
        "kind": "hotline",
        "phone": "0216 3862 222",
        "name": {"vi": "Đường dây nóng du lịch Yên Bái", "en": "Yên Bái tourism hotline"},
        "description": {
            "vi": "Hỗ trợ du khách: thông tin, phản ánh về dịch vụ, giá cả, lừa đảo.",
            "en": "Help for visitors: information, and complaints about services, prices or scams.",
        },
        "hours": "Mo-Su 07:00-22:00",
        "sort_order": 20,
    },
    {
        "code": "hotline-public-administration",
        "kind": "hotline",
        "phone": "0216 3818 555",
        "name": {
            "vi": "Đường dây nóng cải cách hành chính",
            "en": "Public administration hotline",
        },
        "description": {
            "vi": "Phản ánh về thủ tục hành chính, thái độ của cán bộ, hồ sơ bị chậm.",
            "en": "Problems with administrative procedures, officials' conduct, or late "
            "applications.",
        },
        "hours": "Mo-Fr 07:30-11:30,13:30-17:00; PH off",
        "sort_order": 30,
    },
    {
        "code": "tourist-info-yen-bai",
        "kind": "tourist_info",
        "phone": "0216 3851 199",
        "name": {
            "vi": "Trung tâm Thông tin Du lịch Yên Bái",
            "en": "Yên Bái Tourist Information Centre",
        },
        "description": {
            "vi": "Bản đồ, lịch lễ hội, xe khách, homestay và hướng dẫn viên.",
            "en": "Maps, festival dates, buses, homestays and guides.",
        },
        "place_code": "demo-tourist-info-yen-bai",
        "hours": "Mo-Su 07:30-17:00",
        "sort_order": 10,
    },
    {
        "code": "tourist-info-mu-cang-chai",
        "kind": "tourist_info",
        "phone": "0216 3878 222",
        "name": {
            "vi": "Điểm thông tin du lịch Mù Cang Chải",
            "en": "Mù Cang Chải tourist information point",
        },
        "description": {
            "vi": "Ruộng bậc thang, đường đi, thời tiết và tình trạng đèo Khau Phạ.",
            "en": "Rice terraces, roads, the weather and the state of the Khau Phạ pass.",
        },
        "place_code": "demo-tourist-info-mu-cang-chai",
        "hours": "Mo-Su 07:30-11:30,13:30-17:00",
        "sort_order": 20,
    },
]

GUIDES: list[dict[str, Any]] = [
    {
        "slug": "getting-to-mu-cang-chai",
        "sort_order": 10,
        "title": {"vi": "Đường đến Mù Cang Chải", "en": "Getting to Mù Cang Chải"},
        "summary": {
            "vi": "Đường bộ, đèo Khau Phạ và xe khách đến vùng ruộng bậc thang.",
            "en": "Roads, the Khau Phạ pass and buses to the rice terraces.",
        },
        "body": {
            "vi": (
                "Mù Cang Chải nằm ở phía tây tỉnh, trên Quốc lộ 32. Từ thành phố Yên Bái đi qua "
                "Nghĩa Lộ và Tú Lệ mất khoảng 5 giờ; từ Hà Nội mất khoảng 7 đến 8 giờ.\n\n"
                "Đèo Khau Phạ là một trong những con đèo dài và dốc nhất miền Bắc:\n"
                "- Đi vào ban ngày; sương mù dày vào sáng sớm và chiều tối.\n"
                "- Xuống dốc bằng số thấp, không rà phanh liên tục.\n"
                "- Mùa mưa có thể có sạt lở: xem cảnh báo trước khi đi.\n\n"
                "Xe khách giường nằm chạy hằng ngày từ bến xe Mỹ Đình (Hà Nội) và từ thành phố "
                "Yên Bái. Nên đặt vé trước vào mùa lúa chín (giữa tháng 9 đến đầu tháng 10) và "
                "các dịp lễ."
            ),
            "en": (
                "Mù Cang Chải is in the west of the province, on National Road 32. From Yên Bái "
                "city through Nghĩa Lộ and Tú Lệ it takes about 5 hours; from Hà Nội about 7 to "
                "8 hours.\n\n"
                "The Khau Phạ pass is one of the longest and steepest in the north:\n"
                "- Drive it in daylight; fog is thick early in the morning and at dusk.\n"
                "- Go down in a low gear instead of braking all the way.\n"
                "- In the rainy season there can be landslides: check the alerts before you "
                "go.\n\n"
                "Sleeper buses run every day from Mỹ Đình bus station (Hà Nội) and from Yên Bái "
                "city. Book ahead in the harvest season (mid-September to early October) and on "
                "holidays."
            ),
        },
    },
    {
        "slug": "staying-safe-in-the-mountains",
        "sort_order": 20,
        "title": {"vi": "An toàn khi đi vùng núi", "en": "Staying safe in the mountains"},
        "summary": {
            "vi": "Thời tiết, sạt lở đất mùa mưa và sóng điện thoại yếu.",
            "en": "Weather, landslides in the rainy season, and weak phone signal.",
        },
        "body": {
            "vi": (
                "Thời tiết vùng cao thay đổi nhanh. Mùa mưa (khoảng tháng 5 đến tháng 9) hay có "
                "lũ quét và sạt lở đất, nhất là sau mưa lớn nhiều ngày.\n\n"
                "- Không đi qua ngầm, tràn hay suối khi nước đang lên.\n"
                "- Tránh dừng nghỉ dưới taluy, sườn đồi dốc hoặc ven suối khi trời mưa.\n"
                "- Xem cảnh báo của tỉnh trên trang Cảnh báo trước khi lên đường.\n\n"
                "Sóng điện thoại yếu hoặc mất ở nhiều đoạn đèo và bản xa. Lưu sẵn số 113, 114, "
                "115, báo cho người thân lộ trình của bạn, mang theo pin dự phòng và bản đồ "
                "ngoại tuyến.\n\n"
                "Mùa đông (tháng 12 đến tháng 2) trên núi cao có thể rét đậm, có khi có băng "
                "giá: mang áo ấm và đi chậm trên đường trơn."
            ),
            "en": (
                "Mountain weather changes fast. The rainy season (about May to September) brings "
                "flash floods and landslides, above all after several days of heavy rain.\n\n"
                "- Do not cross fords, spillways or streams while the water is rising.\n"
                "- Do not stop below cut slopes, steep hillsides or by streams when it rains.\n"
                "- Check the province's warnings on the Alerts page before you set off.\n\n"
                "Phone signal is weak or absent on many passes and in remote villages. Save "
                "113, 114 and 115, tell someone your route, and carry a power bank and offline "
                "maps.\n\n"
                "In winter (December to February) high ground can be bitterly cold, sometimes "
                "with frost: bring warm clothes and drive slowly on slippery roads."
            ),
        },
    },
    {
        "slug": "tet-and-public-holidays",
        "sort_order": 30,
        "title": {
            "vi": "Tết và ngày lễ: nơi nào mở cửa",
            "en": "Tết and public holidays: what is open",
        },
        "summary": {
            "vi": "Cơ quan, chợ, cửa hàng và xe khách trong dịp Tết và các ngày lễ.",
            "en": "Offices, markets, shops and buses at Tết and on public holidays.",
        },
        "body": {
            "vi": (
                "Tết Nguyên đán là kỳ nghỉ dài nhất trong năm. Cơ quan nhà nước nghỉ khoảng một "
                "tuần theo lịch Chính phủ công bố; nhiều chợ, cửa hàng và quán ăn đóng cửa ba "
                "ngày đầu năm mới.\n\n"
                "Các ngày nghỉ lễ khác:\n"
                "- Tết Dương lịch (1/1)\n"
                "- Giỗ Tổ Hùng Vương (10/3 âm lịch)\n"
                "- Ngày Giải phóng miền Nam (30/4) và Quốc tế Lao động (1/5)\n"
                "- Quốc khánh (2/9)\n\n"
                "Cấp cứu 115, công an 113 và cứu hỏa 114 làm việc mọi ngày. Bệnh viện luôn có "
                "khoa cấp cứu trực. Giờ mở cửa của các điểm thông tin du lịch trên trang Trợ "
                "giúp đã tính cả ngày lễ.\n\n"
                "Xe khách rất đông trước và sau Tết: đặt vé sớm và chuẩn bị tiền mặt."
            ),
            "en": (
                "Tết, the Lunar New Year, is the longest holiday of the year. Government offices "
                "close for about a week, on dates the Government announces; many markets, shops "
                "and restaurants close for the first three days of the new year.\n\n"
                "The other public holidays:\n"
                "- New Year's Day (1 January)\n"
                "- Hùng Kings' Commemoration (10th day of the 3rd lunar month)\n"
                "- Reunification Day (30 April) and Labour Day (1 May)\n"
                "- National Day (2 September)\n\n"
                "Ambulance 115, police 113 and fire and rescue 114 work every day. Hospitals "
                "always keep their emergency department open. The opening hours of tourist "
                "information points on the Help page take holidays into account.\n\n"
                "Buses are very full before and after Tết: book early and carry cash."
            ),
        },
    },
    {
        "slug": "accessible-travel-in-yen-bai",
        "sort_order": 40,
        "title": {"vi": "Du lịch tiếp cận ở Yên Bái", "en": "Accessible travel in Yên Bái"},
        "summary": {
            "vi": "Đi lại, chỗ ở và điểm tham quan cho người khuyết tật và người cao tuổi.",
            "en": "Getting around, places to stay and sights for disabled and older visitors.",
        },
        "body": {
            "vi": (
                "Yên Bái nhiều đồi núi: nhiều điểm ngắm cảnh và bản làng có bậc thang, dốc và "
                "đường đất. Nhà sàn homestay thường phải leo cầu thang.\n\n"
                "- Hỏi trước chỗ ở về lối vào không bậc, nhà vệ sinh và phòng ở tầng trệt.\n"
                "- Khách sạn ở thành phố Yên Bái và thị xã Nghĩa Lộ dễ có thang máy hơn.\n"
                "- Trên Citizen Hub, mỗi địa điểm ghi rõ lối vào, nhà vệ sinh, chỗ đỗ xe; "
                "“chưa rõ” nghĩa là chưa ai kiểm tra, không phải là không có.\n\n"
                "Trang Cài đặt hiển thị cho phép chữ lớn, tương phản cao và giảm chuyển động. "
                "Mang đủ thuốc thường dùng: nhà thuốc ở vùng cao ít và xa nhau."
            ),
            "en": (
                "Yên Bái is hilly: many viewpoints and villages have steps, slopes and dirt "
                "paths. Homestays in stilt houses usually mean climbing stairs.\n\n"
                "- Ask your accommodation ahead about step-free entrances, toilets and "
                "ground-floor rooms.\n"
                "- Hotels in Yên Bái city and Nghĩa Lộ are more likely to have a lift.\n"
                "- On Citizen Hub every place shows its entrance, toilet and parking; "
                "“unknown” means nobody has checked yet, not that there is none.\n\n"
                "The Display settings page gives large text, high contrast and reduced motion. "
                "Bring enough of your usual medicines: pharmacies in the highlands are few and "
                "far apart."
            ),
        },
    },
    {
        "slug": "health-care-hospitals-and-pharmacies",
        "sort_order": 50,
        "title": {
            "vi": "Y tế: bệnh viện và nhà thuốc",
            "en": "Health care: hospitals and pharmacies",
        },
        "summary": {
            "vi": "Khi ốm hoặc bị thương: gọi ai, đi đâu và mang theo gì.",
            "en": "When you are ill or hurt: whom to call, where to go and what to bring.",
        },
        "body": {
            "vi": (
                "Trường hợp khẩn cấp, gọi 115. Nếu xe cấp cứu ở xa, người dân địa phương thường "
                "biết đường nhanh nhất đến trạm y tế gần nhất.\n\n"
                "- Bệnh viện Đa khoa tỉnh ở thành phố Yên Bái tiếp nhận ca nặng.\n"
                "- Mỗi huyện có trung tâm y tế, kể cả Mù Cang Chải và Trạm Tấu.\n"
                "- Trạm y tế xã khám các bệnh thông thường và sơ cứu.\n\n"
                "Nhà thuốc có nhiều ở thành phố và thị trấn, ít ở xã vùng cao. Mang theo đơn "
                "thuốc, giấy tờ tùy thân và thẻ bảo hiểm y tế (nếu có). Trên Citizen Hub, tìm "
                "bệnh viện và nhà thuốc trong nhóm địa điểm Y tế."
            ),
            "en": (
                "In an emergency, call 115. If the ambulance is far away, local people usually "
                "know the quickest way to the nearest health station.\n\n"
                "- The provincial general hospital in Yên Bái city takes serious cases.\n"
                "- Every district has a health centre, Mù Cang Chải and Trạm Tấu included.\n"
                "- Commune health stations treat everyday illness and give first aid.\n\n"
                "Pharmacies are common in the city and towns, and rare in highland communes. "
                "Bring your prescriptions, your passport or ID and your insurance details. On "
                "Citizen Hub, find hospitals and pharmacies among the Health places."
            ),
        },
    },
]


async def load_demo(session: AsyncSession) -> int:
    """Add what is missing; return how many records were added."""
    added = 0
    for item in CONTACTS:
        existing = await repo.contact_by_code(session, item["code"])
        place = await repo.place_by_code(session, item.get("place_code") or "")
        if existing is not None:
            if existing.place_id is None and place is not None and place.retired_at is None:
                existing.place_id = place.id  # the place was loaded after the first run
            continue
        usable = place is not None and place.retired_at is None
        fields = {**item, "place_code": item["place_code"] if usable else None}
        await service.create_contact(session, None, ContactIn(**fields), is_demo=True)
        added += 1
    for item in GUIDES:
        if await repo.guide_by_slug(session, item["slug"]) is not None:
            continue
        await service.create_guide(session, None, GuideIn(**item), is_demo=True)
        added += 1
    await session.flush()
    return added
