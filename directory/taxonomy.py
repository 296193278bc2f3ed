"""Taxonomies and terms: find or create by (system URI, code)."""

from __future__ import annotations

import uuid

from sqlalchemy import select
from sqlalchemy.orm import Session

from directory.models import Taxonomy, TaxonomyTerm
from directory.vocabulary import CATEGORY_SYSTEM, TYPE_SYSTEM

__all__ = ["TAXONOMY_NAMES", "ensure_taxonomy", "ensure_term", "term_ids"]

TAXONOMY_NAMES = {
    CATEGORY_SYSTEM: ("refhub service categories", "What a service helps with (the need)."),
    TYPE_SYSTEM: ("refhub service types", "Finer kinds of service within a category."),
}


def ensure_taxonomy(
    session: Session, uri: str, *, name: str | None = None, taxonomy_id: uuid.UUID | None = None
) -> Taxonomy:
    found = session.scalars(select(Taxonomy).where(Taxonomy.uri == uri)).first()
    if found is not None:
        return found
    default_name, description = TAXONOMY_NAMES.get(uri, (name or uri, ""))
    taxonomy = Taxonomy(
        id=taxonomy_id or uuid.uuid5(uuid.NAMESPACE_URL, uri),
        uri=uri,
        name=name or default_name,
        description=description,
    )
    session.add(taxonomy)
    session.flush()
    return taxonomy


def ensure_term(
    session: Session,
    system: str,
    code: str,
    *,
    name: str | None = None,
    description: str = "",
    parent: TaxonomyTerm | None = None,
    term_id: uuid.UUID | None = None,
) -> TaxonomyTerm:
    """The term `code` of the taxonomy at `system`, created when missing (never renamed)."""
    taxonomy = ensure_taxonomy(session, system)
    found = session.scalars(
        select(TaxonomyTerm).where(
            TaxonomyTerm.taxonomy_id == taxonomy.id, TaxonomyTerm.code == code
        )
    ).first()
    if found is not None:
        return found
    term = TaxonomyTerm(
        id=term_id or uuid.uuid5(uuid.NAMESPACE_URL, f"{system}#{code}"),
        taxonomy_id=taxonomy.id,
        code=code,
        name=name or code.replace("-", " ").capitalize(),
        description=description or (name or code),
        parent_id=parent.id if parent is not None else None,
        term_uri=f"{system}#{code}",
    )
    session.add(term)
    session.flush()
    return term


def term_ids(session: Session, system: str, codes: list[str]) -> list[uuid.UUID]:
    """Ids of the terms with these codes in the taxonomy at `system` (unknown codes: none)."""
    if not codes:
        return []
    return list(
        session.scalars(
            select(TaxonomyTerm.id)
            .join(Taxonomy, Taxonomy.id == TaxonomyTerm.taxonomy_id)
            .where(Taxonomy.uri == system, TaxonomyTerm.code.in_(codes))
        )
    )
