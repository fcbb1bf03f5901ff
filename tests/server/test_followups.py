"""Bad-review follow-up: opened at ingestion with working-day deadlines, walked to closed, appeals, scope."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import chinese_calendar
from sqlmodel import Session, select

from server.db import session_scope
from server.models import Complaint, Followup, Rating, User
from server.models.users import Role
from server.services.admin import create_user
from server.services.followups import FollowupPolicy, open_for_ratings
from server.services.workdays import WorkCalendar
from tests.server.conftest import Hall
from tests.server.events_util import batch, rating

TZ = ZoneInfo("Asia/Shanghai")


def send(hall: Hall, window: int, *events: dict) -> None:
    r = hall.client.post(
        "/api/v1/events", json=batch(*events), headers=hall.device_headers(f"agent-w{window}")
    )
    assert r.status_code == 200 and r.json()["rejected"] == 0, r.text


def nth_working_day_after(start: date, n: int) -> date:
    """Independent reference: statutory working days from chinese_calendar, weekdays beyond its years."""
    day, count = start, 0
    while count < n:
        day += timedelta(days=1)
        known = day.year <= max(d.year for d in chinese_calendar.holidays)
        count += chinese_calendar.is_workday(day) if known else day.weekday() < 5
    return day


def followups(hall: Hall, headers: dict[str, str], **params: str) -> list[dict]:
    r = hall.client.get("/api/v1/followups", params=params, headers=headers)
    assert r.status_code == 200, r.text
    return r.json()["followups"]


def test_bad_review_opens_followup_with_working_day_deadlines(hall: Hall) -> None:
    good, bad4, bad5 = (
        rating("agent-w1", 1, 2, "GA001"),
        rating("agent-w1", 1, 4, "GA001"),
        rating("agent-w3", 3, 5),
    )
    send(hall, 1, good, bad4)
    send(hall, 3, bad5)
    send(hall, 1, bad4)  # a resent bad review opens nothing twice
    rows = followups(hall, hall.user_headers())
    assert sorted(f["level"] for f in rows) == [4, 5]
    today = datetime.now(UTC).astimezone(TZ).date()
    for f in rows:
        assert f["status"] == "open" and not f["overdue"] and f["appeal_status"] == "none"
        assert f["verify_due"] == nth_working_day_after(today, 1).isoformat()
        assert f["rectify_due"] == nth_working_day_after(today, 15).isoformat()


def test_deadlines_skip_holidays_and_count_make_up_days(hall: Hall) -> None:
    # 2026-09-30 (Wed): National Day holidays follow, so the first working day is after them.
    send(hall, 2, rating("agent-w2", 2, 5, "GA002"))
    with session_scope(hall.engine) as s:
        s.delete(s.exec(select(Followup)).one())  # opened at ingestion today; reopen it on a fixed day
    policy = FollowupPolicy(verify_days=1, rectify_days=15, calendar=WorkCalendar())
    with session_scope(hall.engine) as s:
        r = s.exec(select(Rating)).one()
        assert open_for_ratings(s, [r], policy, datetime(2026, 9, 30, 3, 0, tzinfo=UTC)) == 1
        f = s.exec(select(Followup)).one()
        assert f.verify_due == nth_working_day_after(date(2026, 9, 30), 1)
        assert f.verify_due > date(2026, 10, 7)  # the Golden Week is not counted
        assert f.rectify_due == nth_working_day_after(date(2026, 9, 30), 15)
    # Beyond the years the holiday table knows, deadlines fall back to weekdays instead of failing.
    assert policy.due(date(2031, 1, 3), 1) == date(2031, 1, 6)


def test_followup_walked_to_closed_with_history(hall: Hall) -> None:
    send(hall, 1, rating("agent-w1", 1, 5, "GA001"))
    headers = hall.user_headers("head-ga", "head-ga-pass-1")
    (f,) = followups(hall, headers)
    url = f"/api/v1/followups/{f['id']}"
    r = hall.client.post(f"{url}/rectify", json={"note": "too early"}, headers=headers)
    assert r.status_code == 409
    r = hall.client.post(f"{url}/verify", json={"note": ""}, headers=headers)
    assert r.status_code == 422
    steps = [
        ("verify", {"note": "经核实，等候时间过长"}),
        ("note", {"note": "已约谈窗口人员"}),
        ("rectify", {"note": "增开午间窗口"}),
        ("close", {"callback_result": "基本满意", "note": "电话回访"}),
    ]
    r = hall.client.post(f"{url}/close", json={"callback_result": "还行"}, headers=headers)
    assert r.status_code == 422
    for action, body in steps:
        r = hall.client.post(f"{url}/{action}", json=body, headers=headers)
        assert r.status_code == 200, r.text
    data = hall.client.get(url, headers=headers).json()
    assert data["status"] == "closed" and data["callback_result"] == "基本满意" and not data["overdue"]
    assert [n["action"] for n in data["notes"]] == ["verify", "note", "rectify", "close"]
    assert (
        data["notes"][3]["text"] == "回访结果：基本满意。电话回访" and data["notes"][0]["author"] == "head-ga"
    )
    assert hall.client.post(f"{url}/appeal", json={"evidence": "x"}, headers=headers).status_code == 409
    assert followups(hall, headers, status="closed")[0]["id"] == f["id"]
    assert followups(hall, headers, status="open") == []


def test_appeal_upheld_removes_rating_from_summary_but_keeps_record(hall: Hall) -> None:
    send(
        hall,
        1,
        rating("agent-w1", 1, 5, "GA001"),
        rating("agent-w1", 1, 4, "GA001"),
        rating("agent-w1", 1, 1, "GA001"),
    )
    sup, head = hall.user_headers(), hall.user_headers("head-ga", "head-ga-pass-1")
    by_level = {f["level"]: f for f in followups(hall, sup)}
    upheld, rejected = by_level[5]["id"], by_level[4]["id"]
    for fid in (upheld, rejected):
        r = hall.client.post(
            f"/api/v1/followups/{fid}/appeal", json={"evidence": "监控显示群众误按"}, headers=head
        )
        assert r.status_code == 200 and r.json()["appeal_status"] == "pending"
    r = hall.client.post(f"/api/v1/followups/{upheld}/appeal", json={"evidence": "again"}, headers=head)
    assert r.status_code == 409
    r = hall.client.post(
        f"/api/v1/followups/{upheld}/appeal/decide", json={"upheld": True, "note": "x"}, headers=head
    )
    assert r.status_code == 403
    r = hall.client.post(
        f"/api/v1/followups/{upheld}/appeal/decide", json={"upheld": True, "note": "证据充分"}, headers=sup
    )
    assert r.status_code == 200 and r.json()["appeal_status"] == "upheld" and r.json()["status"] == "closed"
    r = hall.client.post(
        f"/api/v1/followups/{rejected}/appeal/decide", json={"upheld": False, "note": "证据不足"}, headers=sup
    )
    assert r.status_code == 200 and r.json()["appeal_status"] == "rejected" and r.json()["status"] == "open"
    today = datetime.now(UTC).astimezone(TZ).date().isoformat()
    for params in ({}, {"from": today, "to": today}, {"from": f"{today}T00:00:00"}):
        (row,) = hall.client.get("/api/v1/ratings/summary", params=params, headers=sup).json()["rows"]
        assert row["levels"] == {"1": 1, "2": 0, "3": 0, "4": 1, "5": 0}, params
    with Session(hall.engine) as s:
        kept = s.exec(select(Rating).where(Rating.level == 5)).one()
        assert kept.excluded
    detail = hall.client.get(f"/api/v1/followups/{upheld}", headers=sup).json()
    assert detail["notes"][-1] == {**detail["notes"][-1], "action": "appeal_upheld", "text": "证据充分"}


def test_department_head_and_officer_scope(hall: Hall) -> None:
    send(hall, 1, rating("agent-w1", 1, 5, "GA001"))
    send(hall, 3, rating("agent-w3", 3, 4, "RS001"))
    with session_scope(hall.engine) as s:
        officer = create_user(s, "rs001", "officer-pass-1", Role.OFFICER)
        officer.officer_id = 5  # RS001 in the demo hall
        s.add(officer)
        nobody = create_user(s, "clerk", "clerk-pass-1", Role.OFFICER)
        s.add(nobody)
    sup, head = hall.user_headers(), hall.user_headers("head-ga", "head-ga-pass-1")
    by_dept = {f["department_id"]: f["id"] for f in followups(hall, sup)}
    assert len(by_dept) == 2
    mine = followups(hall, head)
    assert [f["level"] for f in mine] == [5]
    other = next(fid for fid in by_dept.values() if fid != mine[0]["id"])
    assert hall.client.get(f"/api/v1/followups/{other}", headers=head).status_code == 403
    assert (
        hall.client.post(f"/api/v1/followups/{other}/verify", json={"note": "x"}, headers=head).status_code
        == 403
    )
    assert hall.client.get("/api/v1/followups/999999", headers=sup).status_code == 404
    officer_headers = hall.user_headers("rs001", "officer-pass-1")
    own = followups(hall, officer_headers)
    assert [f["id"] for f in own] == [other]
    assert hall.client.get(f"/api/v1/followups/{mine[0]['id']}", headers=officer_headers).status_code == 403
    assert (
        hall.client.post(
            f"/api/v1/followups/{other}/verify", json={"note": "x"}, headers=officer_headers
        ).status_code
        == 403
    )
    assert (
        hall.client.get("/api/v1/followups", headers=hall.user_headers("clerk", "clerk-pass-1")).status_code
        == 403
    )
    with Session(hall.engine) as s:
        assert s.exec(select(User).where(User.username == "rs001")).one().officer_id == 5


def test_overdue_followups_are_flagged_and_filtered(hall: Hall) -> None:
    send(hall, 1, rating("agent-w1", 1, 5, "GA001"), rating("agent-w1", 1, 4, "GA001"))
    with session_scope(hall.engine) as s:
        late = s.exec(select(Followup).where(Followup.level == 5)).one()
        late.verify_due = date(2026, 1, 5)
        s.add(late)
    sup = hall.user_headers()
    overdue = followups(hall, sup, overdue="true")
    assert [f["level"] for f in overdue] == [5] and overdue[0]["overdue"]
    assert sorted(f["overdue"] for f in followups(hall, sup)) == [False, True]


def test_complaints_recorded_assigned_answered_and_overdue(hall: Hall) -> None:
    sup, head = hall.user_headers(), hall.user_headers("head-ga", "head-ga-pass-1")
    body = {
        "channel": "12345",
        "content": "窗口人员态度生硬",
        "window": 1,
        "assignee": "王科长",
        "contact_phone": "13812345678",
    }
    r = hall.client.post("/api/v1/complaints", json=body, headers=head)
    assert r.status_code == 201, r.text
    made = r.json()
    assert made["contact_masked"] == "138****5678" and "contact_hash" not in made and not made["overdue"]
    assert made["answer_due"] == nth_working_day_after(datetime.now(UTC).astimezone(TZ).date(), 1).isoformat()
    r = hall.client.post("/api/v1/complaints", json={**body, "window": 3}, headers=head)
    assert r.status_code == 403
    r = hall.client.post("/api/v1/complaints", json={"channel": "phone", "content": "没说是谁"}, headers=sup)
    assert r.status_code == 409 and "窗口" in r.json()["detail"]
    r = hall.client.post(
        "/api/v1/complaints", json={"channel": "fax", "content": "x", "window": 1}, headers=sup
    )
    assert r.status_code == 422
    r = hall.client.post(
        "/api/v1/complaints",
        json={"channel": "onsite", "content": "排队久", "staff_no": "RS001"},
        headers=sup,
    )
    assert r.status_code == 201 and r.json()["department_id"] != made["department_id"]
    with session_scope(hall.engine) as s:
        c = s.get(Complaint, made["id"])
        assert c is not None and c.contact_hash and "13812345678" not in c.contact_hash
        c.answer_due = date(2026, 1, 5)
        s.add(c)
    listed = hall.client.get("/api/v1/complaints", params={"overdue": "true"}, headers=sup).json()[
        "complaints"
    ]
    assert [c["id"] for c in listed] == [made["id"]]
    assert len(hall.client.get("/api/v1/complaints", headers=head).json()["complaints"]) == 1
    r = hall.client.post(
        f"/api/v1/complaints/{made['id']}/answer", json={"answer": "已致歉并整改"}, headers=head
    )
    assert r.status_code == 200 and r.json()["answered_by"] == "head-ga" and not r.json()["overdue"]
    again = hall.client.post(f"/api/v1/complaints/{made['id']}/answer", json={"answer": "x"}, headers=head)
    assert again.status_code == 409
    unanswered = hall.client.get("/api/v1/complaints", params={"unanswered": "true"}, headers=sup).json()[
        "complaints"
    ]
    assert [c["content"] for c in unanswered] == ["排队久"]
