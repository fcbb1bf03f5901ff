"""The monthly assessment on ratings and attendance: the rule as a table, and a controlled month."""

from __future__ import annotations

import uuid
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from server.services.assessment import AttendanceCounts, Grade, grade
from server.services.ratings import SummaryRow
from server.services.workday_overrides import calendar_from_settings
from server.settings import AssessmentRule, ServerSettings
from tests.server.conftest import Hall
from tests.server.events_util import batch, event

pytestmark = pytest.mark.timeout(120)

TZ = ZoneInfo("Asia/Shanghai")
MONTH = "2026-10"
ON_TIME = ((8, 55), (12, 2), (12, 55), (17, 3))


def summary(good: int, bad: int) -> SummaryRow:
    """A ratings row with ``good`` level-1 and ``bad`` level-5 ratings."""
    row = SummaryRow(key="1", label="")
    row.levels["1"], row.levels["5"] = good, bad
    return row


@pytest.mark.parametrize(
    ("good", "bad", "counts", "expected", "failed"),
    [
        (25, 0, AttendanceCounts(late=1), Grade.EXCELLENT, []),
        (
            25,
            0,
            AttendanceCounts(late=1, missed_punch=1),
            Grade.COMPETENT,
            ["迟到/早退/缺卡次数 ≤ 1（优秀）"],
        ),
        (25, 0, AttendanceCounts(absent_days=0.5), Grade.COMPETENT, ["旷工天数 ≤ 0（优秀）"]),
        (
            25,
            0,
            AttendanceCounts(absent_days=2.0),
            Grade.INCOMPETENT,
            ["旷工天数 < 2", "旷工天数 ≤ 0（优秀）"],
        ),
        (
            25,
            0,
            AttendanceCounts(late=3, early_leave=2, missed_punch=1),
            Grade.INCOMPETENT,
            ["迟到/早退/缺卡次数 < 6", "迟到/早退/缺卡次数 ≤ 1（优秀）"],
        ),
        (15, 5, AttendanceCounts(), Grade.INCOMPETENT, None),  # 5 bad reviews, perfect attendance
        (5, 0, AttendanceCounts(), Grade.COMPETENT, ["评价数 ≥ 20", "好评率 ≥ 0.98（优秀）"]),
    ],
)
def test_rule_combines_ratings_and_attendance(
    good: int, bad: int, counts: AttendanceCounts, expected: Grade, failed: list[str] | None
) -> None:
    result, checks = grade(summary(good, bad), counts, AssessmentRule())
    assert result is expected
    if failed is not None:
        assert [c.text for c in checks if not c.passed] == failed
    assert {c.basis for c in checks} == {"评价", "考勤"}


def test_thresholds_are_configurable() -> None:
    lenient = AssessmentRule(incompetent_absent_days=3, excellent_max_marks=2)
    counts = AttendanceCounts(late=2, absent_days=2.0)
    assert grade(summary(25, 0), counts, AssessmentRule())[0] is Grade.INCOMPETENT
    assert grade(summary(25, 0), counts, lenient)[0] is Grade.COMPETENT
    assert grade(summary(25, 0), AttendanceCounts(late=2), lenient)[0] is Grade.EXCELLENT


def working_days(month: str) -> list[date]:
    """The hall's working days of a month (statutory holidays and make-up days counted)."""
    first = date.fromisoformat(f"{month}-01")
    is_working = calendar_from_settings(
        ServerSettings(demo=True)
    ).is_working_day  # nothing entered in the hall
    days = [first + timedelta(days=i) for i in range(31)]
    return [d for d in days if d.month == first.month and is_working(d)]


def punches(
    window: int, days: list[date], times: tuple[tuple[int, int], ...] = ON_TIME
) -> list[dict[str, Any]]:
    """Fingerprint punches of the window's A-post (reader page 1) at local times on each day."""
    agent = f"agent-w{window}"
    return [
        event(
            "punch", agent, {"page": 1, "score": 90}, window, device_time=datetime.combine(d, time(h, m), TZ)
        )
        for d in days
        for h, m in times
    ]


def ratings(window: int, staff_no: str, levels: list[int], day: date) -> list[dict[str, Any]]:
    """Rating events of fresh services a minute apart on a day."""
    start = datetime.combine(day, time(10, 0), TZ)
    return [
        event(
            "rating",
            f"agent-w{window}",
            {"service_id": str(uuid.uuid4()), "level": level, "officer_staff_no": staff_no},
            window,
            device_time=start + timedelta(minutes=i),
        )
        for i, level in enumerate(levels)
    ]


def send(hall: Hall, window: int, events: list[dict[str, Any]]) -> None:
    r = hall.client.post(
        "/api/v1/events", json=batch(*events), headers=hall.device_headers(f"agent-w{window}")
    )
    assert r.status_code == 200, r.text
    assert not r.json().get("rejected"), r.text


def test_controlled_month_grades_each_officer_with_its_computation(hall: Hall) -> None:
    days = working_days(MONTH)
    late_in = ((9, 20), *ON_TIME[1:])
    early_out = (*ON_TIME[:3], (16, 40))
    # GA001 (window 1): every day on time but one late arrival, 25 good ratings -> 优秀.
    send(
        hall, 1, punches(1, days[1:]) + punches(1, days[:1], late_in) + ratings(1, "GA001", [1] * 25, days[3])
    )
    # GA002 (window 2): 20 good ratings, but two whole days without a punch -> 不称职.
    send(hall, 2, punches(2, days[2:]) + ratings(2, "GA002", [1] * 20, days[3]))
    # RS001 (window 3): never absent, but 3 late arrivals and 3 early leaves -> 不称职.
    send(hall, 3, punches(3, days[6:]) + punches(3, days[:3], late_in) + punches(3, days[3:6], early_out))
    r = hall.client.get("/api/v1/assessment", params={"month": MONTH}, headers=hall.user_headers())
    assert r.status_code == 200, r.text
    data = r.json()
    assert data["rule"]["incompetent_absent_days"] == 2 and data["rule"]["excellent_max_marks"] == 1
    assert "attendance" in data["basis"]
    rows = {row["staff_no"]: row for row in data["rows"]}

    ga001 = rows["GA001"]
    assert ga001["grade"] == "优秀", ga001["checks"]
    assert ga001["attendance"] == {
        "workdays": len(days),
        "late": 1,
        "early_leave": 0,
        "missed_punch": 0,
        "marks": 1,
        "absent_days": 0.0,
    }
    assert all(c["passed"] for c in ga001["checks"])

    ga002 = rows["GA002"]
    failed = [c for c in ga002["checks"] if not c["passed"]]
    assert ga002["grade"] == "不称职" and ga002["rated"] == 20 and ga002["bad"] == 0
    assert [(c["check"], c["value"], c["basis"]) for c in failed] == [
        ("旷工天数 < 2", 2.0, "考勤"),
        ("旷工天数 ≤ 0（优秀）", 2.0, "考勤"),
    ]
    assert {c["required_for"] for c in failed} == {"称职", "优秀"}

    rs001 = rows["RS001"]
    assert rs001["grade"] == "不称职"
    assert (rs001["attendance"]["late"], rs001["attendance"]["early_leave"]) == (3, 3)
    marks_check = next(c for c in rs001["checks"] if c["check"] == "迟到/早退/缺卡次数 < 6")
    assert marks_check == {
        "check": "迟到/早退/缺卡次数 < 6",
        "basis": "考勤",
        "value": 6,
        "passed": False,
        "required_for": "称职",
    }
    # Nobody punched for GA003 all month: every working day is an absence.
    assert rows["GA003"]["grade"] == "不称职" and rows["GA003"]["attendance"]["absent_days"] == len(days)
    assert len(rows) == 12


def test_department_head_sees_own_department_and_bad_month_is_refused(hall: Hall) -> None:
    head = hall.user_headers("head-ga", "head-ga-pass-1")
    r = hall.client.get("/api/v1/assessment", params={"month": MONTH}, headers=head)
    assert r.status_code == 200, r.text
    assert {row["staff_no"] for row in r.json()["rows"]} == {"GA001", "GA002", "GA003", "GA004"}
    # Malformed, not begun yet, before any holiday calendar (2004): refused as bad input, not a 5xx.
    for bad in ("10/2026", "2026-13", "2999-01", "0185-01"):
        r = hall.client.get("/api/v1/assessment", params={"month": bad}, headers=hall.user_headers())
        assert r.status_code == 422, (bad, r.text)
    r = hall.client.get("/api/v1/assessment", params={"month": "0185-01"}, headers=hall.user_headers())
    assert "工作日历不包含 185 年" in r.json()["detail"]
