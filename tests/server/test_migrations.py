"""Migrations from empty, on SQLite and PostgreSQL: the schema they make is the models' schema."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect, text
from sqlmodel import SQLModel

import server.models  # noqa: F401  (registers the tables)
from server.db import make_engine
from server.migrate import current_heads, upgrade


def _diff(database_url: str) -> list[object]:
    engine = make_engine(database_url)
    try:
        with engine.connect() as conn:
            context = MigrationContext.configure(conn, opts={"compare_type": True})
            return list(compare_metadata(context, SQLModel.metadata))
    finally:
        engine.dispose()


def test_upgrade_from_empty_matches_the_models(database_url: str) -> None:
    upgrade(database_url)
    assert _diff(database_url) == []
    engine = make_engine(database_url)
    try:
        tables = set(inspect(engine).get_table_names())
        with engine.connect() as conn:
            heads = set(MigrationContext.configure(conn).get_current_heads())
    finally:
        engine.dispose()
    assert set(SQLModel.metadata.tables) <= tables
    assert heads == set(current_heads())


def test_upgrade_twice_is_harmless(database_url: str) -> None:
    upgrade(database_url)
    upgrade(database_url)
    assert _diff(database_url) == []


_OFFICER = (
    "INSERT INTO officer (staff_no, name, post, department_id, photo_url, supervision_phone, active)"
    " VALUES ('S1', '甲', '', 1, '', '', true)"
)
_REQUEST = (
    "INSERT INTO enrollment_request (device_id, officer_id, status, message, requested_by, created_at,"
    " updated_at) VALUES ('agent-w1', 1, :status, :message, 'sup', :at, :at)"
)


def test_requests_stored_as_failed_by_expiry_become_expired(database_url: str) -> None:
    upgrade(database_url, "0006")
    engine = make_engine(database_url)
    rows = [
        ("failed", "超时：窗口终端未回报录入结果，请重新发起录入"),
        ("failed", "手指未放好"),
        ("done", ""),
    ]
    try:
        with engine.begin() as conn:
            conn.execute(text("INSERT INTO department (code, name) VALUES ('D1', '部门')"))
            conn.execute(text(_OFFICER))
            for status, message in rows:
                conn.execute(
                    text(_REQUEST), {"status": status, "message": message, "at": "2026-11-01 08:00:00"}
                )
        upgrade(database_url)
        with engine.connect() as conn:
            statuses = conn.execute(text("SELECT status FROM enrollment_request ORDER BY id")).scalars().all()
    finally:
        engine.dispose()
    assert statuses == ["expired", "failed", "done"]
