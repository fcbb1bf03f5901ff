"""Entering leave and asking for make-up punches on the attendance page, on SQLite and PostgreSQL.

Roles and CSRF are checked, refused input comes back as typed with its reason, and what is entered
waits in the pending lists for a supervisor's decision.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import pytest
from sqlmodel import Session, select

from server.models import AttendanceAudit, LeaveRequest, MakeupRequest
from tests.server.conftest import SUPERVISOR_PASSWORD, Hall
from tests.web.conftest import (
    HEAD_PASSWORD,
    HEAD_USER,
    OFFICER_PASSWORD,
    OFFICER_USER,
    add_officer_user,
    count,
    csrf_of,
    web_login,
)

pytestmark = pytest.mark.timeout(120)

YESTERDAY = dt.date.today() - dt.timedelta(days=1)
LEAVE = {
    "staff_no": "GA002",
    "leave_type": "病假",
    "start": f"{YESTERDAY}T13:00",
    "end": f"{YESTERDAY}T17:00",
    "reason": "发热就医",
}
MAKEUP = {"staff_no": "GA001", "punch_at": f"{YESTERDAY}T08:57", "window": "", "reason": "指纹录入失败"}


def _login(hall: Hall, username: str, password: str) -> str:
    assert web_login(hall.client, username, password).status_code == 303
    page = hall.client.get("/web/attendance")
    assert page.status_code == 200, page.text[:300]
    return csrf_of(page.text)


def _post(hall: Hall, path: str, data: dict[str, Any]) -> Any:
    return hall.client.post(path, data=data, follow_redirects=False)


def _value(html: str, element_id: str) -> str:
    found = re.search(rf'id="{element_id}"[^>]*value="([^"]*)"', html)
    assert found, f"no input {element_id}"
    return found.group(1)


def _selected(html: str, element_id: str) -> str:
    start = html.index(f'id="{element_id}"')
    found = re.search(r'<option value="([^"]*)" selected>', html[start : html.index("</select>", start)])
    return found.group(1) if found else ""


def _audits(hall: Hall, action: str) -> list[AttendanceAudit]:
    with Session(hall.engine) as s:
        return list(s.exec(select(AttendanceAudit).where(AttendanceAudit.action == action)).all())


def test_supervisor_enters_a_leave_and_a_mistake_keeps_what_was_typed(hall: Hall) -> None:
    token = _login(hall, "supervisor", SUPERVISOR_PASSWORD)
    page = hall.client.get("/web/attendance").text
    assert 'id="form-leave"' in page and 'id="form-makeup"' in page and "陈静（RS001）" in page
    assert _post(hall, "/web/attendance/leave", LEAVE).status_code == 403  # no token
    form = {**LEAVE, "csrf_token": token}
    r = _post(hall, "/web/attendance/leave", {**form, "end": f"{YESTERDAY}T12:00"})
    assert r.status_code == 422 and "请假结束时间必须晚于开始时间" in r.text
    assert _selected(r.text, "leave-officer") == "GA002" and _selected(r.text, "leave-type") == "病假"
    assert (
        _value(r.text, "leave-reason") == "发热就医" and _value(r.text, "leave-end") == f"{YESTERDAY}T12:00"
    )
    r = _post(hall, "/web/attendance/leave", {**form, "start": "明天下午"})
    assert (
        r.status_code == 422
        and "开始时间格式不正确" in r.text
        and _value(r.text, "leave-start") == "明天下午"
    )
    r = _post(hall, "/web/attendance/leave", {**form, "leave_type": "年假"})
    assert r.status_code == 422 and "请选择请假类型" in r.text
    r = _post(hall, "/web/attendance/leave", {**form, "staff_no": "XX999"})
    assert r.status_code == 404 and "没有工号为 XX999 的工作人员" in r.text
    assert count(hall.engine, LeaveRequest) == 0

    r = _post(hall, "/web/attendance/leave", form)
    assert r.status_code == 303 and r.headers["location"] == "/web/attendance?done=leave_recorded"
    page = hall.client.get(r.headers["location"]).text
    assert "请假已登记，待审批" in page and "发热就医" in page
    with Session(hall.engine) as s:
        (leave,) = s.exec(select(LeaveRequest)).all()
    assert (leave.leave_type, leave.status) == ("病假", "pending")
    assert leave.end_at - leave.start_at == dt.timedelta(hours=4)
    assert [a.target_id for a in _audits(hall, "leave_recorded")] == [leave.id]
    r = _post(hall, f"/web/attendance/leave/{leave.id}/approve", {"csrf_token": token})
    assert r.status_code == 303 and "已批准请假" in hall.client.get(r.headers["location"]).text


def test_make_up_punch_is_asked_for_at_the_a_post_and_waits_for_approval(hall: Hall) -> None:
    token = _login(hall, "supervisor", SUPERVISOR_PASSWORD)
    form = {**MAKEUP, "csrf_token": token}
    future = (dt.datetime.now() + dt.timedelta(days=2)).strftime("%Y-%m-%dT%H:%M")
    r = _post(hall, "/web/attendance/makeup", {**form, "punch_at": future})
    assert r.status_code == 422 and "补签时间不能晚于当前时间" in r.text
    assert (
        _value(r.text, "makeup-reason") == "指纹录入失败" and _selected(r.text, "makeup-officer") == "GA001"
    )
    r = _post(hall, "/web/attendance/makeup", {**form, "reason": "  "})
    assert r.status_code == 422 and "补签必须填写原因" in r.text
    r = _post(hall, "/web/attendance/makeup", {**form, "window": "一号"})
    assert r.status_code == 422 and "窗口号应为" in r.text and _value(r.text, "makeup-window") == "一号"
    r = _post(hall, "/web/attendance/makeup", {**form, "window": "99"})
    assert r.status_code == 404 and "没有 99 号窗口" in r.text
    r = _post(hall, "/web/attendance/makeup", {**form, "staff_no": ""})
    assert r.status_code == 422 and "请选择工作人员" in r.text
    assert count(hall.engine, MakeupRequest) == 0

    r = _post(hall, "/web/attendance/makeup", form)
    assert r.status_code == 303 and r.headers["location"] == "/web/attendance?done=makeup_requested"
    page = hall.client.get(r.headers["location"]).text
    assert "补签申请已提交，待审批" in page and "指纹录入失败" in page and "1号窗口" in page
    with Session(hall.engine) as s:
        (makeup,) = s.exec(select(MakeupRequest)).all()
    assert makeup.status == "pending" and makeup.punch_id is None
    assert [a.target_id for a in _audits(hall, "makeup_requested")] == [makeup.id]


def test_department_head_asks_for_own_department_and_officers_are_turned_away(hall: Hall) -> None:
    token = _login(hall, HEAD_USER, HEAD_PASSWORD)
    page = hall.client.get("/web/attendance").text
    assert 'id="form-makeup"' in page and 'id="form-leave"' not in page and "陈静（RS001）" not in page
    r = _post(hall, "/web/attendance/leave", {**LEAVE, "csrf_token": token})
    assert r.status_code == 403
    r = _post(hall, "/web/attendance/makeup", {**MAKEUP, "staff_no": "RS001", "csrf_token": token})
    assert r.status_code == 403 and "不属于本部门" in r.text and _selected(r.text, "makeup-officer") == ""
    assert _post(hall, "/web/attendance/makeup", {**MAKEUP, "csrf_token": token}).status_code == 303
    assert count(hall.engine, MakeupRequest) == 1 and count(hall.engine, LeaveRequest) == 0
    hall.client.cookies.clear()
    add_officer_user(hall.engine)
    assert web_login(hall.client, OFFICER_USER, OFFICER_PASSWORD).status_code == 303
    r = _post(hall, "/web/attendance/makeup", {**MAKEUP, "csrf_token": token})
    assert r.status_code == 403 and count(hall.engine, MakeupRequest) == 1


def test_officer_asks_for_an_own_make_up_punch_on_the_profile_page(hall: Hall) -> None:
    add_officer_user(hall.engine)
    assert web_login(hall.client, OFFICER_USER, OFFICER_PASSWORD).status_code == 303
    page = hall.client.get("/web/me")  # redirected to GA001's profile
    assert page.status_code == 200 and 'id="form-makeup"' in page.text and "没有补签申请" in page.text
    token = csrf_of(page.text)
    form = {"punch_at": f"{YESTERDAY}T17:05", "window": "", "reason": "下班忘记打卡", "csrf_token": token}
    r = _post(hall, "/web/officers/GA001/makeup", {**form, "punch_at": "昨天"})
    assert r.status_code == 422 and "补签时间格式不正确" in r.text
    assert _value(r.text, "makeup-reason") == "下班忘记打卡" and _value(r.text, "makeup-at") == "昨天"
    assert _post(hall, "/web/officers/GA002/makeup", form).status_code == 403  # not hers
    r = _post(hall, "/web/officers/GA001/makeup", {**form, "window": "99"})  # as the attendance form
    assert r.status_code == 404 and "没有 99 号窗口" in r.text and _value(r.text, "makeup-window") == "99"
    r = _post(hall, "/web/officers/GA001/makeup", form)
    assert r.status_code == 303 and r.headers["location"] == "/web/officers/GA001?done=makeup_requested"
    page = hall.client.get(r.headers["location"]).text
    assert "补签申请已提交，待审批" in page and "下班忘记打卡" in page and "待审批" in page

    hall.client.cookies.clear()
    token = _login(hall, "supervisor", SUPERVISOR_PASSWORD)
    profile = hall.client.get("/web/officers/GA001").text
    assert "下班忘记打卡" in profile and 'id="form-makeup"' not in profile  # someone else's profile
    r = _post(hall, "/web/officers/GA001/makeup", {**form, "csrf_token": token})
    assert r.status_code == 403 and "只能为本人申请补签" in r.text
    with Session(hall.engine) as s:
        (makeup,) = s.exec(select(MakeupRequest)).all()
    r = _post(hall, f"/web/attendance/makeup/{makeup.id}/approve", {"csrf_token": token})
    assert r.status_code == 303
    assert "已批准" in hall.client.get("/web/officers/GA001").text


def test_a_field_past_its_limit_gets_the_error_page_and_the_api_keeps_json(hall: Hall) -> None:
    token = _login(hall, "supervisor", SUPERVISOR_PASSWORD)
    r = _post(hall, "/web/attendance/leave", {**LEAVE, "reason": "长" * 501, "csrf_token": token})
    assert r.status_code == 422 and r.headers["content-type"].startswith("text/html")
    assert "reason 最多 500 个字符" in r.text and "返回上一页" in r.text
    assert count(hall.engine, LeaveRequest) == 0
    r = hall.client.get("/web/audit", params={"format": "pdf"})  # a query parameter too
    assert r.status_code == 422 and "format 的取值无效" in r.text
    r = hall.client.post("/api/v1/tickets", json={"item_code": 7}, headers={"Authorization": "Bearer x:y"})
    assert r.headers["content-type"] == "application/json"  # the API answers in JSON, as before
