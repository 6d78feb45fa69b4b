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
    return report


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
