"""A value read from the database and kept per process and database for a few seconds.

The queue's registry (``queue_cache``) and ingestion's links (``ingest_cache``) are read on nearly
every request and change rarely. Each is a ``Snapshot``: one frozen value per database (keyed by the
engine's connection pool, which an engine's ``execution_options`` copies share), read again when it
is older than its TTL or when a caller asks for a newer one.

One thread reads at a time. When the value is only old, the others meanwhile go on with it; when
there is none, or a caller asks for a newer one (a name it did not find), they wait for the read under
way and take its result. Without this, every request that noticed the age read everything again at
the same moment (a thousand windows made that a third of the server's CPU).
"""

from __future__ import annotations

import threading
import time
import weakref
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Generic, TypeVar

from sqlalchemy.engine import Connection
from sqlalchemy.pool import Pool
from sqlmodel import Session

T = TypeVar("T")


@dataclass
class _Kept(Generic[T]):
    value: T | None = None
    loaded_at: float = 0.0
    loading: threading.Lock = field(default_factory=threading.Lock)


def database_key(session: Session) -> Pool:
    """What identifies a session's database in this process: its engine's connection pool."""
    bind = session.get_bind()
    engine = bind.engine if isinstance(bind, Connection) else bind
    return engine.pool


class Snapshot(Generic[T]):
    """``load(session)`` kept ``ttl_s`` seconds per database; see the module's docstring."""

    def __init__(self, load: Callable[[Session], T], ttl_s: float) -> None:
        self._load = load
        self.ttl_s = ttl_s
        self._kept: weakref.WeakKeyDictionary[Pool, _Kept[T]] = weakref.WeakKeyDictionary()
        self._lock = threading.Lock()

    def _entry(self, session: Session) -> _Kept[T]:
        key = database_key(session)
        with self._lock:
            found = self._kept.get(key)
            if found is None:
                found = self._kept[key] = _Kept()
            return found

    def get(self, session: Session, *, reload: bool = False) -> T:
        """The kept value; read (in ``session``'s transaction) when ``reload``, missing or old."""
        kept = self._entry(session)
        value, asked_at = kept.value, time.monotonic()
        if value is not None and not reload:
            if asked_at - kept.loaded_at <= self.ttl_s:
                return value
            if not kept.loading.acquire(blocking=False):
                return value  # another thread is reading the new one
        else:
            kept.loading.acquire()
        try:
            if kept.value is not None and kept.loaded_at >= asked_at:
                return kept.value  # read while this thread waited
            fresh = self._load(session)
            kept.value, kept.loaded_at = fresh, time.monotonic()
            return fresh
        finally:
            kept.loading.release()

    def peek(self, session: Session) -> T | None:
        """The kept value while it is younger than the TTL, else None; never reads the database.

        For a caller on the event loop: it takes the value from here and calls ``get`` in a worker
        thread only when this is None.
        """
        kept = self._entry(session)
        value = kept.value
        if value is None or time.monotonic() - kept.loaded_at > self.ttl_s:
            return None
        return value

    def put(self, session: Session, value: T) -> None:
        """Keep ``value`` for this session's database as if it had just been read."""
        kept = self._entry(session)
        kept.value, kept.loaded_at = value, time.monotonic()

    def forget(self, session: Session) -> None:
        """Drop the kept value of this session's database: the next ``get`` reads it."""
        kept = self._entry(session)
        kept.value = None
