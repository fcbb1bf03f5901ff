"""Gather punches, leave and schedules from the database and evaluate each officer's working days."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime
from zoneinfo import ZoneInfo

from sqlmodel import Session

from server.models import Department, Officer, Window
from server.repo import attendance_rules as repo
from server.repo import registry
from server.services.attendance.rules import AttendanceRules, Interval, Mark, MarkKind, evaluate_day
from server.services.attendance.schedule import (
    WorkingDay,
    day_bounds,
    day_spans,
    days,
    load_rules,
    local,
    periods_by_officer,
)

MAKEUP = "makeup"
FINGERPRINT = "fingerprint"


@dataclass(frozen=True)
class PunchView:
    """A punch as the reports show it: local time, window and where it came from."""

    at: datetime
    officer_id: int
    window: int
    source: str


@dataclass
class OfficerDay:
    """One officer's evaluated working day."""

    officer: Officer
    department: Department
    day: date
    marks: list[Mark]
    punches: list[PunchView] = field(default_factory=list)
    covered_by: list[str] = field(default_factory=list)

    def has(self, kind: MarkKind) -> bool:
        """True when the day carries a mark of this kind."""
        return any(m.kind is kind for m in self.marks)


@dataclass(frozen=True)
class Scope:
    """What to evaluate: local days, the hall's time zone, working days, optionally one department."""

    first: date
    last: date
    tz: ZoneInfo
    is_working_day: WorkingDay
    department_id: int | None
    now: datetime


def _punches_by_officer_day(
    session: Session, scope: Scope, windows: dict[int, Window]
) -> dict[tuple[int, date], list[PunchView]]:
    start, end = day_bounds(scope.first, scope.last, scope.tz)
    grouped: dict[tuple[int, date], list[PunchView]] = defaultdict(list)
    for punch, makeup in repo.punches_between(session, start, end):
        at = local(punch.punched_at, scope.tz)
        window = windows[punch.window_id].number if punch.window_id in windows else 0
        source = MAKEUP if makeup is not None else FINGERPRINT
        grouped[(punch.officer_id, at.date())].append(PunchView(at, punch.officer_id, window, source))
    return grouped


def _leaves_by_officer(session: Session, scope: Scope) -> dict[int, list[Interval]]:
    start, end = day_bounds(scope.first, scope.last, scope.tz)
    leaves: dict[int, list[Interval]] = defaultdict(list)
    for lv in repo.approved_leaves_between(session, start, end):
        leaves[lv.officer_id].append(Interval(local(lv.start_at, scope.tz), local(lv.end_at, scope.tz)))
    return leaves


def _cover(
    officer_id: int, day: date, a_post: int | None, punches: dict[tuple[int, date], list[PunchView]]
) -> set[int]:
    """Officers other than this one who punched at this officer's A-post window on that day."""
    if a_post is None:
        return set()
    return {
        p.officer_id
        for (other, d), views in punches.items()
        if other != officer_id and d == day
        for p in views
        if p.window == a_post
    }


def evaluate_range(session: Session, scope: Scope, rules: AttendanceRules | None = None) -> list[OfficerDay]:
    """Every active officer's working days in the scope, up to now (periods not yet over are left out)."""
    rules = rules or load_rules(session)
    own_periods = periods_by_officer(session)
    windows = {w.id or 0: w for w in registry.all_windows(session)}
    punches = _punches_by_officer_day(session, scope, windows)
    leaves = _leaves_by_officer(session, scope)
    posts = {officer_id: number for officer_id, (_, number) in repo.a_posts(session).items()}
    officers = repo.officers_with_departments(session, scope.department_id)
    staff_nos = {o.id: o.staff_no for o, _ in repo.officers_with_departments(session, None)}
    now = scope.now.astimezone(scope.tz)
    result: list[OfficerDay] = []
    for day in days(scope.first, scope.last):
        if day > now.date() or not scope.is_working_day(day):
            continue
        for officer, department in officers:
            oid = officer.id or 0
            spans = [s for s in day_spans(day, own_periods.get(oid, rules.periods), scope.tz) if s.end <= now]
            if not spans:
                continue
            views = punches.get((oid, day), [])
            marks = evaluate_day(spans, [p.at for p in views], leaves.get(oid, []), rules)
            row = OfficerDay(officer, department, day, marks, views)
            if row.has(MarkKind.ON_LEAVE):
                cover = _cover(oid, day, posts.get(oid), punches)
                row.covered_by = sorted(staff_nos.get(c, "") for c in cover)
            result.append(row)
    return result
