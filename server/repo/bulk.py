"""Dialect-aware bulk inserts that skip rows whose unique key already exists.

SQLite: one ``executemany`` of a positional ``INSERT ... ON CONFLICT (key) DO NOTHING``; the rows it
inserted are known from its count or, when some were skipped, from their rowids (the write lock is held
throughout). PostgreSQL: one ``INSERT ... SELECT FROM unnest(<one
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
from sqlalchemy.dialects import sqlite
from sqlalchemy.engine import Dialect
from sqlmodel import Session

from server.repo import driver

_NOTHING = object()
_SQLITE = sqlite.dialect()

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
    """SQLite: one ``executemany`` of ``INSERT ... ON CONFLICT (key) DO NOTHING``; which rows went in.

    Every SQLite transaction here begins IMMEDIATE (``server.db``), so no other writer runs between
    the statements below. Usually every row is new, and the count of rows inserted says so at once.
    Otherwise the new rows are those after the table's last rowid before the insert (SQLite gives a
    new row the largest rowid plus one while that is far from its limit); tables without a rowid, or
    near that limit, look the stored keys up first instead.
    """
    if len(conflict_columns) != 1:
        raise ValueError("the SQLite bulk path supports one conflict column")
    key, table = conflict_columns[0], prepared.table
    assert prepared.sql is not None
    last = driver.fetch(session, _last_rowid_sql(table))[0][0] if _has_rowid(table) else None
    if last is None or last >= _ROWID_ORDERED_BELOW:
        return _insert_after_lookup(session, prepared, key, returning)
    count = driver.execute_many(session, _skipping_sql(prepared.sql, table, key), prepared.params)
    if count == len(prepared.rows):
        return {row[returning] for row in prepared.rows}
    return {row[0] for row in driver.fetch(session, _after_rowid_sql(table, returning), (last,))}


def _insert_after_lookup(session: Session, prepared: PreparedRows, key: str, returning: str) -> set[Any]:
    """Look up the keys already stored, then insert the rest with a plain INSERT (fails on a surprise)."""
    existing = _existing_keys(session, prepared.table, key, [row[key] for row in prepared.rows])
    fresh: list[tuple[Any, ...]] = []
    inserted: set[Any] = set()
    for row, values in zip(prepared.rows, prepared.params, strict=True):
        if row[key] not in existing:
            existing.add(row[key])
            fresh.append(values)
            inserted.add(row[returning])
    assert prepared.sql is not None
    driver.execute_many(session, prepared.sql, fresh)
    return inserted


# Below this rowid SQLite numbers new rows in order (largest plus one); at 2**63 - 1 it picks at random.
_ROWID_ORDERED_BELOW = 2**62


def _has_rowid(table: Table) -> bool:
    return bool(table.dialect_options["sqlite"].get("with_rowid", True))


@lru_cache(maxsize=64)
def _last_rowid_sql(table: Table) -> str:
    """``SELECT max(rowid) FROM table`` (0 for an empty table): one step down the rowid tree."""
    return f"SELECT coalesce(max(rowid), 0) FROM {_SQLITE.identifier_preparer.quote(table.name)}"


@lru_cache(maxsize=64)
def _after_rowid_sql(table: Table, column: str) -> str:
    quote = _SQLITE.identifier_preparer.quote
    return f"SELECT {quote(column)} FROM {quote(table.name)} WHERE rowid > ?"


@lru_cache(maxsize=64)
def _skipping_sql(insert: str, table: Table, key: str) -> str:
    """The positional INSERT, skipping a row whose ``key`` is stored (only that conflict)."""
    return f"{insert} ON CONFLICT ({_SQLITE.identifier_preparer.quote(key)}) DO NOTHING"


def _existing_keys(session: Session, table: Table, key: str, values: list[Any]) -> set[Any]:
    """The ``key`` values (text or integer columns) among ``values`` that are already stored."""
    found: set[Any] = set()
    for start in range(0, len(values), _SQLITE_IN_CHUNK):
        chunk = values[start : start + _SQLITE_IN_CHUNK]
        found.update(row[0] for row in driver.fetch(session, _keys_sql(table, key, len(chunk)), chunk))
    return found


@lru_cache(maxsize=256)
def _keys_sql(table: Table, key: str, count: int) -> str:
    """SQLite: ``SELECT key FROM table WHERE key IN (?, ...)`` for ``count`` values."""
    quote = _SQLITE.identifier_preparer.quote
    where = f"{quote(key)} IN ({driver.marks(_SQLITE, count)})"
    return f"SELECT {quote(key)} FROM {quote(table.name)} WHERE {where}"


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
