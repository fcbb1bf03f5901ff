"""Attendance rules, reports (daily, weekly, monthly, unstaffed windows), leave and make-up punches."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from enum import StrEnum
from typing import Annotated, Any
from zoneinfo import ZoneInfo

from fastapi import APIRouter, HTTPException, Query, Response, status
from pydantic import BaseModel, ConfigDict, Field

from server.api.deps import (
    DB_INT_MAX,
    READERS,
    RowId,
    SessionDep,
    SettingsDep,
    department_scope,
    require_roles,
)
from server.api.responses import UNPROCESSABLE
from server.errors import ConflictError, ForbiddenError, HallError, NotFoundError
from server.models import LeaveRequest, MakeupRequest, Officer, User
from server.models.attendance_rules import LeaveType, RequestStatus
from server.models.users import Role
from server.repo import attendance_rules as repo
from server.services.attendance import config, requests
from server.services.attendance.evaluate import Scope, evaluate_range
from server.services.attendance.export import summary_csv, summary_xlsx
from server.services.attendance.rules import AttendanceRules, Period
from server.services.attendance.schedule import (
    load_rules,
    parse_day,
    parse_month,
    parse_week,
    working_day_rule,
)
from server.services.attendance.summary import day_row, monthly_summary, weekly_rows
from server.services.attendance.unstaffed import unstaffed_windows
from server.timeutil import utcnow

router = APIRouter(prefix="/api/v1/attendance", tags=["attendance"], responses=UNPROCESSABLE)

Reader = Annotated[User, require_roles(*READERS)]
Approver = Annotated[User, require_roles(Role.ADMIN, Role.SUPERVISOR)]
Requester = Annotated[User, require_roles(*READERS, Role.OFFICER)]
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


class ReportFormat(StrEnum):
    """Formats of the monthly summary."""

    JSON = "json"
    CSV = "csv"
    XLSX = "xlsx"


class LeaveIn(BaseModel):
    """A leave to record; naive times are hall-local."""

    model_config = ConfigDict(extra="forbid")

    staff_no: str
    type: LeaveType
    start: datetime
    end: datetime
    reason: Annotated[str, Field(max_length=500)] = ""


class MakeupIn(BaseModel):
    """A make-up punch request; naive times are hall-local; the window defaults to the A-post."""

    model_config = ConfigDict(extra="forbid")

    staff_no: str
    punched_at: datetime
    reason: Annotated[str, Field(min_length=1, max_length=500)]
    window: Annotated[int, Field(ge=1, le=DB_INT_MAX)] | None = None


class ScheduleIn(BaseModel):
    """An officer's own periods; an empty list returns the officer to the hall's schedule."""

    model_config = ConfigDict(extra="forbid")

    periods: list[Period]


@contextmanager
def _translated() -> Iterator[None]:
    """Domain errors become HTTP errors with their message."""
    try:
        yield
    except NotFoundError as err:
        raise HTTPException(status.HTTP_404_NOT_FOUND, str(err)) from err
    except ForbiddenError as err:
        raise HTTPException(status.HTTP_403_FORBIDDEN, str(err)) from err
    except ConflictError as err:
        raise HTTPException(status.HTTP_409_CONFLICT, str(err)) from err
    except HallError as err:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, str(err)) from err


def _department(session: SessionDep, user: User, code: str | None) -> int | None:
    scope = department_scope(user)
    if not code:
        return scope
    department = repo.department_by_code(session, code)
    if department is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"没有代码为 {code} 的部门")
    if scope is not None and department.id != scope:
        raise HTTPException(status.HTTP_403_FORBIDDEN, "只能查看本部门的考勤")
    return department.id


def _scope(
    session: SessionDep, settings: SettingsDep, span: tuple[Any, Any], department_id: int | None
) -> Scope:
    tz = ZoneInfo(settings.timezone)
    return Scope(span[0], span[1], tz, working_day_rule(session, settings), department_id, utcnow())


@router.get("/rules")
def get_rules(session: SessionDep, _: Reader) -> AttendanceRules:
    """The hall's attendance rules (defaults until saved)."""
    return load_rules(session)


@router.put("/rules")
def put_rules(session: SessionDep, user: Approver, rules: AttendanceRules) -> AttendanceRules:
    """Replace the hall's attendance rules."""
    return config.save_rules(session, user, rules)


@router.put("/schedules/{staff_no}")
def put_schedule(session: SessionDep, user: Approver, staff_no: str, body: ScheduleIn) -> dict[str, Any]:
    """Give one officer their own periods (an empty list: back to the hall's)."""
    with _translated():
        periods = [p.model_dump(mode="json") for p in body.periods] or None
        saved = config.set_schedule(session, user, staff_no, periods)
    return {"staff_no": staff_no, "periods": saved}


@router.get("/daily")
def daily(
    session: SessionDep, settings: SettingsDep, user: Reader, date: str, department: str | None = None
) -> dict[str, Any]:
    """Each officer's marks and punches of one working day."""
    with _translated():
        day = parse_day(date)
        rows = evaluate_range(
            session, _scope(session, settings, (day, day), _department(session, user, department))
        )
    return {"date": day.isoformat(), "rows": [day_row(r) for r in rows]}


@router.get("/weekly")
def weekly(
    session: SessionDep, settings: SettingsDep, user: Reader, week: str, department: str | None = None
) -> dict[str, Any]:
    """Late, early-leave and absence marks of a Mon-Sun week; officers at the notice threshold flagged."""
    with _translated():
        span = parse_week(week)
        rules = load_rules(session)
        scope = _scope(session, settings, span, _department(session, user, department))
        rows = weekly_rows(evaluate_range(session, scope, rules), rules.weekly_notice_marks)
    return {"week": week.upper(), "from": span[0].isoformat(), "to": span[1].isoformat(), "rows": rows}


@router.get("/monthly", response_model=None)
def monthly(
    session: SessionDep,
    settings: SettingsDep,
    user: Reader,
    month: str,
    department: str | None = None,
    format: ReportFormat = ReportFormat.JSON,
) -> dict[str, Any] | Response:
    """The month's totals per officer and department, as JSON, CSV or XLSX."""
    with _translated():
        span = parse_month(month)
        scope = _scope(session, settings, span, _department(session, user, department))
        summary = monthly_summary(evaluate_range(session, scope))
    if format is ReportFormat.JSON:
        return {"month": month, **summary}
    name = f'attachment; filename="attendance-{month}.{format.value}"'
    if format is ReportFormat.CSV:
        body, media = summary_csv(month, summary), "text/csv; charset=utf-8"
    else:
        body, media = summary_xlsx(month, summary), XLSX_TYPE
    return Response(body, media_type=media, headers={"Content-Disposition": name})


@router.get("/unstaffed")
def unstaffed(
    session: SessionDep, settings: SettingsDep, user: Reader, date: str, department: str | None = None
) -> dict[str, Any]:
    """Windows left with nobody clocked in for longer than allowed during working hours (不得空岗)."""
    with _translated():
        day = parse_day(date)
        alerts = unstaffed_windows(
            session, _scope(session, settings, (day, day), _department(session, user, department))
        )
    return {"date": day.isoformat(), "alerts": alerts}


def _leave_out(leave: LeaveRequest, officer: Officer) -> dict[str, Any]:
    return {
        "id": leave.id,
        "staff_no": officer.staff_no,
        "name": officer.name,
        "type": leave.leave_type,
        "start": leave.start_at.isoformat(),
        "end": leave.end_at.isoformat(),
        "reason": leave.reason,
        "status": leave.status,
    }


def _makeup_out(makeup: MakeupRequest, officer: Officer) -> dict[str, Any]:
    return {
        "id": makeup.id,
        "staff_no": officer.staff_no,
        "name": officer.name,
        "punched_at": makeup.punch_at.isoformat(),
        "reason": makeup.reason,
        "status": makeup.status,
        "punch_id": makeup.punch_id,
        "approved_by": makeup.decided_by if makeup.status == RequestStatus.APPROVED.value else None,
    }


@router.get("/leave")
def list_leave(
    session: SessionDep,
    user: Reader,
    status_: Annotated[RequestStatus | None, Query(alias="status")] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 200,
) -> dict[str, Any]:
    """Leave records, newest first."""
    rows = repo.leave_requests(session, status_.value if status_ else None, department_scope(user), limit)
    return {"leave": [_leave_out(r, o) for r, o in rows]}


@router.post("/leave", status_code=status.HTTP_201_CREATED)
def post_leave(session: SessionDep, settings: SettingsDep, user: Approver, body: LeaveIn) -> dict[str, Any]:
    """Record a leave (pending until approved)."""
    with _translated():
        span = (body.start, body.end)
        tz = ZoneInfo(settings.timezone)
        leave = requests.record_leave(session, user, body.staff_no, body.type, span, body.reason, tz)
        officer = requests.officer_in_scope(session, body.staff_no, user)
    return _leave_out(leave, officer)


@router.post("/leave/{leave_id}/{decision}")
def decide_leave(session: SessionDep, user: Approver, leave_id: RowId, decision: str) -> dict[str, Any]:
    """Approve or reject a pending leave."""
    approve = _decision(decision)
    with _translated():
        leave = requests.decide_leave(session, user, leave_id, approve)
        officer = session.get(Officer, leave.officer_id)
    return _leave_out(leave, officer) if officer else {"id": leave.id, "status": leave.status}


@router.get("/makeup")
def list_makeup(
    session: SessionDep,
    user: Reader,
    status_: Annotated[RequestStatus | None, Query(alias="status")] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 200,
) -> dict[str, Any]:
    """Make-up punch requests, newest first."""
    rows = repo.makeup_requests(session, status_.value if status_ else None, department_scope(user), limit)
    return {"makeup": [_makeup_out(r, o) for r, o in rows]}


@router.post("/makeup", status_code=status.HTTP_201_CREATED)
def post_makeup(
    session: SessionDep, settings: SettingsDep, user: Requester, body: MakeupIn
) -> dict[str, Any]:
    """Ask for a make-up punch (pending until a supervisor approves it)."""
    with _translated():
        tz = ZoneInfo(settings.timezone)
        makeup = requests.request_makeup(
            session, user, body.staff_no, body.punched_at, body.reason, body.window, tz
        )
        officer = requests.officer_in_scope(session, body.staff_no, user)
    return _makeup_out(makeup, officer)


@router.post("/makeup/{makeup_id}/{decision}")
def decide_makeup(session: SessionDep, user: Approver, makeup_id: RowId, decision: str) -> dict[str, Any]:
    """Approve (it becomes a punch) or reject a pending make-up punch."""
    approve = _decision(decision)
    with _translated():
        makeup = requests.decide_makeup(session, user, makeup_id, approve)
        officer = session.get(Officer, makeup.officer_id)
    return _makeup_out(makeup, officer) if officer else {"id": makeup.id, "status": makeup.status}


def _decision(decision: str) -> bool:
    if decision not in ("approve", "reject"):
        raise HTTPException(status.HTTP_404_NOT_FOUND, "use /approve or /reject")
    return decision == "approve"
