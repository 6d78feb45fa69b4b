"""Great-circle distances and bounding boxes (spherical Earth, mean radius)."""

from __future__ import annotations

import math

EARTH_RADIUS_M = 6_371_000.0


def distance_m(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Haversine distance in metres."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_M * math.asin(min(1.0, math.sqrt(a)))


def bbox(lat: float, lon: float, radius_m: float) -> tuple[float, float, float, float]:
    """(min_lat, max_lat, min_lon, max_lon) holding every point within radius_m of (lat, lon).
    The longitude half-width is exact for a sphere; near a pole (or for a huge radius) the box
    spans every longitude. A box crossing the antimeridian is widened to every longitude too."""
    angle = radius_m / EARTH_RADIUS_M
    dlat = math.degrees(angle)
    min_lat, max_lat = max(-90.0, lat - dlat), min(90.0, lat + dlat)
    cos_lat = math.cos(math.radians(lat))
    if min_lat <= -90 or max_lat >= 90 or math.sin(angle) >= cos_lat:
        return min_lat, max_lat, -180.0, 180.0
    dlon = math.degrees(math.asin(math.sin(angle) / cos_lat))
    if lon - dlon < -180 or lon + dlon > 180:
        return min_lat, max_lat, -180.0, 180.0
    return min_lat, max_lat, lon - dlon, lon + dlon
