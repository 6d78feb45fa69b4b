"""The demo province: Yên Bái's departments, wards and communes, and one account per role.
Domain issues add their own demo data here. Loading twice changes nothing."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.models import Consent, Role, User
from app.auth.passwords import Hasher
from app.config import Settings
from app.db import utcnow
from app.org import repository as org_repo
from app.org.models import Department
from app.org.service import ward_from_ring

DATA_FILE = Path(__file__).with_name("data") / "yen_bai.json"
DEMO_PASSWORD = "Demo-YenBai-2026"  # noqa: S105 - printed for the demo, development only
DEMO_ACCOUNTS: list[tuple[str, Role, str | None, str]] = [
    ("citizen@demo.citizenhub.vn", Role.citizen, None, "Nguyễn Thị Lan"),
    ("staff@demo.citizenhub.vn", Role.staff, "urban", "Trần Văn Minh"),
    ("manager@demo.citizenhub.vn", Role.manager, "urban", "Lê Thu Hà"),
    ("admin@demo.citizenhub.vn", Role.admin, None, "Phạm Quốc Huy"),
]


@dataclass
class LoadReport:
    created: dict[str, int] = field(default_factory=dict)

    def add(self, kind: str, n: int = 1) -> None:
        self.created[kind] = self.created.get(kind, 0) + n


def read_data() -> dict[str, Any]:
    return json.loads(DATA_FILE.read_text(encoding="utf-8"))


async def load_demo(session: AsyncSession, hasher: Hasher, settings: Settings) -> LoadReport:
    report = LoadReport()
    data = read_data()
    departments: dict[str, Department] = {}
    for item in data["departments"]:
        department = await org_repo.department_by_code(session, item["code"])
        if department is None:
            department = Department(
                code=item["code"], name_vi=item["name_vi"], name_en=item["name_en"]
            )
            session.add(department)
            report.add("departments")
        departments[item["code"]] = department
    for item in data["wards"]:
        if await org_repo.ward_by_code(session, item["code"]) is None:
            session.add(
                ward_from_ring(
                    item["code"], item["name"], item["kind"], item["district"], item["polygon"]
                )
            )
            report.add("wards")
    await session.flush()
    password_hash: str | None = None
    for email, role, department_code, name in DEMO_ACCOUNTS:
        exists = await session.scalar(select(User.id).where(User.email == email))
        if exists:
            continue
        password_hash = password_hash or await hasher.hash(DEMO_PASSWORD)
        user = User(
            email=email,
            full_name=name,
            role=role.value,
            password_hash=password_hash,
            department_id=departments[department_code].id if department_code else None,
        )
        session.add(user)
        await session.flush()
        session.add(
            Consent(
                user_id=user.id,
                document="privacy_notice",
                version=settings.privacy_notice_version,
                accepted_at=utcnow(),
            )
        )
        report.add("accounts")
    await session.flush()
    await _load_reports(session, settings, report)
    await _load_alerts(session, report)
    await _load_visitor_guide(session, report)
    await _load_business(session, hasher, settings, report)
    return report


async def _load_business(
    session: AsyncSession, hasher: Hasher, settings: Settings, load: LoadReport
) -> None:
    """The procedure catalogue and life events, then dossiers that follow them."""
    from app.procedures.demo import load_demo as load_procedures

    if added := await load_procedures(session):
        load.add("procedures and life events", added)
    from app.dossiers.demo import load_demo as load_dossiers

    if added := await load_dossiers(session, hasher, time_zone=settings.time_zone):
        load.add("dossiers", added)


async def _load_visitor_guide(session: AsyncSession, load: LoadReport) -> None:
    """Places first: events and tourist information points name them."""
    from app.events.demo import load_demo as load_events
    from app.places.demo import load_demo as load_places
    from app.practical.demo import load_demo as load_help

    if added := await load_places(session):
        load.add("places", added)
    if added := await load_help(session):
        load.add("help contacts and guides", added)
    if added := await load_events(session):
        load.add("events", added)


DEMO_REPORTS = [
    # service, description, lat, lon, address, final status, staff note
    (
        "street_light",
        "Ba cột đèn trên đường Nguyễn Thái Học tắt từ tối thứ Hai.",
        21.7101,
        104.8731,
        "Đường Nguyễn Thái Học, gần chợ",
        "in_progress",
        "Đội điện chiếu sáng sẽ thay bóng trong tuần.",
    ),
    (
        "pothole",
        "Ổ gà sâu khoảng 20 cm ngay trước cổng trường tiểu học.",
        21.6962,
        104.8829,
        "Cổng trường Tiểu học Hồng Hà",
        "acknowledged",
        None,
    ),
    (
        "illegal_dumping",
        "Có người đổ trộm xà bần ven suối.",
        21.6012,
        104.5102,
        "Bờ suối Thia, phường Trung Tâm",
        "resolved",
        "Đã thu dọn 3 xe xà bần và lắp biển cấm.",
    ),
    (
        "flooded_road",
        "Nước ngập qua đầu gối, xe máy không đi được.",
        21.8501,
        104.0896,
        "Quốc lộ 32 qua thị trấn Mù Cang Chải",
        "submitted",
        None,
    ),
    (
        "uncollected_rubbish",
        "Rác chưa được thu gom ba ngày nay.",
        21.7098,
        104.8898,
        "Tổ 5, phường Yên Ninh",
        "submitted",
        None,
    ),
]


async def _load_reports(session: AsyncSession, settings: Settings, load: LoadReport) -> None:
    """The catalogue of about 25 services, response templates, and a few cases in motion."""
    from app.reports import repository as reports_repo
    from app.reports import service as reports_service
    from app.reports.models import ResponseTemplate, Status
    from app.reports.schemas import ReportIn, ServiceIn, TemplateIn

    catalogue = json.loads((DATA_FILE.parent / "report_services.json").read_text(encoding="utf-8"))
    for item in catalogue["services"]:
        if await reports_repo.service_by_code(session, item["code"]) is None:
            await reports_service.save_service(session, ServiceIn(**item))
            load.add("services")
    if not (await session.execute(select(ResponseTemplate.id).limit(1))).first():
        for item in catalogue["response_templates"]:
            await reports_service.create_template(session, TemplateIn(**item))
            load.add("response templates")
    if (await reports_repo.public_rows(session, limit=1, public_only=False))[0]:
        return
    citizen = await session.scalar(select(User).where(User.email == DEMO_ACCOUNTS[0][0]))
    staff = await session.scalar(select(User).where(User.email == DEMO_ACCOUNTS[2][0]))  # manager
    resident = reports_service.Actor(user=citizen)
    worker = reports_service.Actor(user=staff)
    steps = [Status.acknowledged, Status.in_progress, Status.resolved]
    for code, text, lat, lon, address, final, note in DEMO_REPORTS:
        service = await reports_repo.service_by_code(session, code)
        attributes = {}
        if service is not None:
            for attribute in (await reports_repo.attributes_of(session, [service.id]))[service.id]:
                if attribute.required:
                    attributes[attribute.code] = (
                        attribute.values[0]["key"]
                        if attribute.values
                        else (30 if attribute.datatype == "number" else "—")
                    )
        done = await reports_service.submit(
            session,
            settings,
            resident,
            ReportIn(
                service_code=code,
                description=text,
                lat=lat,
                lon=lon,
                address=address,
                attributes=attributes,
            ),
        )
        target = Status(final)
        for step in steps:
            if target is Status.submitted or steps.index(step) > steps.index(target):
                break
            await reports_service.change_status(
                session,
                worker,
                done.report,
                step,
                note if step is target else None,
                proof_photos=[await _demo_photo(settings)] if step is Status.resolved else None,
            )
        load.add("reports")


DEMO_ALERTS: list[dict[str, Any]] = [
    # hours: when it was sent (negative: in the past) and when it expires, from now.
    {
        "severity": "warning",
        "title_vi": "Cảnh báo lũ quét trên suối Nậm Kim",
        "body_vi": "Mưa rất to kéo dài, nước suối Nậm Kim đang lên nhanh. Không qua ngầm, tràn; "
        "các hộ ven suối chuẩn bị di dời khi có hiệu lệnh của xã.",
        "title_en": "Flash flood warning on the Nậm Kim stream",
        "body_en": "Heavy rain continues and the Nậm Kim stream is rising fast. Do not cross "
        "fords; households by the stream should be ready to leave when the commune says so.",
        "wards": ["mu-cang-chai", "la-pan-tan", "che-cu-nha"],
        "sent": -3,
        "expires": 45,
    },
    {
        "severity": "warning",
        "title_vi": "Nguy cơ sạt lở đất tại Trạm Tấu",
        "body_vi": "Đất đá có thể sạt xuống Tỉnh lộ 174. Hạn chế đi lại vào ban đêm.",
        "title_en": "Landslide risk in Trạm Tấu",
        "body_en": "Rocks may fall onto provincial road 174. Avoid travelling at night.",
        "wards": ["tram-tau"],
        "sent": -24 * 6,
        "expires": -24 * 4,
    },
    {
        "severity": "announcement",
        "title_vi": "Diễn tập ứng phó thiên tai toàn tỉnh",
        "body_vi": "Sáng thứ Bảy, 8 giờ: diễn tập phòng chống lụt bão và tìm kiếm cứu nạn. "
        "Còi báo động sẽ vang trong 5 phút; đây không phải tình huống thật.",
        "title_en": "Province-wide disaster drill",
        "body_en": "Saturday 8:00: flood and rescue drill. Sirens will sound for five minutes; "
        "this is not a real emergency.",
        "wards": None,
        "sent": -20,
        "expires": 24 * 5,
    },
]


async def _load_alerts(session: AsyncSession, load: LoadReport) -> None:
    """A flood warning in force, an expired landslide warning, an announcement: published as
    sent (nothing is queued for push: the demo must not notify anyone)."""
    from datetime import timedelta

    from app.alerts.models import Alert

    if (await session.execute(select(Alert.id).limit(1))).first():
        return
    manager = await session.scalar(select(User).where(User.email == DEMO_ACCOUNTS[2][0]))
    now = utcnow()
    for item in DEMO_ALERTS:
        sent_at = now + timedelta(hours=item["sent"])
        wards = [await org_repo.ward_by_code(session, code) for code in item["wards"] or []]
        session.add(
            Alert(
                severity=item["severity"],
                status="sent",
                title_vi=item["title_vi"],
                body_vi=item["body_vi"],
                title_en=item["title_en"],
                body_en=item["body_en"],
                whole_province=item["wards"] is None,
                wards=[w for w in wards if w is not None],
                expires_at=now + timedelta(hours=item["expires"]),
                created_by_id=manager.id if manager else None,
                sent_by_id=manager.id if manager else None,
                created_at=sent_at - timedelta(minutes=10),
                updated_at=sent_at,
                sent_at=sent_at,
            )
        )
        load.add("alerts")
    await session.flush()


async def _demo_photo(settings: Settings) -> Any:
    """A generated 'after' photo (the demo ships no binary files)."""
    import io

    from PIL import Image, ImageDraw

    from app.photos import ingest_photo

    image = Image.new("RGB", (1200, 900), (96, 140, 80))
    draw = ImageDraw.Draw(image)
    for y in range(0, 900, 6):
        draw.line([(0, y), (1200, y + 120)], fill=(90 + y // 12, 150, 90), width=3)
    draw.rectangle([420, 330, 780, 570], fill=(230, 230, 220))
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=80)
    return await ingest_photo(settings, buffer.getvalue(), field="photos")


def print_demo_credentials() -> None:
    from rich.console import Console
    from rich.table import Table

    table = Table(title="Demo accounts (development only)")
    table.add_column("role")
    table.add_column("sign in with")
    table.add_column("password")
    for email, role, department, _name in DEMO_ACCOUNTS:
        label = f"{role.value} ({department})" if department else role.value
        table.add_row(label, email, DEMO_PASSWORD)
    Console(stderr=True).print(table)
