"""Bulk reads behind the queue's caches and overviews: service times, active windows, counts, items."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from sqlalchemy import func
from sqlalchemy import select as core_select
from sqlmodel import Session, col, select

from server.models import Device, ServiceItem, Ticket, WindowItem
from server.models.queue import CALLABLE, TicketStatus


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
