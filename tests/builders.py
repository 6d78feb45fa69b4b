"""Plain async builders for test data."""

from __future__ import annotations

import itertools
from typing import Any

import httpx
from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.models import Role, User
from app.auth.passwords import Hasher
from app.org.models import Department

PASSWORD = "correct horse battery staple"
_hasher = Hasher(time_cost=1, memory_kib=8192, parallelism=1)
_hash_cache: dict[str, str] = {}
_seq = itertools.count(1)


async def password_hash(password: str) -> str:
    if password not in _hash_cache:
        _hash_cache[password] = await _hasher.hash(password)
    return _hash_cache[password]


async def create_department(
    session: AsyncSession, code: str | None = None, **kw: Any
) -> Department:
    n = next(_seq)
    department = Department(
        code=code or f"dept-{n}",
        name_vi=kw.get("name_vi", f"Phòng {n}"),
        name_en=kw.get("name_en", f"Department {n}"),
    )
    session.add(department)
    await session.flush()
    return department


async def create_user(
    session: AsyncSession,
    *,
    role: Role = Role.citizen,
    email: str | None = None,
    phone: str | None = None,
    password: str = PASSWORD,
    department: Department | None = None,
    full_name: str | None = "Nguyễn Văn An",
) -> User:
    n = next(_seq)
    if role is Role.staff and department is None:
        department = await create_department(session)
    user = User(
        email=email if email or phone else f"user{n}@example.vn",
        phone=phone,
        full_name=full_name,
        role=role.value,
        password_hash=await password_hash(password),
        department_id=department.id if department else None,
    )
    session.add(user)
    await session.flush()
    return user


async def login(
    client: httpx.AsyncClient, identifier: str, password: str = PASSWORD
) -> dict[str, Any]:
    response = await client.post(
        "/api/v1/auth/token", data={"username": identifier, "password": password}
    )
    assert response.status_code == 200, response.text
    return response.json()  # type: ignore[no-any-return]


def bearer(tokens: dict[str, Any] | str) -> dict[str, str]:
    token = tokens if isinstance(tokens, str) else tokens["access_token"]
    return {"Authorization": f"Bearer {token}"}


async def signed_in(
    client: httpx.AsyncClient, session: AsyncSession, role: Role, **kw: Any
) -> tuple[User, dict[str, str]]:
    user = await create_user(session, role=role, **kw)
    await session.commit()
    return user, bearer(await login(client, user.identifier))


async def create_service(
    session: AsyncSession,
    department: Department,
    code: str | None = None,
    **kw: Any,
) -> Any:
    from app.reports.models import Service

    n = next(_seq)
    service = Service(
        code=code or f"svc_{n}",
        name_vi=kw.pop("name_vi", f"Dịch vụ {n}"),
        name_en=kw.pop("name_en", f"Service {n}"),
        group=kw.pop("group", "roads_lighting"),
        kind=kw.pop("kind", "report"),
        department_id=department.id,
        deadline_value=kw.pop("deadline_value", 5),
        deadline_unit=kw.pop("deadline_unit", "working_days"),
        **kw,
    )
    session.add(service)
    await session.flush()
    return service


async def create_ward(
    session: AsyncSession, code: str, ring: list[list[float]], name: str = "Phường Thử"
) -> Any:
    from app.org.service import ward_from_ring

    ward = ward_from_ring(code, name, "ward", "Thành phố Yên Bái", ring)
    session.add(ward)
    await session.flush()
    return ward


def procedure_in(code: str = "2.000720", **overrides: Any) -> Any:
    """A valid procedure record (household-business registration), changed by `overrides`."""
    from app.procedures.schemas import ProcedureIn

    record: dict[str, Any] = {
        "code": code,
        "name": {"vi": "Đăng ký thành lập hộ kinh doanh", "en": "Registering a household business"},
        "field": {
            "code": "business-registration",
            "name": {
                "vi": "Thành lập và hoạt động của hộ kinh doanh",
                "en": "Household businesses",
            },
        },
        "agency": {
            "code": "commune-ppc",
            "name": {"vi": "Ủy ban nhân dân cấp xã", "en": "Commune People's Committee"},
        },
        "level": "commune",
        "online": "full",
        "channels": ["in_person", "post", "online"],
        "applicants": {
            "vi": "Cá nhân, thành viên hộ gia đình",
            "en": "Individuals, household members",
        },
        "steps": [
            {"vi": "Nộp hồ sơ tại Bộ phận một cửa", "en": "Lodge the dossier at the one-stop desk"},
            {"vi": "Nhận giấy chứng nhận", "en": "Collect the certificate"},
        ],
        "documents": [
            {
                "name": {"vi": "Giấy đề nghị đăng ký hộ kinh doanh", "en": "Application form"},
                "originals": 1,
                "copies": 0,
            },
            {
                "name": {"vi": "Bản sao căn cước công dân", "en": "Copy of the ID card"},
                "originals": 0,
                "copies": 1,
            },
        ],
        "processing_days": 3,
        "fees": [
            {"name": {"vi": "Lệ phí đăng ký", "en": "Registration fee"}, "amount_vnd": 100_000}
        ],
        "result": {
            "vi": "Giấy chứng nhận đăng ký hộ kinh doanh",
            "en": "Household business certificate",
        },
        "legal_basis": [
            {
                "number": "168/2025/NĐ-CP",
                "title": {"vi": "Nghị định về đăng ký doanh nghiệp"},
                "issued_on": "2025-06-30",
            }
        ],
        "updated_on": "2025-07-01",
    }
    record.update(overrides)
    return ProcedureIn.model_validate(record)


async def create_procedure(session: AsyncSession, code: str = "2.000720", **overrides: Any) -> Any:
    from app.procedures.service import save_procedure

    saved = await save_procedure(session, None, procedure_in(code, **overrides))
    return saved.procedure


async def create_dossier(
    session: AsyncSession,
    procedure: Any = None,
    *,
    actor: User | None = None,
    now: Any = None,
    time_zone: str = "Asia/Ho_Chi_Minh",
    **fields: Any,
) -> Any:
    """A dossier registered by service.register (for a new 3-working-day procedure unless one is
    given): service.Registered(dossier, pin). `fields` go to DossierIn (phone, received_at …)."""
    from app.dossiers import service
    from app.dossiers.schemas import DossierIn

    if procedure is None:
        procedure = await create_procedure(session, f"9.{next(_seq):06d}")
    data = DossierIn.model_validate(
        {
            "procedure_code": procedure.code,
            "applicant_name": "Nguyễn Văn An",
            "phone": "0912345678",
            **fields,
        }
    )
    return await service.register(session, _hasher, actor, data, time_zone=time_zone, now=now)
