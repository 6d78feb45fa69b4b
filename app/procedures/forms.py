"""Form templates (mẫu đơn, tờ khai) that staff attach to a procedure, served for download.

The upload is read as it streams in and refused (413) as soon as it passes MAX_FORM_BYTES, or at
once when Content-Length already says so: the body is never held beyond the limit. A file is
recognised by its bytes, not its name: PDF, Word (DOC, DOCX), OpenDocument text (ODT) and Excel
(XLS, XLSX); Office documents with macros are refused. The stored name keeps what
the person called it, with the extension of what it really is."""

from __future__ import annotations

import hashlib
import io
import re
import unicodedata
import zipfile
from dataclasses import dataclass
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Path, Request
from fastapi.responses import JSONResponse, Response
from python_multipart.multipart import MultipartParser, parse_options_header
from sqlalchemy import func, select

from app.audit import service as audit
from app.auth.deps import StaffUser
from app.db import SessionDep
from app.errors import InvalidInput, NotFound, PayloadTooLarge
from app.kit.i18n import format_number
from app.kit.i18n import gettext as _
from app.kit.text import nfc
from app.procedures import service
from app.procedures.models import Agency, Procedure, ProcedureForm

router = APIRouter(prefix="/api/v1", tags=["procedures"])

MAX_FORM_BYTES = 5 * 1024 * 1024
# Room for the multipart boundaries and part headers around the file.
MULTIPART_OVERHEAD = 16 * 1024
MAX_FORMS_PER_PROCEDURE = 20
FIELD = "file"
IMMUTABLE = "public, max-age=31536000, immutable"


@dataclass(frozen=True, slots=True)
class FormKind:
    extension: str
    media_type: str


PDF = FormKind("pdf", "application/pdf")
DOC = FormKind("doc", "application/msword")
DOCX = FormKind("docx", "application/vnd.openxmlformats-officedocument.wordprocessingml.document")
ODT = FormKind("odt", "application/vnd.oasis.opendocument.text")
XLS = FormKind("xls", "application/vnd.ms-excel")
XLSX = FormKind("xlsx", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
KINDS = (PDF, DOC, DOCX, ODT, XLS, XLSX)
EXTENSIONS = {k.extension for k in KINDS}

_OLE = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # Compound File Binary (DOC, XLS)
_ZIP = b"PK\x03\x04"  # DOCX, XLSX, ODT


def _utf16(name: str) -> bytes:
    return name.encode("utf-16-le")


class Refused(Exception):
    """The file is of a kind we do not accept; the message says why."""


def recognise(data: bytes) -> FormKind:
    """What the file is, from its bytes. Refused when it is none of KINDS, or carries
    macros."""
    if data.startswith(b"%PDF-"):
        return PDF
    if data.startswith(_OLE):
        if _utf16("_VBA_PROJECT") in data or _utf16("Macros") in data:
            raise Refused(_("Documents with macros are not accepted."))
        if _utf16("WordDocument") in data:
            return DOC
        if _utf16("Workbook") in data or _utf16("Book\x00") in data:
            return XLS
    elif data.startswith(_ZIP):
        try:
            with zipfile.ZipFile(io.BytesIO(data)) as archive:
                names = set(archive.namelist())
                if any(n.lower().endswith("vbaproject.bin") for n in names):
                    raise Refused(_("Documents with macros are not accepted."))
                mimetype = archive.getinfo("mimetype") if "mimetype" in names else None
                if (
                    mimetype is not None
                    and mimetype.file_size < 100
                    and archive.read(mimetype).strip() == ODT.media_type.encode()
                ):
                    return ODT
                if "[Content_Types].xml" in names and "word/document.xml" in names:
                    return DOCX
                if "[Content_Types].xml" in names and "xl/workbook.xml" in names:
                    return XLSX
        except (zipfile.BadZipFile, OSError, RuntimeError, NotImplementedError) as exc:
            raise Refused(_("The file is damaged or incomplete.")) from exc
    raise Refused(_("Send a PDF, Word (DOC, DOCX), OpenDocument (ODT) or Excel (XLS, XLSX) file."))


_UNSAFE = re.compile(r'["\\/<>:|?*]')


def clean_filename(name: str | None, kind: FormKind) -> str:
    """The name the person gave the file (no folders, no control characters), ending in the
    extension of what it really is."""
    name = (name or "").replace("\\", "/").rsplit("/", 1)[-1]
    name = "".join(c for c in nfc(name) if not unicodedata.category(c).startswith("C"))
    name = _UNSAFE.sub("_", name).strip(" .")
    stem, dot, extension = name.rpartition(".")
    if not dot:
        stem, extension = name, ""
    if extension.lower() not in EXTENSIONS and extension:
        stem = name  # "mẫu 01.2025" keeps its dot
    stem = stem.strip(" .")[:150] or "form"
    return f"{stem}.{kind.extension}"


def form_url(form: ProcedureForm) -> str:
    return f"/api/v1/procedure-forms/{form.id}/{quote(form.filename)}"


def view(form: ProcedureForm) -> dict[str, Any]:
    return {
        "id": form.id,
        "filename": form.filename,
        "size": form.size,
        "media_type": form.media_type,
        "sha256": form.sha256,
        "url": form_url(form),
    }


def _too_large() -> PayloadTooLarge:
    size = format_number(round(MAX_FORM_BYTES / (1024 * 1024), 1))
    message = _("A form may be at most %(size)s MB.", size=size)
    return PayloadTooLarge(message, errors=[{"field": FIELD, "in": "body", "reason": message}])


def _invalid(message: str) -> InvalidInput:
    return InvalidInput(message, errors=[{"field": FIELD, "in": "body", "reason": message}])


class _FilePart:
    """Collects the `file` part of a multipart body as it streams in, within MAX_FORM_BYTES."""

    def __init__(self) -> None:
        self.data = bytearray()
        self.filename: str | None = None
        self.found = False
        self._current = False
        self._headers: dict[bytes, bytes] = {}
        self._field = b""
        self._value = b""

    def on_part_begin(self) -> None:
        self._headers, self._current = {}, False

    def on_header_field(self, data: bytes, start: int, end: int) -> None:
        self._field += data[start:end]

    def on_header_value(self, data: bytes, start: int, end: int) -> None:
        self._value += data[start:end]

    def on_header_end(self) -> None:
        self._headers[self._field.lower()] = self._value
        self._field = self._value = b""

    def on_headers_finished(self) -> None:
        disposition = self._headers.get(b"content-disposition", b"")
        _kind, options = parse_options_header(disposition)
        if options.get(b"name") == FIELD.encode() and not self.found:
            self._current = True
            raw = options.get(b"filename")
            self.filename = raw.decode("utf-8", "replace") if raw is not None else None

    def on_part_data(self, data: bytes, start: int, end: int) -> None:
        if self._current:
            if len(self.data) + (end - start) > MAX_FORM_BYTES:
                raise _too_large()
            self.data += data[start:end]

    def on_part_end(self) -> None:
        if self._current:
            self.found, self._current = True, False


async def read_upload(request: Request) -> tuple[bytes, str | None]:
    """The bytes and name of the `file` field, read as the body streams in: refused (413) when
    Content-Length or the bytes received pass the limit, before any more is read."""
    declared = request.headers.get("content-length")
    if declared is not None and (
        not declared.isdigit() or int(declared) > MAX_FORM_BYTES + MULTIPART_OVERHEAD
    ):
        raise _too_large()
    media_type, options = parse_options_header(request.headers.get("content-type"))
    boundary = options.get(b"boundary")
    if media_type != b"multipart/form-data" or not boundary:
        raise _invalid(_("Send the form as multipart/form-data, the file in the field “file”."))
    part = _FilePart()
    parser = MultipartParser(
        boundary,
        {
            "on_part_begin": part.on_part_begin,
            "on_header_field": part.on_header_field,
            "on_header_value": part.on_header_value,
            "on_header_end": part.on_header_end,
            "on_headers_finished": part.on_headers_finished,
            "on_part_data": part.on_part_data,
            "on_part_end": part.on_part_end,
        },
    )
    received = 0
    try:
        async for chunk in request.stream():
            received += len(chunk)
            if received > MAX_FORM_BYTES + MULTIPART_OVERHEAD:
                raise _too_large()
            parser.write(chunk)
        parser.finalize()
    except (PayloadTooLarge, InvalidInput):
        raise
    except Exception as exc:  # the multipart parser's errors
        raise _invalid(_("The upload could not be read: the request is damaged.")) from exc
    if not part.found:
        raise _invalid(_("Attach the form in the field “file”."))
    if not part.data:
        raise _invalid(_("The file is empty."))
    return bytes(part.data), part.filename


async def _procedure_and_agency(session: Any, code: str) -> tuple[Procedure, Agency | None]:
    procedure = await service.get(session, code)
    return procedure, await session.get(Agency, procedure.agency_id)


@router.post(
    "/procedures/{procedure_code}/forms",
    status_code=201,
    summary="Attach a form template to a procedure (staff of its agency, managers)",
    description="multipart/form-data with the file in the field `file`: PDF, DOC, DOCX, ODT, "
    f"XLS or XLSX, recognised by its bytes; at most {MAX_FORM_BYTES // (1024 * 1024)} MB "
    "(413 beyond, before the rest is read). The same file sent again answers 200 with the "
    "template already attached.",
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {
                "multipart/form-data": {
                    "schema": {
                        "type": "object",
                        "required": [FIELD],
                        "properties": {FIELD: {"type": "string", "format": "binary"}},
                    }
                }
            },
        }
    },
)
async def upload(
    request: Request,
    session: SessionDep,
    user: StaffUser,
    procedure_code: Annotated[str, Path(max_length=30)],
) -> JSONResponse:
    procedure, agency = await _procedure_and_agency(session, procedure_code)
    service.check_may_edit(user, agency)
    data, name = await read_upload(request)
    try:
        kind = recognise(data)
    except Refused as exc:
        raise _invalid(str(exc)) from exc
    filename = clean_filename(name, kind)
    sha256 = hashlib.sha256(data).hexdigest()
    same = await session.scalar(
        select(ProcedureForm).where(
            ProcedureForm.procedure_id == procedure.id,
            ProcedureForm.sha256 == sha256,
            ProcedureForm.filename == filename,
        )
    )
    if same is not None:
        return JSONResponse(view(same), status_code=200, headers={"Location": form_url(same)})
    count = await session.scalar(
        select(func.count()).where(ProcedureForm.procedure_id == procedure.id)
    )
    if (count or 0) >= MAX_FORMS_PER_PROCEDURE:
        raise _invalid(
            _("A procedure may have at most %(n)s form templates.", n=MAX_FORMS_PER_PROCEDURE)
        )
    form = ProcedureForm(
        procedure_id=procedure.id,
        filename=filename,
        media_type=kind.media_type,
        size=len(data),
        sha256=sha256,
        content=data,
        created_by_id=user.id,
    )
    session.add(form)
    await session.flush()
    await audit.record(
        session,
        user.id,
        "procedure.form_add",
        service.SUBJECT,
        procedure.id,
        form_id=form.id,
        filename=filename,
        size=form.size,
        sha256=sha256,
    )
    return JSONResponse(view(form), status_code=201, headers={"Location": form_url(form)})


def _disposition(filename: str) -> str:
    ascii_name = (
        unicodedata.normalize("NFKD", filename).encode("ascii", "ignore").decode().replace('"', "")
        or "form"
    )
    return f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(filename)}"


@router.get(
    "/procedure-forms/{form_id}/{filename}",
    summary="Download a form template",
    description="The file as uploaded. Its address changes with its content: cached for a "
    "year (immutable); the ETag is the file's SHA-256.",
    response_class=Response,
    responses={200: {"content": {k.media_type: {} for k in KINDS}}, 304: {}},
)
async def download(
    request: Request,
    session: SessionDep,
    form_id: Annotated[int, Path(ge=1, le=2_147_483_647)],
    filename: str,
) -> Response:
    row = (
        await session.execute(
            select(
                ProcedureForm.filename,
                ProcedureForm.media_type,
                ProcedureForm.sha256,
                Procedure.retired_at,
            )
            .join(Procedure, Procedure.id == ProcedureForm.procedure_id)
            .where(ProcedureForm.id == form_id)
        )
    ).first()
    if row is None or row.filename != filename or row.retired_at is not None:
        raise NotFound(_("There is no such form template."))
    etag = f'"{row.sha256}"'
    headers = {
        "ETag": etag,
        "Cache-Control": IMMUTABLE,
        "Content-Disposition": _disposition(row.filename),
    }
    if etag in request.headers.get("if-none-match", ""):
        return Response(status_code=304, headers=headers)
    content = await session.scalar(select(ProcedureForm.content).where(ProcedureForm.id == form_id))
    return Response(content, media_type=row.media_type, headers=headers)


@router.delete(
    "/procedure-forms/{form_id}",
    status_code=204,
    summary="Remove a form template (staff of the procedure's agency, managers)",
)
async def delete(
    session: SessionDep,
    user: StaffUser,
    form_id: Annotated[int, Path(ge=1, le=2_147_483_647)],
) -> Response:
    form = await session.get(ProcedureForm, form_id)
    if form is None:
        raise NotFound(_("There is no such form template."))
    procedure = await session.get(Procedure, form.procedure_id)
    assert procedure is not None
    service.check_may_edit(user, await session.get(Agency, procedure.agency_id))
    await audit.record(
        session,
        user.id,
        "procedure.form_remove",
        service.SUBJECT,
        procedure.id,
        form_id=form.id,
        filename=form.filename,
        sha256=form.sha256,
    )
    await session.delete(form)
    await session.flush()
    return Response(status_code=204)
