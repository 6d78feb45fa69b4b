"""Procedure-search benchmark: `app.procedures.repository.search` over 20,000 synthetic
procedures, on SQLite and PostgreSQL, and GET /api/v1/procedures?q= against the framework
ceiling of the same run.

    .venv/bin/python bench/procedures.py [--db sqlite|postgres|both] [--size 20000]
                                         [--queries 1000] [--duration 10] [--quick]
                                         [--json FILE] [--strict]

For each database:

  load   a fresh database (Alembic `upgrade head`), the demo catalogue (33 real procedures),
         then --size synthetic ones: realistic Vietnamese and English names built from 20 fields
         x 12 verbs x their objects x qualifiers, bodies of 1-2 kB (steps, documents, fees,
         conditions, legal basis) like the real ones, 60 agencies over both levels. Inserted with
         bulk Core `executemany` in one transaction, with the folded search keys
         app.procedures.service.search_keys computes and the typo vocabulary (procedure_term)
         service.terms_of gives, never through the API. SQLite's triggers fill the FTS5 table
         (then 'optimize' and ANALYZE); PostgreSQL is VACUUM ANALYZEd, as autovacuum would.
  query  `repository.search(session, Filters(query=q), limit=20)` through a real AsyncSession
         (the application's engine settings), warm, for --queries distinct queries drawn like
         people type them (with and without accents, a tenth with a typo, some in English, some
         codes): median and p95, the share that needed a correction or the any-word fallback;
         then one query repeated (the repository has no cache: each call queries).

Then `citizen-hub serve` (1 worker, bench/run.py's server settings) on that database, and wrk:

  search-hot       one query asked by everyone: answered from the shared response cache (the
                   hot read; target >= 0.40x the ceiling on PostgreSQL);
  search-distinct  cycling through 20,000 distinct queries, more than the cache's 2,048
                   entries: every request runs the search.

Exits 1 when something fails; `--strict` also when the hot read misses its target.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import random
import secrets
import shutil
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from types import SimpleNamespace
from typing import Any
from urllib.parse import quote_plus

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench import common  # noqa: E402 - after the path is set
from bench import run as harness  # noqa: E402

HTTP_TARGET = 0.40  # the hot search (req/s / ceiling req/s), PostgreSQL
LIMIT = 20
HOT_QUERY = "dang ky ho kinh doanh"
DISTINCT_PATHS = 20_000  # > the response cache's 2,048 entries: every request misses it
CHUNK = 2_000

# Fields: (code, vi, en, objects [(vi, en)]).
FIELDS: list[tuple[str, str, str, list[tuple[str, str]]]] = [
    (
        "dat-dai",
        "Đất đai",
        "Land",
        [
            ("Giấy chứng nhận quyền sử dụng đất", "land-use right certificate"),
            ("quyền sử dụng đất nông nghiệp", "agricultural land-use right"),
            ("hợp đồng thuê đất", "land lease"),
            ("mục đích sử dụng đất", "land use purpose"),
        ],
    ),
    (
        "xay-dung",
        "Hoạt động xây dựng",
        "Construction",
        [
            ("giấy phép xây dựng nhà ở riêng lẻ", "building permit for a private house"),
            ("giấy phép xây dựng công trình", "building permit for works"),
            ("giấy phép sửa chữa, cải tạo công trình", "permit to repair or renovate works"),
            ("chứng chỉ hành nghề xây dựng", "construction practising certificate"),
        ],
    ),
    (
        "ho-tich",
        "Hộ tịch",
        "Civil status",
        [
            ("khai sinh", "birth"),
            ("kết hôn", "marriage"),
            ("khai tử", "death"),
            ("nhận cha, mẹ, con", "recognising a parent or child"),
            ("giám hộ", "guardianship"),
        ],
    ),
    (
        "ho-kinh-doanh",
        "Thành lập và hoạt động của hộ kinh doanh",
        "Household businesses",
        [
            ("hộ kinh doanh", "household business"),
            ("địa điểm kinh doanh của hộ kinh doanh", "business location of a household business"),
        ],
    ),
    (
        "doanh-nghiep",
        "Thành lập và hoạt động doanh nghiệp",
        "Enterprises",
        [
            ("doanh nghiệp tư nhân", "sole proprietorship"),
            ("công ty trách nhiệm hữu hạn một thành viên", "single-member limited company"),
            ("công ty cổ phần", "joint-stock company"),
            ("chi nhánh, văn phòng đại diện", "branch or representative office"),
        ],
    ),
    (
        "an-toan-thuc-pham",
        "An toàn thực phẩm",
        "Food safety",
        [
            ("Giấy chứng nhận cơ sở đủ điều kiện an toàn thực phẩm", "food safety certificate"),
            ("bản tự công bố sản phẩm thực phẩm", "self-declaration of a food product"),
        ],
    ),
    (
        "y-te",
        "Khám bệnh, chữa bệnh",
        "Health care",
        [
            ("giấy phép hoạt động phòng khám", "clinic operating licence"),
            ("chứng chỉ hành nghề khám bệnh, chữa bệnh", "medical practising certificate"),
            ("giấy chứng nhận đủ điều kiện kinh doanh dược", "pharmacy business certificate"),
        ],
    ),
    (
        "giao-duc",
        "Giáo dục và đào tạo",
        "Education",
        [
            ("trường mầm non tư thục", "private kindergarten"),
            ("trung tâm ngoại ngữ, tin học", "language and computer centre"),
            ("văn bằng, chứng chỉ", "diploma or certificate"),
        ],
    ),
    (
        "giao-thong",
        "Đường bộ",
        "Road traffic",
        [
            ("giấy phép lái xe", "driving licence"),
            ("đăng ký xe", "vehicle registration"),
            ("giấy phép kinh doanh vận tải bằng xe ô tô", "road transport business licence"),
        ],
    ),
    (
        "moi-truong",
        "Môi trường",
        "Environment",
        [
            ("giấy phép môi trường", "environmental permit"),
            ("kế hoạch bảo vệ môi trường", "environmental protection plan"),
        ],
    ),
    (
        "lao-dong",
        "Việc làm",
        "Employment",
        [
            ("giấy phép lao động cho người nước ngoài", "work permit for a foreigner"),
            ("trợ cấp thất nghiệp", "unemployment benefit"),
            ("nội quy lao động", "work rules"),
        ],
    ),
    (
        "bao-hiem",
        "Bảo hiểm xã hội, bảo hiểm y tế",
        "Social and health insurance",
        [
            ("thẻ bảo hiểm y tế", "health insurance card"),
            ("sổ bảo hiểm xã hội", "social insurance book"),
            ("chế độ thai sản", "maternity benefit"),
        ],
    ),
    (
        "cu-tru",
        "Đăng ký, quản lý cư trú",
        "Residence",
        [("thường trú", "permanent residence"), ("tạm trú", "temporary residence")],
    ),
    (
        "thuong-mai",
        "Lưu thông hàng hóa trong nước",
        "Domestic trade",
        [
            ("giấy phép bán lẻ rượu", "alcohol retail licence"),
            ("giấy phép bán lẻ sản phẩm thuốc lá", "tobacco retail licence"),
            ("giấy phép kinh doanh xăng dầu", "fuel trading licence"),
        ],
    ),
    (
        "van-hoa",
        "Văn hóa",
        "Culture",
        [
            ("quảng cáo trên bảng quảng cáo, băng-rôn", "advertising on billboards"),
            ("lễ hội truyền thống", "traditional festival"),
            ("karaoke, vũ trường", "karaoke or dance hall"),
        ],
    ),
    (
        "du-lich",
        "Du lịch",
        "Tourism",
        [
            ("giấy phép kinh doanh dịch vụ lữ hành", "travel agency licence"),
            ("thẻ hướng dẫn viên du lịch", "tour guide card"),
            ("cơ sở lưu trú du lịch", "tourist accommodation"),
        ],
    ),
    (
        "nong-nghiep",
        "Trồng trọt và bảo vệ thực vật",
        "Crops",
        [
            ("giấy chứng nhận đủ điều kiện buôn bán phân bón", "fertiliser trading certificate"),
            ("thuốc bảo vệ thực vật", "plant protection products"),
        ],
    ),
    (
        "lam-nghiep",
        "Lâm nghiệp",
        "Forestry",
        [
            ("khai thác gỗ rừng trồng", "harvesting planted forest"),
            ("giống cây lâm nghiệp", "forest seedlings"),
        ],
    ),
    (
        "phong-chay",
        "Phòng cháy, chữa cháy",
        "Fire safety",
        [
            ("thiết kế về phòng cháy và chữa cháy", "fire safety design"),
            ("nghiệm thu về phòng cháy và chữa cháy", "fire safety acceptance"),
        ],
    ),
    (
        "tu-phap",
        "Lý lịch tư pháp và chứng thực",
        "Judicial records and certification",
        [
            ("Phiếu lý lịch tư pháp", "criminal record certificate"),
            ("bản sao từ bản chính", "copy against the original"),
            ("chữ ký trong giấy tờ, văn bản", "signature on a document"),
        ],
    ),
]
VERBS = [
    ("Cấp", "Issuing a"),
    ("Cấp lại", "Re-issuing a"),
    ("Cấp đổi", "Replacing a"),
    ("Gia hạn", "Extending a"),
    ("Điều chỉnh", "Amending a"),
    ("Thu hồi", "Revoking a"),
    ("Đăng ký", "Registering a"),
    ("Đăng ký thay đổi", "Registering changes to a"),
    ("Xác nhận", "Confirming a"),
    ("Thẩm định", "Appraising a"),
    ("Công nhận", "Recognising a"),
    ("Chấp thuận", "Approving a"),
]
QUALIFIERS = [
    ("", ""),
    ("", ""),
    ("cho tổ chức", "for organisations"),
    ("cho cá nhân", "for individuals"),
    ("có yếu tố nước ngoài", "with a foreign element"),
    ("đối với hộ gia đình", "for households"),
    ("trong khu công nghiệp", "in industrial parks"),
    ("tại vùng đồng bào dân tộc thiểu số", "in ethnic minority areas"),
    ("trường hợp bị mất, hư hỏng", "when lost or damaged"),
    ("do Sở thực hiện", "by the provincial department"),
]
DOCUMENTS = [
    ("Đơn đề nghị theo mẫu", "Application on the form"),
    ("Bản sao căn cước công dân", "Copy of the identity card"),
    ("Giấy ủy quyền", "Power of attorney"),
    ("Bản vẽ thiết kế", "Design drawings"),
    ("Giấy chứng nhận đăng ký doanh nghiệp", "Enterprise registration certificate"),
    ("Hợp đồng thuê địa điểm", "Lease of the premises"),
    ("Giấy xác nhận tập huấn kiến thức", "Training certificate"),
    ("Báo cáo đánh giá tác động môi trường", "Environmental impact report"),
    ("Giấy khám sức khỏe", "Health certificate"),
    ("Biên bản kiểm tra thực tế", "On-site inspection record"),
    ("Danh sách thành viên", "List of members"),
    ("Văn bản cam kết", "Written undertaking"),
]
STEPS = [
    (
        "Tổ chức, cá nhân nộp hồ sơ tại Bộ phận một cửa hoặc trên Cổng Dịch vụ công quốc gia",
        "Lodge the dossier at the one-stop desk or on the National Public Service Portal",
    ),
    (
        "Cán bộ tiếp nhận kiểm tra tính đầy đủ, hợp lệ của hồ sơ và cấp giấy tiếp nhận",
        "The desk checks the dossier is complete and issues a receipt",
    ),
    (
        "Cơ quan có thẩm quyền thẩm định hồ sơ, kiểm tra thực tế khi cần thiết",
        "The competent agency appraises the dossier and inspects on site when needed",
    ),
    (
        "Trường hợp hồ sơ chưa hợp lệ, thông báo bằng văn bản nêu rõ lý do và yêu cầu bổ sung",
        "If the dossier is incomplete, the applicant is told in writing what to add",
    ),
    (
        "Trả kết quả tại Bộ phận một cửa, qua dịch vụ bưu chính hoặc trực tuyến",
        "The result is returned at the desk, by post or online",
    ),
]
LAWS = [
    ("31/2024/QH15", "Luật Đất đai", "Land Law"),
    ("50/2014/QH13", "Luật Xây dựng", "Construction Law"),
    ("59/2020/QH14", "Luật Doanh nghiệp", "Law on Enterprises"),
    ("60/2014/QH13", "Luật Hộ tịch", "Law on Civil Status"),
    ("55/2010/QH12", "Luật An toàn thực phẩm", "Food Safety Law"),
    ("118/2025/NĐ-CP", "Nghị định về thủ tục hành chính", "Decree on administrative procedures"),
]
AGENCIES_PER_LEVEL = 30
TYPO_SHARE = 0.10


def fold(text: str) -> str:
    from app.kit.text import fold as _fold

    return _fold(text)


def synthetic(n: int, rng: random.Random) -> dict[str, Any]:
    """The n-th synthetic procedure as a record (the importer's shape, without field/agency)."""
    field_index = n % len(FIELDS)
    code, field_vi, field_en, objects = FIELDS[field_index]
    object_vi, object_en = rng.choice(objects)
    verb_vi, verb_en = rng.choice(VERBS)
    qualifier_vi, qualifier_en = rng.choice(QUALIFIERS)
    name_vi = " ".join(p for p in (verb_vi, object_vi, qualifier_vi) if p)
    name_vi = name_vi[0].upper() + name_vi[1:]
    name_en = " ".join(p for p in (verb_en, object_en, qualifier_en) if p)
    online = rng.choice(["none", "partial", "partial", "full", "full"])
    channels = ["in_person", "post"] + (["online"] if online != "none" else [])
    documents = [
        {
            "name": {"vi": vi, "en": en},
            "originals": rng.choice([0, 1, 1, 2]) or 1,
            "copies": rng.choice([0, 0, 1, 2]),
        }
        for vi, en in rng.sample(DOCUMENTS, rng.randint(3, 6))
    ]
    fees = (
        []
        if rng.random() < 0.3
        else [
            {
                "name": {"vi": f"Lệ phí {object_vi}", "en": f"Fee for a {object_en}"},
                "amount_vnd": rng.choice([20_000, 50_000, 100_000, 200_000, 500_000]),
            }
        ]
    )
    law = rng.choice(LAWS)
    return {
        "field_index": field_index,
        "field_code": code,
        "field_name": {"vi": field_vi, "en": field_en},
        "name": {"vi": name_vi, "en": name_en[0].upper() + name_en[1:]},
        "level": rng.choice(["province", "commune"]),
        "online": online,
        "channels": channels,
        "applicants": {"vi": "Tổ chức, cá nhân", "en": "Organisations and individuals"},
        "steps": [{"vi": vi, "en": en} for vi, en in STEPS[: rng.randint(3, 5)]],
        "documents": documents,
        "processing_days": rng.choice([0, 1, 3, 5, 7, 10, 15, 20, 30]),
        "processing_note": {},
        "fees": fees,
        "fee_total_vnd": sum(f["amount_vnd"] for f in fees),
        "fee_note": {},
        "conditions": {
            "vi": f"Đáp ứng các điều kiện về {object_vi} theo quy định của pháp luật",
            "en": f"Meet the legal conditions for a {object_en}",
        },
        "result": {"vi": f"Văn bản về {object_vi}", "en": f"A decision on the {object_en}"},
        "legal_basis": [
            {
                "number": law[0],
                "title": {"vi": law[1], "en": law[2]},
                "issued_on": "2024-08-01",
            }
        ],
        "updated_on": date(2025, 7, 1) + timedelta(days=n % 300),
    }


def agencies() -> list[dict[str, Any]]:
    out = []
    for n in range(AGENCIES_PER_LEVEL):
        out.append(
            {
                "code": f"bench-so-{n}",
                "name": {
                    "vi": f"Sở chuyên ngành số {n} tỉnh Yên Bái",
                    "en": f"Provincial department no. {n}",
                },
                "address": f"Số {n + 1} đường Điện Biên, Yên Bái",
            }
        )
        out.append(
            {
                "code": f"bench-xa-{n}",
                "name": {"vi": f"Ủy ban nhân dân xã số {n}", "en": f"Commune no. {n}"},
                "address": f"Trụ sở UBND xã số {n}",
            }
        )
    return out


def check_records(rng: random.Random) -> None:
    """A sample of the synthetic records passes the importer's validation."""
    from app.procedures.schemas import ProcedureIn

    for n in range(300):
        record = synthetic(n, rng)
        ProcedureIn.model_validate(
            {
                k: v
                for k, v in record.items()
                if k not in ("field_index", "field_code", "field_name", "fee_total_vnd")
            }
            | {
                "code": f"8.{n:06d}",
                "field": {"code": record["field_code"], "name": record["field_name"]},
                "agency": {"code": "bench-so-0", "name": {"vi": "Sở"}},
            }
        )


# --------------------------------------------------------------------------------------------
# Queries


def typo(word: str, rng: random.Random) -> str:
    """One slip of the finger in a word of 4 letters or more: a letter dropped, doubled,
    swapped with the next or replaced."""
    if len(word) < 4:
        return word
    i = rng.randrange(1, len(word) - 1)
    kind = rng.choice(["drop", "double", "swap", "replace"])
    if kind == "drop":
        return word[:i] + word[i + 1 :]
    if kind == "double":
        return word[:i] + word[i] + word[i:]
    if kind == "swap":
        return word[:i] + word[i + 1] + word[i] + word[i + 2 :]
    return word[:i] + rng.choice("aeiounhtg") + word[i + 1 :]


def make_queries(count: int, size: int, seed: int) -> list[str]:
    """Distinct queries as people type them: an object with or without its verb or qualifier,
    accents or none, a tenth with a typo, a twentieth in English, a few codes."""
    rng = random.Random(seed)
    seen: set[str] = set()
    out: list[str] = []
    attempts = 0
    while len(out) < count and attempts < count * 50:
        attempts += 1
        _code, _vi, _en, objects = rng.choice(FIELDS)
        object_vi, object_en = rng.choice(objects)
        roll = rng.random()
        if roll < 0.03:
            query = f"8.{rng.randrange(size):06d}"
        elif roll < 0.08:
            verb = rng.choice(VERBS)[1].removesuffix(" a").lower()
            query = f"{verb} {object_en}" if rng.random() < 0.5 else object_en
        else:
            parts = [object_vi]
            if rng.random() < 0.5:
                parts.insert(0, rng.choice(VERBS)[0].lower())
            if rng.random() < 0.3:
                qualifier = rng.choice(QUALIFIERS)[0]
                if qualifier:
                    parts.append(qualifier)
            words = " ".join(parts).replace(",", "").split()
            if rng.random() < 0.5:  # people stop typing early
                words = words[: rng.randint(2, max(2, len(words)))]
            query = " ".join(words)
            if rng.random() < 0.6:
                query = fold(query)
            if rng.random() < TYPO_SHARE:
                words = query.split()
                long = [i for i, w in enumerate(words) if len(w) >= 4]
                if long:
                    i = rng.choice(long)
                    words[i] = typo(words[i], rng)
                query = " ".join(words)
        if query not in seen:
            seen.add(query)
            out.append(query)
    return out


# --------------------------------------------------------------------------------------------
# Databases


@dataclass
class Loaded:
    database: str
    size: int
    url: str
    load_s: float = 0.0
    terms: int = 0


async def load(url: str, size: int, seed: int) -> int:
    """The demo catalogue, then `size` synthetic procedures by bulk Core inserts with the
    service's search keys and vocabulary. Returns the vocabulary's size."""
    from sqlalchemy import func, insert, select, text

    from app.db import create_engine, create_sessionmaker
    from app.procedures import service
    from app.procedures.demo import load_demo
    from app.procedures.models import Agency, Procedure, ProcedureField, ProcedureTerm

    procedure = Procedure.__table__
    field = ProcedureField.__table__
    agency_table = Agency.__table__
    rng = random.Random(seed)
    engine = create_engine(url)
    sessionmaker = create_sessionmaker(engine)
    try:
        async with sessionmaker() as session:
            await load_demo(session)
            now = datetime.now(UTC)
            base_position = 1000
            field_rows = [
                {
                    "code": f"bench-{code}",
                    "name": {"vi": vi, "en": en},
                    "position": base_position + i,
                    "created_at": now,
                    "updated_at": now,
                }
                for i, (code, vi, en, _objects) in enumerate(FIELDS)
            ]
            await session.execute(insert(field), field_rows)
            agency_rows = [a | {"created_at": now, "updated_at": now} for a in agencies()]
            await session.execute(insert(agency_table), agency_rows)
            field_ids = {
                code: id_ for code, id_ in await session.execute(select(field.c.code, field.c.id))
            }
            agency_ids = {
                code: id_
                for code, id_ in await session.execute(
                    select(agency_table.c.code, agency_table.c.id)
                )
            }
            terms: set[str] = set()
            rows: list[dict[str, Any]] = []
            for n in range(size):
                record = synthetic(n, rng)
                level = record["level"]
                agency = agency_rows[rng.randrange(AGENCIES_PER_LEVEL) * 2 + (level == "commune")]
                values = {
                    k: v
                    for k, v in record.items()
                    if k not in ("field_index", "field_code", "field_name")
                }
                values |= {
                    "code": f"8.{n:06d}",
                    "field_id": field_ids[f"bench-{record['field_code']}"],
                    "agency_id": agency_ids[agency["code"]],
                    "source_url": None,
                    "is_demo": False,
                    "retired_at": None,
                    "created_at": now,
                    "updated_at": now,
                }
                keys = service.search_keys(
                    SimpleNamespace(**values),
                    SimpleNamespace(name=record["field_name"]),
                    SimpleNamespace(name=agency["name"]),
                )
                terms |= service.terms_of(*keys.values())
                rows.append(values | keys)
                if len(rows) == CHUNK:
                    await session.execute(insert(procedure), rows)
                    rows = []
            if rows:
                await session.execute(insert(procedure), rows)
            await service.remember_terms(session, terms)
            await session.commit()
            count = int(await session.scalar(select(func.count()).select_from(ProcedureTerm)) or 0)
        async with engine.connect() as conn:
            if engine.dialect.name == "postgresql":
                # As autovacuum would after a bulk load: statistics, and the visibility map
                # that lets counts read indexes only.
                auto = await conn.execution_options(isolation_level="AUTOCOMMIT")
                await auto.execute(text("VACUUM ANALYZE"))
            else:
                await conn.execute(
                    text("INSERT INTO procedure_fts(procedure_fts) VALUES('optimize')")
                )
                await conn.execute(text("ANALYZE"))
            await conn.commit()
        return count
    finally:
        await engine.dispose()


def prepare(
    database: str, args: argparse.Namespace, workdir: Path, stack: contextlib.ExitStack
) -> Loaded:
    from app.ops.migrations import upgrade

    if database == "sqlite":
        path = workdir / "procedures-bench.sqlite3"
        url = f"sqlite+aiosqlite:///{path}"
    else:
        name = f"citizenhub_bench_{os.getpid()}_{secrets.token_hex(4)}"
        harness.pg_create(args.pg_admin_url, name)
        stack.callback(harness.pg_drop, args.pg_admin_url, name)
        url = harness.pg_app_url(args.pg_admin_url, name)
    loaded = Loaded(database, args.size, url)
    started = time.perf_counter()
    upgrade(url)
    harness.log(f"[{database}] loading the demo and {args.size:,} synthetic procedures")
    loaded.terms = asyncio.run(load(url, args.size, args.seed))
    loaded.load_s = time.perf_counter() - started
    return loaded


# --------------------------------------------------------------------------------------------
# Repository timing


@dataclass
class Timing:
    database: str
    variant: str
    queries: int
    p50_ms: float = 0.0
    p95_ms: float = 0.0
    mean_total: float = 0.0  # matches per query (Found.total)
    empty: float = 0.0  # share of queries that found nothing
    corrected: float = 0.0  # share answered after a typo correction
    partial: float = 0.0  # share answered by the any-word fallback


def percentile(samples: list[float], q: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, max(0, round(q * len(ordered)) - 1))]


async def time_search(url: str, queries: list[str], repeat: int) -> list[Timing]:
    from app.db import create_engine, create_sessionmaker
    from app.procedures import repository
    from app.procedures.repository import Filters

    engine = create_engine(url)
    sessionmaker = create_sessionmaker(engine)
    out = []
    try:
        async with sessionmaker() as session:
            for query in queries[:30]:  # warm: statements prepared, vocabulary read
                await repository.search(session, Filters(query=query), limit=LIMIT)
            for variant, batch in (("distinct", queries), ("hot", [HOT_QUERY] * repeat)):
                samples, totals, empty, corrected, partial = [], [], 0, 0, 0
                for query in batch:
                    started = time.perf_counter()
                    found = await repository.search(session, Filters(query=query), limit=LIMIT)
                    samples.append(time.perf_counter() - started)
                    totals.append(found.total)
                    empty += not found.items
                    corrected += found.corrected is not None
                    partial += found.partial
                out.append(
                    Timing(
                        engine.dialect.name if engine.dialect.name == "sqlite" else "postgres",
                        variant,
                        len(batch),
                        p50_ms=statistics.median(samples) * 1000,
                        p95_ms=percentile(samples, 0.95) * 1000,
                        mean_total=statistics.fmean(totals),
                        empty=empty / len(batch),
                        corrected=corrected / len(batch),
                        partial=partial / len(batch),
                    )
                )
            # The catalogue page without a query, and one field: the browse statements.
            for variant, filters in (
                ("browse", Filters()),
                ("browse-field", Filters(field="bench-dat-dai")),
            ):
                samples = []
                for offset in range(0, 200 * LIMIT, LIMIT):
                    started = time.perf_counter()
                    await repository.search(session, filters, limit=LIMIT, offset=offset % 2000)
                    samples.append(time.perf_counter() - started)
                out.append(
                    Timing(
                        out[0].database,
                        variant,
                        len(samples),
                        p50_ms=statistics.median(samples) * 1000,
                        p95_ms=percentile(samples, 0.95) * 1000,
                    )
                )
    finally:
        await engine.dispose()
    return out


# --------------------------------------------------------------------------------------------
# HTTP


def search_path(query: str) -> str:
    return f"/api/v1/procedures?q={quote_plus(query)}&limit={LIMIT}"


def measure_http(
    loaded: Loaded,
    queries: list[str],
    args: argparse.Namespace,
    workdir: Path,
    ceiling: harness.Result,
) -> list[harness.Result]:
    server = common.app_server(
        f"{loaded.size:,} procedures", loaded.database, loaded.url, args, workdir
    )
    port = server.port
    results = []
    try:
        server.start()
        hot = harness.Scenario(
            "search-hot",
            search_path(HOT_QUERY),
            target=HTTP_TARGET,
            note=f"'{HOT_QUERY}' asked by everyone: the shared response cache answers, "
            "revalidated by ETag",
        )
        results.append(harness.measure(hot, loaded.database, port, args, workdir))
        paths = [search_path(q) for q in queries]
        # More paths than the cache holds: the same queries, later pages.
        extra = 0
        while len(paths) < DISTINCT_PATHS:
            q = queries[extra % len(queries)]
            page = extra // len(queries) + 1
            paths.append(
                f"/api/v1/procedures?q={quote_plus(q)}&limit={LIMIT}&offset={page * LIMIT}"
            )
            extra += 1
        random.Random(args.seed + 7).shuffle(paths)
        results.append(
            common.measure_cycle(
                "search-distinct",
                loaded.database,
                port,
                paths,
                args,
                workdir,
                f"{len(paths):,} distinct queries and pages, more than the response cache holds: "
                "every request runs the search",
            )
        )
        for result in results:
            result.ratio = result.rps / ceiling.rps if result.requests else None
            if result.problems and not server.alive():
                result.problems.append(f"the server died:\n{server.log_tail()}")
    finally:
        server.stop()
    return results


# --------------------------------------------------------------------------------------------
# Output


def timing_table(timings: list[Timing], loads: list[Loaded]) -> str:
    loaded = {x.database: x for x in loads}
    header = [
        "database",
        "procedures",
        "terms",
        "load s",
        "search",
        "calls",
        "p50 ms",
        "p95 ms",
        "matches",
        "none",
        "corrected",
        "any-word",
    ]
    body = []
    for t in timings:
        x = loaded[t.database]
        first = t.variant == "distinct"
        searched = t.variant in ("distinct", "hot")
        body.append(
            [
                t.database if first else "",
                f"{x.size:,}" if first else "",
                f"{x.terms:,}" if first else "",
                f"{x.load_s:.1f}" if first else "",
                t.variant,
                f"{t.queries:,}",
                f"{t.p50_ms:.2f}",
                f"{t.p95_ms:.2f}",
                f"{t.mean_total:,.0f}" if searched else "",
                f"{t.empty:.0%}" if searched else "",
                f"{t.corrected:.0%}" if searched else "",
                f"{t.partial:.0%}" if searched else "",
            ]
        )
    widths = [max(len(row[i]) for row in [header, *body]) for i in range(len(header))]
    lines = [
        "  ".join(
            c.ljust(w) if i in (0, 4) else c.rjust(w)
            for i, (c, w) in enumerate(zip(r, widths, strict=True))
        ).rstrip()
        for r in [header, *body]
    ]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


# --------------------------------------------------------------------------------------------
# Main


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--db", choices=["sqlite", "postgres", "postgresql", "both"], default="both")
    p.add_argument("--size", type=int, default=20_000, help="synthetic procedures")
    p.add_argument("--queries", type=int, default=1000, help="distinct queries timed")
    p.add_argument("--repeat", type=int, default=300, help="calls of the one hot query")
    common.wrk_arguments(p)
    p.add_argument("--seed", type=int, default=2026, help="random seed of records and queries")
    p.add_argument(
        "--quick",
        action="store_true",
        help="a smoke test: 2,000 procedures, 200 queries, 2 s of wrk",
    )
    p.add_argument("--no-http", action="store_true", help="only the repository timings")
    common.closing_arguments(p)
    args = p.parse_args(argv)
    if args.db == "postgresql":
        args.db = "postgres"
    if args.quick:
        args.size, args.queries, args.repeat, args.duration, args.warmup = 2000, 200, 50, 2, 1
    if args.size < 100:
        p.error("--size must be at least 100")
    if args.queries < 10:
        p.error("--queries must be at least 10")
    common.check_http_arguments(p, args)
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    databases = ["sqlite", "postgres"] if args.db == "both" else [args.db]
    settings = ("size", "queries", "repeat", "duration", "connections", "threads", "seed")
    report = common.start(args, settings)
    check_records(random.Random(args.seed))
    queries = make_queries(args.queries, args.size, args.seed + 1)
    loads: list[Loaded] = []
    timings: list[Timing] = []
    http: list[harness.Result] = []
    errors: list[str] = []
    ceiling: harness.Result | None = None
    workdir = Path(tempfile.mkdtemp(prefix="citizenhub-procedures-bench-"))
    try:
        with contextlib.ExitStack() as outer:
            if args.keep_workdir:
                outer.callback(harness.log, f"kept {workdir}")
            else:
                outer.callback(shutil.rmtree, workdir, ignore_errors=True)
            if not args.no_http:
                ceiling = common.measure_ceiling(args, workdir)
            for database in databases:
                try:
                    with contextlib.ExitStack() as stack:  # drops this database at the end
                        loaded = prepare(database, args, workdir, stack)
                        loads.append(loaded)
                        harness.log(f"[{database}] {len(queries)} queries through the repository")
                        timings += asyncio.run(time_search(loaded.url, queries, args.repeat))
                        if ceiling is not None:
                            http += measure_http(loaded, queries, args, workdir, ceiling)
                except Exception as exc:  # report it, go on with the next one
                    errors.append(f"[{database}] {type(exc).__name__}: {exc}")
                    harness.log(f"[{database}] FAILED: {exc!r}")
    except harness.BenchError as exc:
        errors.append(str(exc))
    except KeyboardInterrupt:
        harness.log("interrupted; servers stopped, databases dropped, temporary files removed")
        return 130

    missed: list[str] = []
    if timings:
        print(
            f"\nrepository.search, limit {LIMIT}: {len(queries):,} distinct queries (a tenth with "
            f"a typo), then '{HOT_QUERY}' {args.repeat} times, then browsing 200 pages; one warm "
            "AsyncSession; ms per call"
        )
        print(timing_table(timings, loads))
    if ceiling is not None and http:
        for database in databases:
            rows = [r for r in http if r.database == database]
            if rows:
                title = (
                    f"\n{database}, {args.size:,} procedures: {args.duration:g} s per run, wrk "
                    f"{args.threads} threads, {args.connections} connections"
                )
                print(harness.table(title, [ceiling, *rows], database))
        missed += common.missed_targets(http)
    return common.finish(
        args,
        report,
        ceiling=ceiling,
        loads=loads,
        timings=timings,
        http=http,
        missed=missed,
        errors=errors,
    )


if __name__ == "__main__":
    sys.exit(main())
