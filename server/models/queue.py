"""The queue: tickets, per-day numbering counters and call announcements."""

from __future__ import annotations

import datetime as dt
from enum import StrEnum

from sqlalchemy import Index, UniqueConstraint
from sqlmodel import Field, SQLModel, col


class TicketStatus(StrEnum):
    """Life cycle of a queue ticket."""

    WAITING = "waiting"
    CALLED = "called"
    SERVING = "serving"
    FINISHED = "finished"
    NO_SHOW = "no_show"  # missed the call once: waiting again, a few places back
    LAPSED = "lapsed"
    TRANSFERRED = "transferred"  # waiting again, at the item it was transferred to
    CANCELLED = "cancelled"


# Statuses in which a ticket can still be called.
CALLABLE = (TicketStatus.WAITING.value, TicketStatus.NO_SHOW.value, TicketStatus.TRANSFERRED.value)


class Ticket(SQLModel, table=True):
    """One queue ticket; ``position_key`` orders the queue and survives a transfer."""

    __table_args__ = (
        UniqueConstraint("service_day", "ticket_no"),
        Index("ix_ticket_queue", "service_day", "status", "item_id", "priority", "position_key"),
    )

    id: int | None = Field(default=None, primary_key=True)
    ticket_no: str = Field(max_length=16)
    service_day: dt.date
    prefix: str = Field(max_length=4)
    seq: int
    item_id: int = Field(foreign_key="service_item.id", index=True)
    department_id: int = Field(foreign_key="department.id", index=True)
    priority: bool = False
    status: str = Field(default=TicketStatus.WAITING.value, max_length=16)
    issued_at: dt.datetime
    position_key: dt.datetime
    called_at: dt.datetime | None = None
    served_at: dt.datetime | None = None
    finished_at: dt.datetime | None = None
    window_id: int | None = Field(default=None, foreign_key="window.id", index=True)
    officer_staff_no: str | None = Field(default=None, max_length=32)
    recall_count: int = 0
    no_show_count: int = 0
    token: str = Field(unique=True, max_length=43)
    citizen_hash: str | None = Field(default=None, max_length=64, index=True)
    citizen_masked: str | None = Field(default=None, max_length=24)
    kiosk_device_id: str | None = Field(default=None, max_length=64)
    client_ref: str | None = Field(default=None, unique=True, max_length=36)
    # The agent's reference of the call-next request that claimed this ticket, so a retry gets it back.
    call_ref: str | None = Field(default=None, unique=True, index=True, max_length=36)
    printed: bool = False


# Callable tickets in calling order (priority lane first), so a claim reads the head of the queue
# instead of sorting every waiting ticket of its items.
Index(
    "ix_ticket_callable",
    col(Ticket.service_day),
    col(Ticket.priority).desc(),
    col(Ticket.position_key),
    col(Ticket.id),
    postgresql_where=col(Ticket.status).in_(CALLABLE),
    sqlite_where=col(Ticket.status).in_(CALLABLE),
)


class TicketCounter(SQLModel, table=True):
    """The last number given out per ticket prefix and service day."""

    __tablename__ = "ticket_counter"

    service_day: dt.date = Field(primary_key=True)
    prefix: str = Field(primary_key=True, max_length=4)
    last: int = 0


class QueueCall(SQLModel, table=True):
    """One announcement: a call or a recall of a ticket to a window."""

    __tablename__ = "queue_call"

    id: int | None = Field(default=None, primary_key=True)
    ticket_id: int = Field(foreign_key="ticket.id", index=True)
    ticket_no: str = Field(max_length=16)
    window_number: int
    kind: str = Field(max_length=8)  # "call" or "recall"
    called_at: dt.datetime = Field(index=True)
    text: str = Field(max_length=100)
