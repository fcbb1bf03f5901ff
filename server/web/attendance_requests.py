"""Pending leave (请假) and make-up punches (补签) on the attendance page, approved or rejected there."""

from __future__ import annotations

from typing import Annotated, Any
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Form, Request, Response
from fastapi.responses import RedirectResponse
from sqlmodel import Session

from server.api.deps import SessionDep
from server.errors import ConflictError, HallError, NotFoundError
from server.models.attendance_rules import RequestStatus
from server.repo import attendance_rules as repo
from server.repo import registry
from server.services import audit
from server.services.attendance import requests
from server.web.deps import PageError, Supervisor, Viewer, check_csrf, client_address
from server.web.render import local_text

router = APIRouter(prefix="/web", include_in_schema=False)

MAX_PENDING = 200
DECISIONS = {"approve": True, "reject": False}
DONE = {
    "leave_approved": "已批准请假",
    "leave_rejected": "已驳回请假",
    "makeup_approved": "已批准补签，补签记录已计入考勤",
    "makeup_rejected": "已驳回补签",
    "leave_recorded": "请假已登记，待审批",
    "makeup_requested": "补签申请已提交，待审批",
}


def pending(session: Session, viewer: Viewer, tz: ZoneInfo) -> dict[str, list[dict[str, Any]]]:
    """Pending leave and make-up requests of the viewer's scope, newest first."""
    status = RequestStatus.PENDING.value
    windows = {w.id: w.number for w in registry.all_windows(session)}
    leaves = [
        {
            "id": leave.id,
            "officer": f"{officer.name}（{officer.staff_no}）",
            "type": leave.leave_type,
            "from": local_text(leave.start_at, tz),
            "to": local_text(leave.end_at, tz),
            "reason": leave.reason,
        }
        for leave, officer in repo.leave_requests(session, status, viewer.scope, MAX_PENDING)
    ]
    makeups = [
        {
            "id": makeup.id,
            "officer": f"{officer.name}（{officer.staff_no}）",
            "at": local_text(makeup.punch_at, tz),
            "window": windows.get(makeup.window_id),
            "reason": makeup.reason,
        }
        for makeup, officer in repo.makeup_requests(session, status, viewer.scope, MAX_PENDING)
    ]
    return {"leaves": leaves, "makeups": makeups}


def officers_in_scope(session: Session, viewer: Viewer) -> list[dict[str, str]]:
    """Active officers the viewer may enter leave or make-up punches for, as form choices."""
    return [
        {"staff_no": o.staff_no, "label": f"{o.name}（{o.staff_no}）"}
        for o in registry.all_officers(session)
        if o.active and viewer.scope in (None, o.department_id)
    ]


def _decide(session: Session, viewer: Viewer, kind: str, request_id: int, approve: bool) -> str:
    """Carry out one decision; the action name it was recorded under."""
    if kind == "leave":
        leave = requests.decide_leave(session, viewer.user, request_id, approve)
        return f"leave_{leave.status}"
    if kind == "makeup":
        makeup = requests.decide_makeup(session, viewer.user, request_id, approve)
        return f"makeup_{makeup.status}"
    raise PageError(404, "未知的审批类型")


@router.post("/attendance/{kind}/{request_id}/{decision}", response_model=None)
def decide(
    kind: str,
    request_id: int,
    decision: str,
    request: Request,
    session: SessionDep,
    viewer: Supervisor,
    csrf_token: Annotated[str, Form(max_length=100)] = "",
) -> Response:
    """Approve or reject one pending leave or make-up punch (admins and supervisors)."""
    check_csrf(viewer, csrf_token)
    if decision not in DECISIONS:
        raise PageError(404, "未知的审批结果")
    try:
        action = _decide(session, viewer, kind, request_id, DECISIONS[decision])
    except NotFoundError as err:
        raise PageError(404, str(err)) from err
    except (ConflictError, HallError) as err:
        raise PageError(409, str(err)) from err
    audit.record(
        session,
        viewer.user,
        action,
        f"{kind}:{request_id}",
        {"decision": decision},
        client=client_address(request),
    )
    return RedirectResponse(f"/web/attendance?done={action}", status_code=303)
