"""Bulk inserts: PostgreSQL's COPY where it is available, a multi-row INSERT elsewhere.

COPY moves rows into a table several times faster than INSERT statements (no statement per
batch to parse, plan and bind), which is what a large directory import spends most of its
database time on. Values go through the same SQLAlchemy type processing an INSERT would use
(JSON serialisation, UTC timestamps, UUIDs) and Python-side column defaults are applied, so
the stored rows are the same either way. A refused COPY (a constraint) raises SQLAlchemy's
`DBAPIError` like a refused INSERT, inside the caller's transaction or savepoint.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Sequence
from typing import Any

from sqlalchemy import JSON, Column, ColumnElement, Table, any_, bindparam, insert
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.engine import Dialect
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session
from sqlalchemy.sql.schema import ColumnDefault

__all__ = ["among", "insert_rows"]

_EMPTY_LIST = "[]"


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
    reads = [_reader(c, connection.dialect) for c in columns]
    names = ", ".join(connection.dialect.identifier_preparer.quote(c.name) for c in columns)
    statement = f"COPY {table.name} ({names}) FROM STDIN"
    driver = connection.connection.driver_connection
    assert driver is not None
    try:
        with driver.cursor() as cursor, cursor.copy(statement) as copy:
            for row in rows:
                copy.write_row([read(row) for read in reads])
    except driver.Error as exc:  # a refused row: reported like a refused INSERT
        raise DBAPIError(statement, None, exc) from exc


def _reader(column: Column[Any], dialect: Dialect) -> Callable[[dict[str, Any]], Any]:
    """How to get `column`'s value out of a row: the row's value, else the column's Python
    default, else None; then the type's bind processing (JSON as its text)."""
    name, default = column.name, _python_default(column)

    def raw(row: dict[str, Any]) -> Any:
        if name in row:
            return row[name]
        return default() if default is not None else None

    if isinstance(column.type, JSON):
        dumps: Callable[[Any], str] = getattr(dialect, "_json_serializer", None) or json.dumps

        def as_json(row: dict[str, Any]) -> str:  # None too is stored as JSON null
            value = raw(row)
            return _EMPTY_LIST if type(value) is list and not value else dumps(value)

        return as_json
    process = column.type.bind_processor(dialect)
    if process is None:
        return raw

    def processed(row: dict[str, Any]) -> Any:
        value = raw(row)
        return None if value is None else process(value)

    return processed


def _python_default(column: Column[Any]) -> Callable[[], Any] | None:
    default = column.default
    if not isinstance(default, ColumnDefault) or not (default.is_scalar or default.is_callable):
        return None  # none, or a SQL expression / sequence: left to the database
    value = default.arg
    if default.is_callable:  # SQLAlchemy wraps the function to take an execution context
        return lambda: value(None)
    return lambda: value


def among(session: Session, column: Any, values: Iterable[Any]) -> ColumnElement[bool]:
    """`column IN values`, for the large id lists bulk work looks up. PostgreSQL gets one
    array parameter (`= ANY(...)`): the statement stays short, so psycopg parses it once,
    instead of one placeholder per value in a statement too long for its cache."""
    listed = list(values)
    if session.get_bind().dialect.name != "postgresql":
        return column.in_(listed)  # type: ignore[no-any-return]
    return column == any_(bindparam(None, listed, type_=ARRAY(column.type)))  # type: ignore[no-any-return]
