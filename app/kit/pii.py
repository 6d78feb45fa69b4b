"""Masking personal data that people type into public text: phone numbers, e-mail addresses and
9- or 12-digit ID numbers (CMND / CCCD). The stored text is kept; public views show the mask."""

from __future__ import annotations

import re

from app.kit.i18n import gettext as _

_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
# Vietnamese phones: 0xx or +84 with optional separators; landlines 02xx too.
_PHONE = re.compile(r"(?<!\d)(?:\+?84|0)(?:[\s.\-]?\d){8,10}(?!\d)")
_ID_NUMBER = re.compile(r"(?<!\d)(?:\d{12}|\d{9})(?!\d)")


def mask_pii(text: str) -> str:
    """In the current language: 'Gọi 0912 345 678' -> 'Gọi [số điện thoại đã ẩn]'."""
    text = _EMAIL.sub(_("[e-mail address hidden]"), text)
    text = _PHONE.sub(_("[phone number hidden]"), text)
    return _ID_NUMBER.sub(_("[ID number hidden]"), text)
