"""The pages and the audit API in process, on SQLite and PostgreSQL: scope, CSRF, rate limit, audit."""

from __future__ import annotations

import datetime as dt
import io

import pytest
from openpyxl import load_workbook
from sqlmodel import Session, select

from server.models import AuditEntry, Followup, FollowupNote
from tests.server.conftest import SUPERVISOR_PASSWORD, Hall
from tests.web.conftest import HEAD_PASSWORD, HEAD_USER, add_officer_user, count, csrf_of, web_login
from tests.web.day import simulate_day

pytestmark = pytest.mark.timeout(120)

PAGES = [
    "/web/",
    "/web/ratings",
    "/web/ratings?group_by=department",
    "/web/officers/GA001",
    "/web/attendance",
    "/web/attendance?view=weekly",
    "/web/attendance?view=monthly",
    "/web/assessment",
    f"/web/assessment?month={dt.date.today():%Y-%m}",
    "/web/followups",
    "/web/complaints",
    "/web/cases",
    "/web/registry",
    "/web/devices",
    "/web/calendar",
    "/web/audit",
]


def _followup_ids(hall: Hall) -> dict[str, int]:
    """Follow-up id per department code of the window (GA, RS)."""
    with Session(hall.engine) as s:
        rows = s.exec(select(Followup)).all()
        return {("GA" if f.window_id in (1, 2) else "RS"): f.id or 0 for f in rows}


def test_every_page_renders_with_a_day_of_data_and_exports(hall: Hall) -> None:
    simulate_day(hall.client, hall.keys)
    assert web_login(hall.client, "supervisor", SUPERVISOR_PASSWORD).status_code == 303
    for path in PAGES:
        r = hall.client.get(path)
        assert r.status_code == 200, (path, r.text[:500])
    overview = hall.client.get("/web/").text
    assert "王芳（GA001）" in overview and "空岗" in overview and "串口无响应" in overview
    ratings = hall.client.get("/web/ratings").text
    assert "<svg" in ratings and "Wilson" in ratings and "（3/4）" in ratings  # 王芳: 3 good of 4 rated
    r = hall.client.get("/web/ratings?format=xlsx")
    sheet = load_workbook(io.BytesIO(r.content)).worksheets[0]
    heading, *rows = list(sheet.iter_rows(values_only=True))
    assert heading[0] == "名次" and any(row[1] == "王芳（GA001）" for row in rows)
    csv_text = hall.client.get("/web/cases?format=csv").content.decode("utf-8-sig")
    assert "已超期办件" in csv_text


def test_department_head_sees_only_own_department(hall: Hall) -> None:
    simulate_day(hall.client, hall.keys)
    ids = _followup_ids(hall)
    assert web_login(hall.client, HEAD_USER, HEAD_PASSWORD).status_code == 303
    overview = hall.client.get("/web/").text
    assert "王芳" in overview and "陈静" not in overview  # 陈静 (RS001) is in RS
    assert "陈静" not in hall.client.get("/web/ratings").text
    assert hall.client.get("/web/officers/RS001").status_code == 403
    assert hall.client.get(f"/web/followups/{ids['RS']}").status_code == 403
    assert hall.client.get(f"/web/followups/{ids['GA']}").status_code == 200
    assert hall.client.get("/web/audit").status_code == 403
    headers = hall.user_headers(HEAD_USER, HEAD_PASSWORD)
    rows = hall.client.get("/api/v1/ratings/summary?group_by=department", headers=headers).json()["rows"]
    assert [r["label"] for r in rows] == ["市公安局"]
    assert hall.client.get("/api/v1/cases?department=RS", headers=headers).status_code == 403


def test_officer_sees_only_own_profile(hall: Hall) -> None:
    add_officer_user(hall.engine)
    assert web_login(hall.client, "officer-ga001", "officer-pass-1").status_code == 303
    r = hall.client.get("/web/")
    assert r.status_code == 200 and "工作人员：王芳（GA001）" in r.text
    assert hall.client.get("/web/officers/GA002").status_code == 403
    assert hall.client.get("/web/ratings").status_code == 403


def test_form_without_csrf_token_is_refused_and_changes_nothing(hall: Hall) -> None:
    simulate_day(hall.client, hall.keys)
    followup = _followup_ids(hall)["GA"]
    web_login(hall.client, "supervisor", SUPERVISOR_PASSWORD)
    r = hall.client.post(f"/web/followups/{followup}/verify", data={"text": "核实"})
    assert r.status_code == 403 and "安全校验失败" in r.text
    r = hall.client.post(f"/web/followups/{followup}/verify", data={"text": "核实", "csrf_token": "forged"})
    assert r.status_code == 403
    assert count(hall.engine, FollowupNote) == 0
    # A log-in form without the double-submit token is refused too.
    r = hall.client.post("/web/login", data={"username": "supervisor", "password": SUPERVISOR_PASSWORD})
    assert r.status_code == 403


def test_followup_steps_are_audited_and_bad_input_is_kept(hall: Hall) -> None:
    simulate_day(hall.client, hall.keys)
    followup = _followup_ids(hall)["GA"]
    web_login(hall.client, "supervisor", SUPERVISOR_PASSWORD)
    page = hall.client.get(f"/web/followups/{followup}").text
    token = csrf_of(page)
    r = hall.client.post(f"/web/followups/{followup}/rectify", data={"text": "先整改", "csrf_token": token})
    assert r.status_code == 409 and "先整改" in r.text  # wrong order: refused, the typed text kept
    for action, extra in (("verify", {}), ("rectify", {}), ("close", {"callback_result": "满意"})):
        data = {"text": f"{action} 说明", "csrf_token": token, **extra}
        r = hall.client.post(f"/web/followups/{followup}/{action}", data=data, follow_redirects=False)
        assert r.status_code == 303, r.text
    assert "已办结" in hall.client.get(f"/web/followups/{followup}").text
    entries = hall.client.get("/api/v1/audit", headers=hall.user_headers()).json()["entries"]
    actions = [e["action"] for e in entries if e["target"] == f"followup:{followup}"]
    assert actions == ["followup_close", "followup_rectify", "followup_verify"]
    assert entries[0]["actor"] == "supervisor" and entries[0]["details"]["callback_result"] == "满意"
    head = hall.user_headers(HEAD_USER, HEAD_PASSWORD)
    assert hall.client.get("/api/v1/audit", headers=head).status_code == 403


def test_login_is_rate_limited_per_username(hall: Hall) -> None:
    for _ in range(5):
        assert web_login(hall.client, "supervisor", "wrong-password").status_code == 401
    r = web_login(hall.client, "supervisor", SUPERVISOR_PASSWORD)
    assert r.status_code == 429 and "登录失败次数过多" in r.text and int(r.headers["Retry-After"]) > 0
    assert count(hall.engine, AuditEntry, AuditEntry.action == "login_failed") == 5
    # Another account from the same address is not blocked by these five.
    assert web_login(hall.client, HEAD_USER, HEAD_PASSWORD).status_code == 303


def test_logout_needs_the_token_and_ends_the_session(hall: Hall) -> None:
    web_login(hall.client, "supervisor", SUPERVISOR_PASSWORD)
    token = csrf_of(hall.client.get("/web/").text)
    assert hall.client.post("/web/logout", data={}).status_code == 403
    assert (
        hall.client.post("/web/logout", data={"csrf_token": token}, follow_redirects=False).status_code == 303
    )
    r = hall.client.get("/web/", follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"].startswith("/web/login")
