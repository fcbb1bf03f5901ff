"""PostgreSQL pool: a connection idle in the pool is pinged before use and replaced when dead."""

from __future__ import annotations

from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy import event

from server import db

pytestmark = pytest.mark.postgres


@pytest.fixture
def engine(pg_server_url: str) -> Any:
    made = db.make_engine(pg_server_url, pool_size=1)
    yield made
    made.dispose()


def _pings(engine: Any) -> list[int]:
    """Count the pings the dialect sends (``do_ping`` calls)."""
    calls: list[int] = []
    original = engine.dialect.do_ping

    def counted(dbapi_conn: Any) -> bool:
        calls.append(1)
        return bool(original(dbapi_conn))

    engine.dialect.do_ping = counted
    return calls


def _backend_pid(engine: Any) -> int:
    with engine.connect() as conn:
        return int(conn.execute(sa.text("SELECT pg_backend_pid()")).scalar_one())


def test_a_connection_given_back_moments_ago_is_used_without_a_ping(engine: Any) -> None:
    pings = _pings(engine)
    first = _backend_pid(engine)
    assert _backend_pid(engine) == first  # the same pooled connection, handed out again
    assert pings == []


def test_an_idle_connection_is_pinged_and_a_dead_one_replaced(
    engine: Any, pg_server_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    pings = _pings(engine)
    old = _backend_pid(engine)
    killer = sa.create_engine(pg_server_url, isolation_level="AUTOCOMMIT")
    with killer.connect() as conn:
        assert conn.execute(sa.text("SELECT pg_terminate_backend(:pid)"), {"pid": old}).scalar_one()
    killer.dispose()
    monkeypatch.setattr(db, "PING_AFTER_IDLE_S", 0.0)  # as if it had sat in the pool a while
    connects: list[int] = []
    event.listen(engine, "connect", lambda *_: connects.append(1))
    new = _backend_pid(engine)  # no error: the dead connection failed its ping and was replaced
    assert new != old
    assert pings == [1]
    assert connects == [1]
    with engine.connect() as conn:  # the replacement works for statements in a transaction too
        assert conn.execute(sa.text("SELECT 1")).scalar_one() == 1
