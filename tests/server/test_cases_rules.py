"""Case rules with a controlled clock: the 补正 pause moves the deadline; yellow and red warnings."""

from __future__ import annotations

import hashlib
import hmac
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pytest
from sqlmodel import Session

from server.db import session_scope
from server.models.cases import Case, CaseStatus
from server.repo.cases import CaseQuery
from server.services import case_queries
from server.services import cases as svc
from server.services.case_context import Actor, CaseContext
from server.services.workdays import CalendarRangeError, WorkCalendar, known_years
from server.timeutil import to_db
from tests.server.conftest import Hall
from tests.server.test_cases import ID_NUMBER

TZ = ZoneInfo("Asia/Shanghai")
CAL = WorkCalendar()
WINDOW_OF = {"GA01": (1, "GA001"), "GA02": (2, "GA002"), "GA03": (1, "GA001"), "SJ01": (5, "SJ001")}


def ctx(warning_days: int = 1, calendar: WorkCalendar = CAL) -> CaseContext:
    return CaseContext(
        calendar=calendar,
        tz=TZ,
        secret="test-secret-0123456789",
        warning_days=warning_days,
        hall_name="测试中心",
    )


def at(day: date, hour: int = 10) -> datetime:
    """A hall-local moment, as the aware UTC the service receives."""
    return to_db(datetime(day.year, day.month, day.day, hour, tzinfo=TZ))


def agent(session: Session, window: int) -> Actor:
    from server.repo.registry import window_by_number

    found = window_by_number(session, window)
    assert found is not None and found.id is not None
    return Actor(name=f"agent-w{window}", window_id=found.id)


def accept(session: Session, item: str, day: date, c: CaseContext | None = None) -> Case:
    window, staff_no = WINDOW_OF[item]
    req = svc.AcceptRequest(str(uuid.uuid4()), item, staff_no, ID_NUMBER, "王小明")
    case, created = svc.accept(session, c or ctx(), agent(session, window), req, at(day))
    assert created
    return case


def test_supplement_pause_moves_the_deadline_by_the_paused_working_days(hall: Hall) -> None:
    accepted_on = date(2024, 9, 27)  # Friday before National Day 2024
    with session_scope(hall.engine) as s:
        case = accept(s, "GA01", accepted_on)
        assert case.case_no == "GA01-20240927-0001"
        original = case.due_date
        assert original == CAL.add_working_days(accepted_on, 20)
        w1 = agent(s, 1)
        # Requested Monday 9-30, supplied Wednesday 10-09: 10-08 and 10-09 are the paused working days.
        svc.request_supplement(s, ctx(), w1, case.case_no, ["户口簿原件"], "GA001", at(date(2024, 9, 30)))
        assert case.status == CaseStatus.SUPPLEMENT and case.due_date == original
        svc.supplied(s, ctx(), w1, case.case_no, None, at(date(2024, 10, 9)))
        assert case.status == CaseStatus.ACCEPTED
        assert case.due_date == CAL.add_working_days(original, 2) == CAL.add_working_days(accepted_on, 22)
        second = accept(s, "GA01", accepted_on)
        assert second.case_no == "GA01-20240927-0002"
        # The same person's cases share the keyed hash; it depends on the server secret.
        expected = hmac.new(b"test-secret-0123456789", ID_NUMBER.encode(), hashlib.sha256).hexdigest()
        assert case.applicant_hash == second.applicant_hash == expected


def test_acceptance_day_is_the_hall_local_day(hall: Hall) -> None:
    # 2024-09-29 17:30 UTC is 2024-09-30 01:30 in the hall: numbered and counted from the 30th.
    with session_scope(hall.engine) as s:
        req = svc.AcceptRequest(str(uuid.uuid4()), "SJ01", "SJ001", ID_NUMBER, "王小明")
        case, _ = svc.accept(s, ctx(), agent(s, 5), req, datetime(2024, 9, 29, 17, 30, tzinfo=UTC))
        assert case.case_no == "SJ01-20240930-0001" and case.due_date == date(2024, 10, 8)


def test_yellow_and_red_warnings_with_a_controlled_today(hall: Hall) -> None:
    monday = date(2024, 9, 2)
    with session_scope(hall.engine) as s:
        sj = accept(s, "SJ01", monday)  # 1 working day: due Tue 9-03
        ga02 = accept(s, "GA02", monday)  # 5: due Mon 9-09
        ga03 = accept(s, "GA03", monday)  # 7: due Wed 9-11
        paused = accept(s, "SJ01", monday)
        svc.request_supplement(s, ctx(), agent(s, 5), paused.case_no, ["经营场所证明"], "SJ001", at(monday))
        closed = accept(s, "SJ01", monday)
        svc.finish(s, ctx(), agent(s, 5), closed.case_no, CaseStatus.COMPLETED, "", None, at(monday))
        assert (sj.due_date, ga02.due_date, ga03.due_date) == (
            date(2024, 9, 3),
            date(2024, 9, 9),
            date(2024, 9, 11),
        )

        def colours(today: date, c: CaseContext) -> dict[str, str | None]:
            cases = (sj, ga02, ga03, paused, closed)
            return {
                x.case_no: (w.value if (w := case_queries.warning_of(x, c, today)) else None) for x in cases
            }

        on_tue = colours(date(2024, 9, 3), ctx())
        assert on_tue == {
            sj.case_no: "yellow",
            ga02.case_no: None,
            ga03.case_no: None,
            paused.case_no: None,
            closed.case_no: None,
        }
        friday = date(2024, 9, 6)  # Monday 9-09 is the next working day
        assert colours(friday, ctx())[sj.case_no] == "red"
        assert colours(friday, ctx())[ga02.case_no] == "yellow"
        assert colours(friday, ctx())[ga03.case_no] is None
        assert colours(friday, ctx(warning_days=3))[ga03.case_no] == "yellow"

        red = case_queries.list_cases(s, ctx(), CaseQuery(), case_queries.Warning.RED, friday)
        yellow = case_queries.list_cases(s, ctx(), CaseQuery(), case_queries.Warning.YELLOW, friday)
        assert [r.case.case_no for r in red] == [sj.case_no]
        assert [r.case.case_no for r in yellow] == [ga02.case_no]

        report = case_queries.warnings_report(s, ctx(), friday, None)
        by_officer = {g["key"]: (g["yellow"], g["red"]) for g in report["by_officer"]}
        assert by_officer == {"SJ001": (0, 1), "GA002": (1, 0)}
        assert {g["key"]: (g["yellow"], g["red"]) for g in report["by_window"]} == {"5": (0, 1), "2": (1, 0)}
        assert {g["key"]: (g["yellow"], g["red"]) for g in report["by_department"]} == {
            "SJ": (0, 1),
            "GA": (1, 0),
        }
        assert report["by_officer"][0]["label"] == "周婷（SJ001）"  # red first
        ga_only = case_queries.warnings_report(s, ctx(), friday, ga02.department_id)
        assert [g["key"] for g in ga_only["by_department"]] == ["GA"]


def test_a_deadline_in_an_unknown_year_is_a_clear_error(hall: Hall) -> None:
    last_known = date(known_years()[1], 12, 30)
    with session_scope(hall.engine) as s, pytest.raises(CalendarRangeError, match=str(last_known.year + 1)):
        accept(s, "GA01", last_known)
    with session_scope(hall.engine) as s:
        case = accept(s, "GA01", last_known, ctx(calendar=WorkCalendar(weekday_fallback=True)))
        assert case.due_date.year == last_known.year + 1


def test_concurrent_acceptances_get_distinct_numbers_and_one_case_per_client_ref(hall: Hall) -> None:
    day = date(2024, 9, 2)
    shared_ref = str(uuid.uuid4())

    def send(i: int) -> str:
        with session_scope(hall.engine) as s:
            ref = shared_ref if i % 2 else str(uuid.uuid4())
            req = svc.AcceptRequest(ref, "SJ01", "SJ001", ID_NUMBER, "王小明")
            case, _ = svc.accept(s, ctx(), agent(s, 5), req, at(day))
            return case.case_no

    with ThreadPoolExecutor(max_workers=6) as pool:
        numbers = list(pool.map(send, range(12)))
    shared = {n for i, n in enumerate(numbers) if i % 2}
    own = [n for i, n in enumerate(numbers) if not i % 2]
    assert len(shared) == 1 and len(set(own)) == 6
    assert sorted(shared | set(own)) == [f"SJ01-20240902-{seq:04d}" for seq in range(1, 8)]
