"""Dialect-aware bulk inserts that skip rows whose unique key already exists."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Table
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Session


def insert_ignore(
    session: Session,
    table: Table,
    rows: Sequence[dict[str, Any]],
    conflict_columns: Sequence[str],
    returning: str,
) -> set[Any]:
    """Insert rows, skipping those that conflict on ``conflict_columns``; return inserted ``returning``."""
    if not rows:
        return set()
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    # One cached statement run with many parameter sets ("insertmanyvalues"): compiling a
    # multi-row VALUES clause anew for every batch cost more than the inserts themselves.
    stmt = (
        insert(table)
        .on_conflict_do_nothing(index_elements=list(conflict_columns))
        .returning(table.c[returning])
    )
    return {row[0] for row in session.execute(stmt, list(rows))}
