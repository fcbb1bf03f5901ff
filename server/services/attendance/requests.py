"""Leave (请销假) and make-up punches (补签): recorded, then approved or rejected by a supervisor."""

from __future__ import annotations

import logging
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlmodel import Session

from common.ids import new_id
from server.errors import ConflictError, ForbiddenError, NotFoundError
from server.models import LeaveRequest, MakeupRequest, Officer, Punch, User
from server.models.attendance_rules import LeaveType, RequestStatus
from server.models.users import Role
from server.repo import attendance_rules as repo
from server.repo import registry
from server.services.attendance import AttendanceError
from server.timeutil import to_db, utcnow

log = logging.getLogger(__name__)

# Make-up punches are punches without a reader: this device id tells them apart at a glance,
# the make-up request (with its approver) is linked by punch id.
MAKEUP_DEVICE = "makeup"


def _aware(moment: datetime, tz: ZoneInfo) -> datetime:
    return to_db(moment if moment.tzinfo else moment.replace(tzinfo=tz))


def officer_in_scope(session: Session, staff_no: str, user: User) -> Officer:
    """The officer with this staff number, if the user may act for them."""
    officer = registry.officer_by_staff_no(session, staff_no)
    if officer is None:
        raise NotFoundError(f"没有工号为 {staff_no} 的工作人员")
    if user.role == Role.DEPARTMENT_HEAD and officer.department_id != user.department_id:
        raise ForbiddenError(f"工作人员 {staff_no} 不属于本部门")
    if user.role == Role.OFFICER and officer.id != user.officer_id:
        raise ForbiddenError("只能为本人申请补签")
    return officer


def record_leave(
    session: Session,
    user: User,
    staff_no: str,
    leave_type: LeaveType,
    span: tuple[datetime, datetime],
    reason: str,
    tz: ZoneInfo,
) -> LeaveRequest:
    """Record a leave over [start, end), pending approval."""
    officer = officer_in_scope(session, staff_no, user)
    start, end = _aware(span[0], tz), _aware(span[1], tz)
    if end <= start:
        raise AttendanceError("请假结束时间必须晚于开始时间")
    leave = LeaveRequest(
        officer_id=officer.id or 0,
        leave_type=leave_type.value,
        start_at=start,
        end_at=end,
        reason=reason,
        requested_by=user.id or 0,
        created_at=utcnow(),
    )
    session.add(leave)
    session.flush()
    repo.add_audit(
        session, user.id, "leave_recorded", "leave", leave.id, staff_no=staff_no, type=leave_type.value
    )
    return leave


def _decide(status: str, approve: bool, what: str) -> RequestStatus:
    if status != RequestStatus.PENDING.value:
        raise ConflictError(f"该{what}已处理（{status}），不能再次审批")
    return RequestStatus.APPROVED if approve else RequestStatus.REJECTED


def decide_leave(session: Session, user: User, leave_id: int, approve: bool) -> LeaveRequest:
    """Approve or reject a pending leave."""
    leave = session.get(LeaveRequest, leave_id)
    if leave is None:
        raise NotFoundError(f"没有编号为 {leave_id} 的请假记录")
    status = _decide(leave.status, approve, "请假")
    leave.status, leave.decided_by, leave.decided_at = status.value, user.id, utcnow()
    session.add(leave)
    repo.add_audit(session, user.id, f"leave_{status.value}", "leave", leave.id)
    return leave


def request_makeup(
    session: Session,
    user: User,
    staff_no: str,
    punch_at: datetime,
    reason: str,
    window_number: int | None,
    tz: ZoneInfo,
) -> MakeupRequest:
    """Ask for a make-up punch at a past time, at a window (the officer's A-post by default)."""
    officer = officer_in_scope(session, staff_no, user)
    at = _aware(punch_at, tz)
    if at > utcnow():
        raise AttendanceError("补签时间不能晚于当前时间")
    if not reason.strip():
        raise AttendanceError("补签必须填写原因")
    if window_number is None:
        post = repo.a_posts(session).get(officer.id or 0)
        if post is None:
            raise AttendanceError(f"工作人员 {staff_no} 没有主岗窗口，请指定补签窗口")
        window_id = post[0]
    else:
        window = registry.window_by_number(session, window_number)
        if window is None:
            raise NotFoundError(f"没有 {window_number} 号窗口")
        window_id = window.id or 0
    makeup = MakeupRequest(
        officer_id=officer.id or 0,
        window_id=window_id,
        punch_at=at,
        reason=reason.strip(),
        requested_by=user.id or 0,
        created_at=utcnow(),
    )
    session.add(makeup)
    session.flush()
    repo.add_audit(session, user.id, "makeup_requested", "makeup", makeup.id, staff_no=staff_no)
    return makeup


def decide_makeup(session: Session, user: User, makeup_id: int, approve: bool) -> MakeupRequest:
    """Approve (the request becomes a punch) or reject a pending make-up punch."""
    makeup = session.get(MakeupRequest, makeup_id)
    if makeup is None:
        raise NotFoundError(f"没有编号为 {makeup_id} 的补签申请")
    status = _decide(makeup.status, approve, "补签申请")
    if status is RequestStatus.APPROVED:
        punch = Punch(
            event_id=str(new_id()),
            officer_id=makeup.officer_id,
            window_id=makeup.window_id,
            device_id=MAKEUP_DEVICE,
            page=0,
            punched_at=makeup.punch_at,
        )
        session.add(punch)
        session.flush()
        makeup.punch_id = punch.id
    makeup.status, makeup.decided_by, makeup.decided_at = status.value, user.id, utcnow()
    session.add(makeup)
    repo.add_audit(session, user.id, f"makeup_{status.value}", "makeup", makeup.id, punch_id=makeup.punch_id)
    log.info("make-up punch %s %s by user %s", makeup.id, status.value, user.id)
    return makeup
