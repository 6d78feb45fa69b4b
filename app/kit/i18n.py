"""Languages: Babel catalogs, locale negotiation and locale-aware formatting.

Vietnamese is the default; English is the second language. Message ids are English source text;
the vi catalog translates them, the en catalog may override wording.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import date, datetime
from decimal import Decimal
from functools import cache
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from babel import Locale
from babel.core import negotiate_locale
from babel.dates import format_date as _format_date
from babel.dates import format_datetime as _format_datetime
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.numbers import format_currency, format_decimal
from babel.support import LazyProxy, NullTranslations, Translations

SUPPORTED_LOCALES: tuple[str, ...] = ("vi", "en")
LANGUAGE_NAMES = {"vi": "Tiếng Việt", "en": "English"}
TRANSLATIONS_DIR = Path(__file__).resolve().parent.parent / "translations"
LOCALE_COOKIE = "lang"

_current_locale: ContextVar[str] = ContextVar("current_locale", default="vi")


def compile_catalogs(directory: Path = TRANSLATIONS_DIR, force: bool = False) -> list[Path]:
    """Compile every messages.po to messages.mo (part of install; also self-heals at start-up)."""
    written = []
    for po_path in sorted(directory.glob("*/LC_MESSAGES/messages.po")):
        mo_path = po_path.with_suffix(".mo")
        if not force and mo_path.exists() and mo_path.stat().st_mtime >= po_path.stat().st_mtime:
            continue
        with po_path.open("rb") as po_file:
            catalog = read_po(po_file, locale=po_path.parent.parent.name)
        with mo_path.open("wb") as mo_file:
            write_mo(mo_file, catalog)
        written.append(mo_path)
    return written


@cache
def get_translations(locale: str) -> NullTranslations:
    compile_catalogs()
    return Translations.load(str(TRANSLATIONS_DIR), [locale], domain="messages")


def set_locale(locale: str) -> None:
    _current_locale.set(locale if locale in SUPPORTED_LOCALES else SUPPORTED_LOCALES[0])


def get_locale() -> str:
    return _current_locale.get()


def locale_of(request: Any) -> str:
    """The language LocaleMiddleware chose for this request."""
    return str(getattr(request.state, "locale", SUPPORTED_LOCALES[0]))


@contextmanager
def use_locale(locale: str) -> Iterator[None]:
    """Translate in another language for a while (a notification in its recipient's language)."""
    token = _current_locale.set(locale if locale in SUPPORTED_LOCALES else SUPPORTED_LOCALES[0])
    try:
        yield
    finally:
        _current_locale.reset(token)


def gettext(message: str, **variables: object) -> str:
    text = get_translations(get_locale()).gettext(message)
    return text % variables if variables else text


def ngettext(singular: str, plural: str, n: int, **variables: object) -> str:
    text = get_translations(get_locale()).ngettext(singular, plural, n)
    variables.setdefault("num", n)
    return text % variables


def lazy_gettext(message: str) -> LazyProxy:
    """For strings defined at import time and translated when shown."""
    return LazyProxy(gettext, message, enable_cache=False)


_ = gettext


def N_(message: str) -> str:
    """Marks a string for the catalog where it is defined; it is translated when shown."""
    return message


def negotiate(
    query_lang: str | None, cookie_lang: str | None, accept_language: str | None, default: str
) -> str:
    """?lang= first, then the cookie, then Accept-Language, then the configured default."""
    for candidate in (query_lang, cookie_lang):
        if candidate and candidate.lower()[:2] in SUPPORTED_LOCALES:
            return candidate.lower()[:2]
    if accept_language:
        preferred = _parse_accept_language(accept_language)
        found = negotiate_locale(preferred, list(SUPPORTED_LOCALES), sep="-")
        if found:
            return found
        for tag in preferred:  # "vi-VN" with nothing else: match on the primary language
            if tag.split("-")[0].lower() in SUPPORTED_LOCALES:
                return tag.split("-")[0].lower()
    return default


def _parse_accept_language(header: str) -> list[str]:
    weighted: list[tuple[float, int, str]] = []
    for index, part in enumerate(header.split(",")):
        pieces = part.strip().split(";")
        tag = pieces[0].strip()
        if not tag or tag == "*":
            continue
        quality = 1.0
        for param in pieces[1:]:
            name, _sep, value = param.strip().partition("=")
            if name == "q":
                try:
                    quality = float(value)
                except ValueError:
                    quality = 0.0
        if quality > 0:
            weighted.append((-quality, index, tag))
    return [tag for _q, _i, tag in sorted(weighted)]


# Formatting -------------------------------------------------------------------------------


def format_datetime(value: datetime, time_zone: str, locale: str | None = None) -> str:
    local = value.astimezone(ZoneInfo(time_zone))
    return _format_datetime(local, format="medium", locale=locale or get_locale())


def format_date(value: date, locale: str | None = None) -> str:
    return _format_date(value, format="long", locale=locale or get_locale())


def format_number(value: int | float | Decimal, locale: str | None = None) -> str:
    return format_decimal(value, locale=locale or get_locale())


def format_money(amount_dong: int, locale: str | None = None) -> str:
    """Money is integer đồng: 1500000 -> '1.500.000 ₫' (vi) or '₫1,500,000' (en)."""
    return format_currency(amount_dong, "VND", locale=locale or get_locale())


def language_name(locale: str) -> str:
    return LANGUAGE_NAMES.get(locale) or Locale.parse(locale).get_display_name(locale) or locale
