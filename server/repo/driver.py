"""Plain SQL handed straight to the database driver, inside the session's transaction.

For the few statements every ingested batch runs while SQLite's write lock is held. SQLAlchemy's
execution path (execution context, result set-up, events, the session's connection look-up) costs
about a tenth of a millisecond a statement, more than such a statement itself; a batch runs about ten.
The SQL is the caller's, written for the session's dialect (``marks`` gives its placeholders).

A driver error is raised as SQLAlchemy's own (``DBAPIError.instance``: ``OperationalError``,
``IntegrityError``, ...), as if the engine had run the statement, so the API's handling of database
errors sees no difference. Parameters are never put in the message: they may be personal data.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from functools import lru_cache
from typing import Any

from sqlalchemy import Table
from sqlalchemy.engine import Connection, Dialect
from sqlalchemy.exc import DBAPIError
from sqlmodel import Session


def marks(dialect: Dialect, count: int) -> str:
    """``count`` positional placeholders in the driver's style, comma-separated."""
    mark = "?" if dialect.paramstyle == "qmark" else "%s"
    return ", ".join(mark for _ in range(count))


@lru_cache(maxsize=256)
def select_in(dialect: Dialect, table: str, columns: tuple[str, ...], key: str, count: int) -> str:
    """``SELECT <columns> FROM <table> WHERE <key> IN (<count placeholders>)``, quoted for ``dialect``."""
    quote = dialect.identifier_preparer.quote
    names = ", ".join(quote(name) for name in columns)
    return f"SELECT {names} FROM {quote(table)} WHERE {quote(key)} IN ({marks(dialect, count)})"


Processor = Callable[[Any], Any] | None


@lru_cache(maxsize=128)
def bind_processors(table: Table, columns: tuple[str, ...], dialect: Dialect) -> tuple[Processor, ...]:
    """Each column's conversion of a Python value to the driver's (the column type's own; None: as is)."""
    return tuple(table.c[name].type.dialect_impl(dialect).bind_processor(dialect) for name in columns)


def bound(values: Sequence[Any], processors: Sequence[Processor]) -> tuple[Any, ...]:
    """``values`` converted by ``bind_processors`` of the same columns."""
    return tuple(v if proc is None else proc(v) for v, proc in zip(values, processors, strict=True))


@contextmanager
def _cursor(conn: Connection, sql: str, params: Any, many: bool) -> Iterator[Any]:
    driver = conn.connection.driver_connection
    assert driver is not None  # a checked-out connection always has its driver connection
    cursor = driver.cursor()
    error = conn.dialect.loaded_dbapi.Error
    try:
        yield cursor
    except error as err:
        raise DBAPIError.instance(
            sql, params, err, error, hide_parameters=True, dialect=conn.dialect, ismulti=many
        ) from err
    finally:
        cursor.close()


def fetch(session: Session, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
    """The rows ``sql`` selects, as tuples."""
    conn = session.connection()
    with _cursor(conn, sql, params, False) as cursor:
        cursor.execute(sql, tuple(params))
        return [tuple(row) for row in cursor.fetchall()]


def execute(session: Session, sql: str, params: Sequence[Any] = ()) -> int:
    """Run one statement that returns no rows; the number of rows it changed."""
    conn = session.connection()
    with _cursor(conn, sql, params, False) as cursor:
        cursor.execute(sql, tuple(params))
        return int(cursor.rowcount)


def execute_many(session: Session, sql: str, rows: Sequence[Sequence[Any]]) -> None:
    """Run one statement once per parameter row (the driver's ``executemany``)."""
    if not rows:
        return
    conn = session.connection()
    with _cursor(conn, sql, rows, True) as cursor:
        cursor.executemany(sql, rows)
