"""Open311 answers in the format the address asks for: JSON, or XML built with ElementTree (user
text is never pasted into markup)."""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET
from collections.abc import Mapping
from datetime import datetime
from typing import Any, Literal

from starlette.responses import Response

Format = Literal["json", "xml"]
FORMATS: tuple[Format, ...] = ("json", "xml")
JSON_TYPE = "application/json; charset=utf-8"
XML_TYPE = "text/xml; charset=utf-8"
XML_DECLARATION = '<?xml version="1.0" encoding="utf-8"?>\n'

# The element of one item of a list, by the list's element name (the spec's names).
ITEM_NAMES = {
    "services": "service",
    "service_requests": "request",
    "errors": "error",
    "attributes": "attribute",
    "values": "value",
    "endpoints": "endpoint",
    "formats": "format",
    "notes": "note",
}
# Characters XML 1.0 cannot carry at all, even escaped (C0 controls other than tab, LF, CR).
_NOT_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def xml_text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, datetime):
        return value.isoformat()
    return _NOT_XML.sub("", str(value))


def _fill(element: ET.Element, value: Any) -> None:
    if value is None:
        return
    if isinstance(value, Mapping):
        for name, child in value.items():
            _fill(ET.SubElement(element, name), child)
    elif isinstance(value, list | tuple):
        item_name = ITEM_NAMES.get(element.tag, "item")
        for child in value:
            _fill(ET.SubElement(element, item_name), child)
    else:
        element.text = xml_text(value)


def xml_document(root: str, value: Any) -> bytes:
    """`value` under the element `root`: mappings become child elements, lists repeat the item
    element, None an empty element."""
    element = ET.Element(root)
    _fill(element, value)
    return (XML_DECLARATION + ET.tostring(element, encoding="unicode")).encode("utf-8")


def _json_default(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")


def answer(
    fmt: Format,
    root: str,
    value: Any,
    *,
    status_code: int = 200,
    headers: Mapping[str, str] | None = None,
) -> Response:
    """One Open311 answer. `root` names the XML root element (JSON has none)."""
    if fmt == "xml":
        return Response(
            xml_document(root, value), status_code, headers=dict(headers or {}), media_type=XML_TYPE
        )
    body = json.dumps(value, ensure_ascii=False, allow_nan=False, default=_json_default)
    return Response(
        body.encode("utf-8"), status_code, headers=dict(headers or {}), media_type=JSON_TYPE
    )


def errors(
    fmt: Format, status_code: int, descriptions: list[str], headers: Mapping[str, str] | None = None
) -> Response:
    """The spec's error list: [{code, description}], code being the HTTP status."""
    items = [{"code": status_code, "description": d} for d in descriptions]
    return answer(fmt, "errors", items, status_code=status_code, headers=headers)
