"""Call announcements across server processes: LISTEN/NOTIFY on PostgreSQL, polling on SQLite."""

from __future__ import annotations

import asyncio
import functools
import json
import logging
from collections.abc import AsyncIterator
from typing import Any

import psycopg
from sqlalchemy import String, bindparam, cast, func, select
from sqlalchemy.dialects import postgresql
from sqlalchemy.engine import Engine
from sqlmodel import Session

from server.models import QueueCall
from server.repo import queue_calls as call_repo

log = logging.getLogger(__name__)

CHANNEL = "hall_calls"
POLL_INTERVAL_S = 0.5


def call_to_dict(call: QueueCall) -> dict[str, Any]:
    """The JSON form of a call, as the display receives it."""
    return {
        "id": call.id,
        "ticket_no": call.ticket_no,
        "window_number": call.window_number,
        "kind": call.kind,
        "called_at": call.called_at.isoformat(),
        "text": call.text,
    }


_ID_FIRST = '{"id": null'
_CALL_FIELDS = ("ticket_id", "ticket_no", "window_number", "kind", "called_at", "text")


@functools.cache
def _record_statement() -> Any:
    # Built once: composing and cache-keying a statement costs more than running it.
    table = QueueCall.__table__  # type: ignore[attr-defined]
    values = {name: bindparam(name, type_=table.c[name].type) for name in _CALL_FIELDS}
    inserted = postgresql.insert(table).values(values).returning(table.c["id"]).cte("inserted")
    payload = (
        bindparam("head", type_=String) + cast(inserted.c["id"], String) + bindparam("tail", type_=String)
    )
    return select(inserted.c["id"], func.pg_notify(bindparam("channel", type_=String), payload))


def record_and_publish(session: Session, call: QueueCall) -> None:
    """Record a new call and announce it to every server process; ``call.id`` is set.

    On PostgreSQL one statement inserts the row and queues the notification, which goes out when the
    transaction commits; its payload is the JSON of ``call_to_dict`` with the new id spliced in. On
    SQLite the subscribers poll the call table.
    """
    if session.get_bind().dialect.name != "postgresql":
        session.add(call)
        session.flush()
        return
    without_id = json.dumps({**call_to_dict(call), "id": None}, ensure_ascii=False)
    if not without_id.startswith(_ID_FIRST):
        raise ValueError("call_to_dict must put the id first")
    params = {name: getattr(call, name) for name in _CALL_FIELDS}
    params.update(channel=CHANNEL, head='{"id": ', tail=without_id[len(_ID_FIRST) :])
    call.id = int(session.execute(_record_statement(), params).scalar_one())


async def subscribe(engine: Engine, ready: asyncio.Event | None = None) -> AsyncIterator[dict[str, Any]]:
    """Every call made from now on, by any server process; ``ready`` is set once listening."""
    stream = _listen(engine, ready) if engine.dialect.name == "postgresql" else _poll(engine, ready)
    async for call in stream:
        yield call


async def _listen(engine: Engine, ready: asyncio.Event | None) -> AsyncIterator[dict[str, Any]]:
    conninfo = engine.url.set(drivername="postgresql").render_as_string(hide_password=False)
    async with await psycopg.AsyncConnection.connect(conninfo, autocommit=True) as conn:
        await conn.execute(f"LISTEN {CHANNEL}")
        if ready is not None:
            ready.set()
        async for note in conn.notifies():
            try:
                yield json.loads(note.payload)
            except json.JSONDecodeError:
                log.warning("ignoring a malformed %s notification", CHANNEL)


def _calls_after(engine: Engine, after_id: int) -> list[dict[str, Any]]:
    with Session(engine) as session:
        return [call_to_dict(c) for c in call_repo.calls_after(session, after_id)]


def _last_id(engine: Engine) -> int:
    with Session(engine) as session:
        return call_repo.last_call_id(session)


async def _poll(engine: Engine, ready: asyncio.Event | None) -> AsyncIterator[dict[str, Any]]:
    last = await asyncio.to_thread(_last_id, engine)
    if ready is not None:
        ready.set()
    while True:
        await asyncio.sleep(POLL_INTERVAL_S)
        for call in await asyncio.to_thread(_calls_after, engine, last):
            last = max(last, int(call["id"]))
            yield call
