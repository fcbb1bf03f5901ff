"""Group commit: the write jobs of several requests in one SQLite transaction.

SQLite lets one transaction write at a time, and each costs a lock hand-off (between this process's
threads and, through the writer queue's ``flock``, between server processes) and a commit. Under
load, requests that arrive while a transaction is under way wait for it anyway; here they wait
together, and the first of them then runs all of their jobs in one transaction, each inside its own
SAVEPOINT (a job alone needs none), and commits once.

There is no writer thread of its own: the request threads take turns leading. A thread that finds no
group under way leads at once; the others queue and are woken either with their outcome or to lead the
next group (the oldest waiting one). A job that raises is rolled back to its savepoint and its request
gets the error; the group's other jobs are not touched. When the commit itself fails, every job of
the group gets that error, as each would have had it alone.

While a group is being written, the process's requests that are about to check and build a batch
wait for it to end, up to ``YIELD_TO_WRITER_S`` (``yield_to_writer``). Threads of one process share the
GIL: each statement the writer sends lets another thread take it for up to the interpreter's switch
interval, and meanwhile the writer holds SQLite's lock, which the other processes wait for. A batch
built a little later loses nothing; the lock is held for less time.

On PostgreSQL, where transactions write side by side, each job runs in its own transaction in the
calling thread.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

from sqlalchemy.engine import Engine
from sqlmodel import Session

from server.db import session_scope

T = TypeVar("T")

# The longest a request waits for its process's write to end before it builds its batch anyway.
YIELD_TO_WRITER_S = 0.05
# Jobs in one transaction at most. The requests of a process that may hold a database turn at once
# (``ServerSettings.db_requests_per_process``) are fewer, so in practice every waiting job goes in.
MAX_GROUP = 64
_GROUP_COMMIT = "_hall_group_commit"


@dataclass
class _Turn(Generic[T]):
    job: Callable[[Session], T]
    woken: threading.Event = field(default_factory=threading.Event)
    finished: bool = False
    result: T | None = None
    error: BaseException | None = None


class GroupCommit:
    """Runs write jobs of concurrent callers in shared transactions (see the module's docstring)."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._lock = threading.Lock()
        self._pending: list[_Turn[Any]] = []
        self._busy = False
        self._idle = threading.Event()  # set while no group is being written
        self._idle.set()
        self.groups = 0  # transactions committed or tried, for tests and measurements
        self.jobs = 0

    def run(self, job: Callable[[Session], T]) -> T:
        """``job(session)`` in a write transaction, maybe shared; its return value once committed."""
        turn: _Turn[T] = _Turn(job)
        with self._lock:
            self._pending.append(turn)
            leads = not self._busy
            self._busy = True
        if not leads:
            turn.woken.wait()
        if not turn.finished:  # leading from the start, or woken to lead the next group
            self._lead()
        if turn.error is not None:
            raise turn.error
        return turn.result  # type: ignore[return-value]  # set when no error

    def _lead(self) -> None:
        with self._lock:
            group = self._pending[:MAX_GROUP]
            del self._pending[:MAX_GROUP]
        try:
            self._write(group)
        finally:
            with self._lock:
                following = self._pending[0] if self._pending else None
                self._busy = following is not None
            for turn in group:
                turn.finished = True
                turn.woken.set()
            if following is not None:
                following.woken.set()  # not finished: it leads the next group

    def wait_idle(self, timeout_s: float) -> bool:
        """Wait until no group is being written, at most ``timeout_s``; False when still writing."""
        return self._idle.wait(timeout_s)

    def _write(self, group: list[_Turn[Any]]) -> None:
        self._idle.clear()
        try:
            self._write_group(group)
        finally:
            self._idle.set()

    def _write_group(self, group: list[_Turn[Any]]) -> None:
        self.groups += 1
        self.jobs += len(group)
        try:
            with session_scope(self.engine) as session:
                if len(group) == 1:  # alone: no savepoint needed, an error rolls the whole back
                    group[0].result = group[0].job(session)
                    return
                for turn in group:
                    try:
                        with session.begin_nested():
                            turn.result = turn.job(session)
                    except Exception as err:  # noqa: BLE001  # re-raised in the job's own thread, after the group
                        turn.error = err  # its savepoint is rolled back; the others go on
        except BaseException as err:  # BEGIN, COMMIT or a lone job failed: nothing of the group was written
            for turn in group:
                turn.result = None
                if turn.error is None:
                    turn.error = err
            if not isinstance(err, Exception):
                raise


def group_commit(engine: Engine) -> GroupCommit:
    """The engine's group commit, made once per engine and kept on it."""
    found: GroupCommit | None = getattr(engine, _GROUP_COMMIT, None)
    if found is None:
        with _MAKING:
            found = getattr(engine, _GROUP_COMMIT, None)
            if found is None:
                found = GroupCommit(engine)
                setattr(engine, _GROUP_COMMIT, found)
    return found


_MAKING = threading.Lock()


def yield_to_writer(engine: Engine) -> None:
    """On SQLite, let a write of this process finish (briefly) before CPU-heavy work that needs no lock."""
    if engine.dialect.name == "sqlite":
        group_commit(engine).wait_idle(YIELD_TO_WRITER_S)


def run_write(engine: Engine, job: Callable[[Session], T]) -> T:
    """``job(session)`` in a committed write transaction: grouped with others' on SQLite, alone elsewhere."""
    if engine.dialect.name == "sqlite":
        return group_commit(engine).run(job)
    with session_scope(engine) as session:
        return job(session)
