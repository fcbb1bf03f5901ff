"""The queue's few-statement paths and per-process caches: a racing retry, long numbers, the call
notification's payload, and the registry snapshot reading a new item at once."""

from __future__ import annotations

import json
import threading
import time
import uuid

import psycopg
import pytest
from sqlalchemy.engine import make_url
from sqlmodel import Session, select

from server.api.deps import DEMO_SECRET
from server.db import session_scope
from server.models import QueueCall, ServiceItem, TicketCounter, WindowItem
from server.services import queue as queue_service
from server.services import queue_cache
from server.services.notify import CHANNEL, call_to_dict
from server.services.queue import Issued, IssueRequest, QueueRules
from server.timeutil import utcnow
from tests.server.conftest import Hall

THREAD_TIMEOUT_S = 30


def _rules(hall: Hall) -> QueueRules:
    return QueueRules.from_settings(hall.client.app.state.settings)  # type: ignore[attr-defined]


def _request(item: str = "GA01", ref: str | None = None) -> IssueRequest:
    return IssueRequest(item, ref or str(uuid.uuid4()), False, None, "kiosk-1")


def _issue_http(hall: Hall, item: str) -> dict[str, object]:
    body = {"item_code": item, "client_ref": str(uuid.uuid4())}
    r = hall.client.post("/api/v1/tickets", json=body, headers=hall.device_headers("kiosk-1"))
    assert r.status_code == 201, r.text
    answer: dict[str, object] = r.json()
    return answer


def test_a_retry_racing_the_first_try_gets_its_ticket_and_takes_no_number(hall: Hall) -> None:
    """The retry starts while the first try's transaction is open: it waits, gets that ticket, and
    the number it took meanwhile (PostgreSQL) is given back."""
    rules, now, ref = _rules(hall), utcnow(), str(uuid.uuid4())
    outcome: dict[str, Issued] = {}

    def retry() -> None:
        with session_scope(hall.engine) as session:
            outcome["retry"] = queue_service.issue_ticket(session, _request(ref=ref), rules, DEMO_SECRET, now)

    with session_scope(hall.engine) as session:
        first = queue_service.issue_ticket(session, _request(ref=ref), rules, DEMO_SECRET, now)
        assert first.created and first.ticket.ticket_no == "A001" and first.ahead == 0
        racer = threading.Thread(target=retry)
        racer.start()
        racer.join(0.5)  # blocked on the counter row (PostgreSQL) or the write lock (SQLite)
        assert racer.is_alive()
    racer.join(THREAD_TIMEOUT_S)
    assert not racer.is_alive()
    again = outcome["retry"]
    assert not again.created and again.ticket.id == first.ticket.id
    assert _issue_http(hall, "GA01")["ticket_no"] == "A002"  # no gap


def test_numbers_grow_past_three_digits(hall: Hall) -> None:
    day = _rules(hall).service_day(utcnow())
    with session_scope(hall.engine) as session:
        session.add(TicketCounter(service_day=day, prefix="B", last=998))
    assert _issue_http(hall, "GA02")["ticket_no"] == "B999"
    assert _issue_http(hall, "GA02")["ticket_no"] == "B1000"


def test_people_ahead_of_a_new_ticket(hall: Hall) -> None:
    assert [_issue_http(hall, "RS03")["people_ahead"] for _ in range(3)] == [0, 1, 2]
    body = {"item_code": "RS03", "client_ref": str(uuid.uuid4()), "priority": True}
    r = hall.client.post("/api/v1/tickets", json=body, headers=hall.device_headers("kiosk-1"))
    assert r.status_code == 201 and r.json()["people_ahead"] == 0  # the priority lane goes first
    assert _issue_http(hall, "RS03")["people_ahead"] == 4


def test_a_new_item_is_issued_at_once(hall: Hall) -> None:
    _issue_http(hall, "GA01")  # the registry snapshot is loaded now
    with session_scope(hall.engine) as session:
        ga01 = session.exec(select(ServiceItem).where(ServiceItem.code == "GA01")).one()
        item = ServiceItem(code="GA09", name="新事项", ticket_prefix="Z", department_id=ga01.department_id)
        session.add(item)
        session.flush()
        assert item.id is not None
        session.add(WindowItem(window_id=1, item_id=item.id))
    ticket = _issue_http(hall, "GA09")
    assert ticket["ticket_no"] == "Z001" and ticket["window_group"] == "1号窗口"


@pytest.mark.parametrize("backend", [pytest.param("postgres", marks=pytest.mark.postgres)])
def test_the_call_notification_is_the_call_as_stored(hall: Hall) -> None:
    """One statement records the call and queues the NOTIFY: its payload is ``call_to_dict`` exactly."""
    conninfo = make_url(hall.database_url).set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(conninfo, autocommit=True) as listener:
        listener.execute(f"LISTEN {CHANNEL}")
        _issue_http(hall, "SJ01")
        r = hall.client.post("/api/v1/queue/call-next", headers=hall.device_headers("agent-w5"))
        assert r.status_code == 200
        notes = list(listener.notifies(timeout=10, stop_after=1))
    assert len(notes) == 1
    with session_scope(hall.engine) as session:
        call = session.exec(select(QueueCall)).one()
        assert notes[0].payload == json.dumps(call_to_dict(call), ensure_ascii=False)
    assert json.loads(notes[0].payload)["text"] == "请 G001 号到 5 号窗口办理"


def test_an_old_registry_is_read_again_by_one_thread_while_the_others_use_it(
    hall: Hall, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Dozens of requests find the snapshot old at the same moment: one reload, not one each."""
    with session_scope(hall.engine) as session:
        first = queue_cache.registry(session, reload=True)
    loads: list[int] = []
    release = threading.Event()
    real_load = queue_cache._load_registry

    def slow_load(session: Session) -> queue_cache.Registry:
        loads.append(1)
        release.wait(THREAD_TIMEOUT_S)
        return real_load(session)

    monkeypatch.setattr(queue_cache, "_load_registry", slow_load)
    monkeypatch.setattr(queue_cache._registry, "ttl_s", 0.0)
    seen: list[queue_cache.Registry] = []

    def ask() -> None:
        with session_scope(hall.engine) as s:
            seen.append(queue_cache.registry(s))

    threads = [threading.Thread(target=ask) for _ in range(8)]
    for t in threads:
        t.start()
    deadline = time.monotonic() + THREAD_TIMEOUT_S
    while len(seen) < 7 and time.monotonic() < deadline:
        time.sleep(0.01)
    # Seven answered from the old snapshot while the eighth is still reading the new one.
    assert len(seen) == 7 and all(r is first for r in seen)
    release.set()
    for t in threads:
        t.join(THREAD_TIMEOUT_S)
    assert len(loads) == 1 and len(seen) == 8 and seen[-1] is not first
