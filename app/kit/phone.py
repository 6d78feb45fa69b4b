"""Vietnamese mobile numbers: 10 digits starting 03, 05, 07, 08 or 09; stored as +84XXXXXXXXX."""

from __future__ import annotations

import re

_MOBILE = re.compile(r"^(?:\+?84|0)([35789]\d{8})$")
_SEPARATORS = re.compile(r"[\s.\-()]")


def normalise_vn_mobile(raw: str) -> str | None:
    compact = _SEPARATORS.sub("", raw.strip())
    match = _MOBILE.match(compact)
    return f"+84{match.group(1)}" if match else None


def looks_like_phone(raw: str) -> bool:
    return "@" not in raw and any(ch.isdigit() for ch in raw)
