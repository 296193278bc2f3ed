"""An import run's report and working state (shared by `importer` and `import_children`)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import Session

from directory.models import Taxonomy, TaxonomyTerm

__all__ = ["ImportReport", "Problem", "Run"]


@dataclass(frozen=True)
class Problem:
    """One record that was not imported (or imported with a part left out), and why."""

    record: str
    reason: str


@dataclass
class ImportReport:
    """What an import run did (or, in a dry run, would have done): `created`, `updated`
    and `unchanged` count services; `locations`, `taxonomies` and `taxonomy_terms` the
    documents of those types written on their own (not as part of a service)."""

    records: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    organizations: int = 0
    locations: int = 0
    taxonomies: int = 0
    taxonomy_terms: int = 0
    errors: list[Problem] = field(default_factory=list)
    warnings: list[Problem] = field(default_factory=list)

    @property
    def failed(self) -> int:
        return len(self.errors)

    def counts(self) -> dict[str, int]:
        return {
            "records": self.records,
            "created": self.created,
            "updated": self.updated,
            "unchanged": self.unchanged,
            "organizations": self.organizations,
            "locations": self.locations,
            "taxonomies": self.taxonomies,
            "taxonomy_terms": self.taxonomy_terms,
            "failed": self.failed,
            "warnings": len(self.warnings),
        }


@dataclass
class Run:
    session: Session
    report: ImportReport
    actor: str
    organizations: set[uuid.UUID] = field(default_factory=set)
    chunks: int = 0
    terms: dict[uuid.UUID, uuid.UUID] = field(default_factory=dict)
    term_codes: dict[tuple[uuid.UUID, str], uuid.UUID] = field(default_factory=dict)
    taxonomies: dict[uuid.UUID, str | None] = field(default_factory=dict)
    taxonomy_uris: dict[str, uuid.UUID] = field(default_factory=dict)
    default_organization: uuid.UUID | None = None

    def load_vocabulary(self) -> None:
        self.taxonomies = {
            tid: uri for tid, uri in self.session.execute(select(Taxonomy.id, Taxonomy.uri))
        }
        self.taxonomy_uris = {uri: tid for tid, uri in self.taxonomies.items() if uri}
        rows = self.session.execute(
            select(TaxonomyTerm.id, TaxonomyTerm.taxonomy_id, TaxonomyTerm.code)
        )
        self.terms, self.term_codes = {}, {}
        for term_id, taxonomy_id, code in rows:
            self.terms[term_id] = term_id
            self.term_codes[(taxonomy_id, code)] = term_id
