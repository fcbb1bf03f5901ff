"""The queue engine at chosen moments: numbering per day, waiting estimates from service history."""

from __future__ import annotations

import datetime as dt
import uuid

import pytest
from sqlmodel import Session

from server.db import session_scope
from server.models import Ticket, Window
from server.repo import registry
from server.services import queue as q
from server.services import queue_calls as call_service
from server.services.citizen_ids import citizen_hash, mask_id
from server.services.queue_estimate import estimate
from server.settings import ServerSettings
from tests.server.conftest import Hall

RULES = q.QueueRules.from_settings(ServerSettings(demo=True))
# 10:00 in the hall (Asia/Shanghai) on two consecutive days.
DAY1 = dt.datetime(2030, 3, 4, 2, 0, tzinfo=dt.UTC)
DAY2 = DAY1 + dt.timedelta(days=1)


def _issue(session: Session, item: str, now: dt.datetime) -> Ticket:
    req = q.IssueRequest(item, str(uuid.uuid4()), False, None, "kiosk-1")
    return q.issue_ticket(session, req, RULES, "test-secret", now).ticket


def _window(session: Session, number: int) -> Window:
    window = registry.window_by_number(session, number)
    assert window is not None
    return window


def test_numbering_starts_again_each_day(hall: Hall) -> None:
    with session_scope(hall.engine) as s:
        day1 = [_issue(s, "GA01", DAY1).ticket_no for _ in range(3)]
        day2 = [_issue(s, "GA01", DAY2).ticket_no for _ in range(2)]
        evening = _issue(s, "GA01", DAY1.replace(hour=8)).ticket_no  # 16:00 local, still day 1
    assert day1 == ["A001", "A002", "A003"] and day2 == ["A001", "A002"] and evening == "A004"


def test_after_last_ticket_time_local(hall: Hall) -> None:
    late = DAY1.replace(hour=8, minute=30)  # 16:30 in the hall
    with session_scope(hall.engine) as s, pytest.raises(q.TicketingClosedError, match="16:30"):
        _issue(s, "GA01", late)
    assert RULES.accepting(late - dt.timedelta(minutes=1))


def test_estimate_uses_the_median_of_recent_service_times(hall: Hall) -> None:
    with session_scope(hall.engine) as s:
        window = _window(s, 1)
        for minutes in (4, 6, 20):  # median 6 min
            ticket = _issue(s, "GA01", DAY1)
            called = call_service.call_next(s, window, "GA001", RULES, DAY1)
            assert called is not None and called.id == ticket.id
            call_service.start(called, None, DAY1)
            call_service.finish(called, None, DAY1 + dt.timedelta(minutes=minutes))
        tickets = [_issue(s, "GA01", DAY1) for _ in range(3)]
        # Nobody called or heartbeat: both windows serving GA01 count as open.
        assert estimate(s, tickets[2], RULES, DAY1) == (2, 6)
        # Window 1 now has a called ticket today, window 2 is silent: one open window.
        assert call_service.call_next(s, window, "GA001", RULES, DAY1) is not None
        assert estimate(s, tickets[2], RULES, DAY1) == (1, 6)


def test_estimate_without_history_is_five_minutes_each(hall: Hall) -> None:
    with session_scope(hall.engine) as s:
        tickets = [_issue(s, "RS03", DAY1) for _ in range(3)]  # window 4 only
        assert estimate(s, tickets[2], RULES, DAY1) == (2, 10)
        priority = q.issue_ticket(
            s, q.IssueRequest("RS03", str(uuid.uuid4()), True, None, "kiosk-1"), RULES, "k", DAY1
        ).ticket
        assert estimate(s, priority, RULES, DAY1) == (0, 0)
        assert estimate(s, tickets[0], RULES, DAY1) == (1, 5)  # the priority ticket goes first


def test_requeue_key_places_a_ticket_behind_the_next_ones() -> None:
    keys = [DAY1 + dt.timedelta(seconds=n) for n in range(5)]
    assert keys[2] < call_service._requeue_key(keys, DAY1, 3) < keys[3]
    assert call_service._requeue_key(keys[:2], DAY1, 3) > keys[1]
    assert call_service._requeue_key([], DAY1, 3) == DAY1


def test_masking_and_hashing() -> None:
    assert mask_id("11010119900307123x") == "110***********123X"
    assert mask_id(" 1234567 ") == "*******"  # too short to show any of it
    assert citizen_hash("k", "11010119900307123x") == citizen_hash("k", "11010119900307123X")
    assert citizen_hash("k", "110101199003071234") != citizen_hash("other", "110101199003071234")
