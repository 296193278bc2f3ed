"""Migrations and models agree, on the run's back-end, and the history is one line."""

from __future__ import annotations

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import create_engine, inspect

from gateway.migrations import alembic_config, current_revision, head_revision, upgrade
from gateway.schema import metadata
from tests.conftest import Databases


def test_migrated_database_matches_the_models(databases: Databases) -> None:
    engine = create_engine(databases.create())
    try:
        with engine.connect() as conn:
            context = MigrationContext.configure(conn, opts={"compare_type": True})
            assert compare_metadata(context, metadata) == []
    finally:
        engine.dispose()


def test_history_is_linear_and_reversible(databases: Databases) -> None:
    script = ScriptDirectory.from_config(alembic_config())
    assert len(script.get_heads()) == 1
    revisions = list(script.walk_revisions())
    assert all(len(rev._normalized_down_revisions) <= 1 for rev in revisions)

    engine = create_engine(databases.create(migrate=False))
    try:
        upgrade(engine)
        assert current_revision(engine) == head_revision()
        assert set(metadata.tables) <= set(inspect(engine).get_table_names())
        command.downgrade(alembic_config(engine), "base")
        assert current_revision(engine) is None
        assert not set(metadata.tables) & set(inspect(engine).get_table_names())
        upgrade(engine)
        assert current_revision(engine) == head_revision()
    finally:
        engine.dispose()
