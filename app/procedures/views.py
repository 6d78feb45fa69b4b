"""Procedures and life events as the API (and the pages) show them: every multilingual text in
one language, falling back vi → en → any; money in integer đồng; dates ISO 8601.

Where a text is shown in another language than the one asked for (a procedure not yet
translated), `name_lang` (lists) or `languages` (a procedure: {"steps.0": "vi", ...}) say which,
so a page can mark it with a lang attribute and a screen reader pronounce it right."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, date, datetime
from typing import Any

from app.kit.langtext import language_of, pick
from app.procedures.models import LifeEvent, LifeEventStep, Procedure
from app.procedures.repository import Found
from app.procedures.service import Totals


def iso(value: datetime | None) -> str | None:
    return value.astimezone(UTC).isoformat().replace("+00:00", "Z") if value else None


def iso_date(value: date | str | None) -> str | None:
    if value is None:
        return None
    return value if isinstance(value, str) else value.isoformat()


class Localised:
    """Picks texts in one language and notes those that fell back to another."""

    def __init__(self, locale: str) -> None:
        self.locale = locale
        self.languages: dict[str, str] = {}

    def __call__(self, texts: Mapping[str, str] | None, key: str) -> str | None:
        value = pick(texts, self.locale)
        if not value:
            return None
        language = language_of(texts, self.locale)
        if language and language != self.locale:
            self.languages[key] = language
        return value


# Lists ------------------------------------------------------------------------------------


def item(row: Mapping[str, Any], locale: str) -> dict[str, Any]:
    """A procedure in a list (a search result)."""
    return {
        "code": row["code"],
        "name": pick(row["name"], locale),
        "name_lang": language_of(row["name"], locale),
        "field": {"code": row["field_code"], "name": pick(row["field_name"], locale)},
        "agency": {"code": row["agency_code"], "name": pick(row["agency_name"], locale)},
        "level": row["level"],
        "online": row["online"],
        "processing_days": row["processing_days"],
        "fee_total_vnd": int(row["fee_total_vnd"]),
        "updated_on": iso_date(row["updated_on"]),
    }


def found(result: Found, locale: str, *, limit: int, offset: int) -> dict[str, Any]:
    return {
        "items": [item(row, locale) for row in result.items],
        "total": result.total,
        "limit": limit,
        "offset": offset,
        "corrected": result.corrected,
        "partial": result.partial,
    }


def counted(rows: Sequence[Mapping[str, Any]], locale: str) -> list[dict[str, Any]]:
    """Facet values ({code, name?, count}) with their names in one language."""
    out = []
    for row in rows:
        entry = dict(row)
        if "name" in entry:
            entry["name"] = pick(entry["name"], locale)
        out.append(entry)
    return out


def facets(values: Mapping[str, Sequence[Mapping[str, Any]]], locale: str) -> dict[str, Any]:
    return {name: counted(rows, locale) for name, rows in values.items()}


def agency(data: Mapping[str, Any], locale: str) -> dict[str, Any]:
    """An implementing agency and where a person goes to it."""
    return {
        "code": data["code"],
        "name": pick(data["name"], locale),
        "address": data["address"],
        "phone": data["phone"],
        "opening_hours": data["opening_hours"],
        "place_code": data["place_code"],
        "lat": data["lat"],
        "lon": data["lon"],
        **({"count": data["count"]} if "count" in data else {}),
    }


# One procedure ----------------------------------------------------------------------------


def _documents(documents: list[dict[str, Any]], t: Localised) -> list[dict[str, Any]]:
    return [
        {
            "name": t(doc.get("name"), f"documents.{n}.name"),
            "originals": int(doc.get("originals", 0)),
            "copies": int(doc.get("copies", 0)),
            "template_url": doc.get("template_url"),
            "note": t(doc.get("note"), f"documents.{n}.note"),
        }
        for n, doc in enumerate(documents or [])
    ]


def _fees(fees: list[dict[str, Any]], t: Localised) -> list[dict[str, Any]]:
    return [
        {
            "name": t(fee.get("name"), f"fees.{n}.name"),
            "amount_vnd": int(fee.get("amount_vnd", 0)),
            "note": t(fee.get("note"), f"fees.{n}.note"),
        }
        for n, fee in enumerate(fees or [])
    ]


def _legal_basis(items: list[dict[str, Any]], t: Localised) -> list[dict[str, Any]]:
    return [
        {
            "number": b.get("number"),
            "title": t(b.get("title"), f"legal_basis.{n}.title"),
            "issued_on": b.get("issued_on"),
        }
        for n, b in enumerate(items or [])
    ]


def detail(data: Mapping[str, Any], locale: str) -> dict[str, Any]:
    """A procedure's whole checklist: what to bring (originals and copies, templates), the
    steps, where and how to submit, how long, what it costs, on what legal basis."""
    t = Localised(locale)
    out = {
        "code": data["code"],
        "name": t(data["name"], "name"),
        "field": {"code": data["field"]["code"], "name": t(data["field"]["name"], "field.name")},
        "agency": agency(data["agency"], locale),
        "level": data["level"],
        "online": data["online"],
        "channels": list(data["channels"] or []),
        "applicants": t(data["applicants"], "applicants"),
        "documents": _documents(data["documents"], t),
        "forms": [
            {k: form[k] for k in ("filename", "size", "media_type", "url")}
            for form in data["forms"]
        ],
        "steps": [t(step, f"steps.{n}") for n, step in enumerate(data["steps"] or [])],
        "processing_days": data["processing_days"],
        "processing_note": t(data["processing_note"], "processing_note"),
        "fees": _fees(data["fees"], t),
        "fee_total_vnd": int(data["fee_total_vnd"]),
        "fee_note": t(data["fee_note"], "fee_note"),
        "conditions": t(data["conditions"], "conditions"),
        "result": t(data["result"], "result"),
        "legal_basis": _legal_basis(data["legal_basis"], t),
        "source_url": data["source_url"],
        "updated_on": iso_date(data["updated_on"]),
        "life_events": [
            {"slug": e["slug"], "name": pick(e["name"], locale)} for e in data["life_events"]
        ],
        "retired_at": iso(data["retired_at"]),
        "changed_at": iso(data["updated_at"]),
    }
    out["languages"] = t.languages
    return out


# Life events ------------------------------------------------------------------------------


def totals(value: Totals) -> dict[str, int]:
    return {
        "working_days": value.working_days,
        "fees_vnd": value.fees_vnd,
        "optional_working_days": value.optional_working_days,
        "optional_fees_vnd": value.optional_fees_vnd,
    }


def life_event_summary(
    event: LifeEvent,
    steps: Sequence[tuple[LifeEventStep, Procedure]],
    all_totals: Totals,
    locale: str,
) -> dict[str, Any]:
    return {
        "slug": event.slug,
        "name": pick(event.name, locale),
        "name_lang": language_of(event.name, locale),
        "description": pick(event.description, locale) or None,
        "audience": event.audience,
        "steps": len(steps),
        "totals": totals(all_totals),
    }


def life_event(
    event: LifeEvent,
    steps: Sequence[tuple[LifeEventStep, Procedure]],
    all_totals: Totals,
    agencies: Mapping[int, Mapping[str, Any]],
    locale: str,
) -> dict[str, Any]:
    """A life event: its procedures in order, each with its time, fees and agency, and the
    totals (working days one after the other, fees), required and optional apart."""
    t = Localised(locale)
    out_steps = []
    for n, (step, procedure) in enumerate(steps):
        where = agencies.get(procedure.agency_id)
        out_steps.append(
            {
                "position": n + 1,
                "optional": step.optional,
                "note": t(step.note, f"steps.{n}.note"),
                "procedure": {
                    "code": procedure.code,
                    "name": t(procedure.name, f"steps.{n}.procedure.name"),
                    "level": procedure.level,
                    "online": procedure.online,
                    "processing_days": procedure.processing_days,
                    "processing_note": t(
                        procedure.processing_note, f"steps.{n}.procedure.processing_note"
                    ),
                    "fee_total_vnd": procedure.fee_total_vnd,
                    "fees": _fees(procedure.fees, Localised(locale)),
                    "agency": agency(where, locale) if where else None,
                },
            }
        )
    return {
        "slug": event.slug,
        "name": t(event.name, "name"),
        "description": t(event.description, "description"),
        "audience": event.audience,
        "steps": out_steps,
        "totals": totals(all_totals),
        "languages": t.languages,
    }
