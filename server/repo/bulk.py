"""Dialect-aware bulk inserts that skip rows whose unique key already exists.

SQLite: the keys already stored are looked up, then one ``executemany`` of a positional INSERT inserts
the rest (the write lock is held throughout). PostgreSQL: one ``INSERT ... SELECT FROM unnest(<one
array per column>) ON CONFLICT DO NOTHING RETURNING``. A short statement whatever the batch size:
psycopg parses (and caches) a statement's text once, where a multi-row VALUES list of a hundred rows
was parsed again on every execution and cost more than the insert itself.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from sqlalchemy import JSON, Table
from sqlalchemy.engine import Dialect
from sqlmodel import Session

from server.repo import driver

_NOTHING = object()

# SQLite allows 32,766 host parameters per statement (3.32+); stay well below for the key look-up.
_SQLITE_IN_CHUNK = 5_000


@dataclass(frozen=True)
class PreparedRows:
    """Rows of one table ready to insert, converted to the values one dialect's statement takes.

    Built before the write transaction begins (``prepare_rows``), so the conversion (JSON encoding,
    date-time formatting) does not count against the time a batch holds SQLite's write lock.
    """

    table: Table
    columns: tuple[str, ...]
    rows: tuple[dict[str, Any], ...]
    dialect: str = ""  # the dialect the values were converted for
    sql: str | None = None  # SQLite: the positional INSERT
    # SQLite: one tuple of values per row; PostgreSQL: one list of values per column (the arrays).
    params: tuple[Any, ...] = ()


def prepare_rows(dialect: Dialect, table: Table, rows: Sequence[dict[str, Any]]) -> PreparedRows:
    """Check that ``rows`` share their columns and, on SQLite, convert them to database values."""
    if not rows:
        return PreparedRows(table, (), ())
    columns = tuple(rows[0])
    for row in rows:
        if tuple(row) != columns:
            raise ValueError(f"bulk rows must share their columns: {columns} vs {tuple(row)}")
    if dialect.name != "sqlite":
        return PreparedRows(
            table, columns, tuple(rows), dialect.name, None, _column_arrays(table, columns, rows, dialect)
        )
    sql, processors = _compiled_insert(table, columns, dialect)
    converted = [(i, proc) for i, proc in enumerate(processors) if proc is not None]
    # A value repeated from the row before (the same object: the batch's receive time, say) is
    # converted once.
    seen: list[Any] = [_NOTHING] * len(columns)
    done: list[Any] = [None] * len(columns)
    params = []
    for row in rows:
        values = list(row.values())
        for i, proc in converted:
            value = values[i]
            if value is not seen[i]:
                seen[i], done[i] = value, proc(value)
            values[i] = done[i]
        params.append(tuple(values))
    return PreparedRows(table, columns, tuple(rows), dialect.name, sql, tuple(params))


def _column_arrays(
    table: Table, columns: tuple[str, ...], rows: Sequence[dict[str, Any]], dialect: Dialect
) -> tuple[list[Any], ...]:
    """One list per column for ``unnest``; JSON values as their text (cast to ``json`` by the statement).

    As the JSON type's own bind processing does, a Python None is the JSON ``null`` unless the column's
    type says ``none_as_null`` (then SQL NULL).
    """
    arrays: list[list[Any]] = []
    for name in columns:
        values = [row[name] for row in rows]
        column_type = table.c[name].type
        if isinstance(column_type, JSON):
            dumps = getattr(dialect, "_json_serializer", None) or json.dumps
            sql_null = column_type.none_as_null
            values = [None if v is None and sql_null else dumps(v) for v in values]
        arrays.append(values)
    return tuple(arrays)


def insert_ignore(
    session: Session,
    table: Table,
    rows: Sequence[dict[str, Any]],
    conflict_columns: Sequence[str],
    returning: str,
) -> set[Any]:
    """Insert rows, skipping those that conflict on ``conflict_columns``; return inserted ``returning``.

    Within one call the first row of a conflicting pair wins, as with ``ON CONFLICT DO NOTHING``.
    """
    return insert_prepared(
        session, prepare_rows(session.get_bind().dialect, table, rows), conflict_columns, returning
    )


def insert_prepared(
    session: Session, prepared: PreparedRows, conflict_columns: Sequence[str], returning: str
) -> set[Any]:
    """``insert_ignore`` of rows made ready by ``prepare_rows`` (with the session's dialect)."""
    if not prepared.rows:
        return set()
    dialect = session.get_bind().dialect
    if prepared.dialect != dialect.name:
        raise ValueError(f"rows prepared for {prepared.dialect} cannot go to {dialect.name}")
    if dialect.name == "sqlite":
        return _sqlite_insert_new(session, prepared, conflict_columns, returning)
    sql = _unnest_insert(prepared.table, prepared.columns, tuple(conflict_columns), returning, dialect)
    return {row[0] for row in session.connection().exec_driver_sql(sql, prepared.params)}


def _sqlite_insert_new(
    session: Session, prepared: PreparedRows, conflict_columns: Sequence[str], returning: str
) -> set[Any]:
    """SQLite: look up the keys that exist, then one plain ``executemany`` of the new rows.

    Every SQLite transaction here begins IMMEDIATE (``server.db``), so the write lock is held from
    the look-up to the insert and no other writer can slip a conflicting row in between; a plain
    INSERT (not OR IGNORE) makes any such surprise fail loudly instead of miscounting.
    """
    if len(conflict_columns) != 1:
        raise ValueError("the SQLite bulk path supports one conflict column")
    key = conflict_columns[0]
    existing = _existing_keys(session, prepared.table, key, [row[key] for row in prepared.rows])
    fresh: list[tuple[Any, ...]] = []
    inserted: set[Any] = set()
    for row, values in zip(prepared.rows, prepared.params, strict=True):
        if row[key] not in existing:
            existing.add(row[key])
            fresh.append(values)
            inserted.add(row[returning])
    if fresh:
        assert prepared.sql is not None
        driver.execute_many(session, prepared.sql, fresh)
    return inserted


def _existing_keys(session: Session, table: Table, key: str, values: list[Any]) -> set[Any]:
    """The ``key`` values (text or integer columns) among ``values`` that are already stored."""
    dialect = session.get_bind().dialect
    found: set[Any] = set()
    for start in range(0, len(values), _SQLITE_IN_CHUNK):
        chunk = values[start : start + _SQLITE_IN_CHUNK]
        sql = driver.select_in(dialect, table.name, (key,), key, len(chunk))
        found.update(row[0] for row in driver.fetch(session, sql, chunk))
    return found


@lru_cache(maxsize=64)
def _compiled_insert(
    table: Table, columns: tuple[str, ...], dialect: Dialect
) -> tuple[str, list[driver.Processor]]:
    """The positional INSERT for ``columns`` and each column's bind processor (the type's own)."""
    missing = [
        c.name
        for c in table.columns
        if c.name not in columns and c.default is not None and not (c.primary_key and c.autoincrement)
    ]
    if missing:
        raise ValueError(f"bulk rows for {table.name} lack columns with Python defaults: {missing}")
    quote = dialect.identifier_preparer.quote
    names = ", ".join(quote(name) for name in columns)
    sql = f"INSERT INTO {quote(table.name)} ({names}) VALUES ({driver.marks(dialect, len(columns))})"
    return sql, list(driver.bind_processors(table, columns, dialect))


@lru_cache(maxsize=64)
def _unnest_insert(
    table: Table, columns: tuple[str, ...], conflict: tuple[str, ...], returning: str, dialect: Dialect
) -> str:
    """``INSERT ... SELECT * FROM unnest(%s::<type>[], ...) ON CONFLICT (...) DO NOTHING RETURNING``.

    Rows that conflict with each other within the arrays behave as separate statements would: the
    first is inserted, the later ones skipped.
    """
    quote = dialect.identifier_preparer.quote
    names = ", ".join(quote(name) for name in columns)
    arrays = ", ".join(f"%b::{table.c[name].type.compile(dialect=dialect)}[]" for name in columns)
    keys = ", ".join(quote(name) for name in conflict)
    return (
        f"INSERT INTO {quote(table.name)} ({names}) SELECT * FROM unnest({arrays}) "
        f"ON CONFLICT ({keys}) DO NOTHING RETURNING {quote(returning)}"
    )
