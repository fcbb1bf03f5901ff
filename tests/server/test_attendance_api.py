"""Attendance over HTTP on SQLite and PostgreSQL: punches from agents, leave, make-up, reports."""

from __future__ import annotations

import io
from datetime import date, datetime, time
from typing import Any
from zoneinfo import ZoneInfo

from openpyxl import load_workbook
from sqlmodel import Session, col, select

from server.models import AttendanceAudit
from tests.server.conftest import Hall
from tests.server.events_util import batch, event

TZ = ZoneInfo("Asia/Shanghai")
BASE = "/api/v1/attendance"


def punch(hall: Hall, window: int, page: int, day: date, *times: str) -> None:
    """Fingerprint punches at a window by the officer enrolled on ``page``, at local times."""
    device = f"agent-w{window}"
    events = []
    for hhmm in times:
        h, m = hhmm.split(":")
        moment = datetime.combine(day, time(int(h), int(m)), TZ)
        events.append(event("punch", device, {"page": page}, window, device_time=moment))
    r = hall.client.post("/api/v1/events", json=batch(*events), headers=hall.device_headers(device))
    assert r.status_code == 200 and r.json()["accepted"] == len(times), r.text


def get(hall: Hall, path: str, headers: dict[str, str] | None = None, **params: Any) -> Any:
    r = hall.client.get(f"{BASE}/{path}", params=params, headers=headers or hall.user_headers())
    assert r.status_code == 200, r.text
    return r.json()


def daily(hall: Hall, day: str, department: str = "GA") -> dict[str, dict[str, Any]]:
    rows = get(hall, "daily", date=day, department=department)["rows"]
    return {r["staff_no"]: r for r in rows}


def kinds(row: dict[str, Any]) -> list[tuple[str, int | None, int]]:
    return [(m["kind"], m["period"], m["minutes"]) for m in row["marks"]]


def test_daily_marks_from_fingerprint_punches(hall: Hall) -> None:
    punch(hall, 1, 1, date(2026, 11, 16), "8:58", "12:01", "13:10", "17:00")
    rows = daily(hall, "2026-11-16")
    assert set(rows) == {"GA001", "GA002", "GA003", "GA004"}
    assert kinds(rows["GA001"]) == [("on_time", 0, 0), ("late", 1, 10)]
    assert [p["source"] for p in rows["GA001"]["punches"]] == ["fingerprint"] * 4
    assert kinds(rows["GA002"]) == [("absent_day", None, 420)]
    # Weekends are not working days: nobody is marked.
    assert get(hall, "daily", date="2026-11-21")["rows"] == []


def test_leave_approval_and_b_post_cover(hall: Hall) -> None:
    sup = hall.user_headers()
    day = date(2026, 11, 17)
    body = {
        "staff_no": "GA001",
        "type": "病假",
        "start": "2026-11-17T09:00",
        "end": "2026-11-17T17:00",
        "reason": "发热",
    }
    r = hall.client.post(f"{BASE}/leave", json=body, headers=sup)
    assert r.status_code == 201, r.text
    leave = r.json()
    assert leave["status"] == "pending"
    punch(hall, 1, 2, day, "8:59", "12:00", "13:00", "17:01")  # GA003, the B-post, covers window 1
    assert kinds(daily(hall, "2026-11-17")["GA001"]) == [("absent_day", None, 420)]  # not yet approved

    r = hall.client.post(f"{BASE}/leave/{leave['id']}/approve", headers=sup)
    assert r.status_code == 200 and r.json()["status"] == "approved"
    rows = daily(hall, "2026-11-17")
    assert kinds(rows["GA001"]) == [("on_leave", 0, 180), ("on_leave", 1, 240)]
    assert rows["GA001"]["covered_by"] == ["GA003"]
    assert kinds(rows["GA003"]) == [("on_time", 0, 0), ("on_time", 1, 0)]
    alerts = get(hall, "unstaffed", date="2026-11-17")["alerts"]
    assert 1 not in {a["window"] for a in alerts} and 2 in {a["window"] for a in alerts}

    again = hall.client.post(f"{BASE}/leave/{leave['id']}/reject", headers=sup)
    assert again.status_code == 409 and "已处理" in again.json()["detail"]
    assert hall.client.post(f"{BASE}/leave/999/approve", headers=sup).status_code == 404
    assert [x["status"] for x in get(hall, "leave", status="approved")["leave"]] == ["approved"]


def test_make_up_punch_fixes_a_missed_punch(hall: Hall) -> None:
    sup = hall.user_headers()
    punch(hall, 2, 1, date(2026, 11, 18), "9:00", "13:00", "17:00")
    assert kinds(daily(hall, "2026-11-18")["GA002"])[0] == ("missed_punch", 0, 0)
    body = {"staff_no": "GA002", "punched_at": "2026-11-18T12:00:00", "reason": "指纹机无响应"}
    r = hall.client.post(f"{BASE}/makeup", json=body, headers=sup)
    assert r.status_code == 201 and r.json()["status"] == "pending", r.text
    makeup_id = r.json()["id"]
    assert kinds(daily(hall, "2026-11-18")["GA002"])[0] == ("missed_punch", 0, 0)

    r = hall.client.post(f"{BASE}/makeup/{makeup_id}/approve", headers=sup)
    assert r.status_code == 200 and r.json()["punch_id"] is not None and r.json()["approved_by"] is not None
    row = daily(hall, "2026-11-18")["GA002"]
    assert kinds(row) == [("on_time", 0, 0), ("on_time", 1, 0)]
    assert [p["source"] for p in row["punches"]] == ["fingerprint", "makeup", "fingerprint", "fingerprint"]
    with Session(hall.engine) as s:
        trail = s.exec(
            select(AttendanceAudit.action)
            .where(AttendanceAudit.target == "makeup", AttendanceAudit.target_id == makeup_id)
            .order_by(col(AttendanceAudit.id))
        ).all()
    assert list(trail) == ["makeup_requested", "makeup_approved"]


def test_weekly_flag_and_monthly_summary(hall: Hall) -> None:
    punch(hall, 3, 1, date(2026, 11, 16), "9:10", "12:00", "13:00", "17:00")  # RS001 late 10
    punch(hall, 3, 1, date(2026, 11, 17), "9:00", "12:00", "13:00", "16:50")  # RS001 early 10
    punch(hall, 4, 1, date(2026, 11, 16), "9:12", "12:00", "13:00", "17:00")  # RS002 late 12
    for d in (18, 19, 20):
        punch(hall, 4, 1, date(2026, 11, d), "9:00", "12:00", "13:00", "17:00")
    week = {r["staff_no"]: r for r in get(hall, "weekly", week="2026-W47", department="RS")["rows"]}
    assert (week["RS001"]["late"], week["RS001"]["early_leave"], week["RS001"]["absent"]) == (1, 1, 3)
    assert week["RS001"]["flagged"] is True
    assert (week["RS002"]["marks"], week["RS002"]["flagged"]) == (2, True)  # late once + absent 17th
    assert (week["RS003"]["marks"], week["RS003"]["flagged"]) == (5, True)


def test_monthly_summary_follows_the_holiday_calendar(hall: Hall) -> None:
    # October 2026: 1-7 are National Day holidays, Saturday the 10th is a make-up working day,
    # so the month has 18 working days.
    punch(hall, 4, 1, date(2026, 10, 5), "9:00", "12:00")  # a holiday: not counted
    punch(hall, 4, 1, date(2026, 10, 8), "9:12", "12:00", "13:00", "17:00")
    punch(hall, 4, 1, date(2026, 10, 9), "9:00", "12:00", "13:00", "17:00")
    punch(hall, 4, 1, date(2026, 10, 10), "9:00", "12:00", "13:00", "17:00")
    punch(hall, 3, 1, date(2026, 10, 9), "9:00", "12:00", "13:00", "16:40")
    workdays = 18
    monthly = get(hall, "monthly", month="2026-10", department="RS")
    rows = {r["staff_no"]: r for r in monthly["officers"]}
    assert rows["RS002"]["workdays"] == workdays
    assert (rows["RS002"]["on_time_days"], rows["RS002"]["late"], rows["RS002"]["late_min"]) == (2, 1, 12)
    assert rows["RS002"]["absent_days"] == workdays - 3
    assert (rows["RS001"]["early_leave"], rows["RS001"]["early_leave_min"]) == (1, 20)
    (dept,) = monthly["departments"]
    assert (dept["department"], dept["officers"], dept["workdays"]) == ("RS", 4, 4 * workdays)
    assert (dept["late"], dept["early_leave"], dept["absent_days"]) == (
        1,
        1,
        4 * workdays - 4,
    )  # RS002 came 3 days, RS001 1

    xlsx = hall.client.get(
        f"{BASE}/monthly", params={"month": "2026-10", "format": "xlsx"}, headers=hall.user_headers()
    )
    assert xlsx.status_code == 200 and "spreadsheetml" in xlsx.headers["content-type"]
    sheet = load_workbook(io.BytesIO(xlsx.content)).worksheets[0]
    people = {row[1]: row for row in sheet.iter_rows(min_row=2, values_only=True)}
    assert len(people) == 12 and people["RS002"][3:7] == (workdays, 2, 1, 12)
    csv = hall.client.get(
        f"{BASE}/monthly", params={"month": "2026-10", "format": "csv"}, headers=hall.user_headers()
    )
    assert csv.status_code == 200 and csv.headers["content-type"].startswith("text/csv")
    assert "RS002" in csv.content.decode("utf-8-sig")


def test_unstaffed_window_alert(hall: Hall) -> None:
    punch(hall, 5, 1, date(2026, 11, 19), "9:00", "10:00", "10:30", "12:00", "13:00", "17:00")
    punch(hall, 5, 2, date(2026, 11, 19), "9:55", "10:05")  # the B-post overlaps, then leaves too
    alerts = [a for a in get(hall, "unstaffed", date="2026-11-19")["alerts"] if a["window"] == 5]
    assert [(a["from"][11:16], a["to"][11:16], a["minutes"]) for a in alerts] == [("10:05", "10:30", 25)]


def test_rules_can_be_changed(hall: Hall) -> None:
    sup = hall.user_headers()
    assert get(hall, "rules")["grace_min"] == 5
    punch(hall, 1, 1, date(2026, 11, 16), "9:08", "12:00", "13:00", "17:00")
    assert kinds(daily(hall, "2026-11-16")["GA001"])[0] == ("late", 0, 8)
    r = hall.client.put(f"{BASE}/rules", json={**get(hall, "rules"), "grace_min": 10}, headers=sup)
    assert r.status_code == 200, r.text
    assert kinds(daily(hall, "2026-11-16")["GA001"])[0] == ("on_time", 0, 0)
    bad = {"periods": [{"start": "13:00", "end": "09:00"}]}
    assert hall.client.put(f"{BASE}/rules", json=bad, headers=sup).status_code == 422
    # An officer's own two-punch day.
    r = hall.client.put(
        f"{BASE}/schedules/GA002", json={"periods": [{"start": "09:00", "end": "17:00"}]}, headers=sup
    )
    assert r.status_code == 200, r.text
    punch(hall, 2, 1, date(2026, 11, 16), "9:00", "17:00")
    assert kinds(daily(hall, "2026-11-16")["GA002"]) == [("on_time", 0, 0)]


def test_scope_roles_and_bad_input(hall: Hall) -> None:
    head = hall.user_headers("head-ga", "head-ga-pass-1")
    sup = hall.user_headers()
    rows = get(hall, "daily", headers=head, date="2026-11-16")["rows"]
    assert {r["department"] for r in rows} == {"GA"}
    r = hall.client.get(f"{BASE}/daily", params={"date": "2026-11-16", "department": "RS"}, headers=head)
    assert r.status_code == 403
    leave = {"staff_no": "GA001", "type": "事假", "start": "2026-11-17T09:00", "end": "2026-11-17T12:00"}
    assert hall.client.post(f"{BASE}/leave", json=leave, headers=head).status_code == 403
    assert hall.client.get(f"{BASE}/daily", params={"date": "2026-11-16"}).status_code == 401
    for path, params in [
        ("daily", {"date": "yesterday"}),
        ("weekly", {"week": "2026-47"}),
        ("monthly", {"month": "2026-13"}),
        ("monthly", {"month": "2026-11", "format": "pdf"}),
        ("unstaffed", {"date": "2026-02-30"}),
    ]:
        r = hall.client.get(f"{BASE}/{path}", params=params, headers=sup)
        assert r.status_code == 422, (path, r.text)
    backwards = {**leave, "start": "2026-11-17T12:00", "end": "2026-11-17T09:00"}
    r = hall.client.post(f"{BASE}/leave", json=backwards, headers=sup)
    assert r.status_code == 422 and "晚于" in r.json()["detail"]
    r = hall.client.post(f"{BASE}/leave", json={**leave, "type": "年假"}, headers=sup)
    assert r.status_code == 422
    r = hall.client.post(f"{BASE}/leave", json={**leave, "staff_no": "NOBODY"}, headers=sup)
    assert r.status_code == 404 and "NOBODY" in r.json()["detail"]
    future = {"staff_no": "GA001", "punched_at": "2030-01-01T09:00", "reason": "忘记打卡"}
    assert hall.client.post(f"{BASE}/makeup", json=future, headers=sup).status_code == 422
    assert hall.client.post(f"{BASE}/makeup/1/maybe", headers=sup).status_code == 404
    # A department head may ask for a make-up punch in their department, but not approve it.
    past = {**future, "punched_at": "2026-11-16T12:00"}
    r = hall.client.post(f"{BASE}/makeup", json=past, headers=head)
    assert r.status_code == 201, r.text
    assert hall.client.post(f"{BASE}/makeup/{r.json()['id']}/approve", headers=head).status_code == 403
    assert [m["staff_no"] for m in get(hall, "makeup", headers=head)["makeup"]] == ["GA001"]
