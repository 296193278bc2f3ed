"""Listings' geometry: a service area's bounding box, and the coordinates the radius search
reads, copied from locations onto their service-at-location rows."""

from __future__ import annotations

import math
import uuid
from collections.abc import Collection

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from directory.models import DirLocation, ServiceAtLocation

__all__ = ["bounding_box", "sync_coordinates"]


def bounding_box(extent: dict[str, object]) -> tuple[float, float, float, float]:
    """(min_lat, max_lat, min_lon, max_lon) of a GeoJSON geometry's coordinates."""
    points: list[tuple[float, float]] = []

    def walk(node: object) -> None:
        if (
            isinstance(node, list)
            and len(node) >= 2
            and all(isinstance(v, int | float) for v in node[:2])
        ):
            points.append((float(node[1]), float(node[0])))
        elif isinstance(node, list):
            for child in node:
                walk(child)

    walk(extent.get("coordinates"))
    if not points:
        return (math.nan, math.nan, math.nan, math.nan)
    lats, lons = [p[0] for p in points], [p[1] for p in points]
    return min(lats), max(lats), min(lons), max(lons)


def sync_coordinates(session: Session, location_ids: Collection[uuid.UUID]) -> None:
    """Copy these locations' coordinates onto every service-at-location row that points at
    them (the radius search reads them there). Call after moving a location: it may be
    shared with other services than the one being written."""
    if not location_ids:
        return
    of_location = DirLocation.id == ServiceAtLocation.location_id
    session.execute(
        update(ServiceAtLocation)
        .where(ServiceAtLocation.location_id.in_(list(location_ids)))
        .values(
            latitude=select(DirLocation.latitude).where(of_location).scalar_subquery(),
            longitude=select(DirLocation.longitude).where(of_location).scalar_subquery(),
        )
        .execution_options(synchronize_session="fetch")
    )
