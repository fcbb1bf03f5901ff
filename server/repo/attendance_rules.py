"""Queries for attendance evaluation: rules, schedules, punches, leave, make-up requests, audit."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlmodel import Session, col, select

from server.models import (
    AttendanceAudit,
    AttendanceConfig,
    Department,
    LeaveRequest,
    MakeupRequest,
    Officer,
    OfficerSchedule,
    PostAssignment,
    Punch,
    Window,
)
from server.models.attendance_rules import RequestStatus
from server.timeutil import utcnow


def config_row(session: Session) -> AttendanceConfig | None:
    """The hall's stored rules, if any were saved."""
    return session.exec(select(AttendanceConfig).order_by(col(AttendanceConfig.id))).first()


def save_config(session: Session, rules: dict[str, Any], user_id: int | None) -> AttendanceConfig:
    """Store the hall's rules (one row)."""
    row = config_row(session) or AttendanceConfig(updated_at=utcnow())
    row.rules, row.updated_at, row.updated_by = rules, utcnow(), user_id
    session.add(row)
    session.flush()
    return row


def schedules(session: Session) -> dict[int, list[Any]]:
    """Officer id -> the officer's own periods."""
    return {s.officer_id: s.periods for s in session.exec(select(OfficerSchedule))}


def schedule_for(session: Session, officer_id: int) -> OfficerSchedule | None:
    """One officer's own schedule."""
    return session.exec(select(OfficerSchedule).where(OfficerSchedule.officer_id == officer_id)).first()


def department_by_code(session: Session, code: str) -> Department | None:
    """The department with this code."""
    return session.exec(select(Department).where(Department.code == code)).first()


def officers_with_departments(
    session: Session, department_id: int | None
) -> list[tuple[Officer, Department]]:
    """Active officers with their departments, by staff number; optionally one department only."""
    stmt = (
        select(Officer, Department)
        .join(Department, col(Department.id) == Officer.department_id)
        .where(col(Officer.active).is_(True))
        .order_by(col(Officer.staff_no))
    )
    if department_id is not None:
        stmt = stmt.where(Officer.department_id == department_id)
    return [(o, d) for o, d in session.exec(stmt)]


def punches_between(
    session: Session, start: datetime, end: datetime
) -> list[tuple[Punch, MakeupRequest | None]]:
    """Punches in [start, end) in time order, each with the make-up request it came from, if any."""
    stmt = (
        select(Punch, MakeupRequest)
        .outerjoin(MakeupRequest, col(MakeupRequest.punch_id) == Punch.id)
        .where(Punch.punched_at >= start, Punch.punched_at < end)
        .order_by(col(Punch.punched_at), col(Punch.id))
    )
    return [(p, m) for p, m in session.exec(stmt)]


def approved_leaves_between(session: Session, start: datetime, end: datetime) -> Sequence[LeaveRequest]:
    """Approved leave overlapping [start, end)."""
    stmt = select(LeaveRequest).where(
        LeaveRequest.status == RequestStatus.APPROVED.value,
        LeaveRequest.start_at < end,
        LeaveRequest.end_at > start,
    )
    return session.exec(stmt).all()


def a_posts(session: Session) -> dict[int, tuple[int, int]]:
    """Officer id -> (window id, window number) of the officer's A-post."""
    stmt = (
        select(PostAssignment, Window)
        .join(Window, col(Window.id) == PostAssignment.window_id)
        .where(PostAssignment.role == "A")
    )
    return {p.officer_id: (w.id or 0, w.number) for p, w in session.exec(stmt)}


def windows_with_departments(session: Session, department_id: int | None) -> Sequence[Window]:
    """Windows by number, optionally of one department."""
    stmt = select(Window).order_by(col(Window.number))
    if department_id is not None:
        stmt = stmt.where(Window.department_id == department_id)
    return session.exec(stmt).all()


def leave_requests(
    session: Session, status: str | None, department_id: int | None, limit: int
) -> list[tuple[LeaveRequest, Officer]]:
    """Leave requests with their officers, newest first."""
    stmt = (
        select(LeaveRequest, Officer)
        .join(Officer, col(Officer.id) == LeaveRequest.officer_id)
        .order_by(col(LeaveRequest.id).desc())
        .limit(limit)
    )
    if status:
        stmt = stmt.where(LeaveRequest.status == status)
    if department_id is not None:
        stmt = stmt.where(Officer.department_id == department_id)
    return [(r, o) for r, o in session.exec(stmt)]


def makeup_requests(
    session: Session, status: str | None, department_id: int | None, limit: int, officer_id: int | None = None
) -> list[tuple[MakeupRequest, Officer]]:
    """Make-up punch requests with their officers (of one officer, when given), newest first."""
    stmt = (
        select(MakeupRequest, Officer)
        .join(Officer, col(Officer.id) == MakeupRequest.officer_id)
        .order_by(col(MakeupRequest.id).desc())
        .limit(limit)
    )
    if status:
        stmt = stmt.where(MakeupRequest.status == status)
    if department_id is not None:
        stmt = stmt.where(Officer.department_id == department_id)
    if officer_id is not None:
        stmt = stmt.where(MakeupRequest.officer_id == officer_id)
    return [(r, o) for r, o in session.exec(stmt)]


def add_audit(
    session: Session, actor_id: int | None, action: str, target: str, target_id: int | None, **detail: Any
) -> None:
    """Record one attendance change."""
    session.add(
        AttendanceAudit(
            at=utcnow(), actor_id=actor_id, action=action, target=target, target_id=target_id, detail=detail
        )
    )


def audit_for(session: Session, target: str, target_id: int) -> Sequence[AttendanceAudit]:
    """The audit trail of one record, oldest first."""
    stmt = (
        select(AttendanceAudit)
        .where(AttendanceAudit.target == target, AttendanceAudit.target_id == target_id)
        .order_by(col(AttendanceAudit.id))
    )
    return session.exec(stmt).all()
