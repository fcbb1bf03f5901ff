"""Queries over the queue: numbering, claiming, lookups, counts and call records."""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection, Sequence

from sqlalchemy import and_, func, or_, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Session, col, select

from server.models import Device, QueueCall, ServiceItem, Ticket, TicketCounter, Window, WindowItem
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


def claim_next(session: Session, day: dt.date, item_ids: Collection[int]) -> Ticket | None:
    """Lock the next callable ticket; rows other callers hold are skipped, so no ticket is claimed twice."""
    if not item_ids:
        return None
    stmt = (
        select(Ticket)
        .where(
            Ticket.service_day == day,
            col(Ticket.status).in_(CALLABLE),
            col(Ticket.item_id).in_(item_ids),
        )
        .order_by(*_queue_order())  # type: ignore[arg-type]
        .limit(1)
        .with_for_update(skip_locked=True)
    )
    return session.exec(stmt).first()


def lane(session: Session, day: dt.date, item_id: int, priority: bool) -> Sequence[Ticket]:
    """Callable tickets of one item and lane, in queue order."""
    stmt = select(Ticket).where(
        Ticket.service_day == day,
        Ticket.item_id == item_id,
        Ticket.priority == priority,
        col(Ticket.status).in_(CALLABLE),
    )
    return session.exec(stmt.order_by(col(Ticket.position_key), col(Ticket.id))).all()


def count_ahead(session: Session, ticket: Ticket) -> int:
    """Callable tickets of the same item ordered before ``ticket`` (the priority lane first)."""
    same_lane_before = and_(
        col(Ticket.priority) == ticket.priority,
        or_(
            col(Ticket.position_key) < ticket.position_key,
            and_(col(Ticket.position_key) == ticket.position_key, col(Ticket.id) < ticket.id),
        ),
    )
    before = same_lane_before if ticket.priority else or_(col(Ticket.priority).is_(True), same_lane_before)
    stmt = (
        select(func.count())
        .select_from(Ticket)
        .where(
            Ticket.service_day == ticket.service_day,
            Ticket.item_id == ticket.item_id,
            col(Ticket.status).in_(CALLABLE),
            col(Ticket.id) != ticket.id,
            before,
        )
    )
    return int(session.exec(stmt).one())


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


def windows_of_item(session: Session, item_id: int) -> Sequence[Window]:
    """Windows that serve an item, by number."""
    stmt = (
        select(Window)
        .join(WindowItem, col(WindowItem.window_id) == Window.id)
        .where(WindowItem.item_id == item_id)
        .order_by(col(Window.number))
    )
    return session.exec(stmt).all()


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
