"""Bulk inserts: PostgreSQL's COPY where it is available, a multi-row INSERT elsewhere.

COPY moves rows into a table several times faster than INSERT statements (no statement per
batch to parse, plan and bind), which is what a large directory import spends most of its
database time on. Values go through the same SQLAlchemy type processing an INSERT would use
(JSON serialisation, UTC timestamps, UUIDs) and Python-side column defaults are applied, so
the stored rows are the same either way. A refused COPY (a constraint) raises SQLAlchemy's
`DBAPIError` like a refused INSERT, inside the caller's transaction or savepoint.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from psycopg.types.json import Json
from sqlalchemy import JSON, Column, Table, insert
from sqlalchemy.engine import Dialect
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session
from sqlalchemy.sql.schema import ColumnDefault

__all__ = ["insert_rows"]

Processor = Callable[[Any], Any] | None


def insert_rows(session: Session, model: Any, rows: Sequence[dict[str, Any]]) -> None:
    """Insert `rows` (dicts keyed by column name) into `model`'s table in the session's
    transaction."""
    if not rows:
        return
    connection = session.connection()
    if connection.dialect.name != "postgresql":
        session.execute(insert(model), list(rows))
        return
    table: Table = model.__table__
    given = {name for row in rows for name in row}
    columns = [c for c in table.columns if c.name in given or _python_default(c) is not None]
    processors = [_processor(c, connection.dialect) for c in columns]
    defaults = [_python_default(c) for c in columns]
    names = ", ".join(connection.dialect.identifier_preparer.quote(c.name) for c in columns)
    statement = f"COPY {table.name} ({names}) FROM STDIN"
    driver = connection.connection.driver_connection
    assert driver is not None
    try:
        with driver.cursor() as cursor, cursor.copy(statement) as copy:
            for row in rows:
                values = []
                for column, process, default in zip(columns, processors, defaults, strict=True):
                    value = (
                        row[column.name] if column.name in row else default() if default else None
                    )
                    if process is not None and (value is not None or process is Json):
                        value = process(value)
                    values.append(value)
                copy.write_row(values)
    except driver.Error as exc:  # a refused row: reported like a refused INSERT
        raise DBAPIError(statement, None, exc) from exc


def _python_default(column: Column[Any]) -> Callable[[], Any] | None:
    default = column.default
    if not isinstance(default, ColumnDefault) or not (default.is_scalar or default.is_callable):
        return None  # none, or a SQL expression / sequence: left to the database
    value = default.arg
    if default.is_callable:  # SQLAlchemy wraps the function to take an execution context
        return lambda: value(None)
    return lambda: value


def _processor(column: Column[Any], dialect: Dialect) -> Processor:
    if isinstance(column.type, JSON):  # None too is stored as JSON null, as INSERT does
        return Json
    return column.type.bind_processor(dialect)
