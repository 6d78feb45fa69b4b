"""FCM topic names for emergency alerts: one per area and language, so a single request reaches
every device that follows that area in that language.

    alerts-all-vi         the whole province, Vietnamese
    alerts-w-hong-ha-en   ward or commune `hong-ha`, English
"""

from __future__ import annotations

import re

from app.kit.i18n import SUPPORTED_LOCALES

_SAFE = re.compile(r"[^A-Za-z0-9_.~-]")


def province_topic(locale: str) -> str:
    return f"alerts-all-{locale}"


def ward_topic(ward_code: str, locale: str) -> str:
    return f"alerts-w-{_SAFE.sub('_', ward_code)}-{locale}"


def device_topics(locale: str, ward_codes: list[str]) -> set[str]:
    """Every device follows its language's province-wide alerts, plus its chosen wards'."""
    lang = locale if locale in SUPPORTED_LOCALES else SUPPORTED_LOCALES[0]
    return {province_topic(lang)} | {ward_topic(code, lang) for code in ward_codes}


def alert_topics(ward_codes: list[str] | None) -> list[tuple[str, str]]:
    """(topic, locale) pairs an alert goes to: the province-wide topics when `ward_codes` is
    None, else each ward's topic in each language."""
    pairs: list[tuple[str, str]] = []
    for lang in SUPPORTED_LOCALES:
        if ward_codes is None:
            pairs.append((province_topic(lang), lang))
        else:
            pairs.extend((ward_topic(code, lang), lang) for code in sorted(set(ward_codes)))
    return pairs
