"""Issuing tickets under the hall's queue rules: kiosk requests, retries, appointment tickets, withdrawal."""

from __future__ import annotations

import datetime as dt
import logging
import secrets
from dataclasses import dataclass
from typing import Protocol
from zoneinfo import ZoneInfo

from sqlmodel import Session

from common.ids import new_id
from server.errors import ConflictError, NotFoundError
from server.models import ServiceItem, Ticket
from server.models.queue import TicketStatus
from server.repo import queue as queue_repo
from server.repo import queue_numbering as numbering_repo
from server.services import queue_cache
from server.services.citizen_ids import card_serial_hash, citizen_hash, mask_card_serial, mask_id
from server.settings import ServerSettings
from server.timeutil import to_db

log = logging.getLogger(__name__)


class TicketingClosedError(ConflictError):
    """Tickets are no longer given out today."""


@dataclass(frozen=True)
class QueueRules:
    """The hall's queue settings, parsed once."""

    tz: ZoneInfo
    last_ticket_time: dt.time
    closing_time: dt.time
    no_show_places_back: int

    @classmethod
    def from_settings(cls, settings: ServerSettings) -> QueueRules:
        """Rules from the server settings."""
        return cls(
            tz=ZoneInfo(settings.timezone),
            last_ticket_time=dt.time.fromisoformat(settings.queue_last_ticket_time),
            closing_time=dt.time.fromisoformat(settings.queue_closing_time),
            no_show_places_back=settings.queue_no_show_places_back,
        )

    def service_day(self, now: dt.datetime) -> dt.date:
        """The hall-local date of ``now``."""
        return to_db(now).astimezone(self.tz).date()

    def accepting(self, now: dt.datetime) -> bool:
        """True while tickets are still given out today."""
        return to_db(now).astimezone(self.tz).time() < self.last_ticket_time


@dataclass(frozen=True)
class IssueRequest:
    """A kiosk's request for a ticket."""

    item_code: str
    client_ref: str
    priority: bool
    citizen_id: str | None
    kiosk_device_id: str
    card_serial: str | None = None  # the ID card's physical serial (UID) when no SAM reader read it


@dataclass(frozen=True)
class Issued:
    """The outcome of a ticket request."""

    ticket: Ticket
    created: bool
    reissued: bool = False
    ahead: int | None = None  # people ahead of a new ticket, counted as it was inserted


def citizen_key(req: IssueRequest, secret: str) -> tuple[str | None, str | None]:
    """The (hash, masked form) that recognise the request's citizen, or (None, None) for none."""
    if req.citizen_id:
        return citizen_hash(secret, req.citizen_id), mask_id(req.citizen_id)
    if req.card_serial:
        return card_serial_hash(secret, req.card_serial), mask_card_serial(req.card_serial)
    return None, None


def issue_ticket(
    session: Session, req: IssueRequest, rules: QueueRules, secret: str, now: dt.datetime
) -> Issued:
    """Give out a ticket; a retried ``client_ref`` or a citizen still waiting gets theirs back."""
    item = queue_cache.item_by_code(session, req.item_code)
    hashed, masked = citizen_key(req, secret)
    if item is None or not rules.accepting(now) or hashed is not None:
        # A retry gets its ticket whatever has changed since, and before the citizen's waiting one.
        existing = queue_repo.ticket_by_client_ref(session, req.client_ref)
        if existing is not None:
            return Issued(existing, created=False)
    if item is None:
        raise NotFoundError(f"没有编码为 {req.item_code} 的办理事项")
    if not rules.accepting(now):
        raise TicketingClosedError(
            f"今日取号已结束（{rules.last_ticket_time:%H:%M} 停止取号），请于下一个工作日再来办理"
        )
    day = rules.service_day(now)
    if hashed is not None:
        waiting = queue_repo.waiting_ticket_of_citizen(session, day, item.id, hashed)
        if waiting is not None:
            return Issued(waiting, created=False, reissued=True)
    ticket = _unnumbered(item, req, day, to_db(now), hashed, masked)
    ahead = numbering_repo.insert_numbered(session, ticket)
    if ahead is None:
        # This client_ref has a ticket already: a retry whose first try committed, or raced this one.
        earlier = queue_repo.ticket_by_client_ref(session, req.client_ref)
        if earlier is None:
            raise ConflictError("取号请求冲突，请重试")
        return Issued(earlier, created=False)
    log.info("ticket %s issued for item %s", ticket.ticket_no, item.code)
    return Issued(ticket, created=True, ahead=ahead)


class _NumberedItem(Protocol):
    """What numbering a ticket needs of its item: a ServiceItem or the cached ItemInfo."""

    @property
    def id(self) -> int | None: ...

    @property
    def ticket_prefix(self) -> str: ...

    @property
    def department_id(self) -> int: ...


def _unnumbered(
    item: _NumberedItem,
    req: IssueRequest,
    day: dt.date,
    now: dt.datetime,
    hashed: str | None,
    masked: str | None,
) -> Ticket:
    """A new ticket, not yet numbered nor added to a session."""
    if item.id is None:
        raise NotFoundError("service item without id")
    return Ticket(
        ticket_no="",
        service_day=day,
        prefix=item.ticket_prefix,
        seq=0,
        item_id=item.id,
        department_id=item.department_id,
        priority=req.priority,
        issued_at=now,
        position_key=now,
        token=secrets.token_urlsafe(24),
        citizen_hash=hashed,
        citizen_masked=masked,
        kiosk_device_id=req.kiosk_device_id,
        client_ref=req.client_ref,
    )


def _new_ticket(
    session: Session,
    item: ServiceItem,
    req: IssueRequest,
    day: dt.date,
    now: dt.datetime,
    hashed: str | None,
    masked: str | None,
) -> Ticket:
    ticket = _unnumbered(item, req, day, now, hashed, masked)
    ticket.seq = numbering_repo.next_seq(session, day, item.ticket_prefix)
    ticket.ticket_no = numbering_repo.ticket_number(item.ticket_prefix, ticket.seq)
    session.add(ticket)
    session.flush()
    return ticket


def issue_at_position(
    session: Session,
    item: ServiceItem,
    citizen_id: str,
    kiosk_device_id: str,
    position_key: dt.datetime,
    day: dt.date,
    secret: str,
    now: dt.datetime,
) -> Ticket:
    """A priority-lane ticket queued at ``position_key``: an appointment's ticket at its slot start."""
    req = IssueRequest(item.code, str(new_id()), True, citizen_id, kiosk_device_id)
    ticket = _new_ticket(session, item, req, day, to_db(now), *citizen_key(req, secret))
    ticket.position_key = to_db(position_key)
    session.add(ticket)
    session.flush()
    log.info("ticket %s issued for an appointment of item %s", ticket.ticket_no, item.code)
    return ticket


def kiosk_ticket(session: Session, ticket_no: str, rules: QueueRules, now: dt.datetime) -> Ticket:
    """Today's ticket ``ticket_no``, locked, for the kiosk's printer outcome."""
    ticket = queue_repo.ticket_by_no(session, rules.service_day(now), ticket_no, lock=True)
    if ticket is None:
        raise NotFoundError(f"今日没有 {ticket_no} 号")
    return ticket


def cancel(ticket: Ticket) -> Ticket:
    """Withdraw a ticket nobody has called yet (e.g. it could not be printed)."""
    if ticket.status != TicketStatus.WAITING.value or ticket.called_at is not None:
        raise ConflictError(f"{ticket.ticket_no} 号已被呼叫或已结束，不能取消")
    ticket.status = TicketStatus.CANCELLED.value
    return ticket


STATUS_TEXT = {
    TicketStatus.WAITING.value: "等候中",
    TicketStatus.CALLED.value: "已叫号",
    TicketStatus.SERVING.value: "办理中",
    TicketStatus.FINISHED.value: "已办结",
    TicketStatus.NO_SHOW.value: "过号，等候重新呼叫",
    TicketStatus.LAPSED.value: "已过号作废",
    TicketStatus.TRANSFERRED.value: "已转办，等候中",
    TicketStatus.CANCELLED.value: "已取消",
}
