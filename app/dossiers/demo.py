"""Demo dossiers over the demo procedures, in the statuses a visitor should see: one overdue, one
waiting for a supplement, one resumed after a supplement, one completed and rated, one just
received, one handed over (not yet rated), one refused, one on time. Their codes, phones and
PINs are fixed (DEMO_DOSSIERS) so the README and browser tests can look them up; their dates
follow the day the demo is loaded. Loading twice changes nothing; a dossier whose procedure is
not in the catalogue is skipped."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.models import User
from app.auth.passwords import Hasher
from app.calendar.service import DEFAULT_TIME_ZONE
from app.db import utcnow
from app.dossiers import repository as repo
from app.dossiers import service
from app.dossiers.models import ApplicantKind, Channel, Status
from app.dossiers.schemas import DossierIn

# Who the demo's desk and workers are (app.demo.loader.DEMO_ACCOUNTS).
RECEIVER_EMAIL = "staff@demo.citizenhub.vn"
WORKER_EMAIL = "manager@demo.citizenhub.vn"
CITIZEN_EMAIL = "citizen@demo.citizenhub.vn"


@dataclass(frozen=True)
class Step:
    """Something staff did `day` calendar days after receipt (at 10:00 local)."""

    day: int
    status: Status | None = None  # None: a note only
    note: str | None = None
    missing: tuple[str, ...] = ()
    internal: bool = False


@dataclass(frozen=True)
class DemoDossier:
    code: str
    procedure: str
    applicant_name: str
    phone: str  # the lookup takes its last four digits
    pin: str
    days_ago: int  # received this many days before the load (0: half an hour ago)
    story: str
    kind: ApplicantKind = ApplicantKind.person
    tax_code: str | None = None
    channel: Channel = Channel.in_person
    account: str | None = None  # the applicant's account, which follows it
    steps: tuple[Step, ...] = ()
    rating: tuple[int, str] | None = None
    address: str | None = None

    @property
    def phone_last4(self) -> str:
        return self.phone[-4:]


DEMO_DOSSIERS: tuple[DemoDossier, ...] = (
    DemoDossier(
        code="YB-DEMO-0001",
        procedure="2.000720",
        applicant_name="Nguyễn Thị Lan",
        phone="0912346789",
        pin="246810",
        days_ago=20,
        story="overdue (being processed past its due date)",
        account=CITIZEN_EMAIL,
        address="Tổ 3, phường Yên Bái",
        steps=(
            Step(1, Status.in_processing),
            Step(
                3,
                None,
                "Chờ phòng Tài chính - Kế hoạch xác nhận tên hộ kinh doanh.",
                internal=True,
            ),
        ),
    ),
    DemoDossier(
        code="YB-DEMO-0002",
        procedure="1.013225",
        applicant_name="Trần Văn Hùng",
        phone="0983571357",
        pin="135790",
        days_ago=6,
        story="waiting for a supplement (clock paused, missing items listed)",
        steps=(
            Step(1, Status.in_processing),
            Step(
                2,
                Status.needs_supplement,
                "Hồ sơ thiếu giấy tờ; thời hạn giải quyết tạm dừng đến khi nhận đủ.",
                missing=(
                    "Bản vẽ mặt bằng công trình trên lô đất có chữ ký của chủ hộ",
                    "Bản sao Giấy chứng nhận quyền sử dụng đất",
                ),
            ),
        ),
    ),
    DemoDossier(
        code="YB-DEMO-0003",
        procedure="1.001283",
        applicant_name="Hộ kinh doanh Quán Cơm Lan Anh",
        phone="0987654321",
        pin="864209",
        days_ago=40,
        story="completed and rated",
        kind=ApplicantKind.business,
        tax_code="5200123456",
        channel=Channel.online,
        account=CITIZEN_EMAIL,
        steps=(
            Step(1, Status.in_processing),
            Step(10, None, "Đoàn thẩm định sẽ kiểm tra cơ sở vào sáng thứ Tư."),
            Step(21, Status.completed, "Giấy chứng nhận đã ký; mời nhận tại Bộ phận một cửa."),
        ),
        rating=(5, "Cán bộ hướng dẫn tận tình, trả kết quả đúng hẹn."),
    ),
    DemoDossier(
        code="YB-DEMO-0004",
        procedure="2.000620",
        applicant_name="Công ty TNHH Thương mại Mường Lò",
        phone="02163852468",
        pin="112233",
        days_ago=0,
        story="just received",
        kind=ApplicantKind.business,
        tax_code="5200765432-001",
        channel=Channel.post,
    ),
    DemoDossier(
        code="YB-DEMO-0005",
        procedure="1.013229",
        applicant_name="Công ty Cổ phần Xây dựng Hồng Hà",
        phone="0967102030",
        pin="975310",
        days_ago=30,
        story="resumed after a supplement, being processed",
        kind=ApplicantKind.business,
        tax_code="5200111222",
        steps=(
            Step(1, Status.in_processing),
            Step(
                3,
                Status.needs_supplement,
                None,
                missing=("Báo cáo kết quả thẩm định thiết kế xây dựng",),
            ),
            Step(10, Status.supplement_received, "Đã nhận báo cáo thẩm định."),
            Step(11, Status.in_processing),
        ),
    ),
    DemoDossier(
        code="YB-DEMO-0006",
        procedure="1.004222",
        applicant_name="Lò Thị Mai",
        phone="0345678910",
        pin="202020",
        days_ago=25,
        story="result handed over, not yet rated",
        steps=(
            Step(1, Status.in_processing),
            Step(6, Status.completed),
            Step(8, Status.result_returned, "Công dân đã nhận kết quả."),
        ),
    ),
    DemoDossier(
        code="YB-DEMO-0007",
        procedure="2.000633",
        applicant_name="Hoàng Văn Tú",
        phone="0398765012",
        pin="707070",
        days_ago=15,
        story="refused, with the reason",
        steps=(
            Step(1, Status.in_processing),
            Step(
                5,
                Status.rejected,
                "Địa điểm kinh doanh nằm trong phạm vi 100 m quanh trường học, không đủ điều "
                "kiện bán lẻ sản phẩm thuốc lá.",
            ),
        ),
    ),
    DemoDossier(
        code="YB-DEMO-0008",
        procedure="1.012764",
        applicant_name="Vũ Đức Thắng",
        phone="0936224466",
        pin="808080",
        days_ago=2,
        story="being processed, on time",
        steps=(Step(1, Status.in_processing),),
    ),
)


async def _user(session: AsyncSession, email: str) -> User | None:
    return await session.scalar(select(User).where(User.email == email))


def _moment(received_at: datetime, day: int, zone: ZoneInfo, now: datetime) -> datetime:
    local = received_at.astimezone(zone).date() + timedelta(days=day)
    moment = datetime.combine(local, time(10, 0), tzinfo=zone).astimezone(now.tzinfo)
    return min(moment, now - timedelta(minutes=5))


async def load_demo(
    session: AsyncSession, hasher: Hasher, *, time_zone: str = DEFAULT_TIME_ZONE
) -> int:
    """Create the demo dossiers that are not there yet (is_demo); answers how many."""
    from app.procedures.service import by_code as procedure_by_code

    zone = ZoneInfo(time_zone)
    now = utcnow()
    receiver = await _user(session, RECEIVER_EMAIL)
    worker = await _user(session, WORKER_EMAIL)
    added = 0
    for item in DEMO_DOSSIERS:
        if await repo.by_code(session, item.code) is not None:
            continue
        if await procedure_by_code(session, item.procedure) is None:
            continue
        if item.days_ago == 0:
            received_at = now - timedelta(minutes=30)
        else:
            day = now.astimezone(zone).date() - timedelta(days=item.days_ago)
            received_at = datetime.combine(day, time(8, 30), tzinfo=zone).astimezone(now.tzinfo)
        account = await _user(session, item.account) if item.account else None
        done = await service.register(
            session,
            hasher,
            receiver,
            DossierIn(
                procedure_code=item.procedure,
                channel=item.channel,
                applicant_kind=item.kind,
                applicant_name=item.applicant_name,
                tax_code=item.tax_code,
                phone=item.phone,
                address=item.address,
                applicant_user_email=account.email if account else None,
                received_at=received_at,
            ),
            time_zone=time_zone,
            now=received_at,
            code=item.code,
            pin=item.pin,
            is_demo=True,
        )
        dossier = done.dossier
        last = received_at
        for step in item.steps:
            at = max(_moment(received_at, step.day, zone, now), last + timedelta(minutes=1))
            last = at
            if step.status is None:
                await service.add_note(
                    session,
                    worker,
                    dossier,
                    step.note or "",
                    internal=step.internal,
                    time_zone=time_zone,
                    now=at,
                )
            else:
                await service.change_status(
                    session,
                    worker,
                    dossier,
                    step.status,
                    note=step.note,
                    missing=step.missing,
                    internal=step.internal,
                    time_zone=time_zone,
                    now=at,
                )
        if item.rating is not None:
            await service.rate(
                session, dossier, *item.rating, now=min(now, last + timedelta(days=1))
            )
        added += 1
    await session.flush()
    return added
