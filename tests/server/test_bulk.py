"""Bulk insert-or-skip: the same answer and the same stored values on SQLite's and PostgreSQL's paths."""

from __future__ import annotations

import itertools
import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import Table
from sqlmodel import Session, col, select

from server.db import session_scope
from server.models import EdgeEventRecord
from server.repo.bulk import insert_ignore
from tests.server.conftest import Hall

TABLE: Table = EdgeEventRecord.__table__  # type: ignore[attr-defined]
T0 = datetime(2026, 3, 2, 1, 30, 15, 123456, tzinfo=UTC)
_examples = itertools.count()


def _row(event_id: str, n: int) -> dict[str, Any]:
    return {
        "id": event_id,
        "kind": "rating",
        "device_id": "agent-w1",
        "window_number": n,
        "device_time": T0 + timedelta(seconds=n),
        "received_at": T0,
        "outcome": "accepted",
        "reason": None,
        "payload": {"level": n % 5 + 1, "名": "满意"},
    }


def _stored(hall: Hall, ids: set[str]) -> dict[str, EdgeEventRecord]:
    with Session(hall.engine) as s:
        found = s.exec(select(EdgeEventRecord).where(col(EdgeEventRecord.id).in_(ids))).all()
        return {r.id: r for r in found}


def test_new_rows_inserted_existing_skipped_values_exact(hall: Hall) -> None:
    with session_scope(hall.engine) as s:
        assert insert_ignore(s, TABLE, [_row("e-1", 1)], ["id"], "id") == {"e-1"}
    with session_scope(hall.engine) as s:
        rows = [_row("e-1", 9), _row("e-2", 2), _row("e-2", 7), _row("e-3", 3)]
        assert insert_ignore(s, TABLE, rows, ["id"], "id") == {"e-2", "e-3"}
    stored = _stored(hall, {"e-1", "e-2", "e-3"})
    assert stored["e-1"].window_number == 1  # the existing row is untouched
    assert stored["e-2"].window_number == 2  # the first of two rows with one key wins
    assert stored["e-2"].payload == {"level": 3, "名": "满意"}
    assert stored["e-3"].device_time.replace(tzinfo=UTC) == T0 + timedelta(seconds=3)
    assert stored["e-3"].reason is None


def test_rows_with_different_columns_are_refused(hall: Hall) -> None:
    odd = _row("e-9", 1)
    del odd["reason"]
    with session_scope(hall.engine) as s, pytest.raises(ValueError, match="share their columns"):
        insert_ignore(s, TABLE, [_row("e-8", 1), odd], ["id"], "id")


def test_empty_batch_inserts_nothing(hall: Hall) -> None:
    with session_scope(hall.engine) as s:
        assert insert_ignore(s, TABLE, [], ["id"], "id") == set()


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    before=st.lists(st.integers(0, 15), max_size=8),
    batch=st.lists(st.integers(0, 15), max_size=30),
)
def test_inserted_is_the_batch_minus_what_existed(hall: Hall, before: list[int], batch: list[int]) -> None:
    prefix = f"p{next(_examples)}-"
    with session_scope(hall.engine) as s:
        insert_ignore(s, TABLE, [_row(f"{prefix}{k}", -1) for k in dict.fromkeys(before)], ["id"], "id")
    with session_scope(hall.engine) as s:
        rows = [_row(f"{prefix}{k}", n) for n, k in enumerate(batch)]
        inserted = insert_ignore(s, TABLE, rows, ["id"], "id")
    assert inserted == {f"{prefix}{k}" for k in batch} - {f"{prefix}{k}" for k in before}
    stored = _stored(hall, {f"{prefix}{k}" for k in batch})
    for n, k in enumerate(batch):
        first = batch.index(k)
        expected = -1 if k in before else first
        assert stored[f"{prefix}{k}"].window_number == expected, (n, k)


def test_postgresql_arrays_keep_the_json_types_rule_for_none() -> None:
    from sqlalchemy import JSON, Column, Integer, MetaData
    from sqlalchemy.dialects import postgresql

    from server.repo.bulk import prepare_rows

    table = Table(
        "t",
        MetaData(),
        Column("id", Integer, primary_key=True),
        Column("doc", JSON()),
        Column("doc_or_null", JSON(none_as_null=True)),
    )
    rows: list[dict[str, Any]] = [
        {"id": 1, "doc": None, "doc_or_null": None},
        {"id": 2, "doc": {"名": 1}, "doc_or_null": [1]},
    ]
    ids, docs, docs_or_null = prepare_rows(postgresql.dialect(), table, rows).params
    assert ids == [1, 2]
    assert docs[0] == "null" and json.loads(docs[1]) == {"名": 1}  # JSON null, as the type stores None
    assert docs_or_null == [None, "[1]"]  # SQL NULL where the type says none_as_null
