"""Monthly officer assessment (优秀 / 称职 / 不称职) on ratings and attendance, every check shown."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from enum import StrEnum
from typing import Any
from zoneinfo import ZoneInfo

from sqlmodel import Session

from server.repo import registry
from server.repo import rollups as rollup_repo
from server.services.analytics import rates
from server.services.attendance.evaluate import Scope, evaluate_range
from server.services.attendance.schedule import working_day_rule
from server.services.attendance.summary import monthly_summary
from server.services.ratings import GroupBy, SummaryRow, summary_rows
from server.settings import AssessmentRule, ServerSettings

BASIS = "ratings and attendance (late, early leave, missed punch, absence) of the month"


class Grade(StrEnum):
    """Monthly assessment grades."""

    EXCELLENT = "优秀"
    COMPETENT = "称职"
    INCOMPETENT = "不称职"


@dataclass(frozen=True)
class Check:
    """One test of the rule: failing a 称职 check makes 不称职; 优秀 needs every 优秀 check passed."""

    text: str
    basis: str  # 评价 or 考勤
    value: float | int | None
    passed: bool
    required_for: Grade

    def as_dict(self) -> dict[str, Any]:
        """JSON form as the assessment shows it."""
        return {
            "check": self.text,
            "basis": self.basis,
            "value": self.value,
            "passed": self.passed,
            "required_for": self.required_for.value,
        }


@dataclass(frozen=True)
class AttendanceCounts:
    """One officer's attendance numbers of the month."""

    workdays: int = 0
    late: int = 0
    early_leave: int = 0
    missed_punch: int = 0
    absent_days: float = 0.0

    @property
    def marks(self) -> int:
        """Late arrivals, early leaves and missed punches together."""
        return self.late + self.early_leave + self.missed_punch

    @classmethod
    def from_summary(cls, row: dict[str, Any]) -> AttendanceCounts:
        """The counts of one officer row of the monthly attendance summary."""
        return cls(
            workdays=int(row["workdays"]),
            late=int(row["late"]),
            early_leave=int(row["early_leave"]),
            missed_punch=int(row["missed_punch"]),
            absent_days=float(row["absent_days"]),
        )

    def as_dict(self) -> dict[str, Any]:
        """JSON form, with the marks total the rule counts."""
        return {
            "workdays": self.workdays,
            "late": self.late,
            "early_leave": self.early_leave,
            "missed_punch": self.missed_punch,
            "marks": self.marks,
            "absent_days": self.absent_days,
        }


def rating_checks(row: SummaryRow, rule: AssessmentRule) -> list[Check]:
    """The ratings part of the rule."""
    rate = round((row.rated - row.bad) / row.rated, 4) if row.rated else None
    enough = row.rated >= rule.min_rated
    # Below min_rated the rate says too little to fail anyone on it, or to call anyone excellent.
    rate_ok = not enough or (rate or 0.0) >= rule.competent_rate
    rate_high = enough and (rate or 0.0) >= rule.excellent_rate
    ok, best = Grade.COMPETENT, Grade.EXCELLENT
    return [
        Check(f"差评数 < {rule.incompetent_bad}", "评价", row.bad, row.bad < rule.incompetent_bad, ok),
        Check(f"评价数 ≥ {rule.min_rated}", "评价", row.rated, enough, best),
        Check(f"好评率 ≥ {rule.competent_rate}", "评价", rate, rate_ok, ok),
        Check(f"好评率 ≥ {rule.excellent_rate}（优秀）", "评价", rate, rate_high, best),
        Check(
            f"差评数 ≤ {rule.excellent_max_bad}（优秀）",
            "评价",
            row.bad,
            row.bad <= rule.excellent_max_bad,
            best,
        ),
    ]


def attendance_checks(counts: AttendanceCounts, rule: AssessmentRule) -> list[Check]:
    """The attendance part of the rule."""
    absent, marks = counts.absent_days, counts.marks
    ok, best = Grade.COMPETENT, Grade.EXCELLENT
    return [
        Check(
            f"旷工天数 < {rule.incompetent_absent_days:g}",
            "考勤",
            absent,
            absent < rule.incompetent_absent_days,
            ok,
        ),
        Check(
            f"迟到/早退/缺卡次数 < {rule.incompetent_marks}",
            "考勤",
            marks,
            marks < rule.incompetent_marks,
            ok,
        ),
        Check(
            f"旷工天数 ≤ {rule.excellent_max_absent_days:g}（优秀）",
            "考勤",
            absent,
            absent <= rule.excellent_max_absent_days,
            best,
        ),
        Check(
            f"迟到/早退/缺卡次数 ≤ {rule.excellent_max_marks}（优秀）",
            "考勤",
            marks,
            marks <= rule.excellent_max_marks,
            best,
        ),
    ]


def grade(row: SummaryRow, counts: AttendanceCounts, rule: AssessmentRule) -> tuple[Grade, list[Check]]:
    """The grade of one officer's month, with every check that decided it."""
    checks = rating_checks(row, rule) + attendance_checks(counts, rule)
    if not all(c.passed for c in checks if c.required_for is Grade.COMPETENT):
        return Grade.INCOMPETENT, checks
    if all(c.passed for c in checks if c.required_for is Grade.EXCELLENT):
        return Grade.EXCELLENT, checks
    return Grade.COMPETENT, checks


def _rating_rows(session: Session, first_day: date, end_day: date) -> dict[int, SummaryRow]:
    counts = rollup_repo.rollup_counts(session, GroupBy.STAFF.value, first_day, end_day, None)
    rows = summary_rows(session, GroupBy.STAFF, [(k or None, lv or None, int(n)) for k, lv, n in counts])
    return {int(r.key): r for r in rows if r.key}


def _attendance(
    session: Session,
    settings: ServerSettings,
    first_day: date,
    end_day: date,
    department_id: int | None,
    now: datetime,
) -> dict[str, AttendanceCounts]:
    last = end_day - timedelta(days=1)
    scope = Scope(
        first_day, last, ZoneInfo(settings.timezone), working_day_rule(session, settings), department_id, now
    )
    summary = monthly_summary(evaluate_range(session, scope))
    return {r["staff_no"]: AttendanceCounts.from_summary(r) for r in summary["officers"]}


def monthly(
    session: Session,
    settings: ServerSettings,
    first_day: date,
    end_day: date,
    department_id: int | None,
    now: datetime,
) -> list[dict[str, Any]]:
    """Every active officer's grade over local days ``[first_day, end_day)``, up to ``now``."""
    rule = settings.assessment
    by_officer = _rating_rows(session, first_day, end_day)
    attendance = _attendance(session, settings, first_day, end_day, department_id, now)
    out = []
    for officer in registry.all_officers(session):
        if officer.id is None or not officer.active or department_id not in (None, officer.department_id):
            continue
        row = by_officer.get(officer.id) or SummaryRow(key=str(officer.id), label="")
        row.label = f"{officer.name}（{officer.staff_no}）"
        counts = attendance.get(officer.staff_no, AttendanceCounts())
        result, checks = grade(row, counts, rule)
        out.append(
            {
                "staff_no": officer.staff_no,
                "grade": result.value,
                "checks": [c.as_dict() for c in checks],
                "attendance": counts.as_dict(),
                **rates(row),
            }
        )
    return out
