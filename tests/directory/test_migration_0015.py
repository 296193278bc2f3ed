"""Migration 0015 moves stored taxonomy and term URIs of refhub's code systems to the hub's
canonical URL (others untouched), and back on downgrade (on the run's back-end)."""

from __future__ import annotations

import uuid

import sqlalchemy as sa
from alembic import command
from sqlalchemy import create_engine

from gateway.migrations import alembic_config, upgrade
from tests.conftest import Databases

_taxonomy = sa.table(
    "directory_taxonomy",
    sa.column("id", sa.Uuid()),
    sa.column("name", sa.String()),
    sa.column("description", sa.Text()),
    sa.column("uri", sa.String()),
)
_term = sa.table(
    "directory_taxonomy_term",
    sa.column("id", sa.Uuid()),
    sa.column("taxonomy_id", sa.Uuid()),
    sa.column("code", sa.String()),
    sa.column("name", sa.String()),
    sa.column("description", sa.Text()),
    sa.column("term_uri", sa.String()),
)
OLD = "https://refhub.example.org/CodeSystem/service-category"
NEW = "https://refhub.org/fhir/CodeSystem/service-category"
OTHER = "https://taxonomy.example.org/services"


def test_code_system_uris_move_to_the_hub_url(databases: Databases) -> None:
    engine = create_engine(databases.create(migrate=False))
    ours, theirs = uuid.uuid4(), uuid.uuid4()
    try:
        upgrade(engine, "0014")
        with engine.begin() as conn:
            conn.execute(
                _taxonomy.insert(),
                [
                    {"id": ours, "name": "c", "description": "", "uri": OLD},
                    {"id": theirs, "name": "o", "description": "", "uri": OTHER},
                ],
            )
            conn.execute(
                _term.insert(),
                [
                    {
                        "id": uuid.uuid4(),
                        "taxonomy_id": ours,
                        "code": "housing",
                        "name": "Housing",
                        "description": "",
                        "term_uri": f"{OLD}#housing",
                    },
                    {
                        "id": uuid.uuid4(),
                        "taxonomy_id": theirs,
                        "code": "x",
                        "name": "X",
                        "description": "",
                        "term_uri": f"{OTHER}#x",
                    },
                ],
            )
        upgrade(engine, "0015")
        with engine.connect() as conn:
            assert set(conn.scalars(sa.select(_taxonomy.c.uri))) == {NEW, OTHER}
            assert set(conn.scalars(sa.select(_term.c.term_uri))) == {
                f"{NEW}#housing",
                f"{OTHER}#x",
            }
        command.downgrade(alembic_config(engine), "0014")
        with engine.connect() as conn:
            assert set(conn.scalars(sa.select(_taxonomy.c.uri))) == {OLD, OTHER}
    finally:
        engine.dispose()
