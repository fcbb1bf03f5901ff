"""Queries over the queue: numbering, claiming, lookups, counts and call records."""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Collection, Sequence
from typing import Any

from sqlalchemy import Integer, String, and_, bindparam, cast, exists, func, literal, or_, true, update
from sqlalchemy import select as core_select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import make_transient_to_detached
from sqlalchemy.sql.elements import ColumnElement
from sqlmodel import Session, col, select

from server.models import Device, QueueCall, ServiceItem, Ticket, TicketCounter, WindowItem
from server.models.queue import CALLABLE, TicketStatus


def next_seq(session: Session, day: dt.date, prefix: str) -> int:
    """Take the next number of ``prefix`` on ``day``; the row lock holds until commit, so no race or gap."""
    insert = postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert
    table = TicketCounter.__table__  # type: ignore[attr-defined]
    stmt = (
        insert(table)
        .values(service_day=day, prefix=prefix, last=1)
        .on_conflict_do_update(index_elements=["service_day", "prefix"], set_={"last": table.c["last"] + 1})
        .returning(table.c["last"])
    )
    return int(session.execute(stmt).scalar_one())


def ticket_by_client_ref(session: Session, client_ref: str) -> Ticket | None:
    """The ticket a kiosk request with this reference made."""
    return session.exec(select(Ticket).where(Ticket.client_ref == client_ref)).first()


def ticket_by_call_ref(session: Session, call_ref: str) -> Ticket | None:
    """The ticket a window's call-next request with this reference claimed."""
    return session.exec(select(Ticket).where(Ticket.call_ref == call_ref)).first()


def lapse_before(session: Session, day: dt.date, statuses: Collection[str]) -> int:
    """Mark tickets of days before ``day`` still in one of ``statuses`` lapsed; return how many."""
    stmt = (
        update(Ticket)
        .where(col(Ticket.service_day) < day, col(Ticket.status).in_(statuses))
        .values(status=TicketStatus.LAPSED.value)
    )
    return int(session.execute(stmt).rowcount)  # type: ignore[attr-defined]


def waiting_ticket_of_citizen(
    session: Session, day: dt.date, item_id: int, citizen_hash: str
) -> Ticket | None:
    """A ticket of this citizen for this item that still waits today."""
    stmt = select(Ticket).where(
        Ticket.service_day == day,
        Ticket.item_id == item_id,
        Ticket.citizen_hash == citizen_hash,
        col(Ticket.status).in_(CALLABLE),
    )
    return session.exec(stmt.order_by(col(Ticket.id))).first()


def ticket_by_no(session: Session, day: dt.date, ticket_no: str, *, lock: bool = False) -> Ticket | None:
    """Today's ticket with this number, row-locked when ``lock`` (PostgreSQL)."""
    stmt = select(Ticket).where(Ticket.service_day == day, Ticket.ticket_no == ticket_no)
    if lock:
        stmt = stmt.with_for_update()
    return session.exec(stmt).first()


def ticket_by_token(session: Session, token: str) -> Ticket | None:
    """The ticket of a status-page token."""
    return session.exec(select(Ticket).where(Ticket.token == token)).first()


def _queue_order() -> tuple[object, ...]:
    return (col(Ticket.priority).desc(), col(Ticket.position_key), col(Ticket.id))


# Set on the ticket a window claims (bound as "set_<name>").
CLAIM_FIELDS = ("status", "window_id", "officer_staff_no", "called_at", "recall_count", "call_ref")


@functools.cache
def _claim_statement() -> Any:
    # Built once: composing and cache-keying a statement costs more than running it.
    next_id = (
        select(Ticket.id)
        .where(
            col(Ticket.service_day) == bindparam("day"),
            col(Ticket.status).in_(CALLABLE),
            col(Ticket.item_id).in_(bindparam("item_ids", expanding=True)),
        )
        .order_by(*_queue_order())  # type: ignore[arg-type]
        .limit(1)
        .with_for_update(skip_locked=True)
        .scalar_subquery()
    )
    values: dict[str, Any] = {name: bindparam(f"set_{name}") for name in CLAIM_FIELDS}
    stmt = update(Ticket).where(col(Ticket.id) == next_id).values(values).returning(Ticket)
    # The returned row refreshes the ticket if the session holds it already.
    return stmt.execution_options(synchronize_session=False, populate_existing=True)


def claim_next(
    session: Session, day: dt.date, item_ids: Collection[int], values: dict[str, Any]
) -> Ticket | None:
    """Set ``values`` (every one of ``CLAIM_FIELDS``) on the next callable ticket of these items and
    return it, in one statement.

    On PostgreSQL the ticket is picked with FOR UPDATE SKIP LOCKED: rows other callers hold are skipped,
    so no ticket is claimed twice and no caller waits for another. SQLite has one writer at a time.
    """
    if not item_ids:
        return None
    params = {"day": day, "item_ids": list(item_ids), **{f"set_{k}": values[k] for k in CLAIM_FIELDS}}
    return session.scalars(_claim_statement(), params).first()


@functools.cache
def _any_callable_statement() -> Any:
    return core_select(
        exists().where(
            col(Ticket.service_day) == bindparam("day"),
            col(Ticket.status).in_(CALLABLE),
            col(Ticket.item_id).in_(bindparam("item_ids", expanding=True)),
        )
    )


def any_callable(session: Session, day: dt.date, item_ids: Collection[int]) -> bool:
    """Whether any ticket of these items waits to be called today (what ``claim_next`` would find)."""
    if not item_ids:
        return False
    return bool(session.scalar(_any_callable_statement(), {"day": day, "item_ids": list(item_ids)}))


def lane(session: Session, day: dt.date, item_id: int, priority: bool) -> Sequence[Ticket]:
    """Callable tickets of one item and lane, in queue order."""
    stmt = select(Ticket).where(
        Ticket.service_day == day,
        Ticket.item_id == item_id,
        Ticket.priority == priority,
        col(Ticket.status).in_(CALLABLE),
    )
    return session.exec(stmt.order_by(col(Ticket.position_key), col(Ticket.id))).all()


def _ahead_of(
    day: Any, item_id: Any, priority: bool, position_key: Any, ticket_id: Any
) -> ColumnElement[bool]:
    """Callable tickets of an item queued before a ticket with these values (the priority lane first).

    ``ticket_id`` None: a ticket not inserted yet. Values may be bound parameters.
    """
    key = col(Ticket.position_key)
    earlier = (
        key < position_key
        if ticket_id is None
        else or_(key < position_key, and_(key == position_key, col(Ticket.id) < ticket_id))
    )
    same_lane_before = and_(col(Ticket.priority) == priority, earlier)
    before = same_lane_before if priority else or_(col(Ticket.priority).is_(True), same_lane_before)
    clauses = [
        col(Ticket.service_day) == day,
        col(Ticket.item_id) == item_id,
        col(Ticket.status).in_(CALLABLE),
        before,
    ]
    if ticket_id is not None:
        clauses.append(col(Ticket.id) != ticket_id)
    return and_(*clauses)


def count_ahead(session: Session, ticket: Ticket) -> int:
    """Callable tickets of the same item ordered before ``ticket`` (the priority lane first)."""
    where = _ahead_of(ticket.service_day, ticket.item_id, ticket.priority, ticket.position_key, ticket.id)
    return int(session.exec(select(func.count()).select_from(Ticket).where(where)).one())


# Ticket columns bound one by one (as "v_<name>") when numbering a ticket on PostgreSQL.
_NUMBERED_FROM_PYTHON = tuple(
    c.key
    for c in Ticket.__table__.c  # type: ignore[attr-defined]
    if c.key not in ("id", "seq", "ticket_no")
)


@functools.cache
def _numbering_statement(priority: bool) -> Any:
    """PostgreSQL: the counter upsert, the insert and the people-ahead count as one statement."""
    tickets, counters = Ticket.__table__, TicketCounter.__table__  # type: ignore[attr-defined]
    # Built once per lane: composing and cache-keying a statement costs more than running it.
    bound = {name: bindparam(f"v_{name}", type_=tickets.c[name].type) for name in _NUMBERED_FROM_PYTHON}
    day, prefix = bound["service_day"], bound["prefix"]
    # Take a number only for a new client_ref: a retry whose first try committed takes none.
    fresh = ~exists().where(tickets.c["client_ref"] == bound["client_ref"])
    taken = (
        postgresql.insert(counters)
        .from_select(
            ["service_day", "prefix", "last"], core_select(day, prefix, literal(1, Integer)).where(fresh)
        )
        .on_conflict_do_update(
            index_elements=["service_day", "prefix"], set_={"last": counters.c["last"] + 1}
        )
        .returning(counters.c["last"])
        .cte("taken")
    )
    digits = cast(taken.c["last"], String)
    number = prefix + func.lpad(digits, func.greatest(3, func.length(digits)), "0")  # as ticket_number()
    inserted = (
        postgresql.insert(tickets)
        .from_select(
            [*_NUMBERED_FROM_PYTHON, "seq", "ticket_no"],
            core_select(*bound.values(), taken.c["last"], number),
        )
        .on_conflict_do_nothing(index_elements=["client_ref"])
        .returning(tickets.c["id"], tickets.c["ticket_no"])
        .cte("inserted")
    )
    # Every part of one statement reads the same snapshot: the count never sees the new row itself.
    before = _ahead_of(day, bound["item_id"], priority, bound["position_key"], None)
    ahead = core_select(func.count()).select_from(tickets).where(before).scalar_subquery()
    return core_select(taken.c["last"], inserted.c["id"], inserted.c["ticket_no"], ahead).select_from(
        taken.outerjoin(inserted, true())
    )


def insert_numbered(session: Session, ticket: Ticket) -> int | None:
    """Give ``ticket`` the next number of its prefix and day and insert it; return the people ahead of it.

    None, with nothing numbered or inserted, when a ticket with the same ``client_ref`` exists. The
    counter row stays locked until commit, so numbers neither repeat nor skip. On PostgreSQL this is one
    statement (counter upsert, insert and count in one round trip, so the counter is locked only that
    long before the commit); on SQLite, which runs one writer at a time, the same steps one by one.
    ``ticket`` comes back persistent in ``session``.
    """
    if session.get_bind().dialect.name != "postgresql":
        if ticket.client_ref is not None and ticket_by_client_ref(session, ticket.client_ref) is not None:
            return None
        ticket.seq = next_seq(session, ticket.service_day, ticket.prefix)
        ticket.ticket_no = ticket_number(ticket.prefix, ticket.seq)
        session.add(ticket)
        session.flush()
        return count_ahead(session, ticket)
    params = {f"v_{name}": getattr(ticket, name) for name in _NUMBERED_FROM_PYTHON}
    result = session.execute(_numbering_statement(ticket.priority), params).first()
    if result is None:
        return None
    seq, ticket_id, ticket_no, people_ahead = result
    if ticket_id is None:
        # The same client_ref was being inserted by a concurrent retry, which committed first. This
        # transaction still holds the counter row, so nobody took a number after it: give it back.
        counters = TicketCounter.__table__  # type: ignore[attr-defined]
        session.execute(
            update(counters)
            .where(counters.c["service_day"] == ticket.service_day, counters.c["prefix"] == ticket.prefix)
            .values(last=counters.c["last"] - 1)
        )
        return None
    ticket.id, ticket.seq, ticket.ticket_no = ticket_id, seq, ticket_no
    make_transient_to_detached(ticket)
    session.add(ticket)
    return int(people_ahead)


def ticket_number(prefix: str, seq: int) -> str:
    """The printed number: the item's prefix and at least three digits ("A007", "A1234")."""
    return f"{prefix}{seq:03d}"


def recent_service_times(session: Session, item_id: int, limit: int) -> list[dt.timedelta]:
    """Service durations of the last ``limit`` finished tickets of an item."""
    stmt = (
        select(Ticket.served_at, Ticket.finished_at)
        .where(
            Ticket.item_id == item_id,
            Ticket.status == TicketStatus.FINISHED.value,
            col(Ticket.served_at).is_not(None),
            col(Ticket.finished_at).is_not(None),
        )
        .order_by(col(Ticket.finished_at).desc())
        .limit(limit)
    )
    return [f - s for s, f in session.exec(stmt) if s is not None and f is not None]


def active_window_ids(session: Session, day: dt.date, seen_since: dt.datetime) -> set[int]:
    """Windows whose agent was heard from since ``seen_since`` or that called a ticket on ``day``."""
    heard = select(Device.window_id).where(
        col(Device.window_id).is_not(None), col(Device.last_seen_at) >= seen_since
    )
    busy = select(Ticket.window_id).where(
        Ticket.service_day == day,
        col(Ticket.window_id).is_not(None),
        col(Ticket.status).in_((TicketStatus.CALLED.value, TicketStatus.SERVING.value)),
    )
    return {w for w in session.exec(heard) if w is not None} | {
        w for w in session.exec(busy) if w is not None
    }


def window_item_pairs(session: Session) -> list[tuple[int, int]]:
    """Every (window id, item id) a window serves."""
    # Plain columns, not ORM objects: a hall of a thousand windows has thousands of these.
    rows = session.execute(core_select(WindowItem.window_id, WindowItem.item_id))  # type: ignore[call-overload]
    return [(window_id, item_id) for window_id, item_id in rows]


def callable_counts(session: Session, day: dt.date) -> dict[int, int]:
    """Callable tickets per item id on ``day``."""
    stmt = (
        select(Ticket.item_id, func.count())
        .where(Ticket.service_day == day, col(Ticket.status).in_(CALLABLE))
        .group_by(col(Ticket.item_id))
    )
    return {item_id: int(n) for item_id, n in session.exec(stmt)}


def tickets_of_day(session: Session, day: dt.date, department_id: int | None) -> Sequence[Ticket]:
    """Every ticket of a day, optionally of one department."""
    stmt = select(Ticket).where(Ticket.service_day == day)
    if department_id is not None:
        stmt = stmt.where(Ticket.department_id == department_id)
    return session.exec(stmt).all()


def items_by_id(session: Session) -> dict[int, ServiceItem]:
    """Every service item keyed by id."""
    return {i.id: i for i in session.exec(select(ServiceItem)) if i.id is not None}


def recent_calls(session: Session, limit: int) -> Sequence[QueueCall]:
    """The latest calls, newest first."""
    stmt = select(QueueCall).order_by(col(QueueCall.id).desc()).limit(limit)
    return session.exec(stmt).all()


def calls_after(session: Session, after_id: int, limit: int = 100) -> Sequence[QueueCall]:
    """Calls recorded after ``after_id``, oldest first."""
    stmt = select(QueueCall).where(col(QueueCall.id) > after_id).order_by(col(QueueCall.id)).limit(limit)
    return session.exec(stmt).all()


def last_call_id(session: Session) -> int:
    """The id of the newest call, 0 when none."""
    newest = session.exec(select(func.max(QueueCall.id))).one()
    return int(newest or 0)


def call_by_id(session: Session, call_id: int) -> QueueCall | None:
    """One call record."""
    return session.get(QueueCall, call_id)
