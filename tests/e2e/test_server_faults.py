"""The server under faults: PostgreSQL restarted, the server killed mid-batch, SQLite busy, a skewed clock."""

from __future__ import annotations

import asyncio
import contextlib
import os
import pwd
import random
import shutil
import sqlite3
import subprocess
import tempfile
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from functools import partial
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import event as sa_event
from sqlalchemy import func
from sqlmodel import Session, select

from common.events import EventKind, MisusePayload, new_event
from counter_agent.outbox import Outbox
from counter_agent.sender import Sender
from server.app import create_app
from server.db import make_engine
from server.models import EdgeEventRecord, MisuseSignal, Rating
from server.settings import ServerSettings
from tests.e2e.harness import RunningHall, eventually, prepared_hall
from tests.e2e.test_agent_faults import outbox_ids, producer
from tests.pg_harness import _as_user, _bindir, free_port
from tests.server.conftest import ANY_HOUR, prepare_database
from tests.server.events_util import batch, event, rating

pytestmark = pytest.mark.e2e
LOCK_WITHIN_TIMEOUT_S = 3.0
SHORT_BUSY_TIMEOUT_MS = 300


class RestartablePostgres:
    """A PostgreSQL server whose data directory survives stop and start on the same port."""

    def __init__(self) -> None:
        bindir = _bindir()
        if bindir is None:
            pytest.skip("PostgreSQL server binaries (initdb) not found")
        self.bindir = bindir
        # initdb refuses root: run as the postgres user then, in a directory it may enter.
        self.user = "postgres" if os.geteuid() == 0 else None
        self.base = Path(tempfile.mkdtemp(prefix="hall-pg-restart-"))
        (self.base / "sock").mkdir()
        if self.user:
            entry = pwd.getpwnam(self.user)
            for path in (self.base, self.base / "sock"):
                os.chown(path, entry.pw_uid, entry.pw_gid)
        self.port = free_port()
        self.url = f"postgresql+psycopg://hall@127.0.0.1:{self.port}/hall"

    def _run(self, tool: str, *args: str) -> None:
        cmd = _as_user([str(self.bindir / tool), *args], self.user)
        env = {**os.environ, "LC_ALL": "C.UTF-8"}
        subprocess.run(cmd, check=True, capture_output=True, env=env, timeout=90)

    def create(self) -> None:
        """initdb, start, and create the database ``hall``."""
        self._run("initdb", "-D", str(self.base / "data"), "-U", "hall", "-A", "trust", "-E", "UTF8")
        self.start()
        self._run("createdb", "-h", "127.0.0.1", "-p", str(self.port), "-U", "hall", "hall")

    def start(self) -> None:
        """Start the server on its data directory and port; wait until it accepts connections."""
        options = f"-c listen_addresses=127.0.0.1 -p {self.port} -k {self.base / 'sock'} -c fsync=off"
        data, log = str(self.base / "data"), str(self.base / "log")
        self._run("pg_ctl", "-D", data, "-o", options, "-l", log, "-w", "-t", "60", "start")

    def stop(self, mode: str = "fast") -> None:
        """Stop the server; ``fast`` disconnects every client at once."""
        self._run("pg_ctl", "-D", str(self.base / "data"), "-m", mode, "-w", "stop")

    def remove(self) -> None:
        """Stop (if running) and delete everything."""
        with contextlib.suppress(subprocess.CalledProcessError):  # already stopped
            self.stop("immediate")
        shutil.rmtree(self.base, ignore_errors=True)


@pytest.fixture
def postgres() -> Iterator[RestartablePostgres]:
    pg = RestartablePostgres()
    try:
        pg.create()
        yield pg
    finally:
        pg.remove()


@pytest.fixture
def running(tmp_path: Path) -> Iterator[RunningHall]:
    hall = prepared_hall(tmp_path)
    try:
        hall.start_server()
        yield hall
    finally:
        hall.group.stop()


def delivered_ids(database_url: str) -> list[str]:
    """Ids of the burst events on the server; each must have been applied exactly once."""
    engine = make_engine(database_url)
    try:
        with Session(engine) as session:
            stmt = select(EdgeEventRecord.id).where(
                EdgeEventRecord.kind == "misuse", EdgeEventRecord.device_id == "agent-w1"
            )
            ids = [str(i) for i in session.exec(stmt)]
            signals = session.exec(select(func.count()).select_from(MisuseSignal)).one()
    finally:
        engine.dispose()
    assert signals == len(ids)
    return ids


def delivered_count(database_url: str) -> int:
    """How many burst events the server holds so far (for polling while it ingests)."""
    engine = make_engine(database_url)
    try:
        with Session(engine) as session:
            stmt = select(func.count()).select_from(EdgeEventRecord).where(EdgeEventRecord.kind == "misuse")
            return int(session.exec(stmt).one())
    finally:
        engine.dispose()


def _at_least(database_url: str, count: int) -> bool:
    return delivered_count(database_url) >= count


def misuse_batch(count: int) -> dict[str, Any]:
    """A batch of ``count`` fresh misuse events of window 1."""
    payload = {"signal": "burst_test", "key": "rate_1"}
    return batch(*(event("misuse", "agent-w1", payload, 1) for _ in range(count)))


def send_until_answered(hall: RunningHall, body: dict[str, Any], timeout_s: float = 60) -> list[str]:
    """POST a batch until the server answers it, as the agent's sender does; return the outcomes."""
    headers = {"Authorization": f"Bearer {hall.keys['agent-w1']}"}
    deadline = time.monotonic() + timeout_s
    while True:
        try:
            r = httpx.post(f"{hall.server_url}/api/v1/events", json=body, headers=headers, timeout=30)
            if r.status_code == 200:
                return [item["outcome"] for item in r.json()["results"]]
        except httpx.HTTPError:
            pass
        if time.monotonic() > deadline:
            raise AssertionError("the server never answered the batch")
        time.sleep(0.2)


def _post_events(hall: RunningHall, body: dict[str, Any], result: dict[str, Any]) -> None:
    """POST a batch once; note its status (or the transport error) and how long it took."""
    headers = {"Authorization": f"Bearer {hall.keys['agent-w1']}"}
    started = time.monotonic()
    try:
        r = httpx.post(f"{hall.server_url}/api/v1/events", json=body, headers=headers, timeout=60)
        result["status"] = r.status_code
    except httpx.HTTPError as err:
        result["status"] = type(err).__name__
    result["elapsed_s"] = time.monotonic() - started


@pytest.mark.postgres
@pytest.mark.timeout(240)
def test_postgres_restart_under_load_loses_and_doubles_nothing(
    postgres: RestartablePostgres, tmp_path: Path
) -> None:
    hall = prepared_hall(tmp_path, postgres.url)
    try:
        hall.start_server()
        outbox = tmp_path / "outbox.db"
        proc = producer(hall, outbox, 3000)
        for delivered_before in (200, 1000, 1800):  # three restarts, each with requests in flight
            eventually(partial(_at_least, postgres.url, delivered_before), 60, 0.05)
            postgres.stop()
            time.sleep(0.5)  # requests meanwhile meet a dead database
            postgres.start()
        assert proc.stdout is not None and proc.stdout.readline().strip() == "DRAINED"
        proc.wait(timeout=30)
        assert hall.group.check_alive() == []  # the server lived through it and reconnected
        delivered, committed = delivered_ids(postgres.url), outbox_ids(outbox)
        assert len(committed) == 3000
        assert len(delivered) == len(set(delivered))
        assert sorted(delivered) == sorted(committed)
        server_log = (tmp_path / "logs" / "server.log").read_text(encoding="utf-8", errors="replace")
        assert 'HTTP/1.1" 500' not in server_log  # a dead database is a 503 to retry, never a 500
    finally:
        hall.group.stop()


@pytest.mark.timeout(240)
def test_server_killed_while_a_large_batch_is_in_flight(running: RunningHall) -> None:
    rng = random.Random(20261123)
    sent: list[str] = []
    outcomes: list[list[str]] = []
    first_tries: list[dict[str, Any]] = []
    # How long a batch of 500 takes here, so each kill lands inside the next one's handling.
    timing: dict[str, Any] = {}
    warm = misuse_batch(500)
    sent += [e["id"] for e in warm["events"]]
    _post_events(running, warm, timing)
    assert timing["status"] == 200, timing
    for _ in range(4):
        body = misuse_batch(500)
        sent += [e["id"] for e in body["events"]]
        first_tries.append({})
        in_flight = threading.Thread(target=_post_events, args=(running, body, first_tries[-1]), daemon=True)
        in_flight.start()
        time.sleep(rng.uniform(0.1, 0.8) * timing["elapsed_s"])
        running.group.kill("server")
        in_flight.join(10)
        running.start_server()
        outcomes.append(send_until_answered(running, body))
    # At least one first try was cut off by the kill (the others ended just before or after it).
    assert any(isinstance(t.get("status"), str) for t in first_tries), first_tries
    for answer in outcomes:
        # One batch is one transaction: after the kill it is either all in or all out.
        assert len(set(answer)) == 1 and answer[0] in ("accepted", "duplicate"), set(answer)
    delivered = delivered_ids(running.database_url)
    assert len(delivered) == len(set(delivered)) == 2500
    assert sorted(delivered) == sorted(sent)


@pytest.mark.timeout(240)
def test_server_killed_while_the_sender_drains_a_backlog(running: RunningHall, tmp_path: Path) -> None:
    outbox = tmp_path / "outbox.db"
    running.group.kill("server")
    proc = producer(running, outbox, 2000)
    eventually(lambda: len(outbox_ids(outbox)) == 2000, 120, 0.1)
    running.start_server()
    eventually(lambda: delivered_count(running.database_url) > 0, 60, 0.02)
    running.group.kill("server")  # batches of 200 are in flight now
    running.start_server()
    assert proc.stdout is not None and proc.stdout.readline().strip() == "DRAINED"
    proc.wait(timeout=30)
    delivered = delivered_ids(running.database_url)
    assert len(delivered) == len(set(delivered)) == 2000
    assert sorted(delivered) == sorted(outbox_ids(outbox))


@pytest.mark.timeout(120)
def test_sqlite_write_lock_shorter_than_busy_timeout_makes_requests_wait(running: RunningHall) -> None:
    body = misuse_batch(50)
    path = running.database_url.removeprefix("sqlite:///")
    locker = sqlite3.connect(path, isolation_level=None)
    result: dict[str, Any] = {}
    try:
        locker.execute("BEGIN IMMEDIATE")
        request = threading.Thread(target=_post_events, args=(running, body, result))
        request.start()
        time.sleep(LOCK_WITHIN_TIMEOUT_S)
        assert request.is_alive()  # waiting for the lock, not failed
        locker.execute("COMMIT")
        request.join(30)
    finally:
        locker.close()
    assert result["status"] == 200
    assert result["elapsed_s"] >= LOCK_WITHIN_TIMEOUT_S - 0.5
    assert sorted(delivered_ids(running.database_url)) == sorted(e["id"] for e in body["events"])


def _short_busy_timeout_app(database_url: str) -> Any:
    app = create_app(ServerSettings(demo=True, database_url=database_url, queue_last_ticket_time=ANY_HOUR))

    # Runs after the engine's own connect hook, so it overrides the 30 s timeout: the test stays short.
    @sa_event.listens_for(app.state.engine, "connect")
    def _short(dbapi_conn: Any, _record: Any) -> None:
        dbapi_conn.execute(f"PRAGMA busy_timeout={SHORT_BUSY_TIMEOUT_MS}")

    return app


async def _deliver_through_lock(app: Any, key: str, outbox: Outbox, locker: sqlite3.Connection) -> Sender:
    transport = httpx.ASGITransport(app=app)
    headers = {"Authorization": f"Bearer {key}"}
    async with httpx.AsyncClient(transport=transport, base_url="http://hall", headers=headers) as client:
        sender = Sender(outbox, client, backoff_initial_s=0.05, backoff_max_s=0.2, idle_poll_s=0.05)
        task = asyncio.create_task(sender.run())
        try:
            while "503" not in sender.status.last_error:
                await asyncio.sleep(0.05)
            locker.execute("COMMIT")
            # The outbox empties just before the sender counts the delivery: wait for both.
            while outbox.depth() or not sender.status.delivered:
                await asyncio.sleep(0.05)
        finally:
            task.cancel()
    return sender


@pytest.mark.timeout(120)
def test_sqlite_lock_longer_than_busy_timeout_is_503_and_the_sender_retries(tmp_path: Path) -> None:
    database_url = f"sqlite:///{tmp_path / 'hall.db'}"
    keys = prepare_database(database_url)
    app = _short_busy_timeout_app(database_url)
    locker = sqlite3.connect(tmp_path / "hall.db", isolation_level=None)
    try:
        locker.execute("BEGIN IMMEDIATE")
        with TestClient(app) as client:
            r = client.post(
                "/api/v1/events",
                json=misuse_batch(3),
                headers={"Authorization": f"Bearer {keys['agent-w1']}"},
            )
        assert r.status_code == 503, r.text
        assert r.headers["Retry-After"] == "2"
        assert "重试" in r.json()["detail"]
        outbox = Outbox(tmp_path / "outbox.db")
        events = [
            new_event(EventKind.MISUSE, "agent-w1", MisusePayload(signal="burst_test", key="rate_1"), 1)
            for _ in range(5)
        ]
        for e in events:
            outbox.put(e)
        sender = asyncio.run(
            asyncio.wait_for(_deliver_through_lock(app, keys["agent-w1"], outbox, locker), 60)
        )
        outbox.close()
    finally:
        locker.close()
    assert sender.status.delivered == 5
    assert sorted(delivered_ids(database_url)) == sorted(str(e.id) for e in events)


@pytest.mark.timeout(120)
def test_window_clock_five_hours_ahead_is_accepted_and_shown(running: RunningHall) -> None:
    ahead = datetime.now(UTC) + timedelta(hours=5)
    rated = rating("agent-w1", 1, 2)
    rated["device_time"] = ahead.isoformat()
    r = httpx.post(
        f"{running.server_url}/api/v1/events",
        json=batch(rated, sent_at=ahead),
        headers={"Authorization": f"Bearer {running.keys['agent-w1']}"},
        timeout=30,
    )
    assert r.status_code == 200
    assert [item["outcome"] for item in r.json()["results"]] == ["accepted"]
    devices = running.get("/api/v1/devices")["devices"]
    w1 = next(d for d in devices if d["device_id"] == "agent-w1")
    assert 5 * 3600 - 60 < w1["clock_offset_s"] < 5 * 3600 + 60
    engine = make_engine(running.database_url)
    try:
        with Session(engine) as session:
            rated_at = session.exec(select(Rating.rated_at)).one()
    finally:
        engine.dispose()
    assert abs((rated_at - ahead).total_seconds()) < 0.01  # dated by the window's clock, not the server's
