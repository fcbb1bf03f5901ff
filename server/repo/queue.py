"""Queries over tickets: lookups, lapsing, queue order, claiming the next one and counting those ahead."""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Collection, Sequence
from typing import Any

from sqlalchemy import and_, bindparam, exists, func, or_, update
from sqlalchemy import select as core_select
from sqlalchemy.sql.elements import ColumnElement
from sqlmodel import Session, col, select

from server.models import Ticket
from server.models.queue import CALLABLE, TicketStatus


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


def ahead_of(
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
    where = ahead_of(ticket.service_day, ticket.item_id, ticket.priority, ticket.position_key, ticket.id)
    return int(session.exec(select(func.count()).select_from(Ticket).where(where)).one())
