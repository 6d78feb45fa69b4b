"""Vietnamese text helpers used by every search in the project."""

from __future__ import annotations

import re
import unicodedata

_SPACES = re.compile(r"\s+")
# NFD decomposes tone and vowel marks, but not đ/Đ (a letter of its own): map it explicitly.
_EXPLICIT = str.maketrans({"đ": "d", "Đ": "D", "ð": "d", "Ð": "D"})


def nfc(text: str) -> str:
    """Normalise to NFC and trim, so 'ế' typed on any keyboard is stored one way."""
    return unicodedata.normalize("NFC", text).strip()


def fold(text: str) -> str:
    """Accent-folded, lower-case search key: 'Đường Điện Biên' -> 'duong dien bien'."""
    decomposed = unicodedata.normalize("NFD", text.translate(_EXPLICIT))
    stripped = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return _SPACES.sub(" ", stripped.casefold()).strip()


def search_terms(text: str) -> list[str]:
    """Folded words of a query, punctuation dropped."""
    return [w for w in re.split(r"[^\w]+", fold(text)) if w]
