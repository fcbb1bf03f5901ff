"""The supervision forms in process, on SQLite and PostgreSQL: complaints, leave and make-up punches,
appointment slots and no-shows, badges; each one audited, CSRF-checked and role-checked."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import pytest
from sqlmodel import Session, select

from server.db import session_scope
from server.models import AuditEntry, Complaint, LeaveRequest, MakeupRequest
from server.models.appointments import AppointmentSlot
from server.models.badges import Badge
from server.services import appointments as appointment_service
from server.services.appointments import AppointmentRules, BookingRequest, SlotRequest
from server.settings import ServerSettings
from server.timeutil import utcnow
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

TZ = dt.timezone(dt.timedelta(hours=8))
PHONE = "13812345678"


def supervisor_token(hall: Hall, page: str) -> str:
    """Log in as the supervisor and take the CSRF token of a page."""
    assert web_login(hall.client, "supervisor", SUPERVISOR_PASSWORD).status_code == 303
    r = hall.client.get(page)
    assert r.status_code == 200, r.text[:300]
    return csrf_of(r.text)


def audit_rows(hall: Hall, action: str) -> list[AuditEntry]:
    with Session(hall.engine) as s:
        return list(s.exec(select(AuditEntry).where(AuditEntry.action == action)).all())


def post(hall: Hall, path: str, data: dict[str, Any]) -> Any:
    return hall.client.post(path, data=data, follow_redirects=False)


def test_complaint_is_recorded_from_the_complaints_page(hall: Hall) -> None:
    token = supervisor_token(hall, "/web/complaints")
    form = {"channel": "phone", "content": "窗口人员态度生硬", "window": "1", "contact_phone": PHONE}
    assert post(hall, "/web/complaints/new", form).status_code == 403  # no token
    assert post(hall, "/web/complaints/new", {**form, "csrf_token": "forged"}).status_code == 403
    assert count(hall.engine, Complaint) == 0
    r = post(hall, "/web/complaints/new", {**form, "content": " ", "csrf_token": token})
    assert r.status_code == 422 and "请填写投诉内容" in r.text and 'value="1"' in r.text  # typed input kept
    r = post(hall, "/web/complaints/new", {**form, "window": "99", "csrf_token": token})
    assert r.status_code == 404 and "窗口 99 不存在" in r.text and "窗口人员态度生硬" in r.text
    r = post(hall, "/web/complaints/new", {**form, "csrf_token": token})
    assert r.status_code == 303 and r.headers["location"] == "/web/complaints?done=new"
    page = hall.client.get(r.headers["location"]).text
    assert "投诉已登记" in page and "窗口人员态度生硬" in page and "138****5678" in page and PHONE not in page
    with Session(hall.engine) as s:
        (complaint,) = s.exec(select(Complaint)).all()
    assert complaint.channel == "phone" and complaint.contact_masked == "138****5678"
    (entry,) = audit_rows(hall, "complaint_record")
    assert entry.actor == "supervisor" and entry.target == f"complaint:{complaint.id}"
    assert entry.details["window"] == 1 and entry.details["contact_given"] is True
    assert PHONE not in json.dumps(entry.details)


def test_complaint_form_is_refused_outside_the_role_or_department(hall: Hall) -> None:
    add_officer_user(hall.engine)
    web_login(hall.client, OFFICER_USER, OFFICER_PASSWORD)
    r = post(hall, "/web/complaints/new", {"channel": "phone", "content": "x", "window": "1"})
    assert r.status_code == 403 and "无权访问" in r.text
    web_login(hall.client, HEAD_USER, HEAD_PASSWORD)
    token = csrf_of(hall.client.get("/web/complaints").text)
    form = {"channel": "onsite", "content": "人社窗口排队太久", "window": "3", "csrf_token": token}
    r = post(hall, "/web/complaints/new", form)  # window 3 belongs to RS, not the head's GA
    assert r.status_code == 403 and "只能登记本部门的投诉" in r.text and "人社窗口排队太久" in r.text
    r = post(hall, "/web/complaints/new", {**form, "window": "1"})
    assert r.status_code == 303
    assert count(hall.engine, Complaint) == 1 and len(audit_rows(hall, "complaint_record")) == 1


def _pending_requests(hall: Hall) -> tuple[int, int, int]:
    """A pending leave and two pending make-up punches of GA001, recorded through the API."""
    headers = hall.user_headers()
    day = dt.date.today() - dt.timedelta(days=1)
    leave = {
        "staff_no": "GA001",
        "type": "事假",
        "start": f"{day}T09:00",
        "end": f"{day}T12:00",
        "reason": "家事",
    }
    r = hall.client.post("/api/v1/attendance/leave", json=leave, headers=headers)
    assert r.status_code == 201, r.text
    ids = [r.json()["id"]]
    for at in ("08:58", "17:02"):
        body = {"staff_no": "GA001", "punched_at": f"{day}T{at}", "reason": "指纹识别失败"}
        r = hall.client.post("/api/v1/attendance/makeup", json=body, headers=headers)
        assert r.status_code == 201, r.text
        ids.append(r.json()["id"])
    return ids[0], ids[1], ids[2]


def test_leave_and_make_up_punches_are_decided_from_the_attendance_page(hall: Hall) -> None:
    leave_id, makeup_ok, makeup_no = _pending_requests(hall)
    token = supervisor_token(hall, "/web/attendance")
    page = hall.client.get("/web/attendance").text
    assert "待审批请假" in page and "家事" in page and "指纹识别失败" in page
    assert f'action="/web/attendance/leave/{leave_id}/approve"' in page
    assert post(hall, f"/web/attendance/leave/{leave_id}/approve", {}).status_code == 403
    assert post(hall, f"/web/attendance/leave/{leave_id}/approve", {"csrf_token": "x"}).status_code == 403
    for path in (
        f"/web/attendance/leave/{leave_id}/approve",
        f"/web/attendance/makeup/{makeup_ok}/approve",
        f"/web/attendance/makeup/{makeup_no}/reject",
    ):
        r = post(hall, path, {"csrf_token": token})
        assert r.status_code == 303, (path, r.text[:300])
    assert "已驳回补签" in hall.client.get(r.headers["location"]).text
    r = post(hall, f"/web/attendance/leave/{leave_id}/reject", {"csrf_token": token})
    assert r.status_code == 409 and "已处理" in r.text
    assert post(hall, "/web/attendance/leave/99999/approve", {"csrf_token": token}).status_code == 404
    assert post(hall, f"/web/attendance/leave/{leave_id}/maybe", {"csrf_token": token}).status_code == 404
    with Session(hall.engine) as s:
        leave = s.get(LeaveRequest, leave_id)
        ok, no = s.get(MakeupRequest, makeup_ok), s.get(MakeupRequest, makeup_no)
        assert leave is not None and ok is not None and no is not None
        assert (leave.status, ok.status, no.status) == ("approved", "approved", "rejected")
        assert ok.punch_id is not None and no.punch_id is None
    assert [e.target for e in audit_rows(hall, "leave_approved")] == [f"leave:{leave_id}"]
    assert [e.target for e in audit_rows(hall, "makeup_approved")] == [f"makeup:{makeup_ok}"]
    (rejected,) = audit_rows(hall, "makeup_rejected")
    assert rejected.actor == "supervisor" and rejected.details == {"decision": "reject"}
    assert "没有待审批的请假" in hall.client.get("/web/attendance").text


def test_department_head_sees_pending_requests_but_cannot_decide(hall: Hall) -> None:
    leave_id, _, _ = _pending_requests(hall)
    web_login(hall.client, HEAD_USER, HEAD_PASSWORD)
    page = hall.client.get("/web/attendance").text
    assert "家事" in page and "待监督管理人员审批" in page and "/approve" not in page
    r = post(hall, f"/web/attendance/leave/{leave_id}/approve", {"csrf_token": csrf_of(page)})
    assert r.status_code == 403
    with Session(hall.engine) as s:
        leave = s.get(LeaveRequest, leave_id)
        assert leave is not None and leave.status == "pending"
    assert audit_rows(hall, "leave_approved") == []


def _missed_booking(hall: Hall) -> tuple[dt.date, str]:
    """A slot of yesterday booked two days ago and never checked in; the page marks it a no-show."""
    rules = AppointmentRules.from_settings(ServerSettings(demo=True))
    then = utcnow() - dt.timedelta(days=2)
    day = rules.today(utcnow()) - dt.timedelta(days=1)
    with session_scope(hall.engine) as session:
        req = SlotRequest("GA01", day, dt.time(9, 0), dt.time(10, 0), 5)
        slot = appointment_service.create_slot(session, req, rules, "supervisor", then)
        booking = BookingRequest("GA01", slot.id or 0, "110101199003070011", "赵小明", PHONE, "public")
        appointment, _ = appointment_service.book(session, booking, rules, "test-secret", then)
        code = appointment.code
    return day, code


def test_appointment_slots_no_shows_and_the_slot_form(hall: Hall) -> None:
    day, code = _missed_booking(hall)
    token = supervisor_token(hall, f"/web/appointments?date={day}")
    page = hall.client.get(f"/web/appointments?date={day}").text
    no_shows = page[page.index("爽约（未到）") :]
    assert code in no_shows and "赵**" in no_shows and "110***********0011" in no_shows
    assert "赵小明" not in page and PHONE not in page
    tomorrow = (dt.datetime.now(TZ) + dt.timedelta(days=1)).date().isoformat()
    form = {
        "item_code": "GA01",
        "date": tomorrow,
        "start_time": "09:00",
        "end_time": "10:00",
        "capacity": "8",
    }
    assert post(hall, "/web/appointments/slots", form).status_code == 403
    r = post(hall, "/web/appointments/slots", {**form, "end_time": "08:00", "csrf_token": token})
    assert r.status_code == 422 and "结束时间必须晚于开始时间" in r.text and 'value="08:00"' in r.text
    r = post(hall, "/web/appointments/slots", {**form, "csrf_token": token})
    assert r.status_code == 303 and r.headers["location"] == f"/web/appointments?date={tomorrow}&done=slot"
    r = post(hall, "/web/appointments/slots", {**form, "csrf_token": token})
    assert r.status_code == 409 and "已存在" in r.text
    assert count(hall.engine, AppointmentSlot) == 2
    (entry,) = audit_rows(hall, "slot_create")
    assert entry.details["item_code"] == "GA01" and entry.details["capacity"] == "8"
    csv_text = hall.client.get(f"/web/appointments?date={day}&format=csv").content.decode("utf-8-sig")
    assert code in csv_text
    web_login(hall.client, HEAD_USER, HEAD_PASSWORD)
    page = hall.client.get(f"/web/appointments?date={day}").text
    assert code in page and 'id="form-slot"' not in page
    r = post(hall, "/web/appointments/slots", {**form, "date": day.isoformat(), "csrf_token": csrf_of(page)})
    assert r.status_code == 403 and count(hall.engine, AppointmentSlot) == 2
    assert hall.client.get("/web/appointments?date=tomorrow").status_code == 422


def test_badges_are_issued_and_revoked_from_the_badges_page(hall: Hall) -> None:
    token = supervisor_token(hall, "/web/badges")
    form = {"uid": "04 a1 b2 c3", "staff_no": "GA001"}
    assert post(hall, "/web/badges/issue", form).status_code == 403
    r = post(hall, "/web/badges/issue", {**form, "uid": "zz", "csrf_token": token})
    assert r.status_code == 422 and "卡号格式不正确" in r.text and 'value="GA001"' in r.text
    r = post(hall, "/web/badges/issue", {**form, "staff_no": "XX999", "csrf_token": token})
    assert r.status_code == 404 and "XX999" in r.text
    assert post(hall, "/web/badges/issue", {**form, "csrf_token": token}).status_code == 303
    page = hall.client.get("/web/badges?done=issue").text
    assert "04A1B2C3" in page and "王芳（GA001）" in page and "有效" in page
    r = post(hall, "/web/badges/issue", {**form, "csrf_token": token})
    assert r.status_code == 409 and "已登记过" in r.text
    assert post(hall, "/web/badges/revoke", {"uid": "04A1B2C3"}).status_code == 403
    assert post(hall, "/web/badges/revoke", {"uid": "04A1B2C3", "csrf_token": token}).status_code == 303
    with Session(hall.engine) as s:
        (badge,) = s.exec(select(Badge)).all()
        assert badge.revoked_at is not None and badge.revoked_by == "supervisor"
    assert [e.target for e in audit_rows(hall, "badge_issue")] == ["badge:04A1B2C3"]
    assert [e.target for e in audit_rows(hall, "badge_revoke")] == ["badge:04A1B2C3"]
    r = post(hall, "/web/badges/revoke", {"uid": "0102030405", "csrf_token": token})
    assert r.status_code == 404 and "没有卡号为" in r.text
    web_login(hall.client, HEAD_USER, HEAD_PASSWORD)
    page = hall.client.get("/web/badges").text
    assert "04A1B2C3" in page and 'id="form-badge-issue"' not in page
    r = post(hall, "/web/badges/issue", {"uid": "0A0B0C0D", "staff_no": "GA002", "csrf_token": csrf_of(page)})
    assert r.status_code == 403 and count(hall.engine, Badge) == 1
