"""The queue engine: issue tickets, call them to windows, recall, no-show, transfer, serve, finish."""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import logging
import secrets
from dataclasses import dataclass
from typing import Protocol
from zoneinfo import ZoneInfo

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import object_session
from sqlmodel import Session

from common.ids import new_id
from server.errors import ConflictError, ForbiddenError, NotFoundError
from server.models import QueueCall, ServiceItem, Ticket
from server.models.queue import CALLABLE, TicketStatus
from server.repo import queue as queue_repo
from server.services import notify, queue_cache
from server.settings import ServerSettings
from server.timeutil import to_db

log = logging.getLogger(__name__)

MAX_RECALLS = 3


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


def citizen_hash(secret: str, id_number: str) -> str:
    """Keyed hash of an ID number, so the same citizen is recognised without storing the number."""
    return hmac.new(secret.encode(), id_number.strip().upper().encode(), hashlib.sha256).hexdigest()


def mask_id(id_number: str) -> str:
    """An ID number with all but the first 3 and last 4 characters hidden."""
    value = id_number.strip().upper()
    return value[:3] + "*" * max(len(value) - 7, 0) + value[-4:]


# Prefixed to a card serial before hashing: an ID number never contains it, so a serial's hash can
# never equal an ID number's (the same citizen_hash column holds both).
CARD_SERIAL_DOMAIN = "card-serial\x00"


def card_serial_hash(secret: str, serial: str) -> str:
    """Keyed hash of an ID card's physical serial, in a domain of its own."""
    message = CARD_SERIAL_DOMAIN + serial.strip().upper()
    return hmac.new(secret.encode(), message.encode(), hashlib.sha256).hexdigest()


def mask_card_serial(serial: str) -> str:
    """A card serial as screens and tickets show it: only its last 4 hex digits."""
    return "****" + serial.strip().upper()[-4:]


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
    ahead = queue_repo.insert_numbered(session, ticket)
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
    ticket.seq = queue_repo.next_seq(session, day, item.ticket_prefix)
    ticket.ticket_no = queue_repo.ticket_number(item.ticket_prefix, ticket.seq)
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


def call_text(ticket_no: str, window_number: int) -> str:
    """What the hall display shows and speaks for a call."""
    return f"请 {ticket_no} 号到 {window_number} 号窗口办理"


class WindowLike(Protocol):
    """What the queue needs of a window: a Window row or the cached WindowInfo."""

    @property
    def id(self) -> int | None: ...

    @property
    def number(self) -> int: ...


def _announce(session: Session, ticket: Ticket, window: WindowLike, kind: str, now: dt.datetime) -> QueueCall:
    if ticket.id is None:
        raise NotFoundError("ticket without id")
    call = QueueCall(
        ticket_id=ticket.id,
        ticket_no=ticket.ticket_no,
        window_number=window.number,
        kind=kind,
        called_at=now,
        text=call_text(ticket.ticket_no, window.number),
    )
    notify.record_and_publish(session, call)
    return call


def call_next(
    session: Session,
    window: WindowLike,
    staff_no: str | None,
    rules: QueueRules,
    now: dt.datetime,
    call_ref: str | None = None,
) -> Ticket | None:
    """Claim the next ticket for a window: priority lane first, then the longest waiting.

    A repeated ``call_ref`` (the agent retrying after a lost answer) gets the ticket it claimed back.
    If the retry runs while the first try is still open, it waits for it; when the first try commits,
    this transaction is rolled back (the claim it made with it) and the first try's ticket returned.
    """
    if window.id is None:
        return None
    if call_ref is not None:
        earlier = _called_by_ref(session, window, call_ref)
        if earlier is not None:
            return earlier
    day = rules.service_day(now)
    lapse_leftovers(session, day)
    item_ids = [i.id for i in queue_cache.registry(session).items_of_window.get(window.id, ())]
    called = {
        "status": TicketStatus.CALLED.value,
        "window_id": window.id,
        "officer_staff_no": staff_no,
        "called_at": to_db(now),
        "recall_count": 0,
        "call_ref": call_ref,
    }
    try:
        ticket = queue_repo.claim_next(session, day, item_ids, called)
    except IntegrityError:
        if call_ref is None:
            raise
        # The same call_ref, retried while the first try was still running: that one committed first.
        session.rollback()
        raced = _called_by_ref(session, window, call_ref)
        if raced is None:
            raise
        return raced
    if ticket is None:
        return None
    queue_cache.window_called(session, window.id)
    _announce(session, ticket, window, "call", to_db(now))
    return ticket


def may_call(
    session: Session, window: WindowLike, rules: QueueRules, now: dt.datetime, call_ref: str | None = None
) -> bool:
    """Read only: whether ``call_next`` could find anything for this window now.

    False means it would answer "nobody waits": an idle window's repeated calls need no write turn.
    A ticket claimed meanwhile by another window or issued a moment later changes nothing that a call
    a moment earlier would not have seen.
    """
    if window.id is None:
        return False
    if call_ref is not None and queue_repo.ticket_by_call_ref(session, call_ref) is not None:
        return True
    item_ids = [i.id for i in queue_cache.registry(session).items_of_window.get(window.id, ())]
    return queue_repo.any_callable(session, rules.service_day(now), item_ids)


def _called_by_ref(session: Session, window: WindowLike, call_ref: str) -> Ticket | None:
    ticket = queue_repo.ticket_by_call_ref(session, call_ref)
    if ticket is not None and ticket.window_id != window.id:
        raise ConflictError(f"叫号请求 {call_ref} 已被其他窗口使用")
    return ticket


# Leftover statuses of an earlier day: nobody will serve these tickets any more.
LEFTOVER = (*CALLABLE, TicketStatus.CALLED.value)
_LAPSED_THROUGH = "hall_queue_lapsed_through"


def lapse_leftovers(session: Session, day: dt.date) -> int:
    """Mark tickets of earlier days still waiting or called lapsed, once per day and connection."""
    info = session.connection().info
    if info.get(_LAPSED_THROUGH) == day:
        return 0
    lapsed = queue_repo.lapse_before(session, day, LEFTOVER)
    if lapsed:
        log.info("%d tickets of days before %s lapsed", lapsed, day)
    else:
        # Remembered on the pooled connection only once nothing is left, which a rollback cannot undo.
        info[_LAPSED_THROUGH] = day
    return lapsed


def own_ticket(
    session: Session, window: WindowLike, ticket_no: str, rules: QueueRules, now: dt.datetime
) -> Ticket:
    """Today's ticket ``ticket_no``, locked, if this window called it."""
    ticket = queue_repo.ticket_by_no(session, rules.service_day(now), ticket_no, lock=True)
    if ticket is None:
        raise NotFoundError(f"今日没有 {ticket_no} 号")
    if ticket.window_id != window.id or ticket.status in CALLABLE:
        raise ForbiddenError(f"{ticket_no} 号不是本窗口呼叫的")
    return ticket


def _require(ticket: Ticket, *statuses: TicketStatus) -> None:
    if ticket.status not in {s.value for s in statuses}:
        raise ConflictError(f"{ticket.ticket_no} 号当前状态为 {STATUS_TEXT[ticket.status]}，不能执行此操作")


def recall(session: Session, window: WindowLike, ticket: Ticket, now: dt.datetime) -> Ticket:
    """Announce a called ticket again, at most three times."""
    _require(ticket, TicketStatus.CALLED)
    if ticket.recall_count >= MAX_RECALLS:
        raise ConflictError(f"{ticket.ticket_no} 号已重呼 {MAX_RECALLS} 次，不能再重呼，请按过号处理")
    ticket.recall_count += 1
    session.add(ticket)
    _announce(session, ticket, window, "recall", to_db(now))
    return ticket


def no_show(session: Session, ticket: Ticket, rules: QueueRules) -> Ticket:
    """过号: the first time back into the queue a few places later, the second time lapsed."""
    _require(ticket, TicketStatus.CALLED)
    ticket.no_show_count += 1
    if ticket.no_show_count > 1:
        ticket.status = TicketStatus.LAPSED.value
    else:
        others = queue_repo.lane(session, ticket.service_day, ticket.item_id, ticket.priority)
        ticket.position_key = _requeue_key(
            [t.position_key for t in others], ticket.position_key, rules.no_show_places_back
        )
        ticket.status, ticket.window_id, ticket.recall_count = TicketStatus.NO_SHOW.value, None, 0
        ticket.call_ref = None  # back in the queue: the call that claimed it is spent
    session.add(ticket)
    return ticket


def _requeue_key(keys: list[dt.datetime], own: dt.datetime, places_back: int) -> dt.datetime:
    """A position key that puts a ticket behind the first ``places_back`` waiting ones."""
    if places_back == 0 or not keys:
        return min([own, *keys])
    if len(keys) <= places_back:
        return keys[-1] + dt.timedelta(microseconds=1)
    before, after = keys[places_back - 1], keys[places_back]
    return before + (after - before) / 2


def start(ticket: Ticket, staff_no: str | None, now: dt.datetime) -> Ticket:
    """The citizen has come: service starts."""
    _require(ticket, TicketStatus.CALLED)
    ticket.status, ticket.served_at = TicketStatus.SERVING.value, to_db(now)
    ticket.officer_staff_no = staff_no or ticket.officer_staff_no
    return ticket


def finish(ticket: Ticket, staff_no: str | None, now: dt.datetime) -> Ticket:
    """Service ends."""
    _require(ticket, TicketStatus.CALLED, TicketStatus.SERVING)
    ticket.served_at = ticket.served_at or to_db(now)
    ticket.status, ticket.finished_at = TicketStatus.FINISHED.value, to_db(now)
    ticket.officer_staff_no = staff_no or ticket.officer_staff_no
    session = object_session(ticket)
    if isinstance(session, Session):
        queue_cache.service_finished(session, ticket.item_id)  # its median service time changes
    return ticket


def transfer(session: Session, ticket: Ticket, item_code: str) -> Ticket:
    """Send a ticket to another item's queue; it keeps its number and its place (position key)."""
    _require(ticket, TicketStatus.CALLED, TicketStatus.SERVING)
    item = queue_cache.item_by_code(session, item_code)
    if item is None:
        raise NotFoundError(f"没有编码为 {item_code} 的办理事项")
    if item.id == ticket.item_id:
        raise ConflictError(f"{ticket.ticket_no} 号已在办理该事项，无需转办")
    ticket.item_id, ticket.department_id = item.id, item.department_id
    ticket.status, ticket.window_id, ticket.recall_count = TicketStatus.TRANSFERRED.value, None, 0
    ticket.served_at = None
    ticket.call_ref = None  # back in a queue: the call that claimed it is spent
    session.add(ticket)
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
