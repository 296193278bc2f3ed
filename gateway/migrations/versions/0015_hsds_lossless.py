"""HSDS lossless round trip, and the directory's code systems under the hub's canonical URL.

`directory_service.hsds_source` keeps an imported listing's HSDS document as given (fields
refhub does not model: programs, funding, metadata, full schedules, HSDS 3.1 additions...);
`hsds_base` is the document refhub wrote from its rows right after that import, so an export
can tell which parts refhub changed since (those win) from the parts it did not (the source's
value comes back). Both are NULL for listings never imported.

refhub's own code systems move from `https://refhub.example.org/CodeSystem/...` to
`https://refhub.org/fhir/CodeSystem/...` (the URL every other refhub resource uses): stored
taxonomy URIs and term URIs are rewritten. Ids stay as they are (lookups go by URI). The
downgrade writes the old prefix back.

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-04
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None

_OLD = "https://refhub.example.org/CodeSystem/"
_NEW = "https://refhub.org/fhir/CodeSystem/"


def _move_prefix(old: str, new: str) -> None:
    for table, column in (("directory_taxonomy", "uri"), ("directory_taxonomy_term", "term_uri")):
        t = sa.table(table, sa.column(column, sa.String()))
        c = t.c[column]
        op.execute(
            t.update()
            .where(c.like(old + "%"))
            .values({column: sa.literal(new) + sa.func.substr(c, len(old) + 1)})
        )


def upgrade() -> None:
    with op.batch_alter_table("directory_service", schema=None) as batch_op:
        batch_op.add_column(sa.Column("hsds_source", sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column("hsds_base", sa.JSON(), nullable=True))
    _move_prefix(_OLD, _NEW)


def downgrade() -> None:
    _move_prefix(_NEW, _OLD)
    with op.batch_alter_table("directory_service", schema=None) as batch_op:
        batch_op.drop_column("hsds_base")
        batch_op.drop_column("hsds_source")
