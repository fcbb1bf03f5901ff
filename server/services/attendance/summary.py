"""Daily marks, the weekly notice flag and the monthly summary per officer and department."""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from server.services.attendance.evaluate import OfficerDay
from server.services.attendance.rules import NOTICE_KINDS, MarkKind


def day_row(row: OfficerDay) -> dict[str, Any]:
    """One officer's day for the daily report."""
    return {
        "staff_no": row.officer.staff_no,
        "name": row.officer.name,
        "department": row.department.code,
        "date": row.day.isoformat(),
        "marks": [{"kind": m.kind.value, "period": m.period, "minutes": m.minutes} for m in row.marks],
        "punches": [{"at": p.at.isoformat(), "window": p.window, "source": p.source} for p in row.punches],
        "covered_by": row.covered_by,
    }


def weekly_rows(rows: Iterable[OfficerDay], notice_marks: int) -> list[dict[str, Any]]:
    """Per officer: late, early-leave and absence marks of the week, flagged at ``notice_marks`` or more."""
    counts: dict[str, Counter[MarkKind]] = defaultdict(Counter)
    who: dict[str, OfficerDay] = {}
    for row in rows:
        who.setdefault(row.officer.staff_no, row)
        counts[row.officer.staff_no].update(m.kind for m in row.marks if m.kind in NOTICE_KINDS)
    result = []
    for staff_no in sorted(who):
        c, first = counts[staff_no], who[staff_no]
        total = sum(c.values())
        result.append(
            {
                "staff_no": staff_no,
                "name": first.officer.name,
                "department": first.department.code,
                "late": c[MarkKind.LATE],
                "early_leave": c[MarkKind.EARLY_LEAVE],
                "absent": c[MarkKind.ABSENT_HALF] + c[MarkKind.ABSENT_DAY],
                "marks": total,
                "flagged": total >= notice_marks,
            }
        )
    return result


@dataclass
class Totals:
    """Monthly numbers of one officer or one department."""

    workdays: int = 0
    on_time_days: int = 0
    late: int = 0
    late_min: int = 0
    early_leave: int = 0
    early_leave_min: int = 0
    missed_punch: int = 0
    absent_days: float = 0.0
    leave_hours: float = 0.0
    officers: set[str] = field(default_factory=set)

    def add(self, row: OfficerDay) -> None:
        """Count one evaluated day."""
        self.officers.add(row.officer.staff_no)
        self.workdays += 1
        self.on_time_days += all(m.kind is MarkKind.ON_TIME for m in row.marks)
        for m in row.marks:
            if m.kind is MarkKind.LATE:
                self.late, self.late_min = self.late + 1, self.late_min + m.minutes
            elif m.kind is MarkKind.EARLY_LEAVE:
                self.early_leave, self.early_leave_min = (
                    self.early_leave + 1,
                    self.early_leave_min + m.minutes,
                )
            elif m.kind is MarkKind.MISSED_PUNCH:
                self.missed_punch += 1
            elif m.kind is MarkKind.ABSENT_HALF:
                self.absent_days += 0.5
            elif m.kind is MarkKind.ABSENT_DAY:
                self.absent_days += 1.0
            elif m.kind is MarkKind.ON_LEAVE:
                self.leave_hours += m.minutes / 60

    def numbers(self) -> dict[str, Any]:
        """The totals as report columns."""
        return {
            "workdays": self.workdays,
            "on_time_days": self.on_time_days,
            "late": self.late,
            "late_min": self.late_min,
            "early_leave": self.early_leave,
            "early_leave_min": self.early_leave_min,
            "missed_punch": self.missed_punch,
            "absent_days": self.absent_days,
            "leave_hours": round(self.leave_hours, 2),
        }


def monthly_summary(rows: Iterable[OfficerDay]) -> dict[str, list[dict[str, Any]]]:
    """Monthly totals per officer and per department."""
    per_officer: dict[str, Totals] = defaultdict(Totals)
    per_department: dict[str, Totals] = defaultdict(Totals)
    labels: dict[str, tuple[str, str]] = {}
    dept_names: dict[str, str] = {}
    for row in rows:
        per_officer[row.officer.staff_no].add(row)
        per_department[row.department.code].add(row)
        labels[row.officer.staff_no] = (row.officer.name, row.department.code)
        dept_names[row.department.code] = row.department.name
    officers = [
        {"staff_no": no, "name": labels[no][0], "department": labels[no][1], **per_officer[no].numbers()}
        for no in sorted(per_officer)
    ]
    departments = [
        {
            "department": code,
            "name": dept_names[code],
            "officers": len(per_department[code].officers),
            **per_department[code].numbers(),
        }
        for code in sorted(per_department)
    ]
    return {"officers": officers, "departments": departments}
