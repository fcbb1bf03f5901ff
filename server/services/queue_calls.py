"""Serving the queue at a window: call the next ticket, recall, no-show, start, finish, transfer."""

from __future__ import annotations

import datetime as dt
import logging
from typing import Protocol

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import object_session
from sqlmodel import Session

from server.errors import ConflictError, ForbiddenError, NotFoundError
from server.models import QueueCall, Ticket
from server.models.queue import CALLABLE, TicketStatus
from server.repo import queue as queue_repo
from server.services import notify, queue_cache
from server.services.queue import STATUS_TEXT, QueueRules
from server.timeutil import to_db

log = logging.getLogger(__name__)

MAX_RECALLS = 3


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
