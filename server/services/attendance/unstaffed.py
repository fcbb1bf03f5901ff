"""The unstaffed-window list of one day (不得空岗), per window, from the day's punches."""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime
from typing import Any

from sqlmodel import Session

from server.repo import attendance_rules as repo
from server.services.attendance.evaluate import Scope
from server.services.attendance.schedule import day_bounds, day_spans, load_rules, local
from server.services.attendance.staffing import unstaffed_gaps


def unstaffed_windows(session: Session, scope: Scope) -> list[dict[str, Any]]:
    """Windows with nobody clocked in for longer than the rules allow, during the hall's periods."""
    day = scope.first
    if not scope.is_working_day(day):
        return []
    rules = load_rules(session)
    spans = day_spans(day, rules.periods, scope.tz)
    start, end = day_bounds(day, day, scope.tz)
    by_window: dict[int, list[tuple[datetime, int]]] = defaultdict(list)
    for punch, _ in repo.punches_between(session, start, end):
        by_window[punch.window_id].append((local(punch.punched_at, scope.tz), punch.officer_id))
    rows: list[dict[str, Any]] = []
    for window in repo.windows_with_departments(session, scope.department_id):
        gaps = unstaffed_gaps(spans, by_window.get(window.id or 0, []), rules.unstaffed_alert_min, scope.now)
        rows.extend(
            {
                "window": window.number,
                "from": gap.start.isoformat(),
                "to": gap.end.isoformat(),
                "minutes": int((gap.end - gap.start).total_seconds() // 60),
                "ongoing": gap.end >= scope.now,
            }
            for gap in gaps
        )
    return rows
