"""Multilingual text stored as {"vi": ..., "en": ..., <any language code>: ...}."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Annotated

from pydantic import AfterValidator

from app.kit.text import nfc

LANGUAGE_CODE = re.compile(r"^[a-z]{2,3}(-[A-Za-z0-9]{2,8})?$")
FALLBACK = ("vi", "en")


def pick(texts: Mapping[str, str] | None, locale: str) -> str:
    """The text in `locale`, else Vietnamese, else English, else any language; '' when none."""
    if not texts:
        return ""
    for code in (locale, *FALLBACK):
        value = texts.get(code)
        if value:
            return value
    return next((v for v in texts.values() if v), "")


def language_of(texts: Mapping[str, str] | None, locale: str) -> str | None:
    """The language code pick() would answer in (for a lang attribute on pages)."""
    if not texts:
        return None
    for code in (locale, *FALLBACK):
        if texts.get(code):
            return code
    return next((k for k, v in texts.items() if v), None)


def _clean(max_length: int) -> Callable[[dict[str, str]], dict[str, str]]:
    def check(value: dict[str, str]) -> dict[str, str]:
        cleaned: dict[str, str] = {}
        for code, text in value.items():
            if not LANGUAGE_CODE.match(code):
                raise ValueError(f"'{code}' is not a language code such as vi, en or fr")
            text = nfc(text)
            if len(text) > max_length:
                raise ValueError(f"the {code} text is longer than {max_length} characters")
            if text:
                cleaned[code] = text
        return cleaned

    return check


ShortText = Annotated[dict[str, str], AfterValidator(_clean(200))]
# Official names (of procedures, legal documents) run longer than a place's.
NameText = Annotated[dict[str, str], AfterValidator(_clean(600))]
LongText = Annotated[dict[str, str], AfterValidator(_clean(10_000))]
