"""Appointment rules through the service with an injected clock: capacity, grace, queue order, no-shows."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa
from sqlmodel import Session, SQLModel

from server.api.deps import DEMO_SECRET
from server.errors import ConflictError, NotFoundError
from server.models.appointments import AppointmentSlot, AppointmentStatus
from server.repo import registry
from server.services import appointments as appt
from server.services import appointments_checkin as checkin_service
from server.services import queue as queue_service
from server.services import queue_calls as call_service
from server.services.appointments import AppointmentRules, BookingRequest, SlotRequest
from server.services.queue import IssueRequest, QueueRules
from tests.server.conftest import Hall

TZ = ZoneInfo("Asia/Shanghai")
DAY = dt.date(2031, 3, 4)
RULES = AppointmentRules(TZ, early=dt.timedelta(minutes=15), late=dt.timedelta(minutes=15))
QUEUE = QueueRules(TZ, dt.time(16, 30), dt.time(17, 0), 3)
ID_A, ID_B, ID_C = "110101199003071234", "34052419800101001X", "320106199207140035"
NAME, PHONE = "王秀英", "13812345678"


def at(hour: int, minute: int = 0) -> dt.datetime:
    """A hall-local moment on the test day."""
    return dt.datetime.combine(DAY, dt.time(hour, minute), tzinfo=TZ)


@pytest.fixture
def session(hall: Hall) -> Iterator[Session]:
    with Session(hall.engine, expire_on_commit=False) as s:
        yield s


def slot(session: Session, start: str, capacity: int = 5, item: str = "GA01") -> AppointmentSlot:
    begin = dt.time.fromisoformat(start)
    end = (dt.datetime.combine(DAY, begin) + dt.timedelta(minutes=30)).time()
    req = SlotRequest(item, DAY, begin, end, capacity)
    made = appt.create_slot(session, req, RULES, "supervisor", at(8))
    session.commit()
    return made


def book(session: Session, made: AppointmentSlot, id_number: str, item: str = "GA01") -> str:
    if made.id is None:
        raise AssertionError("slot without id")
    req = BookingRequest(item, made.id, id_number, NAME, PHONE, "public")
    appointment, _ = appt.book(session, req, RULES, DEMO_SECRET, at(8, 30))
    session.commit()
    return appointment.code


def check_in(session: Session, id_number: str, now: dt.datetime) -> checkin_service.CheckedIn:
    done = checkin_service.check_in(session, id_number, "kiosk-1", RULES, DEMO_SECRET, now)
    session.commit()
    return done


def test_capacity_is_never_exceeded(session: Session) -> None:
    made = slot(session, "10:00", capacity=2)
    book(session, made, ID_A)
    book(session, made, ID_B)
    with pytest.raises(ConflictError, match="约满"):
        book(session, made, ID_C)
    session.rollback()
    session.refresh(made)
    assert made.booked == 2


def test_double_booking_refused_and_cancel_frees_the_place(session: Session) -> None:
    first, second = slot(session, "10:00", capacity=1), slot(session, "11:00")
    code = book(session, first, ID_A)
    with pytest.raises(ConflictError, match="不能重复预约"):
        book(session, second, ID_A)
    session.rollback()
    with pytest.raises(NotFoundError):
        appt.cancel(session, code, ID_B, DEMO_SECRET, at(9))  # not the ID that booked
    cancelled = appt.cancel(session, code, ID_A.lower(), DEMO_SECRET, at(9))
    session.commit()
    assert cancelled.status == AppointmentStatus.CANCELLED.value
    with pytest.raises(ConflictError, match="已取消"):
        appt.cancel(session, code, ID_A, DEMO_SECRET, at(9))
    session.rollback()
    book(session, first, ID_B)  # the freed place can be booked again
    book(session, second, ID_A)  # and the citizen may book another slot


def test_slot_rules(session: Session) -> None:
    slot(session, "10:00")
    with pytest.raises(ConflictError, match="已存在"):
        slot(session, "10:00")
    session.rollback()
    late = SlotRequest("GA01", DAY, dt.time(9), dt.time(9, 30), 3)
    with pytest.raises(ConflictError, match="已经开始"):
        appt.create_slot(session, late, RULES, "supervisor", at(9, 5))
    with pytest.raises(NotFoundError):
        appt.create_slot(session, SlotRequest("NOPE", DAY, dt.time(10), dt.time(11), 1), RULES, "s", at(8))


def test_check_in_inside_and_outside_the_grace(session: Session) -> None:
    book(session, slot(session, "10:00"), ID_A)
    book(session, slot(session, "10:00", item="RS01"), ID_B, item="RS01")
    with pytest.raises(checkin_service.TooEarlyError) as early:
        check_in(session, ID_A, at(9, 44))
    assert early.value.come_back_at == "09:45" and "09:45 后再来" in str(early.value)
    session.rollback()
    done = check_in(session, ID_A, at(9, 45))
    assert done.created and done.ticket.priority and done.ticket.ticket_no == "A001"
    assert done.ticket.position_key == at(10).astimezone(dt.UTC)
    assert done.appointment.status == AppointmentStatus.CHECKED_IN.value
    again = check_in(session, ID_A, at(9, 50))
    assert not again.created and again.ticket.id == done.ticket.id
    with pytest.raises(checkin_service.TooLateError) as late:
        check_in(session, ID_B, at(10, 16))
    assert late.value.item_code == "RS01" and "直接取普通号" in str(late.value)
    session.rollback()
    assert check_in(session, ID_B, at(10, 15)).created  # the last minute of the grace still counts
    with pytest.raises(NotFoundError, match="没有查到您今天的预约"):
        check_in(session, ID_C, at(10))


def test_checked_in_ticket_is_called_before_an_earlier_walk_in(session: Session) -> None:
    book(session, slot(session, "10:00"), ID_A)
    walk_in = IssueRequest("GA01", "0b8f6f3e-4d8e-4a8e-9a59-0c1d2e3f4a5b", False, None, "kiosk-1")
    earlier = queue_service.issue_ticket(session, walk_in, QUEUE, DEMO_SECRET, at(9, 30)).ticket
    session.commit()
    booked = check_in(session, ID_A, at(10, 5)).ticket
    window = registry.window_by_number(session, 1)
    if window is None:
        raise AssertionError("demo hall without window 1")
    first = call_service.call_next(session, window, None, QUEUE, at(10, 6))
    second = call_service.call_next(session, window, None, QUEUE, at(10, 7))
    assert first is not None and second is not None
    assert (first.id, second.id) == (booked.id, earlier.id)


def test_no_show_marked_after_the_slot_and_the_grace(session: Session) -> None:
    code = book(session, slot(session, "10:00"), ID_A)
    book(session, slot(session, "11:00"), ID_B)
    assert checkin_service.mark_no_shows(session, RULES, at(10, 45)) == 0  # 10:30 end + 15 min not yet past
    assert checkin_service.mark_no_shows(session, RULES, at(10, 46)) == 1
    session.commit()
    rows = {a.code: a.status for a, _, _ in appt.repo.of_day(session, DAY, None, None)}
    assert rows[code] == AppointmentStatus.NO_SHOW.value and len(rows) == 2
    with pytest.raises(checkin_service.TooLateError):
        check_in(session, ID_A, at(10, 50))


def test_no_id_number_name_or_phone_in_clear_in_any_table(hall: Hall, session: Session) -> None:
    book(session, slot(session, "10:00"), ID_A)
    check_in(session, ID_A, at(10))
    needles = (ID_A, ID_A[6:14], NAME, PHONE)
    with hall.engine.connect() as conn:
        for table in SQLModel.metadata.sorted_tables:
            for row in conn.execute(sa.select(table)):
                text = " ".join(str(v) for v in row)
                assert not [n for n in needles if n in text], table.name
        masked = conn.execute(sa.text("SELECT citizen_masked, name_masked, phone_masked FROM appointment"))
        assert masked.one() == ("110***********1234", "王**", "138****5678")
