"""Group commit on SQLite: concurrent write jobs share a transaction, and fail alone or together."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session

from server.db import make_engine
from server.group_commit import group_commit, run_write, yield_to_writer


@pytest.fixture
def engine(tmp_path: Path) -> Iterator[Engine]:
    engine = make_engine(f"sqlite:///{tmp_path / 'group.db'}", busy_timeout_s=5.0)
    with engine.begin() as conn:
        conn.exec_driver_sql("CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT NOT NULL UNIQUE)")
    yield engine
    engine.dispose()


def _insert(value: str) -> Callable[[Session], str]:
    def job(session: Session) -> str:
        session.connection().exec_driver_sql("INSERT INTO t (v) VALUES (?)", (value,))
        return value.upper()

    return job


def _stored(engine: Engine) -> set[str]:
    with engine.connect() as conn:
        return {row[0] for row in conn.exec_driver_sql("SELECT v FROM t")}


def _run_while_first_holds(
    engine: Engine, jobs: list[Callable[[Session], str]]
) -> tuple[dict[int, str], dict[int, BaseException]]:
    """Run a first job that waits until every other caller has queued behind it, then the rest."""
    gc = group_commit(engine)
    release = threading.Event()

    def first(session: Session) -> str:
        release.wait(10)
        return _insert("first")(session)

    results: dict[int, str] = {}
    errors: dict[int, BaseException] = {}

    def call(i: int, job: Callable[[Session], str]) -> None:
        try:
            results[i] = run_write(engine, job)
        except Exception as err:  # noqa: BLE001  # the test inspects it
            errors[i] = err

    leader = threading.Thread(target=call, args=(-1, first))
    leader.start()
    while not gc._busy:  # the leader has begun its group
        threading.Event().wait(0.005)
    threads = [threading.Thread(target=call, args=(i, job)) for i, job in enumerate(jobs)]
    for t in threads:
        t.start()
    while len(gc._pending) < len(jobs):
        threading.Event().wait(0.005)
    release.set()
    for t in [leader, *threads]:
        t.join(10)
    return results, errors


def test_jobs_that_wait_are_written_in_one_transaction(engine: Engine) -> None:
    gc = group_commit(engine)
    values = [f"v{i}" for i in range(10)]
    results, errors = _run_while_first_holds(engine, [_insert(v) for v in values])

    assert errors == {}
    assert results == {-1: "FIRST", **{i: v.upper() for i, v in enumerate(values)}}
    assert _stored(engine) == {"first", *values}
    # The first group held the first job; the ten that queued meanwhile went in the second.
    assert (gc.groups, gc.jobs) == (2, 11)


def test_a_failing_job_is_rolled_back_alone(engine: Engine) -> None:
    def half_then_fail(session: Session) -> str:
        _insert("half")(session)
        raise ValueError("refused after writing")

    jobs = [_insert("a"), half_then_fail, _insert("b"), _insert("a")]  # the second "a" breaks UNIQUE
    results, errors = _run_while_first_holds(engine, jobs)

    assert results == {-1: "FIRST", 0: "A", 2: "B"}
    assert isinstance(errors[1], ValueError)
    assert isinstance(errors[3], IntegrityError)
    assert _stored(engine) == {"first", "a", "b"}  # nothing of the failed jobs, all of the others


def test_a_lone_job_runs_without_a_savepoint_and_fails_whole(engine: Engine) -> None:
    statements: list[str] = []

    @event.listens_for(engine, "before_cursor_execute")
    def seen(_conn: object, _cursor: object, sql: str, *_args: object) -> None:
        statements.append(sql)

    def half_then_fail(session: Session) -> str:
        _insert("half")(session)
        raise ValueError("refused after writing")

    assert run_write(engine, _insert("alone")) == "ALONE"
    with pytest.raises(ValueError, match="refused after writing"):
        run_write(engine, half_then_fail)

    assert not any("SAVEPOINT" in sql.upper() for sql in statements)
    assert _stored(engine) == {"alone"}  # nothing of the failed job
    assert run_write(engine, _insert("after")) == "AFTER"
    assert not group_commit(engine)._busy


def test_a_failed_commit_fails_every_job_of_the_group(engine: Engine) -> None:
    def veto_commit(session: Session) -> str:
        @event.listens_for(session, "before_commit")
        def refuse(_session: Session) -> None:
            if not session.in_nested_transaction():  # the group's own commit, not the job's savepoint
                raise RuntimeError("disk full")

        return _insert("vetoed")(session)

    results, errors = _run_while_first_holds(engine, [_insert("x"), veto_commit, _insert("y")])

    assert results == {-1: "FIRST"}
    assert {i: str(err) for i, err in errors.items()} == {0: "disk full", 1: "disk full", 2: "disk full"}
    assert _stored(engine) == {"first"}
    # The group commit goes on: the next write stands alone and lands.
    assert run_write(engine, _insert("later")) == "LATER"
    assert _stored(engine) == {"first", "later"}


def test_many_concurrent_callers_each_get_their_own_answer(engine: Engine) -> None:
    gc = group_commit(engine)
    results: dict[int, str] = {}

    def call(i: int) -> None:
        results[i] = run_write(engine, _insert(f"n{i}"))

    threads = [threading.Thread(target=call, args=(i,)) for i in range(40)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)

    assert results == {i: f"N{i}" for i in range(40)}
    assert _stored(engine) == {f"n{i}" for i in range(40)}
    assert gc.jobs == 40 and 1 <= gc.groups <= 40
    assert not gc._busy and not gc._pending


def test_yield_to_writer_waits_while_this_process_writes(engine: Engine) -> None:
    writing, release = threading.Event(), threading.Event()

    def slow(session: Session) -> str:
        writing.set()
        release.wait(10)
        return _insert("slow")(session)

    writer = threading.Thread(target=run_write, args=(engine, slow))
    writer.start()
    assert writing.wait(10)
    gc = group_commit(engine)
    assert gc.wait_idle(0.05) is False  # bounded: gives up while the group is still being written
    waited = threading.Event()

    def planner() -> None:
        if gc.wait_idle(10):
            waited.set()

    thread = threading.Thread(target=planner)
    thread.start()
    assert not waited.wait(0.2)  # still writing
    release.set()
    writer.join(10)
    thread.join(10)
    assert waited.is_set() and _stored(engine) == {"slow"}
    yield_to_writer(engine)  # idle: returns at once


def test_yield_to_writer_is_nothing_elsewhere() -> None:
    class _Dialect:
        name = "postgresql"

    class _Engine:
        dialect = _Dialect()

    engine = _Engine()
    yield_to_writer(engine)  # type: ignore[arg-type]  # a stand-in with only what is looked at
    assert not hasattr(engine, "_hall_group_commit")  # no group commit made, nothing waited for
