"""Notification texts from Jinja2 templates, one per event and language:
app/templates/notifications/<lang>/<event>.txt, the first line the title, the rest the body."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined, TemplateNotFound

from app.kit.i18n import SUPPORTED_LOCALES, use_locale

TEXTS_DIR = Path(__file__).resolve().parent.parent / "templates" / "notifications"
# Plain text for push and the inbox (the page escapes it when it shows it).
_env = Environment(
    loader=FileSystemLoader(str(TEXTS_DIR)),
    undefined=StrictUndefined,
    autoescape=False,  # noqa: S701 - plain text; pages escape it when shown
    keep_trailing_newline=False,
)


@dataclass(frozen=True)
class Text:
    title: str
    body: str


def link_of(subject_type: str, data: dict[str, Any]) -> str | None:
    """Where a notification leads: its report's or dossier's page, if it is about one."""
    if not data.get("code"):
        return None
    if subject_type == "report":
        return f"/reports/{data['code']}"
    if subject_type == "dossier":
        return f"/dossiers/{data['code']}"
    return None


def render(event: str, locale: str, data: dict[str, Any]) -> Text:
    """The recipient's language; a missing translation falls back to Vietnamese."""
    from app.reports.labels import status_label

    lang = locale if locale in SUPPORTED_LOCALES else SUPPORTED_LOCALES[0]
    context = {"note": "", "into": "", **data}
    context.setdefault("status_label", "")
    if "status" in data:
        with use_locale(lang):
            context["status_label"] = status_label(data["status"])
    try:
        template = _env.get_template(f"{lang}/{event}.txt")
    except TemplateNotFound:
        template = _env.get_template(f"{SUPPORTED_LOCALES[0]}/{event}.txt")
    title, _sep, body = template.render(context).partition("\n")
    return Text(title.strip(), " ".join(body.split()))
