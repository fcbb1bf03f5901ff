"""The working-day calendar page in process, on SQLite and PostgreSQL: roles, CSRF, errors kept, saving."""

from __future__ import annotations

import re

import pytest

from server.db import session_scope
from server.models import CalendarDay
from server.models.users import Role
from server.services.admin import create_user
from server.services.workdays import known_years
from tests.server.conftest import SUPERVISOR_PASSWORD, Hall
from tests.web.conftest import HEAD_PASSWORD, HEAD_USER, count, csrf_of, web_login

pytestmark = pytest.mark.timeout(120)

NEXT = known_years()[1] + 1  # 2027 with chinese-calendar 1.11
PAGE = f"/web/calendar?year={NEXT}"
CLOSED = f"{NEXT}-01-01 元旦\n\n{NEXT}-02-10 春节\n"
WORKING = f"{NEXT}-02-20 春节调休"


def _login_admin(hall: Hall) -> str:
    with session_scope(hall.engine) as session:
        create_user(session, "admin-web", "admin-web-pass-1", Role.ADMIN)
    assert web_login(hall.client, "admin-web", "admin-web-pass-1").status_code == 303
    return csrf_of(hall.client.get(PAGE).text)


def _textarea(html: str, name: str) -> str:
    found = re.search(rf'<textarea name="{name}"[^>]*>(.*?)</textarea>', html, re.S)
    assert found, f"no text area {name}"
    return found.group(1)


def test_admin_enters_a_year_and_a_mistake_keeps_what_was_typed(hall: Hall) -> None:
    token = _login_admin(hall)
    page = hall.client.get(PAGE).text
    assert "工作日历" in page and 'href="/web/calendar"' in page  # in the menu
    assert "未包含" in page and "未标记已录入" in page and 'id="form-calendar"' in page
    typo = CLOSED + f"{NEXT}-13-01 错误"
    form = {"csrf_token": token, "closed": typo, "working": WORKING, "entered": "1"}
    r = hall.client.post(f"/web/calendar/{NEXT}", data=form)
    assert r.status_code == 422 and "放假日第 4 行" in r.text and "工作日历未保存" in r.text
    assert _textarea(r.text, "closed").strip() == typo.strip() and WORKING in r.text
    assert count(hall.engine, CalendarDay) == 0
    r = hall.client.post(f"/web/calendar/{NEXT}", data={**form, "closed": CLOSED}, follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == f"{PAGE}&done=saved"
    page = hall.client.get(r.headers["location"]).text
    assert "工作日历已保存" in page and 'id="entered-status"><span class="tag green">已录入' in page
    assert "admin-web" in page
    assert "春节调休" in page and "周六" in page  # the make-up day in its table, with its weekday
    assert _textarea(page, "closed") == f"{NEXT}-01-01 元旦\n{NEXT}-02-10 春节"
    assert count(hall.engine, CalendarDay) == 3
    body = hall.client.get(f"/api/v1/calendar/{NEXT}", headers=hall.user_headers()).json()
    assert body["entered"] is True and body["working"] == [{"day": f"{NEXT}-02-20", "note": "春节调休"}]
    entries = hall.client.get("/api/v1/audit", headers=hall.user_headers()).json()["entries"]
    assert [e["client"] for e in entries if e["action"] == "calendar_year_save"] == ["testclient"]


def test_a_form_without_its_token_is_refused(hall: Hall) -> None:
    _login_admin(hall)
    r = hall.client.post(f"/web/calendar/{NEXT}", data={"closed": CLOSED, "entered": "1"})
    assert r.status_code == 403 and "安全校验失败" in r.text
    assert count(hall.engine, CalendarDay) == 0


def test_supervisors_read_the_page_and_others_are_turned_away(hall: Hall) -> None:
    assert web_login(hall.client, "supervisor", SUPERVISOR_PASSWORD).status_code == 303
    page = hall.client.get(PAGE)
    assert page.status_code == 200 and 'id="form-calendar"' not in page.text
    assert "已包含" in hall.client.get(f"/web/calendar?year={NEXT - 1}").text
    assert hall.client.get("/web/calendar?year=1999").status_code == 422
    form = {"csrf_token": csrf_of(page.text), "closed": CLOSED, "entered": "1"}
    assert hall.client.post(f"/web/calendar/{NEXT}", data=form).status_code == 403
    assert count(hall.engine, CalendarDay) == 0
    hall.client.cookies.clear()
    assert web_login(hall.client, HEAD_USER, HEAD_PASSWORD).status_code == 303
    assert hall.client.get(PAGE).status_code == 403
