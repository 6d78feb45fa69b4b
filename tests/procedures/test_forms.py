"""Form templates: staff of the implementing agency (or a manager) attach a PDF, Word, ODT or
Excel file, recognised by its bytes and refused past the size limit before the rest of the
upload is read; anyone downloads it (cached for good, its SHA-256 as ETag); staff remove it.
Every change is in the audit trail."""

from __future__ import annotations

import hashlib
import io
import zipfile
from collections.abc import AsyncIterator
from typing import Any
from urllib.parse import quote

import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.audit.models import AuditEntry
from app.auth.models import Role
from app.db import utcnow
from app.procedures import forms, repository
from app.procedures.models import ProcedureForm
from tests.builders import create_department, create_procedure, signed_in

PDF = b"%PDF-1.7\n1 0 obj\n<< /Type /Catalog >>\nendobj\ntrailer\n<< /Root 1 0 R >>\n%%EOF\n"
OLE = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 504


def zipped(files: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, content in files.items():
            archive.writestr(name, content)
    return buffer.getvalue()


DOCX = zipped({"[Content_Types].xml": b"<Types/>", "word/document.xml": b"<w:document/>"})
XLSX = zipped({"[Content_Types].xml": b"<Types/>", "xl/workbook.xml": b"<workbook/>"})
ODT = zipped({"mimetype": b"application/vnd.oasis.opendocument.text", "content.xml": b"<x/>"})
DOC = OLE + "WordDocument".encode("utf-16-le") + b"\x00" * 64
XLS = OLE + "Workbook".encode("utf-16-le") + b"\x00" * 64


async def agency_procedure(session: AsyncSession, code: str = "1.001193") -> tuple[Any, Any]:
    """A procedure whose agency belongs to a new department; that department."""
    department = await create_department(session)
    procedure = await create_procedure(
        session,
        code,
        agency={
            "code": f"agency-{department.code}",
            "name": {"vi": "UBND phường Hồng Hà"},
            "department_code": department.code,
        },
    )
    await session.commit()
    return procedure, department


async def upload(
    client: httpx.AsyncClient,
    code: str,
    headers: dict[str, str],
    content: bytes,
    filename: str = "mẫu.pdf",
    field: str = "file",
) -> httpx.Response:
    return await client.post(
        f"/api/v1/procedures/{code}/forms",
        headers=headers,
        files={field: (filename, content, "application/octet-stream")},
    )


@pytest.mark.parametrize(
    ("content", "name", "stored", "media_type"),
    [
        (PDF, "Tờ khai đăng ký khai sinh.pdf", "Tờ khai đăng ký khai sinh.pdf", "application/pdf"),
        (DOCX, "Mẫu 01.docx", "Mẫu 01.docx", forms.DOCX.media_type),
        (XLSX, "bảng kê.xlsx", "bảng kê.xlsx", forms.XLSX.media_type),
        (ODT, "don.odt", "don.odt", forms.ODT.media_type),
        (DOC, "don.doc", "don.doc", "application/msword"),
        (XLS, "bang.xls", "bang.xls", "application/vnd.ms-excel"),
        # Recognised by its bytes: the name is given the extension of what the file is.
        (PDF, "C:\\fakepath\\Mẫu 01.docx", "Mẫu 01.pdf", "application/pdf"),
        (DOCX, "../../đơn đề nghị", "đơn đề nghị.docx", forms.DOCX.media_type),
        (PDF, "mẫu 01.2025", "mẫu 01.2025.pdf", "application/pdf"),
    ],
)
async def test_staff_of_the_agency_attach_a_form_anyone_downloads(
    client: httpx.AsyncClient,
    session: AsyncSession,
    content: bytes,
    name: str,
    stored: str,
    media_type: str,
) -> None:
    procedure, department = await agency_procedure(session)
    staff, headers = await signed_in(client, session, Role.staff, department=department)
    response = await upload(client, procedure.code, headers, content, name)
    assert response.status_code == 201, response.text
    body = response.json()
    sha256 = hashlib.sha256(content).hexdigest()
    assert body["filename"] == stored and body["media_type"] == media_type
    assert body["size"] == len(content) and body["sha256"] == sha256
    assert body["url"] == f"/api/v1/procedure-forms/{body['id']}/{quote(stored)}"
    assert response.headers["location"] == body["url"]

    download = await client.get(body["url"])  # anonymous
    assert download.status_code == 200
    assert download.content == content
    assert download.headers["content-type"].startswith(media_type)
    assert download.headers["etag"] == f'"{sha256}"'
    assert "immutable" in download.headers["cache-control"]
    assert f"filename*=UTF-8''{quote(stored)}" in download.headers["content-disposition"]
    assert download.headers["content-disposition"].startswith("attachment;")
    again = await client.get(body["url"], headers={"If-None-Match": f'"{sha256}"'})
    assert again.status_code == 304 and not again.content

    entry = await session.scalar(
        select(AuditEntry).where(AuditEntry.action == "procedure.form_add")
    )
    assert entry is not None and entry.actor_id == staff.id
    assert entry.subject_id == procedure.id and entry.data["sha256"] == sha256


async def test_the_procedure_lists_its_forms_with_their_download_address(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    procedure, department = await agency_procedure(session)
    _staff, headers = await signed_in(client, session, Role.staff, department=department)
    first = (await upload(client, procedure.code, headers, PDF, "Tờ khai.pdf")).json()
    second = (await upload(client, procedure.code, headers, DOCX, "Tờ khai.docx")).json()
    detail = await repository.detail(session, procedure.code)
    assert detail is not None
    assert [f["id"] for f in detail["forms"]] == [first["id"], second["id"]]
    for form in detail["forms"]:
        assert (await client.get(form["url"])).status_code == 200


async def test_the_same_file_sent_twice_is_attached_once(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    procedure, department = await agency_procedure(session)
    _staff, headers = await signed_in(client, session, Role.staff, department=department)
    first = await upload(client, procedure.code, headers, PDF)
    again = await upload(client, procedure.code, headers, PDF)
    assert (first.status_code, again.status_code) == (201, 200)
    assert again.json()["id"] == first.json()["id"]
    stored = await session.scalars(
        select(ProcedureForm.id).where(ProcedureForm.procedure_id == procedure.id)
    )
    assert len(list(stored)) == 1


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        (b"\x89PNG\r\n\x1a\n" + b"\x00" * 100, "Send a PDF, Word"),
        (b"Name,Phone\nAn,0912\n", "Send a PDF, Word"),
        (zipped({"readme.txt": b"hello"}), "Send a PDF, Word"),
        (
            zipped(
                {
                    "[Content_Types].xml": b"<Types/>",
                    "word/document.xml": b"<w:document/>",
                    "word/vbaProject.bin": b"\x00",
                }
            ),
            "Documents with macros are not accepted.",
        ),
        (DOC + "_VBA_PROJECT".encode("utf-16-le"), "Documents with macros are not accepted."),
        (OLE + "PowerPoint Document".encode("utf-16-le"), "Send a PDF, Word"),
        (b"PK\x03\x04 not really a zip", "The file is damaged or incomplete."),
        (b"", "The file is empty."),
    ],
)
async def test_a_file_that_is_not_a_form_is_refused_by_its_bytes(
    client: httpx.AsyncClient, session: AsyncSession, content: bytes, reason: str
) -> None:
    procedure, department = await agency_procedure(session)
    _staff, headers = await signed_in(client, session, Role.staff, department=department)
    response = await upload(
        client, procedure.code, {**headers, "Accept-Language": "en"}, content, "form.pdf"
    )
    assert response.status_code == 422, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    errors = response.json()["errors"]
    assert errors[0]["field"] == "file" and errors[0]["reason"].startswith(reason)
    assert await session.scalar(select(ProcedureForm.id)) is None


async def test_an_upload_without_the_file_field_is_refused(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    procedure, department = await agency_procedure(session)
    _staff, headers = await signed_in(client, session, Role.staff, department=department)
    other = await upload(client, procedure.code, headers, PDF, field="document")
    assert other.status_code == 422 and other.json()["errors"][0]["field"] == "file"
    as_json = await client.post(
        f"/api/v1/procedures/{procedure.code}/forms", headers=headers, json={"file": "x"}
    )
    assert as_json.status_code == 422


class Body:
    """A request body sent in chunks, counting how much of it the server asked for."""

    def __init__(self, size: int, chunk: int = 1024) -> None:
        self.size, self.chunk, self.sent = size, chunk, 0

    async def stream(self, head: bytes, tail: bytes) -> AsyncIterator[bytes]:
        yield head
        self.sent += len(head)
        while self.sent < self.size:
            yield b"\x00" * self.chunk
            self.sent += self.chunk
        yield tail


def multipart(filename: str = "big.pdf") -> tuple[str, bytes, bytes]:
    boundary = "test-boundary-7MA4YWxkTrZu0gW"
    head = (
        f"--{boundary}\r\n"
        f'Content-Disposition: form-data; name="file"; filename="{filename}"\r\n'
        "Content-Type: application/pdf\r\n\r\n"
    ).encode() + PDF
    tail = f"\r\n--{boundary}--\r\n".encode()
    return f"multipart/form-data; boundary={boundary}", head, tail


async def test_a_form_over_the_limit_is_refused_before_its_body_is_read(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    procedure, department = await agency_procedure(session)
    _staff, headers = await signed_in(client, session, Role.staff, department=department)
    content_type, head, tail = multipart()
    body = Body(forms.MAX_FORM_BYTES + 1024 * 1024)
    declared = str(body.size + len(tail))
    response = await client.post(
        f"/api/v1/procedures/{procedure.code}/forms",
        headers={**headers, "Content-Type": content_type, "Content-Length": declared},
        content=body.stream(head, tail),
    )
    assert response.status_code == 413, response.text
    assert response.json()["errors"][0]["field"] == "file"
    assert body.sent <= len(head)  # nothing past the first chunk was asked for
    assert await session.scalar(select(ProcedureForm.id)) is None


async def test_a_streamed_form_over_the_limit_is_cut_off_as_it_arrives(
    client: httpx.AsyncClient, session: AsyncSession, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Without Content-Length (chunked), the bytes are counted as they come."""
    monkeypatch.setattr(forms, "MAX_FORM_BYTES", 64 * 1024)
    procedure, department = await agency_procedure(session)
    _staff, headers = await signed_in(client, session, Role.staff, department=department)
    content_type, head, tail = multipart()
    body = Body(10 * 1024 * 1024)
    response = await client.post(
        f"/api/v1/procedures/{procedure.code}/forms",
        headers={**headers, "Content-Type": content_type},
        content=body.stream(head, tail),
    )
    assert response.status_code == 413, response.text
    assert body.sent < 64 * 1024 + forms.MULTIPART_OVERHEAD + 4096
    assert await session.scalar(select(ProcedureForm.id)) is None

    # Just under the limit is fine.
    small = Body(60 * 1024)
    response = await client.post(
        f"/api/v1/procedures/{procedure.code}/forms",
        headers={**headers, "Content-Type": content_type},
        content=small.stream(head, tail),
    )
    assert response.status_code == 201, response.text
    assert response.json()["size"] == small.sent - len(head) + len(PDF)


async def test_only_staff_of_the_agency_or_a_manager_attach_and_remove_forms(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    procedure, department = await agency_procedure(session)
    _citizen, as_citizen = await signed_in(client, session, Role.citizen)
    _other, as_other_staff = await signed_in(client, session, Role.staff)
    manager, as_manager = await signed_in(client, session, Role.manager)
    _staff, as_staff = await signed_in(client, session, Role.staff, department=department)

    assert (await upload(client, procedure.code, {}, PDF)).status_code == 401
    assert (await upload(client, procedure.code, as_citizen, PDF)).status_code == 403
    refused = await upload(client, procedure.code, as_other_staff, PDF)
    assert refused.status_code == 403
    assert refused.headers["content-type"].startswith("application/problem+json")
    assert (await upload(client, "9.999999", as_staff, PDF)).status_code == 404

    form = (await upload(client, procedure.code, as_manager, PDF)).json()
    path = f"/api/v1/procedure-forms/{form['id']}"
    assert (await client.delete(path)).status_code == 401
    assert (await client.delete(path, headers=as_citizen)).status_code == 403
    assert (await client.delete(path, headers=as_other_staff)).status_code == 403
    assert (await client.get(form["url"])).status_code == 200  # still there

    assert (await client.delete(path, headers=as_staff)).status_code == 204
    assert (await client.get(form["url"])).status_code == 404
    assert (await client.delete(path, headers=as_staff)).status_code == 404
    actions = [
        (e.action, e.actor_id)
        for e in await session.scalars(select(AuditEntry).order_by(AuditEntry.id))
        if e.action.startswith("procedure.form_")
    ]
    assert actions == [("procedure.form_add", manager.id), ("procedure.form_remove", _staff.id)]


async def test_a_form_is_not_served_under_another_name_or_once_its_procedure_retired(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    procedure, department = await agency_procedure(session)
    _staff, headers = await signed_in(client, session, Role.staff, department=department)
    form = (await upload(client, procedure.code, headers, PDF, "to-khai.pdf")).json()
    assert (await client.get(f"/api/v1/procedure-forms/{form['id']}/khac.pdf")).status_code == 404
    assert (await client.get("/api/v1/procedure-forms/2147483647/to-khai.pdf")).status_code == 404
    procedure.retired_at = utcnow()
    await session.commit()
    assert (await client.get(form["url"])).status_code == 404


async def test_a_procedure_holds_a_bounded_number_of_forms(
    client: httpx.AsyncClient, session: AsyncSession, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(forms, "MAX_FORMS_PER_PROCEDURE", 2)
    procedure, department = await agency_procedure(session)
    _staff, headers = await signed_in(client, session, Role.staff, department=department)
    for n in range(2):
        assert (await upload(client, procedure.code, headers, PDF + bytes([n]))).status_code == 201
    third = await upload(client, procedure.code, headers, PDF + b"\x02")
    assert third.status_code == 422


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        (None, "form.pdf"),
        ("   ", "form.pdf"),
        ("/etc/passwd", "passwd.pdf"),
        ('a"b<c>.pdf', "a_b_c_.pdf"),
        ("tờ\u0000khai\u202e.pdf", "tờkhai.pdf"),
        ("x" * 300 + ".pdf", "x" * 150 + ".pdf"),
        ("Mẫu 01.PDF", "Mẫu 01.pdf"),
    ],
)
def test_clean_filenames(name: str | None, expected: str) -> None:
    assert forms.clean_filename(name, forms.PDF) == expected
