"""Public pages of the procedure catalogue, for businesses and residents: a search with plain GET
filters (and browsing by field), a procedure as a checklist (what to bring, where to go, how
long, how much; a print layout at ?print=1), and life events: the procedures for one thing a
person wants to do, in order, with their totals. No JavaScript needed anywhere; the print
layout's "Print now" button is the only script."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from typing import Annotated, Any
from urllib.parse import urlencode, urlsplit

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, Response

from app.auth.deps import PageUserOptional
from app.db import SessionDep
from app.errors import NotFound
from app.kit.i18n import N_, format_money, format_number, locale_of, ngettext
from app.kit.i18n import gettext as _
from app.kit.langtext import language_of, pick
from app.kit.templating import render
from app.practical.pages import readable_hours, revalidated
from app.practical.service import tel_uri
from app.procedures import repository, service
from app.procedures.models import Channel, Level, LifeEvent, Online
from app.reports.pages import pager

router = APIRouter(include_in_schema=False)

PAGE_SIZE = 20
PORTAL_URL = "https://dichvucong.gov.vn"

LEVEL_LABELS: dict[str, str] = {
    Level.province.value: N_("Province level"),
    Level.commune.value: N_("Commune level"),
}
ONLINE_LABELS: dict[str, str] = {
    Online.none.value: N_("Not online"),
    Online.partial.value: N_("Partly online"),
    Online.full.value: N_("Fully online"),
}
# The online filter: "any" is partly or fully.
ONLINE_CHOICES: tuple[tuple[str, str], ...] = (
    ("any", N_("Online, partly or fully")),
    (Online.full.value, N_("Fully online")),
    (Online.partial.value, N_("Partly online")),
    (Online.none.value, N_("Not online")),
)
AUDIENCES: tuple[tuple[str, str], ...] = (
    ("business", N_("For businesses")),
    ("citizen", N_("For residents")),
)
FILE_KINDS = {
    "pdf": "PDF",
    "doc": "Word",
    "docx": "Word",
    "xls": "Excel",
    "xlsx": "Excel",
    "odt": "ODT",
    "ods": "ODS",
    "rtf": "RTF",
    "txt": "TXT",
    "zip": "ZIP",
}


# Text in the reader's language ---------------------------------------------------------------


@dataclass(frozen=True)
class Shown:
    """A stored multilingual text as shown: `lang` is set only when it falls back to another
    language than the page's, for a lang= attribute."""

    text: str
    lang: str | None = None

    def __str__(self) -> str:
        return self.text

    def __bool__(self) -> bool:
        return bool(self.text)


def shown(texts: Any, locale: str) -> Shown:
    if isinstance(texts, str):
        return Shown(texts)
    if not isinstance(texts, Mapping):
        return Shown("")
    lang = language_of(texts, locale)
    return Shown(pick(texts, locale), lang if lang != locale else None)


def level_label(level: str) -> str:
    return _(LEVEL_LABELS[level]) if level in LEVEL_LABELS else level


def online_label(online: str) -> str:
    return _(ONLINE_LABELS[online]) if online in ONLINE_LABELS else online


def days_text(days: int) -> str:
    if days == 0:
        return _("The same working day")
    return ngettext("%(num)s working day", "%(num)s working days", days, num=format_number(days))


def fee_text(amount_vnd: int, locale: str) -> str:
    return format_money(amount_vnd, locale) if amount_vnd else _("Free")


def count_text(originals: int, copies: int) -> str:
    """ "1 original, 1 copy" (vi: "1 bản chính, 1 bản sao")."""
    parts = []
    if originals:
        parts.append(ngettext("%(num)s original", "%(num)s originals", originals))
    if copies:
        parts.append(ngettext("%(num)s copy", "%(num)s copies", copies))
    return ", ".join(parts)


def size_text(size: int) -> str:
    if size >= 1024 * 1024:
        return _("%(num)s MB", num=format_number(round(size / (1024 * 1024), 1)))
    return _("%(num)s KB", num=format_number(max(1, round(size / 1024))))


def file_kind(name: str, media_type: str | None = None) -> str | None:
    extension = name.rsplit(".", 1)[-1].lower() if "." in name else ""
    if extension in FILE_KINDS:
        return FILE_KINDS[extension]
    if media_type == "application/pdf":
        return "PDF"
    return None


def _date(value: Any) -> date | None:
    if isinstance(value, date):
        return value
    if isinstance(value, str) and value:
        try:
            return date.fromisoformat(value[:10])
        except ValueError:
            return None
    return None


# Search and browse ---------------------------------------------------------------------------


def card(row: Mapping[str, Any], locale: str) -> dict[str, Any]:
    """A procedure in a list of results."""
    return {
        "code": row["code"],
        "name": shown(row["name"], locale),
        "field_name": shown(row["field_name"], locale),
        "agency_name": shown(row["agency_name"], locale),
        "level_label": level_label(row["level"]),
        "online": row["online"],
        "online_label": online_label(row["online"]),
        "days_text": days_text(row["processing_days"]),
        "fee_text": fee_text(row["fee_total_vnd"], locale),
    }


def _choices(rows: list[dict[str, Any]], locale: str) -> list[dict[str, Any]]:
    return [
        {"code": r["code"], "name": shown(r["name"], locale), "count": r["count"]} for r in rows
    ]


@router.get("/procedures", response_class=HTMLResponse)
async def procedures_page(
    request: Request,
    session: SessionDep,
    user: PageUserOptional,
    q: Annotated[str | None, Query(max_length=200)] = None,
    field: Annotated[str | None, Query(max_length=40)] = None,
    agency: Annotated[str | None, Query(max_length=40)] = None,
    level: Annotated[str | None, Query(max_length=10)] = None,
    online: Annotated[str | None, Query(max_length=10)] = None,
    page: Annotated[int, Query(ge=1, le=500)] = 1,
) -> Response:
    locale = locale_of(request)
    filters = repository.Filters(
        query=(q or "").strip() or None,
        field=field or None,
        agency=agency or None,
        level=level if level in LEVEL_LABELS else None,
        online=online if online in dict(ONLINE_CHOICES) else None,
    )
    facets = await repository.facets(session)
    searched = any((filters.query, filters.field, filters.agency, filters.level, filters.online))
    items: list[dict[str, Any]] = []
    total = 0
    corrected: str | None = None
    partial = False
    if searched:
        found = await repository.search(
            session, filters, limit=PAGE_SIZE, offset=(page - 1) * PAGE_SIZE
        )
        items = [card(row, locale) for row in found.items]
        total, corrected, partial = found.total, found.corrected, found.partial
    params = [(k, v) for k, v in request.query_params.multi_items() if k != "page"]
    response = render(
        request,
        "procedures/search.html",
        {
            "filters": {
                "q": filters.query or "",
                "field": filters.field or "",
                "agency": filters.agency or "",
                "level": filters.level or "",
                "online": filters.online or "",
            },
            "facets": {
                "fields": _choices(facets.get("fields", []), locale),
                "agencies": _choices(facets.get("agencies", []), locale),
            },
            "levels": [(value, _(label)) for value, label in LEVEL_LABELS.items()],
            "online_choices": [(value, _(label)) for value, label in ONLINE_CHOICES],
            "searched": searched,
            "items": items,
            "corrected": corrected,
            "partial": partial,
            "shown_query": corrected or filters.query or "",
            "pager": pager(request, page, PAGE_SIZE, total),
            "first_page_url": f"/procedures?{urlencode(params)}",
            "portal_url": PORTAL_URL,
        },
    )
    return revalidated(request, response)


# A procedure as a checklist ------------------------------------------------------------------


def _template(url: str, forms: Mapping[str, Mapping[str, Any]]) -> dict[str, Any]:
    """The download link of a document's form: an uploaded form with its kind and size, or a
    link elsewhere."""
    form = forms.get(url)
    if form is not None:
        return {
            "url": url,
            "kind": file_kind(form["filename"], form.get("media_type")),
            "size_text": size_text(form["size"]),
            "external": False,
        }
    return {
        "url": url,
        "kind": file_kind(urlsplit(url).path),
        "size_text": None,
        "external": not url.startswith("/"),
    }


def checklist(row: Mapping[str, Any], locale: str) -> dict[str, Any]:
    """The procedure as the checklist page shows it (from repository.detail)."""
    forms = {f["url"]: f for f in row.get("forms") or []}
    documents = []
    used: set[str] = set()
    for d in row.get("documents") or []:
        url = d.get("template_url")
        if url:
            used.add(url)
        documents.append(
            {
                "name": shown(d.get("name"), locale),
                "count_text": count_text(d.get("originals", 0), d.get("copies", 0)),
                "note": shown(d.get("note"), locale),
                "template": _template(url, forms) if url else None,
            }
        )
    other_forms = [
        {
            "url": f["url"],
            "filename": f["filename"],
            "kind": file_kind(f["filename"], f.get("media_type")) or f.get("media_type"),
            "size_text": size_text(f["size"]),
        }
        for f in row.get("forms") or []
        if f["url"] not in used
    ]
    agency = row.get("agency") or {}
    online = row["online"]
    channels = []
    for channel in row.get("channels") or []:
        if channel == Channel.in_person.value:
            channels.append(_("In person, at the agency’s one-stop desk"))
        elif channel == Channel.post.value:
            channels.append(_("By post"))
        elif channel == Channel.online.value and online == Online.full.value:
            channels.append(
                _("Online, from start to finish: you send the dossier and receive the result")
            )
        elif channel == Channel.online.value:
            channels.append(
                _(
                    "Online, in part: you send the dossier online, and may still need to go in "
                    "for some steps or to collect the result"
                )
            )
    legal_basis = [
        {
            "number": b.get("number", ""),
            "title": shown(b.get("title"), locale),
            "issued_on": _date(b.get("issued_on")),
        }
        for b in row.get("legal_basis") or []
    ]
    return {
        "code": row["code"],
        "name": shown(row["name"], locale),
        "field_name": shown((row.get("field") or {}).get("name"), locale),
        "level_label": level_label(row["level"]),
        "online": online,
        "online_label": online_label(online),
        "online_help": _(
            "To submit online, sign in to the National Public Service Portal and search for "
            "the code %(code)s.",
            code=row["code"],
        ),
        "channel_labels": channels,
        "applicants": shown(row.get("applicants"), locale),
        "conditions": shown(row.get("conditions"), locale),
        "steps": [shown(s, locale) for s in row.get("steps") or []],
        "documents": documents,
        "other_forms": other_forms,
        "days_text": days_text(row["processing_days"]),
        "processing_note": shown(row.get("processing_note"), locale),
        "fees": [
            {
                "name": shown(f.get("name"), locale),
                "note": shown(f.get("note"), locale),
                "amount_text": fee_text(f.get("amount_vnd", 0), locale),
            }
            for f in row.get("fees") or []
        ],
        "fee_text": fee_text(row["fee_total_vnd"], locale),
        "fee_note": shown(row.get("fee_note"), locale),
        "result": shown(row.get("result"), locale),
        "legal_basis": legal_basis,
        "source_url": row.get("source_url"),
        "updated_on": _date(row.get("updated_on")),
        "agency": {
            "name": shown(agency.get("name"), locale),
            # Addresses are written in Vietnamese.
            "address": Shown(agency.get("address") or "", None if locale == "vi" else "vi"),
            "phone": agency.get("phone"),
            "tel": tel_uri(agency.get("phone")),
            "hours": readable_hours(agency.get("opening_hours")),
            "place_code": agency.get("place_code"),
        },
        "life_events": [
            {"slug": e["slug"], "name": shown(e["name"], locale)}
            for e in row.get("life_events") or []
        ],
    }


@router.get("/procedures/{procedure_code}", response_class=HTMLResponse)
async def procedure_page(
    request: Request,
    procedure_code: str,
    session: SessionDep,
    user: PageUserOptional,
    print_mode: Annotated[str | None, Query(alias="print", max_length=5)] = None,
) -> Response:
    row = await repository.detail(session, procedure_code)
    if row is None:
        raise NotFound(_("There is no procedure with this code."))
    base = str(request.base_url).rstrip("/")
    response = render(
        request,
        "procedures/procedure.html",
        {
            "proc": checklist(row, locale_of(request)),
            "print_mode": print_mode in ("1", "true", "yes"),
            "portal_url": PORTAL_URL,
            "absolute": lambda href: href if "://" in href else base + href,
        },
    )
    return revalidated(request, response)


# Life events ---------------------------------------------------------------------------------


def _event_view(
    event: LifeEvent, steps: service.Steps, agencies: dict[int, Any], locale: str
) -> dict[str, Any]:
    totals = service.totals(steps)
    shown_steps = []
    for step, procedure in steps:
        agency = agencies.get(procedure.agency_id) or {}
        shown_steps.append(
            {
                "code": procedure.code,
                "name": shown(procedure.name, locale),
                "agency_name": shown(agency.get("name"), locale),
                "online": procedure.online,
                "online_label": online_label(procedure.online),
                "optional": step.optional,
                "note": shown(step.note, locale),
                "days_text": days_text(procedure.processing_days),
                "fee_text": fee_text(procedure.fee_total_vnd, locale),
            }
        )
    optional = sum(1 for step, _procedure in steps if step.optional)
    return {
        "slug": event.slug,
        "audience": event.audience,
        "name": shown(event.name, locale),
        "description": shown(event.description, locale),
        "count": len(steps),
        "required": len(steps) - optional,
        "optional": optional,
        "days_text": days_text(totals.working_days),
        "fee_text": fee_text(totals.fees_vnd, locale),
        "optional_days_text": days_text(totals.optional_working_days),
        "optional_fee_text": fee_text(totals.optional_fees_vnd, locale),
        "steps": shown_steps,
    }


@router.get("/life-events", response_class=HTMLResponse)
async def life_events_page(
    request: Request, session: SessionDep, user: PageUserOptional
) -> Response:
    locale = locale_of(request)
    with_steps = await service.life_events_with_steps(session)
    agencies = await repository.agencies_by_id(
        session, [p.agency_id for _e, steps in with_steps for _s, p in steps]
    )
    events = [_event_view(e, steps, agencies, locale) for e, steps in with_steps]
    groups = [
        {
            "id": audience,
            "title": _(title),
            "events": [e for e in events if e["audience"] == audience],
        }
        for audience, title in AUDIENCES
    ]
    response = render(request, "procedures/life_events.html", {"groups": groups})
    return revalidated(request, response)


@router.get("/life-events/{slug}", response_class=HTMLResponse)
async def life_event_page(
    request: Request, slug: str, session: SessionDep, user: PageUserOptional
) -> Response:
    event = await service.life_event(session, slug)
    steps = await service.life_event_steps(session, event)
    agencies = await repository.agencies_by_id(session, [p.agency_id for _s, p in steps])
    view = _event_view(event, steps, agencies, locale_of(request))
    response = render(
        request, "procedures/life_event.html", {"event": view, "steps": view["steps"]}
    )
    return revalidated(request, response)
