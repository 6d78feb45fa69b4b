"""Places as the API, the pages and the offline download show them."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from typing import Any

from app.kit.langtext import language_of, pick
from app.places import hours
from app.places.models import FEATURES


def iso(value: datetime | None) -> str | None:
    return value.astimezone(UTC).isoformat().replace("+00:00", "Z") if value else None


class Clock:
    """What every item of one answer shares: the moment, the holidays, the staleness limit."""

    def __init__(
        self,
        now: datetime,
        is_holiday: Callable[[date], bool],
        zone: str,
        stale_after_days: int,
    ) -> None:
        self.now = now
        self.is_holiday = is_holiday
        self.zone = zone
        self.stale_before = now - timedelta(days=stale_after_days)

    def hours(self, expression: str | None) -> hours.HoursState | None:
        if not expression:
            return None
        try:
            return hours.evaluate(expression, self.now, self.is_holiday, self.zone)
        except hours.InvalidHours:  # stored before validation tightened: say "unknown"
            return hours.HoursState("unknown", None)

    def is_open(self, row: dict[str, Any]) -> bool:
        state = self.hours(row["opening_hours"])
        return state is not None and state.is_open

    def stale(self, verified: datetime | None) -> bool:
        return verified is None or verified < self.stale_before


def _hours_fields(clock: Clock, expression: str | None) -> dict[str, Any]:
    state = clock.hours(expression)
    return {
        "opening_hours": expression,
        "open_state": state.state if state else None,
        "open_now": state.is_open if state and state.state != "unknown" else None,
        "next_change": state.next_change.isoformat() if state and state.next_change else None,
    }


def accessibility(row: dict[str, Any], locale: str | None) -> dict[str, Any]:
    out: dict[str, Any] = {"wheelchair": row["wheelchair"], "door_width_cm": row["door_width_cm"]}
    out.update({name: row[name] for name in FEATURES})
    notes = row["accessibility_notes"] or {}
    out["notes"] = pick(notes, locale) or None if locale else notes
    return out


def item(row: dict[str, Any], locale: str, clock: Clock) -> dict[str, Any]:
    """A place in a list, in one language (falling back vi -> en -> any)."""
    photos = row["photos"] or []
    out: dict[str, Any] = {
        "code": row["code"],
        "category": row["category"],
        "name": pick(row["name"], locale),
        "name_lang": language_of(row["name"], locale),
        "address": row["address"],
        "ward": {"code": row["ward_code"], "name": row["ward_name"]} if row["ward_code"] else None,
        "lat": row["lat"],
        "lon": row["lon"],
        "phone": row["phone"],
        "website": row["website"],
        **_hours_fields(clock, row["opening_hours"]),
        "wheelchair": row["wheelchair"],
        "step_free_entrance": row["step_free_entrance"],
        "accessible_toilet": row["accessible_toilet"],
        "price_level": row["price_level"],
        "tags": row["tags"] or [],
        "photo": photos[0]["url"] if photos else None,
        "last_verified_at": iso(row["last_verified_at"]),
        "stale": clock.stale(row["last_verified_at"]),
        "url": f"/api/v1/places/{row['code']}",
    }
    if "distance_m" in row:
        out["distance_m"] = round(row["distance_m"], 1)
    return out


def detail(row: dict[str, Any], locale: str, clock: Clock) -> dict[str, Any]:
    """One place with everything a visitor needs, plus every language's text."""
    out = item(row, locale, clock)
    out.update(
        {
            "description": pick(row["description"], locale) or None,
            "description_lang": language_of(row["description"], locale),
            "names": row["name"],
            "descriptions": row["description"] or {},
            "photos": [
                {"url": p["url"], "caption": pick(p.get("caption"), locale) or None}
                for p in row["photos"] or []
            ],
            "accessibility": accessibility(row, locale),
            "department": (
                {
                    "code": row["department_code"],
                    "name": row["department_name_en"]
                    if locale == "en"
                    else row["department_name_vi"],
                }
                if row["department_code"]
                else None
            ),
            "source": row["source"],
            "source_id": row["source_id"],
            "is_demo": row["is_demo"],
            "retired": row["retired_at"] is not None,
            "updated_at": iso(row["updated_at"]),
        }
    )
    return out


def offline(row: dict[str, Any]) -> dict[str, Any]:
    """A place for the offline app: every language, no computed state (the phone evaluates
    opening hours itself, and it knows no holidays the server does not send)."""
    return {
        "code": row["code"],
        "category": row["category"],
        "name": row["name"],
        "description": row["description"] or {},
        "address": row["address"],
        "ward_code": row["ward_code"],
        "lat": row["lat"],
        "lon": row["lon"],
        "phone": row["phone"],
        "website": row["website"],
        "opening_hours": row["opening_hours"],
        "photos": row["photos"] or [],
        "price_level": row["price_level"],
        "tags": row["tags"] or [],
        "accessibility": accessibility(row, None),
        "department_code": row["department_code"],
        "source": row["source"],
        "source_id": row["source_id"],
        "last_verified_at": iso(row["last_verified_at"]),
        "is_demo": row["is_demo"],
        "updated_at": iso(row["updated_at"]),
    }


def feature(row: dict[str, Any], locale: str, clock: Clock) -> dict[str, Any]:
    """A GeoJSON Feature (RFC 7946: [lon, lat])."""
    properties = item(row, locale, clock)
    properties.pop("lat")
    properties.pop("lon")
    return {
        "type": "Feature",
        "id": row["code"],
        "geometry": {"type": "Point", "coordinates": [row["lon"], row["lat"]]},
        "properties": properties,
    }
