"""Search quality on the demo catalogue: what a person types, with or without accents, with
typos, in English or as a code, and the procedure they need first. The same expectations hold on
SQLite (FTS5, bm25) and PostgreSQL (GIN, ts_rank)."""

from __future__ import annotations

import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from app.procedures import repository
from app.procedures.demo import load_demo
from app.procedures.repository import Filters
from tests.builders import create_procedure

HOUSEHOLD_BUSINESS = "2.000720"
HOUSE_PERMIT = "1.013225"

# (query, the code expected first, the query as corrected or None)
FIRST = [
    ("dang ky ho kinh doanh", HOUSEHOLD_BUSINESS, None),
    ("Đăng ký hộ kinh doanh", HOUSEHOLD_BUSINESS, None),
    ("ĐĂNG KÝ HỘ KINH DOANH", HOUSEHOLD_BUSINESS, None),
    ("đăng ky ho kinh doanh", HOUSEHOLD_BUSINESS, None),  # accents on some words only
    # "kin" corrected, "ki" too short: taken as the start of a word
    ("dang ki ho kin doanh", HOUSEHOLD_BUSINESS, "dang ki ho kinh doanh"),
    ("giay php ban le ruou", "2.000620", "giay phep ban le ruou"),  # a letter dropped
    ("dag ky ket hon", "1.000894", "dang ky ket hon"),
    ("dang ky ho kinh doamh", HOUSEHOLD_BUSINESS, "dang ky ho kinh doanh"),
    ("dang ky ho kinh doan", HOUSEHOLD_BUSINESS, None),  # still typing
    ("giay phep xay dung nha o", HOUSE_PERMIT, None),
    ("giấy phép xây dựng nhà ở", HOUSE_PERMIT, None),
    ("giay phep xay dumg nha o", HOUSE_PERMIT, "giay phep xay dung nha o"),
    ("giay phepp xay dung nha o", HOUSE_PERMIT, "giay phep xay dung nha o"),
    ("giay phep xay dnug nha o", HOUSE_PERMIT, "giay phep xay dung nha o"),  # transposed
    ("household business registration", HOUSEHOLD_BUSINESS, None),
    ("hosehold bussiness registering", HOUSEHOLD_BUSINESS, "household business registering"),
    ("building permit private house", HOUSE_PERMIT, None),
    ("birth registration", "1.001193", None),
    ("khai sinh", "1.001193", None),
    ("dang ky ket hon", "1.000894", None),
    ("thuong tru", "1.004222", None),
    ("ly lich tu phap", "2.001417", None),
    ("criminal record", "2.001417", None),
    ("an toan thuc pham nha hang", "1.001283", None),
    ("food safety restaurant", "1.001283", None),
    ("ban le ruou", "2.000620", None),
    ("thuoc la", "2.000633", None),
    ("the bao hiem y te tre em", "1.010600", None),
    ("doi giay phep lai xe", "1.002809", None),
    ("chung thuc chu ky", "2.000884", None),
    ("phong chay chua chay", "1.013054", None),
    ("chung nhan quyen su dung dat lan dau", "1.012753", None),
    ("cong ty tnhh mot thanh vien", "2.002038", None),  # trách nhiệm hữu hạn
    ("gcn attp", "2.000591", None),  # giấy chứng nhận an toàn thực phẩm
    ("1.001612", "1.001612", None),
    ("2.000720", HOUSEHOLD_BUSINESS, None),
]


@pytest.fixture
async def catalogue(session: AsyncSession) -> AsyncSession:
    assert await load_demo(session) > 0
    return session


@pytest.mark.parametrize(("query", "first", "corrected"), FIRST, ids=[q for q, _f, _c in FIRST])
async def test_the_procedure_a_person_needs_comes_first(
    catalogue: AsyncSession, query: str, first: str, corrected: str | None
) -> None:
    found = await repository.search(catalogue, Filters(query=query), limit=5)
    assert found.items, f"nothing found for {query!r}"
    assert found.items[0]["code"] == first, [i["code"] for i in found.items]
    assert found.corrected == corrected
    assert found.total >= len(found.items)


async def test_a_search_item_carries_what_a_list_shows(catalogue: AsyncSession) -> None:
    found = await repository.search(catalogue, Filters(query="dang ky ho kinh doanh"), limit=1)
    item = found.items[0]
    assert item["name"]["vi"] == "Đăng ký thành lập hộ kinh doanh"
    assert (item["level"], item["online"], item["processing_days"]) == ("commune", "full", 3)
    assert item["fee_total_vnd"] == 100_000
    assert item["field_code"] == "household-business" and item["field_name"]["vi"]
    assert item["agency_code"] and item["agency_name"]["vi"]
    assert set(item) == {
        "code",
        "name",
        "level",
        "online",
        "processing_days",
        "fee_total_vnd",
        "updated_on",
        "field_code",
        "field_name",
        "agency_code",
        "agency_name",
    }


async def test_every_word_must_match_unless_nothing_does(catalogue: AsyncSession) -> None:
    narrow = await repository.search(catalogue, Filters(query="an toan thuc pham"), limit=20)
    assert {i["code"] for i in narrow.items} == {"1.001283", "2.000591"}
    assert narrow.total == 2 and not narrow.partial
    # No procedure holds a word like "qwxz": any of the words will do, and the answer says so.
    wide = await repository.search(catalogue, Filters(query="dang ky qwxz"), limit=5)
    assert wide.partial and wide.total > 0
    assert wide.items[0]["name"]["vi"].startswith("Đăng ký")


async def test_gibberish_finds_nothing(catalogue: AsyncSession) -> None:
    found = await repository.search(catalogue, Filters(query="xyzzy qwrtpl"), limit=5)
    assert (found.items, found.total, found.corrected) == ([], 0, None)


async def test_filters_narrow_the_search(catalogue: AsyncSession) -> None:
    civil = await repository.search(
        catalogue, Filters(query="dang ky", field="civil-status"), limit=50
    )
    assert civil.total == len(civil.items) >= 3
    assert {i["field_code"] for i in civil.items} == {"civil-status"}
    province = await repository.search(
        catalogue, Filters(query="dang ky", level="province"), limit=50
    )
    assert province.items and {i["level"] for i in province.items} == {"province"}
    full = await repository.search(catalogue, Filters(online="full"), limit=100)
    assert full.items and {i["online"] for i in full.items} == {"full"}
    online = await repository.search(catalogue, Filters(online="any"), limit=100)
    assert {i["online"] for i in online.items} == {"full", "partial"}
    everything = await repository.search(catalogue, Filters(), limit=100)
    assert online.total == everything.total - sum(
        1 for i in everything.items if i["online"] == "none"
    )
    agency = await repository.search(catalogue, Filters(agency="so-tai-chinh"), limit=100)
    assert agency.total >= 4 and {i["agency_code"] for i in agency.items} == {"so-tai-chinh"}
    # A code that the filters exclude is not put first.
    other = await repository.search(
        catalogue, Filters(query=HOUSEHOLD_BUSINESS, field="civil-status"), limit=5
    )
    assert HOUSEHOLD_BUSINESS not in {i["code"] for i in other.items}


async def test_pages_cover_every_result_once(catalogue: AsyncSession) -> None:
    for filters in (Filters(query="dang ky"), Filters()):
        whole = await repository.search(catalogue, filters, limit=100)
        assert whole.total == len(whole.items) > 10
        seen: list[str] = []
        for offset in range(0, whole.total + 4, 4):
            page = await repository.search(catalogue, filters, limit=4, offset=offset)
            assert page.total == whole.total
            seen += [i["code"] for i in page.items]
        assert seen == [i["code"] for i in whole.items]


async def test_without_a_query_procedures_come_by_field_then_name(
    catalogue: AsyncSession,
) -> None:
    found = await repository.search(catalogue, Filters(field="civil-status"), limit=50)
    names = [i["name"]["vi"] for i in found.items]
    assert names[0] == "Cấp bản sao Trích lục hộ tịch"  # C before Đ, accents aside
    assert names.index("Đăng ký kết hôn") < names.index("Đăng ký khai sinh")
    facets = await repository.facets(catalogue)
    positions = [f["code"] for f in facets["fields"]]
    everything = await repository.search(catalogue, Filters(), limit=100)
    order = [positions.index(i["field_code"]) for i in everything.items]
    assert order == sorted(order)


async def test_facets_count_live_procedures(catalogue: AsyncSession) -> None:
    everything = await repository.search(catalogue, Filters(), limit=100)
    facets = await repository.facets(catalogue)
    assert sum(f["count"] for f in facets["fields"]) == everything.total
    assert sum(a["count"] for a in facets["agencies"]) == everything.total
    assert {x["code"] for x in facets["levels"]} == {"province", "commune"}
    assert sum(x["count"] for x in facets["online"]) == everything.total
    civil = next(f for f in facets["fields"] if f["code"] == "civil-status")
    assert civil["name"]["vi"] == "Hộ tịch"


async def test_a_word_added_to_the_catalogue_is_corrected_to_at_once(
    catalogue: AsyncSession,
) -> None:
    # The vocabulary is cached in the process; a new word must not wait for a restart.
    before = await repository.search(catalogue, Filters(query="xylophonists"), limit=5)
    assert before.total == 0
    await create_procedure(
        catalogue,
        "9.000001",
        name={"vi": "Cấp phép biểu diễn đàn xylophone", "en": "Licence for xylophonists"},
    )
    found = await repository.search(catalogue, Filters(query="xylophonsts"), limit=5)
    assert found.items[0]["code"] == "9.000001"
    assert found.corrected == "xylophonists"


async def test_a_name_holding_every_word_beats_many_that_repeat_some(
    session: AsyncSession,
) -> None:
    # More near-misses than the re-ranking window, each saying "kinh doanh" twice in its name
    # and "đăng ký" only in its steps, among procedures that all say "đăng ký" and "hồ sơ":
    # those words then weigh nothing in bm25 (idf), and a text rank alone puts the near-misses
    # first and the one procedure named with every word outside the window.
    for n in range(repository.RERANK_WINDOW + 20):
        await create_procedure(
            session,
            f"9.1{n:05d}",
            name={"vi": f"Đăng ký hồ sơ số {n}"},
            field={"code": "civil", "name": {"vi": "Hộ tịch"}},
            applicants={},
            documents=[],
            result={},
        )
    verbs = ["Điều chỉnh", "Công nhận", "Thu hồi", "Gia hạn", "Xác nhận", "Chấp thuận"]
    for n in range(repository.RERANK_WINDOW + 10):
        await create_procedure(
            session,
            f"9.2{n:05d}",
            name={"vi": f"{verbs[n % 6]} địa điểm kinh doanh của hộ kinh doanh số {n}"},
            steps=[{"vi": "Đăng ký hồ sơ tại Bộ phận một cửa"}],
        )
    await create_procedure(session, HOUSEHOLD_BUSINESS)
    found = await repository.search(session, Filters(query="dang ky ho kinh doanh"), limit=5)
    assert found.total == repository.RERANK_WINDOW + 11
    assert found.items[0]["code"] == HOUSEHOLD_BUSINESS
