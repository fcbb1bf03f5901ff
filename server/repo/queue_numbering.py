"""Numbering tickets: the per-day counter of each prefix and the insert that takes the next number."""

from __future__ import annotations

import datetime as dt
import functools
from typing import Any

from sqlalchemy import Integer, String, bindparam, cast, exists, func, literal, true, update
from sqlalchemy import select as core_select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import make_transient_to_detached
from sqlmodel import Session

from server.models import Ticket, TicketCounter
from server.repo.queue import ahead_of, count_ahead, ticket_by_client_ref


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
    before = ahead_of(day, bound["item_id"], priority, bound["position_key"], None)
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
