"""What a search form offers and resolves: the service categories, the languages listings
are offered in, and a postcode the directory knows turned into a point.

The directory has no geocoder: a postcode is known when a listed location has it (its point
is the mean of those locations, as the HSDS postcode match computes it) or a service area is
named by it (the middle of those areas' bounding boxes).
"""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from directory.access import Viewer, visible_services
from directory.models import (
    DirLocation,
    Service,
    ServiceArea,
    ServiceLanguage,
    Taxonomy,
    TaxonomyTerm,
)
from directory.vocabulary import CATEGORY_SYSTEM

__all__ = ["categories", "languages_offered", "postcode_point"]


def categories(session: Session) -> list[TaxonomyTerm]:
    """The service categories (the needs a search or a match names), by name."""
    return list(
        session.scalars(
            select(TaxonomyTerm)
            .join(Taxonomy, Taxonomy.id == TaxonomyTerm.taxonomy_id)
            .where(Taxonomy.uri == CATEGORY_SYSTEM)
            .order_by(TaxonomyTerm.name, TaxonomyTerm.code)
        )
    )


def languages_offered(session: Session, viewer: Viewer) -> list[str]:
    """The language codes of the listings the viewer may see, sorted."""
    ids = visible_services(viewer).with_only_columns(Service.id)
    return list(
        session.scalars(
            select(ServiceLanguage.code)
            .where(ServiceLanguage.service_id.in_(ids))
            .distinct()
            .order_by(ServiceLanguage.code)
        )
    )


def postcode_point(session: Session, postcode: str) -> tuple[float, float] | None:
    """Where a postcode the directory knows lies, else None (see the module docstring)."""
    code = postcode.strip()
    if not code:
        return None
    lat, lon = session.execute(
        select(func.avg(DirLocation.latitude), func.avg(DirLocation.longitude)).where(
            func.lower(DirLocation.postal_code) == code.lower(),
            DirLocation.latitude.is_not(None),
            DirLocation.longitude.is_not(None),
        )
    ).one()
    if lat is not None and lon is not None:
        return float(lat), float(lon)
    low_lat, high_lat, low_lon, high_lon = session.execute(
        select(
            func.min(ServiceArea.min_lat),
            func.max(ServiceArea.max_lat),
            func.min(ServiceArea.min_lon),
            func.max(ServiceArea.max_lon),
        ).where(func.lower(ServiceArea.name) == code.lower())
    ).one()
    if low_lat is None or high_lat is None or low_lon is None or high_lon is None:
        return None
    return (float(low_lat) + float(high_lat)) / 2, (float(low_lon) + float(high_lon)) / 2
