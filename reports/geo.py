"""Distances on the ground, for finding reports of the same problem nearby (pure)."""

from __future__ import annotations

import math

EARTH_RADIUS_M = 6_371_000.0


def distance_m(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle distance in metres (haversine)."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_M * math.asin(math.sqrt(a))


def box(lat: float, lon: float, radius_m: float) -> tuple[float, float, float, float]:
    """A latitude/longitude box that holds every point within radius_m (for an index)."""
    angle = radius_m / EARTH_RADIUS_M
    dlat = math.degrees(angle)
    # The circle's widest point lies a little poleward of its centre, where it spans
    # asin(sin r / cos lat) of longitude: a shade more than r / cos lat. A circle that
    # reaches a pole spans every longitude.
    reach = math.sin(angle) / max(math.cos(math.radians(lat)), 1e-12)
    dlon = math.degrees(math.asin(reach)) if reach < 1 else 180.0
    return lat - dlat, lat + dlat, lon - dlon, lon + dlon
