"""Taking turns on SQLite: read-only transactions beside the writer, and no stall when every thread waits."""

from __future__ import annotations

import asyncio
import sqlite3
import uuid
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient
from pydantic import ValidationError
from sqlalchemy import text
from sqlalchemy.exc import OperationalError
from sqlmodel import Session

from server.api.deps import DB_REQUESTS_DEFAULT, db_places
from server.app import create_app
from server.db import make_engine, read_only_engine
from server.settings import ServerSettings
from tests.server.conftest import ANY_HOUR, prepare_database


@pytest.fixture
def database(tmp_path: Path) -> tuple[str, dict[str, str]]:
    url = f"sqlite:///{tmp_path / 'hall.db'}"
    return url, prepare_database(url)


def test_read_only_transaction_reads_beside_a_writer_and_cannot_write(
    database: tuple[str, dict[str, str]],
) -> None:
    url, _ = database
    engine = make_engine(url, busy_timeout_s=1.0)
    writer = sqlite3.connect(url.removeprefix("sqlite:///"), isolation_level=None)
    try:
        writer.execute("BEGIN IMMEDIATE")
        writer.execute("UPDATE device SET last_seen_at = NULL")
        with Session(read_only_engine(engine)) as session:
            # No wait for the writer (its busy timeout would have been spent), and its snapshot.
            assert session.execute(text("SELECT count(*) FROM device")).scalar_one() == 7
            with pytest.raises(OperationalError, match="readonly"):
                session.execute(text("DELETE FROM device"))
            session.rollback()
        writer.execute("COMMIT")
        # The pooled connection leaves read-only mode for an ordinary transaction.
        with Session(engine) as session:
            session.execute(text("UPDATE device SET last_seen_at = NULL"))
            session.commit()
        with Session(read_only_engine(engine)) as session:
            assert session.execute(text("SELECT count(*) FROM device")).scalar_one() == 7
    finally:
        writer.close()
        engine.dispose()


async def _many_printed(app: Any, key: str, n: int) -> list[int]:
    transport = httpx.ASGITransport(app=app)
    headers = {"Authorization": f"Bearer {key}"}
    async with httpx.AsyncClient(transport=transport, base_url="http://hall", headers=headers) as client:
        issued = await client.post(
            "/api/v1/tickets", json={"item_code": "GA01", "client_ref": str(uuid.uuid4())}
        )
        assert issued.status_code == 201, issued.text
        path = f"/api/v1/tickets/{issued.json()['ticket_no']}/printed"
        answers = await asyncio.gather(*(client.post(path) for _ in range(n)))
    return [a.status_code for a in answers]


@pytest.mark.timeout(120)
def test_more_writing_requests_than_worker_threads_do_not_stall(database: tuple[str, dict[str, str]]) -> None:
    # A sync route's answer is validated in a worker thread before its transaction ends. Were all 40
    # threads waiting for the write lock, that step would never run: every request would wait out
    # the busy timeout and fail with 503. The process admits fewer database requests than threads.
    url, keys = database
    settings = ServerSettings(
        demo=True, database_url=url, queue_last_ticket_time=ANY_HOUR, sqlite_busy_timeout_s=5.0
    )
    app = create_app(settings)
    assert DB_REQUESTS_DEFAULT < 40
    with pytest.raises(ValidationError, match="db_requests_per_process"):
        ServerSettings(demo=True, db_requests_per_process=40)  # as many as anyio's threads: refused
    statuses = asyncio.run(asyncio.wait_for(_many_printed(app, keys["kiosk-1"], 200), 60))
    assert statuses == [200] * 200
    app.state.engine.dispose()


def test_idle_call_next_and_command_poll_answer_while_a_writer_holds_the_lock(
    database: tuple[str, dict[str, str]],
) -> None:
    # A busy timeout of 1 s: had these requests queued behind the writer, they would fail with 503.
    url, keys = database
    settings = ServerSettings(
        demo=True, database_url=url, queue_last_ticket_time=ANY_HOUR, sqlite_busy_timeout_s=1.0
    )
    app = create_app(settings)
    headers = {"Authorization": f"Bearer {keys['agent-w1']}"}
    writer = sqlite3.connect(url.removeprefix("sqlite:///"), isolation_level=None)
    try:
        with TestClient(app) as client:
            writer.execute("BEGIN IMMEDIATE")
            called = client.post("/api/v1/queue/call-next", json={"staff_no": "A001"}, headers=headers)
            polled = client.get("/api/v1/edge/commands", headers=headers)
            roster = client.get("/api/v1/edge/roster", headers=headers)
            writer.execute("COMMIT")
            assert (called.status_code, polled.status_code, roster.status_code) == (204, 200, 200)
            assert polled.json() == {"enrollments": []}
            # Once someone waits, the call takes its write turn and claims the ticket.
            kiosk = {"Authorization": f"Bearer {keys['kiosk-1']}"}
            issued = client.post(
                "/api/v1/tickets", json={"item_code": "GA01", "client_ref": str(uuid.uuid4())}, headers=kiosk
            )
            assert issued.status_code == 201, issued.text
            called = client.post("/api/v1/queue/call-next", json={"staff_no": "A001"}, headers=headers)
            assert called.status_code == 200, called.text
            assert called.json()["ticket_no"] == issued.json()["ticket_no"]
    finally:
        writer.close()


@pytest.mark.parametrize(
    ("scheme", "configured", "expected"),
    [("sqlite", None, 8), ("postgresql", None, 8), ("sqlite", 5, 5), ("postgresql", 12, 12)],
)
def test_database_places_are_the_setting_or_the_database_default(
    tmp_path: Path, scheme: str, configured: int | None, expected: int
) -> None:
    url = (
        f"sqlite:///{tmp_path / 'h.db'}"
        if scheme == "sqlite"
        else "postgresql+psycopg://hall@127.0.0.1:1/hall"
    )
    app = create_app(ServerSettings(demo=True, database_url=url, db_requests_per_process=configured))
    request = SimpleNamespace(app=app)  # db_places reads only the app's state (no connection is made)
    assert db_places(request) == expected  # type: ignore[arg-type]
    app.state.engine.dispose()
