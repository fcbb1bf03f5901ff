"""Changing the hall's attendance rules and officers' own schedules, with an audit record."""

from __future__ import annotations

from typing import Any

from sqlmodel import Session

from server.models import OfficerSchedule, User
from server.repo import attendance_rules as repo
from server.services.attendance.requests import officer_in_scope
from server.services.attendance.rules import AttendanceRules
from server.services.attendance.schedule import parse_periods
from server.timeutil import utcnow


def save_rules(session: Session, user: User, rules: AttendanceRules) -> AttendanceRules:
    """Store the hall's rules."""
    data = rules.model_dump(mode="json")
    row = repo.save_config(session, data, user.id)
    repo.add_audit(session, user.id, "rules_saved", "rules", row.id, rules=data)
    return rules


def set_schedule(session: Session, user: User, staff_no: str, periods: list[Any] | None) -> list[Any] | None:
    """Give an officer their own periods, or (None) return them to the hall's."""
    officer = officer_in_scope(session, staff_no, user)
    row = repo.schedule_for(session, officer.id or 0)
    if periods is None:
        if row is not None:
            session.delete(row)
    else:
        data = [p.model_dump(mode="json") for p in parse_periods(periods)]
        row = row or OfficerSchedule(officer_id=officer.id or 0, updated_at=utcnow())
        row.periods, row.updated_at = data, utcnow()
        session.add(row)
        periods = data
    session.flush()
    repo.add_audit(session, user.id, "schedule_set", "officer", officer.id, periods=periods)
    return periods
