"""The system under test: databases (SQLite file or a throw-away PostgreSQL) and ``hall server`` processes."""

from __future__ import annotations

import contextlib
import logging
import sqlite3
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Any

import httpx
import psycopg
from sqlalchemy import Table
from sqlalchemy.engine import Dialect, make_url
from sqlalchemy.engine import create_engine as sa_create_engine

from hall.processes import ProcessGroup, wait_http
from server.db import is_sqlite, make_engine, session_scope
from server.migrate import upgrade
from server.models.devices import DeviceKind
from server.models.users import Role
from server.services.admin import add_device, create_user
from server.services.hall_config import load_hall, read_hall_file

log = logging.getLogger(__name__)

DEMO_HALL = Path(__file__).resolve().parent.parent / "server" / "halls" / "demo.toml"
READER = ("bench-reader", "bench-reader-pass")
DEMO_WINDOWS = 6
KIOSKS = 4


class Databases:
    """Fresh databases by name; PostgreSQL is started on first use and stopped with this object."""

    def __init__(self, work_dir: Path) -> None:
        self.work_dir = work_dir
        self._stack = ExitStack()
        self._pg_url: str | None = None

    def url(self, backend: str, name: str) -> str:
        """A new empty database ``name`` on ``backend`` ("sqlite" or "postgres")."""
        if backend == "sqlite":
            path = self.work_dir / f"{name}.db"
            for suffix in ("", "-wal", "-shm"):
                Path(f"{path}{suffix}").unlink(missing_ok=True)
            return f"sqlite:///{path}"
        if backend != "postgres":
            raise ValueError(f"unknown backend {backend!r}")
        if self._pg_url is None:
            from tests.pg_harness import postgres_server

            self._pg_url = self._stack.enter_context(postgres_server())
        engine = sa_create_engine(self._pg_url, isolation_level="AUTOCOMMIT")
        with engine.connect() as conn:
            conn.exec_driver_sql(f"DROP DATABASE IF EXISTS {name}")
            conn.exec_driver_sql(f"CREATE DATABASE {name}")
        engine.dispose()
        return self._pg_url.rsplit("/", 1)[0] + "/" + name

    def close(self) -> None:
        """Stop PostgreSQL if it was started."""
        self._stack.close()

    def __enter__(self) -> Databases:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def prepare_hall(database_url: str) -> dict[str, str]:
    """Migrate, load the demo hall, issue agent and kiosk keys and a reader account; return the keys."""
    upgrade(database_url)
    engine = make_engine(database_url)
    keys: dict[str, str] = {}
    try:
        with session_scope(engine) as session:
            load_hall(session, read_hall_file(DEMO_HALL))
            for n in range(1, DEMO_WINDOWS + 1):
                keys[f"agent-w{n}"] = add_device(session, f"agent-w{n}", DeviceKind.AGENT, n)
            for n in range(1, KIOSKS + 1):
                keys[f"kiosk-{n}"] = add_device(session, f"kiosk-{n}", DeviceKind.KIOSK, None)
            create_user(session, READER[0], READER[1], Role.SUPERVISOR)
    finally:
        engine.dispose()
    return keys


@contextmanager
def hall_server(database_url: str, log_dir: Path, workers: int = 1, port: int = 0) -> Iterator[str]:
    """Run ``hall server`` on loopback (a free port unless given) over ``database_url``; yield its URL."""
    port = port or free_port()
    env = {
        "HALL_DEMO": "1",
        "HALL_DATABASE_URL": database_url,
        "HALL_LOG_LEVEL": "WARNING",
        # Benchmarks run at any hour: keep the kiosk issuing tickets until local midnight.
        "HALL_QUEUE_LAST_TICKET_TIME": "23:59",
        "HALL_QUEUE_CLOSING_TIME": "23:59",
    }
    with ProcessGroup(log_dir, env) as group:
        args = ("server", "--host", "127.0.0.1", "--port", str(port), "--workers", str(workers))
        proc = group.start(f"server-{port}", *args)
        base_url = f"http://127.0.0.1:{port}"
        wait_http(f"{base_url}/healthz", 60, proc)
        yield base_url


def free_port() -> int:
    """A free TCP port on 127.0.0.1."""
    from tests.pg_harness import free_port as pick

    return pick()


def reader_token(base_url: str) -> str:
    """A bearer token of the benchmark's supervisor account."""
    r = httpx.post(
        f"{base_url}/api/v1/auth/token", data={"username": READER[0], "password": READER[1]}, timeout=30
    )
    r.raise_for_status()
    return str(r.json()["access_token"])


def dialect_of(database_url: str) -> Dialect:
    """The SQLAlchemy dialect that serves ``database_url`` (for converting values as the server does)."""
    return make_url(database_url).get_dialect()()


def raw_values(table: Table, dialect: Dialect, columns: list[str], rows: list[dict[str, Any]]) -> list[tuple]:
    """Rows as the driver receives them from the server, converted by each column's own type."""
    procs = [table.c[c].type.dialect_impl(dialect).bind_processor(dialect) for c in columns]
    return [
        tuple(p(row[c]) if p is not None else row[c] for c, p in zip(columns, procs, strict=True))
        for row in rows
    ]


@contextmanager
def raw_connection(database_url: str) -> Iterator[Any]:
    """A plain DB-API connection (sqlite3 with the server's pragmas, or psycopg) in manual commit mode."""
    if is_sqlite(database_url):
        conn: Any = sqlite3.connect(str(make_url(database_url).database), timeout=30)
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=NORMAL")
        conn.execute("PRAGMA foreign_keys=ON")
    else:
        conn = psycopg.connect(make_url(database_url).set(drivername="postgresql").render_as_string(False))
    try:
        yield conn
    finally:
        with contextlib.suppress(sqlite3.Error, psycopg.Error):
            conn.close()


def insert_sql(database_url: str, table: str, columns: list[str]) -> str:
    """A plain INSERT with the driver's placeholders."""
    mark = "?" if is_sqlite(database_url) else "%s"
    return f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({', '.join([mark] * len(columns))})"
