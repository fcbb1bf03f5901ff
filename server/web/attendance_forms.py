"""Entering leave (登记请假) and asking for make-up punches (申请补签) from the attendance page.

Leave is entered by admins and supervisors, make-up punches also by department heads for their own
department; both then wait for a supervisor's decision in the page's pending lists. Refused input is
shown again on the page, as typed, with the reason.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Form, Request, Response
from fastapi.responses import RedirectResponse
from sqlmodel import Session

from server.api.deps import SessionDep, SettingsDep
from server.errors import HallError
from server.models.attendance_rules import LeaveType
from server.services.attendance import requests
from server.settings import ServerSettings
from server.web.attendance_page import Chosen, page
from server.web.deps import Reader, Supervisor, Viewer, check_csrf, refused_status
from server.web.render import FormState

router = APIRouter(prefix="/web", include_in_schema=False)

MAX_WINDOW = 9999
Text = Annotated[str, Form(max_length=500)]
Short = Annotated[str, Form(max_length=40)]


class FormInputError(ValueError):
    """Input a person typed that cannot be taken, with the reason to show them."""


def parse_local(text: str, name: str) -> datetime:
    """A hall-local date and time as the browser sends it (``2026-11-23T09:05``)."""
    try:
        return datetime.fromisoformat(text.strip())
    except ValueError as err:
        raise FormInputError(f"{name}格式不正确，应为 年-月-日 时:分（如 2026-11-23 09:05）：{text}") from err


def parse_window(text: str) -> int | None:
    """A window number typed in a form; None when left empty (the officer's A-post)."""
    if not text.strip():
        return None
    if not text.strip().isdigit() or not 1 <= int(text) <= MAX_WINDOW:
        raise FormInputError(f"窗口号应为 1 至 {MAX_WINDOW} 的数字：{text}")
    return int(text)


def _officer(staff_no: str) -> str:
    if not staff_no.strip():
        raise FormInputError("请选择工作人员")
    return staff_no.strip()


def _refused(
    request: Request,
    session: Session,
    settings: ServerSettings,
    viewer: Viewer,
    draft: dict[str, str],
    error: Exception,
) -> Response:
    state: FormState = {"error": str(error), "draft": draft, "status_code": refused_status(error)}
    return page(request, session, settings, viewer, Chosen(), **state)


@router.post("/attendance/leave", response_model=None)
def enter_leave(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    viewer: Supervisor,
    csrf_token: Annotated[str, Form(max_length=100)] = "",
    staff_no: Short = "",
    leave_type: Short = "",
    start: Short = "",
    end: Short = "",
    reason: Text = "",
) -> Response:
    """Record a leave, pending a supervisor's approval (admins and supervisors)."""
    check_csrf(viewer, csrf_token)
    draft = {
        "form": "leave",
        "staff_no": staff_no,
        "leave_type": leave_type,
        "start": start,
        "end": end,
        "reason": reason,
    }
    try:
        officer = _officer(staff_no)
        if leave_type not in {t.value for t in LeaveType}:
            raise FormInputError("请选择请假类型")
        span = (parse_local(start, "开始时间"), parse_local(end, "结束时间"))
        tz = ZoneInfo(settings.timezone)
        requests.record_leave(session, viewer.user, officer, LeaveType(leave_type), span, reason.strip(), tz)
    except (FormInputError, HallError) as err:
        session.rollback()
        return _refused(request, session, settings, viewer, draft, err)
    return RedirectResponse("/web/attendance?done=leave_recorded", status_code=303)


@router.post("/attendance/makeup", response_model=None)
def ask_makeup(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    viewer: Reader,
    csrf_token: Annotated[str, Form(max_length=100)] = "",
    staff_no: Short = "",
    punch_at: Short = "",
    window: Short = "",
    reason: Text = "",
) -> Response:
    """Ask for a make-up punch at a past time (admins, supervisors, department heads for their own)."""
    check_csrf(viewer, csrf_token)
    draft = {"form": "makeup", "staff_no": staff_no, "punch_at": punch_at, "window": window, "reason": reason}
    try:
        officer = _officer(staff_no)
        at = parse_local(punch_at, "补签时间")
        number = parse_window(window)
        tz = ZoneInfo(settings.timezone)
        requests.request_makeup(session, viewer.user, officer, at, reason, number, tz)
    except (FormInputError, HallError) as err:
        session.rollback()
        return _refused(request, session, settings, viewer, draft, err)
    return RedirectResponse("/web/attendance?done=makeup_requested", status_code=303)
