"""Database engine and sessions: SQLite (WAL) embedded, PostgreSQL in production."""

from __future__ import annotations

import fcntl
import os
import sqlite3
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.exc import DisconnectionError, OperationalError
from sqlmodel import Session, create_engine


def is_sqlite(url: str) -> bool:
    """True for SQLite URLs."""
    return make_url(url).get_backend_name() == "sqlite"


DEFAULT_BUSY_TIMEOUT_S = 30.0
SQLITE_POOL_SIZE = 48


def make_engine(url: str, *, pool_size: int = 10, busy_timeout_s: float = DEFAULT_BUSY_TIMEOUT_S) -> Engine:
    """Create the engine; SQLite gets WAL, a busy timeout and write transactions that queue up front."""
    if is_sqlite(url):
        db_path = make_url(url).database
        on_disk = bool(db_path) and db_path != ":memory:"
        if on_disk:
            Path(str(db_path)).parent.mkdir(parents=True, exist_ok=True)
        queue = WriterQueue(Path(f"{db_path}.writers") if on_disk else None, busy_timeout_s)
        engine = create_engine(
            url,
            connect_args={
                "check_same_thread": False,
                "timeout": busy_timeout_s,
                "factory": _QueuedConnection,
            },
            # As many connections as request threads (anyio's default 40): a thread waiting its turn
            # in the writer queue holds a connection, and the holder must never wait for one.
            pool_size=SQLITE_POOL_SIZE,
            max_overflow=0,
        )
        _configure_sqlite(engine, queue, busy_timeout_s)
        return engine
    engine = create_engine(url, pool_size=pool_size, max_overflow=pool_size)
    _ping_idle_connections(engine)
    return engine


# A pooled server connection is pinged before use when it sat in the pool at least this long.
PING_AFTER_IDLE_S = 2.0
_CHECKED_IN_AT = "hall_checked_in_at"


def _ping_idle_connections(engine: Engine) -> None:
    """Check a pooled connection that has been idle before handing it out; replace it if it is dead.

    SQLAlchemy's ``pool_pre_ping`` pings on every checkout: one more round trip on every request. A
    connection given back moments ago is almost surely alive, so only those idle for
    ``PING_AFTER_IDLE_S`` are pinged. If the database restarts while connections are in use, the
    first statement on each fails as a disconnect, which SQLAlchemy answers by dropping the whole
    pool; that request is answered 503 and retried by its device (``server.api.db_errors``).
    """

    @event.listens_for(engine, "checkin")
    def _on_checkin(_dbapi_conn: Any, record: Any) -> None:
        if record is not None:
            record.info[_CHECKED_IN_AT] = time.monotonic()

    @event.listens_for(engine, "checkout")
    def _on_checkout(dbapi_conn: Any, record: Any, _proxy: Any) -> None:
        since = record.info.get(_CHECKED_IN_AT)
        if since is None or time.monotonic() - since < PING_AFTER_IDLE_S:
            return
        try:
            alive = engine.dialect.do_ping(dbapi_conn)
        except Exception as err:  # any failure: the pool connects afresh
            raise DisconnectionError(f"pooled connection failed its ping: {err}") from err
        if not alive:
            raise DisconnectionError("pooled connection failed its ping")


class WriterQueue:
    """One SQLite transaction at a time per database, waited for without SQLite's sleeping busy handler.

    SQLite lets one writer in and makes the others poll with growing sleeps (up to 100 ms), so under
    load the lock sits idle while waiters sleep, and a waiter can lose every race until its timeout.
    Here a waiter blocks on a thread lock (one per process) and then on an ``flock`` of a side file
    (one per database), and wakes as soon as the holder is done. Processes that open the database
    some other way still meet SQLite's own busy timeout, as before.
    """

    def __init__(self, path: Path | None, timeout_s: float) -> None:
        self.timeout_s = timeout_s
        self._path = path
        self._fd: int | None = None
        self._pid = 0
        self._thread_lock = threading.Lock()

    def acquire(self) -> None:
        """Wait for this caller's turn: at most the busy timeout behind this process's other threads."""
        if not self._thread_lock.acquire(timeout=self.timeout_s):
            raise sqlite3.OperationalError(
                "database is locked (waited for another transaction in this process)"
            )
        try:
            self._lock_file()
        except BaseException:
            self._thread_lock.release()
            raise

    def release(self) -> None:
        """Let the next transaction in."""
        if self._fd is not None:
            fcntl.flock(self._fd, fcntl.LOCK_UN)
        self._thread_lock.release()

    def _lock_file(self) -> None:
        if self._path is None:
            return
        if self._fd is None or self._pid != os.getpid():  # a forked worker opens its own description
            self._fd = os.open(self._path, os.O_RDWR | os.O_CREAT, 0o600)
            self._pid = os.getpid()
        try:
            fcntl.flock(self._fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            # Block in the kernel: woken the moment the holder unlocks. Polling with sleeps instead let
            # a busy process take the lock again and again before the sleeper looked, starving it.
            # Only one thread per process waits here (the thread lock holds the rest, with their
            # timeout); a holder's transaction always ends, and a dead holder's lock goes with it.
            fcntl.flock(self._fd, fcntl.LOCK_EX)


class _QueuedConnection(sqlite3.Connection):
    """A pysqlite connection that leaves the writer queue when its transaction ends, however it ends."""

    queue: WriterQueue | None = None
    query_only = False  # PRAGMA query_only as last set on this connection

    def enter(self, queue: WriterQueue) -> None:
        """Take this connection's turn in the queue (before BEGIN)."""
        queue.acquire()
        self.queue = queue

    def leave(self) -> None:
        """Give the turn back (idempotent)."""
        queue, self.queue = self.queue, None
        if queue is not None:
            queue.release()

    def commit(self) -> None:
        try:
            super().commit()
        finally:
            if not self.in_transaction:
                self.leave()

    def rollback(self) -> None:
        try:
            super().rollback()
        finally:
            self.leave()

    def close(self) -> None:
        try:
            super().close()
        finally:
            self.leave()


def _configure_sqlite(engine: Engine, queue: WriterQueue, busy_timeout_s: float) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: Any) -> None:
        # Let SQLAlchemy's "begin" event emit BEGIN itself (pysqlite's own BEGIN is deferred).
        dbapi_conn.isolation_level = None
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute("PRAGMA synchronous=NORMAL")
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute(f"PRAGMA busy_timeout={int(busy_timeout_s * 1000)}")
        cur.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Any) -> None:
        # IMMEDIATE takes the write lock at BEGIN, so two writers never deadlock on a lock upgrade;
        # the writer queue makes waiters take turns instead of sleeping in SQLite's busy handler.
        # A read-only transaction (``read_only_engine``) reads a WAL snapshot beside the writer
        # instead: no queue, a deferred BEGIN, and ``query_only`` so that a write fails loudly.
        raw = conn.connection.dbapi_connection
        read_only = bool(conn.get_execution_options().get(READ_ONLY))
        if getattr(raw, "query_only", False) != read_only:
            conn.exec_driver_sql(f"PRAGMA query_only={int(read_only)}")
            raw.query_only = read_only
        if read_only:
            conn.exec_driver_sql("BEGIN")
            return
        queued = isinstance(raw, _QueuedConnection)
        if queued:
            try:
                raw.enter(queue)
            except sqlite3.OperationalError as err:  # answered 503 like SQLite's own "locked"
                raise OperationalError("BEGIN IMMEDIATE", None, err) from err
        try:
            conn.exec_driver_sql("BEGIN IMMEDIATE")
        except BaseException:
            if queued:
                raw.leave()
            raise


READ_ONLY = "hall_read_only"


_READ_ONLY_ENGINE = "_hall_read_only_engine"


def read_only_engine(engine: Engine) -> Engine:
    """The same engine (and pool) for transactions that only read, made once per engine.

    On SQLite they read a snapshot beside the writer and never wait in the writer queue (any write
    in one fails); on PostgreSQL nothing changes. Kept on the engine itself, so it goes with it.
    """
    found: Engine | None = getattr(engine, _READ_ONLY_ENGINE, None)
    if found is None:
        found = engine.execution_options(**{READ_ONLY: True})
        setattr(engine, _READ_ONLY_ENGINE, found)
    return found


@contextmanager
def session_scope(engine: Engine) -> Iterator[Session]:
    """A session that commits on success and rolls back on error."""
    with Session(engine, expire_on_commit=False) as session:
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise
