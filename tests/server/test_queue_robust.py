"""Queue robustness: call-next idempotent by call_ref, and leftover tickets of earlier days lapse."""

from __future__ import annotations

import datetime as dt
import threading
import uuid
from typing import Any

from sqlmodel import Session, select

from server.api.deps import DEMO_SECRET
from server.db import session_scope
from server.models import Ticket, Window
from server.models.queue import TicketStatus
from server.repo import registry
from server.services import queue as queue_service
from server.services import queue_calls as call_service
from server.services.queue import IssueRequest, QueueRules
from server.timeutil import utcnow
from tests.server.conftest import Hall

THREAD_TIMEOUT_S = 30


def issue(hall: Hall, item: str = "GA01") -> str:
    body = {"item_code": item, "client_ref": str(uuid.uuid4()), "priority": False, "citizen": None}
    r = hall.client.post("/api/v1/tickets", json=body, headers=hall.device_headers("kiosk-1"))
    assert r.status_code == 201, r.text
    ticket_no: str = r.json()["ticket_no"]
    return ticket_no


def call(hall: Hall, window: int, call_ref: Any = None, expect: int = 200) -> dict[str, Any]:
    body = {"call_ref": call_ref} if call_ref is not None else {}
    r = hall.client.post(
        "/api/v1/queue/call-next", json=body, headers=hall.device_headers(f"agent-w{window}")
    )
    assert r.status_code == expect, r.text
    return r.json() if r.content else {}


def statuses(hall: Hall) -> dict[tuple[dt.date, str], str]:
    with Session(hall.engine) as session:
        return {(t.service_day, t.ticket_no): t.status for t in session.exec(select(Ticket))}


def rules_of(hall: Hall) -> QueueRules:
    return QueueRules.from_settings(hall.client.app.state.settings)  # type: ignore[attr-defined]


def window(session: Session, number: int) -> Window:
    found = registry.window_by_id(session, number)
    assert found is not None and found.number == number
    return found


def test_repeated_call_ref_gets_the_same_ticket(hall: Hall) -> None:
    first, second = issue(hall), issue(hall)
    ref = str(uuid.uuid4())
    assert call(hall, 1, ref)["ticket_no"] == first
    again = call(hall, 1, ref)
    assert again["ticket_no"] == first
    assert again["status"] == TicketStatus.CALLED.value
    assert call(hall, 1, str(uuid.uuid4()))["ticket_no"] == second
    call(hall, 1, expect=204)
    assert call(hall, 1, ref)["ticket_no"] == first  # still answered after the queue ran dry


def test_call_ref_of_another_window_is_refused(hall: Hall) -> None:
    first = issue(hall)
    issue(hall)
    ref = str(uuid.uuid4())
    assert call(hall, 1, ref)["ticket_no"] == first
    r = hall.client.post(
        "/api/v1/queue/call-next", json={"call_ref": ref}, headers=hall.device_headers("agent-w2")
    )
    assert r.status_code == 409
    assert "其他窗口" in r.json()["detail"]
    today = rules_of(hall).service_day(utcnow())
    assert statuses(hall)[(today, "A002")] == TicketStatus.WAITING.value


def test_malformed_call_ref_is_422_and_claims_nothing(hall: Hall) -> None:
    first = issue(hall)
    r = hall.client.post(
        "/api/v1/queue/call-next", json={"call_ref": "not-a-uuid"}, headers=hall.device_headers("agent-w1")
    )
    assert r.status_code == 422
    assert call(hall, 1)["ticket_no"] == first


def test_a_retry_racing_the_first_try_gets_its_ticket(hall: Hall) -> None:
    """The retry starts while the first try's transaction is still open: it waits and gets that ticket."""
    issue(hall)
    issue(hall)
    rules, now, ref = rules_of(hall), utcnow(), str(uuid.uuid4())
    outcome: dict[str, int | None] = {}

    def retry() -> None:
        with session_scope(hall.engine) as session:
            ticket = call_service.call_next(session, window(session, 1), None, rules, now, ref)
            outcome["retry"] = ticket.id if ticket is not None else None

    with session_scope(hall.engine) as session:
        first = call_service.call_next(session, window(session, 1), None, rules, now, ref)
        assert first is not None
        racer = threading.Thread(target=retry)
        racer.start()
        racer.join(0.5)  # the retry is now blocked on the first try's lock or index entry
        assert racer.is_alive()
    racer.join(THREAD_TIMEOUT_S)
    assert not racer.is_alive()
    assert outcome["retry"] == first.id
    day = rules.service_day(now)
    assert statuses(hall) == {(day, "A001"): "called", (day, "A002"): "waiting"}


def _issue_on(session: Session, rules: QueueRules, when: dt.datetime) -> Ticket:
    req = IssueRequest("GA01", str(uuid.uuid4()), False, None, "kiosk-1")
    return queue_service.issue_ticket(session, req, rules, DEMO_SECRET, when).ticket


def _yesterday_morning(rules: QueueRules) -> dt.datetime:
    today = rules.service_day(utcnow())
    return dt.datetime.combine(today - dt.timedelta(days=1), dt.time(10), tzinfo=rules.tz)


def test_leftovers_of_earlier_days_lapse_at_the_first_call(hall: Hall) -> None:
    rules = rules_of(hall)
    before = _yesterday_morning(rules)
    with session_scope(hall.engine) as session:
        waiting, called, finished = (_issue_on(session, rules, before) for _ in range(3))
        w1 = window(session, 1)
        assert call_service.call_next(session, w1, None, rules, before) is waiting
        call_service.finish(waiting, None, before)
        assert call_service.call_next(session, w1, None, rules, before) is called
        assert finished.status == TicketStatus.WAITING.value
    yesterday = before.date()
    assert statuses(hall) == {
        (yesterday, "A001"): "finished",
        (yesterday, "A002"): "called",
        (yesterday, "A003"): "waiting",
    }
    call(hall, 1, expect=204)  # yesterday's waiting ticket is never called today
    today_no = issue(hall)
    assert today_no == "A001"  # numbering starts again each day
    assert call(hall, 1)["ticket_no"] == today_no
    today = rules.service_day(utcnow())
    assert statuses(hall) == {
        (yesterday, "A001"): "finished",
        (yesterday, "A002"): "lapsed",
        (yesterday, "A003"): "lapsed",
        (today, "A001"): "called",
    }


def test_lapse_leftovers_counts_once(hall: Hall) -> None:
    rules = rules_of(hall)
    before = _yesterday_morning(rules)
    with session_scope(hall.engine) as session:
        for _ in range(4):
            _issue_on(session, rules, before)
        _issue_on(session, rules, utcnow())
    today = rules.service_day(utcnow())
    with session_scope(hall.engine) as session:
        assert call_service.lapse_leftovers(session, today) == 4
    with session_scope(hall.engine) as session:
        assert call_service.lapse_leftovers(session, today) == 0
        assert call_service.lapse_leftovers(session, today) == 0  # remembered: no update at all
    waiting_today = [s for (day, _), s in statuses(hall).items() if day == today]
    assert waiting_today == ["waiting"]
