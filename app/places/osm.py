"""OpenStreetMap features as places: what an Overpass element or a GeoJSON feature says, mapped to
a PlaceIn (or a Skip with the reason an operator can act on).

Names: `name:xx` keeps its language code; the plain `name` is Vietnamese (the language of local
mappers) unless a `name:vi` says otherwise or it only repeats `name:en` (then it is English).
Unknown is not "no": an accessibility tag other than yes/limited/no leaves the field unknown."""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError
from shapely.geometry import shape

from app.kit.langtext import LANGUAGE_CODE
from app.places.models import Category, Wheelchair
from app.places.schemas import Accessibility, PlaceIn

OSM_ID = re.compile(r"^(node|way|relation)/(\d+)$")
_SHORT_ID = re.compile(r"^([nwr])(\d+)$")  # osmium export's type_id style
_SHORT_TYPES = {"n": "node", "w": "way", "r": "relation"}
_BARE_DOMAIN = re.compile(r"^(www\.)?[a-z0-9-]+(\.[a-z0-9-]+)*\.[a-z]{2,}(/\S*)?$", re.IGNORECASE)
_MAX_TAGS = 30
_GRADES = frozenset(grade.value for grade in Wheelchair)

# (key, values or None for any value, category), first match wins: specific values before the
# catch-alls (historic=*, natural=*, shop=*), and tourism=attraction last, since it only says
# that people visit something the other tags describe better (a waterfall, a temple).
_RULES: tuple[tuple[str, frozenset[str] | None, Category], ...] = (
    (
        "tourism",
        frozenset({"hotel", "guest_house", "hostel", "motel", "apartment", "chalet", "camp_site"}),
        Category.accommodation,
    ),
    ("tourism", frozenset({"viewpoint", "information"}), Category.sights),
    ("tourism", frozenset({"museum", "gallery"}), Category.culture),
    (
        "amenity",
        frozenset({"restaurant", "cafe", "fast_food", "bar", "food_court"}),
        Category.food,
    ),
    ("amenity", frozenset({"marketplace"}), Category.shopping),
    ("amenity", frozenset({"bus_station", "taxi", "parking"}), Category.transport),
    ("highway", frozenset({"bus_stop"}), Category.transport),
    ("public_transport", frozenset({"station"}), Category.transport),
    (
        "amenity",
        frozenset({"hospital", "clinic", "doctors", "pharmacy", "dentist"}),
        Category.health,
    ),
    (
        "amenity",
        frozenset({"school", "college", "university", "kindergarten"}),
        Category.education,
    ),
    ("amenity", frozenset({"townhall"}), Category.government),
    ("office", frozenset({"government"}), Category.government),
    ("amenity", frozenset({"bank", "atm"}), Category.finance),
    ("amenity", frozenset({"toilets"}), Category.toilets),
    (
        "amenity",
        frozenset({"police", "fire_station", "ambulance_station"}),
        Category.emergency,
    ),
    ("amenity", frozenset({"place_of_worship", "theatre"}), Category.culture),
    ("waterway", frozenset({"waterfall"}), Category.nature),
    ("leisure", frozenset({"park", "nature_reserve"}), Category.nature),
    ("historic", None, Category.culture),
    ("natural", None, Category.nature),
    ("shop", None, Category.shopping),
    ("tourism", frozenset({"attraction"}), Category.sights),
)
_NOT_A_VALUE = frozenset({"no", "none", "vacant", "disused", "abandoned"})
# Keys an operator would look at to see why a feature has no category.
_MAIN_KEYS = (
    "amenity",
    "tourism",
    "shop",
    "leisure",
    "historic",
    "natural",
    "office",
    "highway",
    "building",
    "landuse",
    "man_made",
    "craft",
)
# Public toilets are almost never named, yet finding one is what matters: a plain name.
_UNNAMED = {Category.toilets: {"vi": "Nhà vệ sinh công cộng", "en": "Public toilets"}}
_ADDRESS_AREAS = (
    "hamlet",
    "village",
    "quarter",
    "neighbourhood",
    "suburb",
    "subdistrict",
    "district",
    "city",
    "province",
)


class Skip(Exception):
    """A record that does not become a place; its text is the reason shown to the operator."""


@dataclass(frozen=True, slots=True)
class OsmFeature:
    """One record of the file: its id, its tags, and a point (None with a reason when it has none)."""

    osm_id: str | None
    tags: dict[str, str]
    lat: float | None = None
    lon: float | None = None
    no_point: str = "no coordinates"


def _tags(raw: Any) -> dict[str, str]:
    """OSM tags are strings; a GeoJSON export may carry numbers or nested values too."""
    if not isinstance(raw, Mapping):
        return {}
    tags: dict[str, str] = {}
    for key, value in raw.items():
        if isinstance(value, bool) or value is None or isinstance(value, Mapping | list):
            continue
        text = str(value).strip()
        if text and isinstance(key, str) and not key.startswith("@"):
            tags[key] = text
    return tags


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value)


def _point(lat: Any, lon: Any) -> tuple[float | None, float | None]:
    lat, lon = _number(lat), _number(lon)
    return (lat, lon) if lat is not None and lon is not None else (None, None)


def _representative(geometry: Mapping[str, Any]) -> tuple[float, float]:
    """(lat, lon) of a point inside a polygon or on a line (shapely's representative point)."""
    try:
        geom = shape(geometry)
        if geom.is_empty:
            raise Skip("no coordinates (empty geometry)")
        point = geom.representative_point()
    except Skip:
        raise
    except Exception as exc:  # shapely raises a handful of types for a malformed geometry
        raise Skip(f"invalid geometry ({geometry.get('type')})") from exc
    return point.y, point.x


def from_overpass(element: Mapping[str, Any]) -> OsmFeature:
    """An element of Overpass JSON: a node with lat/lon, a way or relation with `center`
    (from `out center;`) or, for a way, its `geometry` (from `out geom;`)."""
    kind, number = element.get("type"), element.get("id")
    osm_id = (
        f"{kind}/{number}"
        if kind in ("node", "way", "relation") and isinstance(number, int)
        else None
    )
    tags = _tags(element.get("tags"))
    if kind == "node":
        return OsmFeature(osm_id, tags, *_point(element.get("lat"), element.get("lon")))
    center = element.get("center")
    if isinstance(center, Mapping):
        return OsmFeature(osm_id, tags, *_point(center.get("lat"), center.get("lon")))
    geometry = element.get("geometry")
    if kind == "way" and isinstance(geometry, list) and geometry:
        ring = [(p.get("lon"), p.get("lat")) for p in geometry if isinstance(p, Mapping)]
        closed = len(ring) >= 4 and ring[0] == ring[-1]
        kind_of = "Polygon" if closed else "LineString"
        try:
            lat, lon = _representative({"type": kind_of, "coordinates": [ring] if closed else ring})
        except Skip as skip:
            return OsmFeature(osm_id, tags, no_point=str(skip))
        return OsmFeature(osm_id, tags, lat, lon)
    return OsmFeature(
        osm_id,
        tags,
        no_point=f"no coordinates (a {kind} without a center: export it with `out center;`)",
    )


def _geojson_id(feature: Mapping[str, Any], properties: Mapping[str, Any]) -> str | None:
    for candidate in (feature.get("id"), properties.get("@id"), properties.get("id")):
        if isinstance(candidate, str):
            candidate = candidate.strip()
            if OSM_ID.match(candidate):
                return candidate
            short = _SHORT_ID.match(candidate)
            if short:
                return f"{_SHORT_TYPES[short.group(1)]}/{short.group(2)}"
    kind = properties.get("osm_type") or properties.get("type")
    number = properties.get("osm_id") or properties.get("id")
    if kind in ("node", "way", "relation") and isinstance(number, int | str):
        return f"{kind}/{number}"
    if properties.get("osm_way_id"):  # ogr2ogr's multipolygons layer
        return f"way/{properties['osm_way_id']}"
    # Not from OpenStreetMap, but a stable id is all an upsert needs.
    fallback = feature.get("id")
    if isinstance(fallback, int | str) and not isinstance(fallback, bool) and str(fallback).strip():
        return str(fallback).strip()
    return None


_GEOJSON_META = frozenset({"osm_type", "osm_id", "osm_way_id", "id", "type", "tags", "meta"})


def from_geojson(feature: Mapping[str, Any]) -> OsmFeature:
    """A GeoJSON feature (overpass turbo, osmtogeojson, osmium or ogr2ogr exports): a point as
    is, any other geometry by its representative point."""
    if feature.get("type") != "Feature":
        raise Skip("not a GeoJSON Feature")
    properties = feature.get("properties")
    properties = properties if isinstance(properties, Mapping) else {}
    osm_id = _geojson_id(feature, properties)
    tags = {k: v for k, v in _tags(properties).items() if k not in _GEOJSON_META}
    tags.update(_tags(properties.get("tags")))  # osmtogeojson's older {"tags": {...}} layout
    geometry = feature.get("geometry")
    if not isinstance(geometry, Mapping):
        return OsmFeature(osm_id, tags, no_point="no coordinates (no geometry)")
    if geometry.get("type") == "Point":
        coordinates = geometry.get("coordinates")
        if isinstance(coordinates, list) and len(coordinates) >= 2:
            lat, lon = _point(coordinates[1], coordinates[0])
            return OsmFeature(osm_id, tags, lat, lon)
        return OsmFeature(osm_id, tags, no_point="no coordinates (a point without coordinates)")
    try:
        lat, lon = _representative(geometry)
    except Skip as skip:
        return OsmFeature(osm_id, tags, no_point=str(skip))
    return OsmFeature(osm_id, tags, lat, lon)


def category_of(tags: Mapping[str, str]) -> tuple[Category, str] | None:
    """The category and the OSM value that decided it (kept as a place tag)."""
    for key, values, category in _RULES:
        value = tags.get(key)
        if value is None or value in _NOT_A_VALUE:
            continue
        if values is None or value in values:
            return category, value
    return None


def texts(tags: Mapping[str, str], key: str) -> dict[str, str]:
    """`key` and `key:xx` as {language: text} (see the module's note on the plain key)."""
    found: dict[str, str] = {}
    prefix = f"{key}:"
    for tag, value in tags.items():
        if tag.startswith(prefix) and LANGUAGE_CODE.match(tag[len(prefix) :]):
            found[tag[len(prefix) :]] = value
    plain = tags.get(key)
    if plain and "vi" not in found and found.get("en") != plain:
        found["vi"] = plain
    # Vietnamese first, English second, then the rest as they came: stable for comparisons.
    order = ["vi", "en", *(code for code in found if code not in ("vi", "en"))]
    return {code: found[code] for code in order if code in found}


def address(tags: Mapping[str, str]) -> str | None:
    """`addr:full`, or "number street, hamlet, …, district, city, province"."""
    if tags.get("addr:full"):
        return tags["addr:full"]
    street = " ".join(
        tags[k] for k in ("addr:housenumber", "addr:street") if tags.get(k)
    ) or tags.get("addr:place", "")
    parts: list[str] = [street] if street else []
    for area in _ADDRESS_AREAS:
        value = tags.get(f"addr:{area}")
        if value and value not in parts:
            parts.append(value)
    return ", ".join(parts) or None


def _first(value: str | None) -> str | None:
    """OSM separates several values with ';': the first one."""
    if value is None:
        return None
    return value.split(";")[0].strip() or None


def _website(tags: Mapping[str, str]) -> str | None:
    value = _first(tags.get("website") or tags.get("contact:website"))
    if value and _BARE_DOMAIN.match(value):
        return f"http://{value}"  # "www.example.vn": the scheme is often left out
    return value


def _yes_no(value: str | None) -> bool | None:
    return {"yes": True, "no": False}.get(value or "")


def accessibility(tags: Mapping[str, str]) -> Accessibility:
    wheelchair = tags.get("wheelchair")
    return Accessibility(
        wheelchair=Wheelchair(wheelchair) if wheelchair in _GRADES else None,
        accessible_toilet=_yes_no(tags.get("toilets:wheelchair")),
        tactile_guidance=_yes_no(tags.get("tactile_paving")),
        notes=texts(tags, "wheelchair:description"),
    )


def place_tags(tags: Mapping[str, str], decided_by: str) -> list[str]:
    """A few OSM values worth searching for: what decided the category, the tourism and
    amenity values, the cuisines."""
    kept: list[str] = []
    values = [decided_by, tags.get("tourism"), tags.get("amenity")]
    values += (tags.get("cuisine") or "").split(";")
    if tags.get("tourism") == "information":
        values.append("tourist_information")
    for value in values:
        value = (value or "").strip()
        if value and value not in ("yes", *_NOT_A_VALUE, *kept) and len(value) <= 60:
            kept.append(value)
    return kept[:_MAX_TAGS]


def _clip(value: Any, limit: int = 80) -> str:
    text = str(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _reason(error: Mapping[str, Any], tags: Mapping[str, str]) -> str:
    field = str(error["loc"][0]) if error["loc"] else "record"
    quoted = {
        "opening_hours": tags.get("opening_hours"),
        "website": tags.get("website") or tags.get("contact:website"),
        "phone": tags.get("phone") or tags.get("contact:phone"),
    }
    if field in quoted:
        return f'invalid {field} "{_clip(quoted[field])}"'
    message = str(error["msg"]).removeprefix("Value error, ")
    return f"invalid {'.'.join(map(str, error['loc']))}: {message}"


def describe(tags: Mapping[str, str]) -> str:
    """The main tags of a feature, for a reason such as "unknown category (amenity=fuel)"."""
    main = [f"{k}={tags[k]}" for k in _MAIN_KEYS if k in tags]
    return ", ".join(main[:3]) or "no amenity, tourism, shop or similar tag"


def to_place(
    feature: OsmFeature,
    *,
    source: str = "osm",
    bbox: tuple[float, float, float, float] | None = None,
) -> PlaceIn:
    """The place a feature describes; Skip when it cannot be one. `bbox` is (west, south,
    east, north): points outside it are skipped."""
    if not feature.osm_id:
        raise Skip("no id")
    tags = feature.tags
    problems: list[str] = []
    found = category_of(tags)
    name = texts(tags, "name")
    if not name and found is not None:
        name = _UNNAMED.get(found[0]) or texts(tags, "brand")  # an ATM is its bank's
    if not name:
        problems.append("no name")
    lat, lon = feature.lat, feature.lon
    if lat is None or lon is None:
        problems.append(feature.no_point)
    elif not (
        math.isfinite(lat) and math.isfinite(lon) and -90 <= lat <= 90 and -180 <= lon <= 180
    ):
        problems.append(f"coordinates out of range ({lat}, {lon})")
    elif bbox is not None and not (bbox[0] <= lon <= bbox[2] and bbox[1] <= lat <= bbox[3]):
        problems.append(f"coordinates outside the box ({lat:.5f}, {lon:.5f})")
    if found is None:
        problems.append(f"unknown category ({describe(tags)})")
    if problems:
        raise Skip("; ".join(problems))
    assert found is not None and lat is not None and lon is not None
    category, decided_by = found
    try:
        return PlaceIn(
            category=category,
            name=name,
            description=texts(tags, "description"),
            address=address(tags),
            lat=lat,
            lon=lon,
            phone=_first(tags.get("phone") or tags.get("contact:phone")),
            website=_website(tags),
            opening_hours=tags.get("opening_hours"),
            tags=place_tags(tags, decided_by),
            source=source,
            source_id=feature.osm_id,
            accessibility=accessibility(tags),
        )
    except ValidationError as exc:
        raise Skip("; ".join(_reason(e, tags) for e in exc.errors())) from exc
