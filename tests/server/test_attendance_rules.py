"""The pure attendance rules: tables of punches -> marks, unstaffed gaps, weekly flag, monthly totals."""

from __future__ import annotations

import io
from datetime import date, datetime, time
from zoneinfo import ZoneInfo

import pytest
from openpyxl import load_workbook

from server.models import Department, Officer
from server.services.attendance import AttendanceError
from server.services.attendance.evaluate import OfficerDay
from server.services.attendance.export import summary_csv, summary_xlsx
from server.services.attendance.rules import AttendanceRules, Interval, Mark, MarkKind, Period, evaluate_day
from server.services.attendance.schedule import day_spans, parse_month, parse_week
from server.services.attendance.staffing import unstaffed_gaps
from server.services.attendance.summary import monthly_summary, weekly_rows

TZ = ZoneInfo("Asia/Shanghai")
DAY = date(2026, 11, 16)
RULES = AttendanceRules()
ON, LATE, EARLY = MarkKind.ON_TIME, MarkKind.LATE, MarkKind.EARLY_LEAVE
HALF, DAY_OFF, MISSED, LEAVE = (
    MarkKind.ABSENT_HALF,
    MarkKind.ABSENT_DAY,
    MarkKind.MISSED_PUNCH,
    MarkKind.ON_LEAVE,
)


def at(hhmm: str, second: int = 0) -> datetime:
    h, m = hhmm.split(":")
    return datetime.combine(DAY, time(int(h), int(m), second), TZ)


def marks(
    punches: list[datetime], leaves: list[Interval] | None = None, *, r: AttendanceRules = RULES
) -> list[Mark]:
    return evaluate_day(day_spans(DAY, r.periods, TZ), punches, leaves or [], r)


FULL = ["8:55", "12:01", "12:58", "17:02"]


@pytest.mark.parametrize(
    ("punches", "expected"),
    [
        (FULL, [Mark(ON, 0), Mark(ON, 1)]),
        (["9:05", "12:00", "13:00", "17:00"], [Mark(ON, 0), Mark(ON, 1)]),  # grace edge
        (["9:06", "12:00", "13:00", "17:00"], [Mark(LATE, 0, 6), Mark(ON, 1)]),
        (["9:10", "12:00", "13:00", "17:00"], [Mark(LATE, 0, 10), Mark(ON, 1)]),
        (["9:29", "12:00", "13:00", "17:00"], [Mark(LATE, 0, 29), Mark(ON, 1)]),
        (["9:30", "12:00", "13:00", "17:00"], [Mark(HALF, 0, 30), Mark(ON, 1)]),  # 30 min late = half day
        (["9:00", "12:00", "13:00", "16:55"], [Mark(ON, 0), Mark(ON, 1)]),  # early-leave grace edge
        (["9:00", "12:00", "13:00", "16:50"], [Mark(ON, 0), Mark(EARLY, 1, 10)]),
        (["9:00", "11:15", "13:00", "17:00"], [Mark(HALF, 0, 45), Mark(ON, 1)]),
        (["9:08", "12:00", "13:00", "16:52"], [Mark(LATE, 0, 8), Mark(EARLY, 1, 8)]),
        (["8:58", "13:00", "17:00"], [Mark(MISSED, 0), Mark(ON, 1)]),  # 缺卡: no morning out-punch
        (["9:00", "11:58", "17:00"], [Mark(ON, 0), Mark(MISSED, 1)]),  # single afternoon punch = out
        (["13:00", "17:00"], [Mark(HALF, 0, 180), Mark(ON, 1)]),  # whole half-day without a punch
        ([], [Mark(DAY_OFF, None, 420)]),
    ],
)
def test_punches_to_marks(punches: list[str], expected: list[Mark]) -> None:
    assert marks([at(p) for p in punches]) == expected


def test_punches_count_by_the_minute() -> None:
    assert marks([at("9:05", 59), at("12:00"), at("13:00"), at("17:00")]) == [Mark(ON, 0), Mark(ON, 1)]


def test_two_punch_day() -> None:
    two = AttendanceRules.model_validate({"periods": [{"start": "09:00", "end": "17:00"}]})
    assert marks([at("9:00"), at("17:00")], r=two) == [Mark(ON, 0)]
    assert marks([at("9:12"), at("17:00")], r=two) == [Mark(LATE, 0, 12)]
    assert marks([], r=two) == [Mark(DAY_OFF, None, 480)]


def test_grace_is_configurable() -> None:
    assert marks([at("9:08"), at("12:00"), at("13:00"), at("17:00")], r=AttendanceRules(grace_min=10))[
        0
    ] == Mark(ON, 0)


def test_whole_day_leave_covers_every_mark() -> None:
    leave = [Interval(at("9:00"), at("17:00"))]
    assert marks([], leave) == [Mark(LEAVE, 0, 180), Mark(LEAVE, 1, 240)]


def test_leave_at_the_start_moves_the_due_time() -> None:
    leave = [Interval(at("9:00"), at("10:00"))]
    assert marks([at("10:03"), at("12:00"), at("13:00"), at("17:00")], leave) == [
        Mark(LEAVE, 0, 60),
        Mark(ON, 0),
        Mark(ON, 1),
    ]
    assert marks([at("10:20"), at("12:00"), at("13:00"), at("17:00")], leave)[1] == Mark(LATE, 0, 20)


def test_leave_for_one_half_and_absence_in_the_other() -> None:
    leave = [Interval(at("13:00"), at("17:00"))]
    assert marks([], leave) == [Mark(HALF, 0, 180), Mark(LEAVE, 1, 240)]


def test_make_up_punch_fixes_a_missed_punch() -> None:
    punches = [at("8:58"), at("13:00"), at("17:00")]
    assert Mark(MISSED, 0) in marks(punches)
    assert marks([*punches, at("12:00")]) == [Mark(ON, 0), Mark(ON, 1)]


def test_rules_refuse_bad_periods() -> None:
    with pytest.raises(ValueError, match="overlap"):
        AttendanceRules(periods=[Period(start=time(9), end=time(13)), Period(start=time(12), end=time(17))])
    with pytest.raises(ValueError, match="after its start"):
        Period(start=time(12), end=time(9))


def test_unstaffed_gaps_from_toggling_punches() -> None:
    spans = day_spans(DAY, RULES.periods, TZ)
    a, b = 1, 2
    punches = [
        (at("9:00"), a),
        (at("10:00"), a),  # A out
        (at("10:10"), b),  # B in after exactly 10 minutes: not an alert
        (at("11:00"), b),  # B out
        (at("11:20"), a),  # 20 minutes empty: an alert
        (at("12:00"), a),
        (at("13:00"), b),
        (at("14:00"), b),  # B out; the window stays empty until the evening
    ]
    gaps = unstaffed_gaps(spans, punches, 10, at("23:00"))
    assert [(g.start.strftime("%H:%M"), g.end.strftime("%H:%M")) for g in gaps] == [
        ("11:00", "11:20"),
        ("14:00", "17:00"),
    ]
    # Only up to now; an empty morning before the first punch counts too.
    assert [(g.start.hour, g.end.hour) for g in unstaffed_gaps(spans, [], 10, at("10:00"))] == [(9, 10)]


def test_two_officers_overlapping_keep_the_window_staffed() -> None:
    spans = day_spans(DAY, RULES.periods, TZ)[:1]
    punches = [(at("9:00"), 1), (at("10:00"), 2), (at("10:30"), 1), (at("12:00"), 2)]
    assert unstaffed_gaps(spans, punches, 10, at("23:00")) == []


def _officer_day(staff_no: str, dept: str, day: date, *m: Mark) -> OfficerDay:
    officer = Officer(id=int(staff_no[-1]), staff_no=staff_no, name=f"人员{staff_no}", department_id=1)
    return OfficerDay(officer, Department(id=1, code=dept, name=f"{dept}局"), day, list(m))


def test_weekly_flag_at_exactly_two_marks() -> None:
    rows = [
        _officer_day("GA001", "GA", DAY, Mark(LATE, 0, 10), Mark(ON, 1)),
        _officer_day("GA001", "GA", date(2026, 11, 17), Mark(ON, 0), Mark(EARLY, 1, 8)),
        _officer_day("GA002", "GA", DAY, Mark(LATE, 0, 10), Mark(MISSED, 1)),
        _officer_day("GA003", "GA", DAY, Mark(DAY_OFF, None, 420)),
        _officer_day("GA003", "GA", date(2026, 11, 17), Mark(HALF, 0, 180), Mark(ON, 1)),
    ]
    flags = {r["staff_no"]: (r["marks"], r["flagged"]) for r in weekly_rows(rows, 2)}
    assert flags == {"GA001": (2, True), "GA002": (1, False), "GA003": (2, True)}


def test_monthly_summary_numbers_and_exports() -> None:
    rows = [
        _officer_day("GA001", "GA", DAY, Mark(ON, 0), Mark(ON, 1)),
        _officer_day("GA001", "GA", date(2026, 11, 17), Mark(LATE, 0, 10), Mark(EARLY, 1, 7)),
        _officer_day("GA001", "GA", date(2026, 11, 18), Mark(HALF, 0, 180), Mark(MISSED, 1)),
        _officer_day("GA002", "GA", DAY, Mark(DAY_OFF, None, 420)),
        _officer_day("GA002", "GA", date(2026, 11, 17), Mark(LEAVE, 0, 180), Mark(LATE, 1, 6)),
    ]
    summary = monthly_summary(rows)
    one, two = summary["officers"]
    assert (one["workdays"], one["on_time_days"], one["late"], one["late_min"]) == (3, 1, 1, 10)
    assert (one["early_leave"], one["early_leave_min"], one["missed_punch"], one["absent_days"]) == (
        1,
        7,
        1,
        0.5,
    )
    assert (two["absent_days"], two["leave_hours"], two["late_min"]) == (1.0, 3.0, 6)
    (dept,) = summary["departments"]
    assert (dept["officers"], dept["workdays"], dept["late"], dept["absent_days"]) == (2, 5, 2, 1.5)

    book = load_workbook(io.BytesIO(summary_xlsx("2026-11", summary)))
    people, depts = book.worksheets
    header = [c.value for c in people[1]]
    assert header[:4] == ["部门", "工号", "姓名", "应出勤天数"]
    assert [c.value for c in people[2]][1:4] == ["GA001", "人员GA001", 3]
    assert [c.value for c in depts[2]][:3] == ["GA", "GA局", 2]
    text = summary_csv("2026-11", summary).decode("utf-8-sig")
    assert "工号" in text and "GA002" in text and "部门合计" not in text


def test_period_parsing() -> None:
    assert parse_week("2026-W47") == (date(2026, 11, 16), date(2026, 11, 22))
    assert parse_month("2026-02") == (date(2026, 2, 1), date(2026, 2, 28))
    assert parse_month("2026-12") == (date(2026, 12, 1), date(2026, 12, 31))
    for bad in ("2026-47", "W47", "2026-W60"):
        with pytest.raises(AttendanceError, match="ISO week"):
            parse_week(bad)
