"""Plain SQL through the driver: same transaction as the session, SQLAlchemy's errors, no parameters shown."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from sqlalchemy import exc
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from server.db import make_engine, session_scope
from server.migrate import upgrade
from server.models import Department, Device
from server.repo import devices, driver

SECRET = "110101199003077777"  # a value that must never appear in an error message


@pytest.fixture
def engine(database_url: str) -> Iterator[Engine]:
    upgrade(database_url)
    made = make_engine(database_url)
    yield made
    made.dispose()


def _insert_sql(engine: Engine) -> str:
    return f"INSERT INTO department (code, name) VALUES ({driver.marks(engine.dialect, 2)})"


def test_marks_follow_the_driver_style(engine: Engine) -> None:
    expected = "?, ?, ?" if engine.dialect.name == "sqlite" else "%s, %s, %s"
    assert driver.marks(engine.dialect, 3) == expected


def test_statements_share_the_session_transaction(engine: Engine) -> None:
    sql = _insert_sql(engine)
    mark = driver.marks(engine.dialect, 1)
    with pytest.raises(RuntimeError), session_scope(engine) as s:
        driver.execute_many(s, sql, [("d-1", "一"), ("d-2", "二")])
        assert driver.fetch(s, f"SELECT name FROM department WHERE code = {mark}", ["d-2"]) == [("二",)]
        raise RuntimeError("roll back")
    with session_scope(engine) as s:
        assert s.exec(select(Department)).all() == []  # rolled back with the session
        driver.execute_many(s, sql, [("d-1", "一"), ("d-2", "二")])
        changed = driver.execute(s, f"UPDATE department SET name = {mark} WHERE code = {mark}", ["甲", "d-1"])
        assert changed == 1
    with Session(engine) as s:
        assert {(d.code, d.name) for d in s.exec(select(Department)).all()} == {("d-1", "甲"), ("d-2", "二")}


def test_driver_errors_are_sqlalchemys_and_hide_the_parameters(engine: Engine) -> None:
    sql = _insert_sql(engine)
    with session_scope(engine) as s:
        driver.execute(s, sql, ["d-1", "一"])
    with pytest.raises(exc.IntegrityError) as caught, session_scope(engine) as s:
        driver.execute_many(s, sql, [(SECRET, "新"), ("d-1", SECRET)])
    assert SECRET not in str(caught.value)
    assert "parameters hidden" in str(caught.value)
    missing_table = exc.OperationalError if engine.dialect.name == "sqlite" else exc.ProgrammingError
    with pytest.raises(missing_table), session_scope(engine) as s:
        driver.fetch(s, "SELECT nothing FROM no_such_table")
    with Session(engine) as s:  # the failed transactions left nothing behind
        assert [d.code for d in s.exec(select(Department)).all()] == ["d-1"]


def test_touch_stores_exact_values_through_the_driver(engine: Engine) -> None:
    seen = datetime(2026, 11, 23, 8, 30, 15, 123456, tzinfo=UTC)
    with session_scope(engine) as s:
        s.add(Device(device_id="agent-w1", kind="counter_agent", key_hash="x", created_at=seen))
    with session_scope(engine) as s:
        device = devices.device_snapshot(s, "agent-w1")
        assert device is not None
        devices.touch(s, device, seen, -3600.5)
        devices.touch(s, device, seen.replace(second=16), None)  # the offset is kept when unknown
        assert device.last_seen_at == seen.replace(second=16)
    with Session(engine) as s:
        stored = devices.device_by_id(s, "agent-w1")
        assert stored is not None and stored.clock_offset_s == -3600.5
        assert stored.last_seen_at is not None
        assert stored.last_seen_at.replace(tzinfo=UTC) == seen.replace(second=16)
