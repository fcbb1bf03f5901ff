"""The supervisor pages in headless Chromium against a real `hall server` with a simulated day."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from openpyxl import load_workbook

from hall.processes import wait_http
from server.db import make_engine, session_scope
from server.models.users import Role
from server.services.admin import create_user
from server.services.workdays import known_years
from tests.e2e.harness import RunningHall, prepared_hall
from tests.server.conftest import SUPERVISOR_PASSWORD
from tests.web.conftest import HEAD_PASSWORD, HEAD_USER, add_officer_user
from tests.web.day import Day, simulate_day

pytestmark = [pytest.mark.browser, pytest.mark.e2e, pytest.mark.timeout(240)]

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "test-artifacts"
SCREENSHOTS = ROOT / "docs" / "screenshots"
ADMIN_USER, ADMIN_PASSWORD = "admin-web", "admin-web-pass-1"
NEXT_YEAR = known_years()[1] + 1  # the first year chinese-calendar does not know
SERVER_ENV = {"HALL_DEMO": "1", "HALL_QUEUE_LAST_TICKET_TIME": "23:59", "HALL_QUEUE_CLOSING_TIME": "23:59"}


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[RunningHall, Day]]:
    """A `hall server` process over the demo hall with a simulated day of data."""
    hall = prepared_hall(tmp_path_factory.mktemp("web"))
    engine = make_engine(hall.database_url)
    add_officer_user(engine)
    with session_scope(engine) as session:
        create_user(session, ADMIN_USER, ADMIN_PASSWORD, Role.ADMIN)
    engine.dispose()
    try:
        env = {**SERVER_ENV, "HALL_DATABASE_URL": hall.database_url}
        proc = hall.group.start("server", "server", "--port", str(hall.port), env=env)
        wait_http(f"{hall.server_url}/healthz", 60, proc)
        with httpx.Client(base_url=hall.server_url, timeout=15) as client:
            day = simulate_day(client, hall.keys)
        yield hall, day
    finally:
        hall.group.stop()


@pytest.fixture
def context(browser: Any, served: tuple[RunningHall, Day]) -> Iterator[Any]:
    """A fresh browser profile (own cookies) on the running server."""
    ctx = browser.new_context(
        base_url=served[0].server_url,
        viewport={"width": 1440, "height": 1000},
        locale="zh-CN",
        accept_downloads=True,
    )
    ctx.set_default_timeout(15_000)
    yield ctx
    ctx.close()


def login(ctx: Any, username: str, password: str) -> Any:
    """Log in through the form; return the page."""
    page = ctx.new_page()
    page.goto("/web/login")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", password)
    page.click("#login")
    page.wait_for_load_state()
    return page


def shot(page: Any, name: str) -> None:
    """Save a full-page screenshot under test-artifacts/ and keep the current one in docs/screenshots/."""
    ARTIFACTS.mkdir(exist_ok=True)
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    target = ARTIFACTS / f"supervisor-{name}.png"
    page.screenshot(path=str(target), full_page=True)
    shutil.copyfile(target, SCREENSHOTS / target.name)


def visit(page: Any, path: str) -> str:
    """Open a page, require a success status, return its text."""
    response = page.goto(path)
    assert response is not None and response.status == 200, (path, response and response.status)
    text: str = page.inner_text("body")
    return text


def test_every_page_renders_the_day(context: Any, served: tuple[RunningHall, Day]) -> None:
    _, day = served
    page = login(context, "supervisor", SUPERVISOR_PASSWORD)
    assert page.url.endswith("/web/")
    text = page.inner_text("body")
    assert "王芳（GA001）" in text and "空岗" in text and "串口无响应" in text and "4/6" in text
    shot(page, "overview")
    text = visit(page, "/web/ratings")
    assert "王芳（GA001）" in text and "（3/4）" in text and page.locator("svg.chart").count() == 2
    shot(page, "ratings")
    assert "办件" in visit(page, "/web/officers/GA001")
    shot(page, "officer")
    text = visit(page, f"/web/attendance?date={day.past_day.isoformat()}")
    assert "王芳（GA001）" in text and "考勤日报" in text
    shot(page, "attendance")
    assert "需通报" in visit(page, "/web/attendance?view=weekly") or "考勤周报" in page.inner_text("body")
    assert "考勤月报（部门）" in visit(page, "/web/attendance?view=monthly")
    text = visit(page, f"/web/assessment?month={day.past_day:%Y-%m}")
    assert "王芳（GA001）" in text and "考核规则" in text and "未达到的考核项" in text
    shot(page, "assessment")
    assert "差评整改列表" in visit(page, "/web/followups")
    shot(page, "followups")
    assert "投诉列表" in visit(page, "/web/complaints")
    assert "已超期办件" in visit(page, "/web/cases")
    shot(page, "cases")
    assert "居民身份证申领" in visit(page, "/web/registry")
    text = visit(page, "/web/devices")
    assert "agent-w1" in text and "串口无响应" in text
    shot(page, "devices")
    assert "登录" in visit(page, "/web/audit")


def test_followup_from_bad_review_to_closed(context: Any) -> None:
    page = login(context, "supervisor", SUPERVISOR_PASSWORD)
    visit(page, "/web/followups")
    page.locator("tr", has_text="王芳（GA001）").locator("a").first.click()
    page.wait_for_selector("#facts")
    assert "待核实" in page.inner_text("#facts")
    page.fill("#form-verify textarea", "调取录像核实：办理时间较长，群众等候不耐烦")
    page.click("#form-verify button")
    page.fill("#form-rectify textarea", "优化材料预审流程，窗口增设引导")
    page.click("#form-rectify button")
    page.select_option("#form-close select[name=callback_result]", "满意")
    page.fill("#form-close textarea", "电话回访，群众表示满意")
    page.click("#form-close button")
    page.wait_for_selector("#flash")
    assert "已办结" in page.inner_text("#facts") and "满意" in page.inner_text("#facts")
    notes = page.inner_text("#notes")
    assert "核实" in notes and "整改" in notes and "回访办结" in notes
    shot(page, "followup")
    assert "差评核实" in visit(page, "/web/audit?action=followup_verify")
    shot(page, "audit")


def test_export_downloads_open_in_openpyxl(context: Any, tmp_path: Path) -> None:
    page = login(context, "supervisor", SUPERVISOR_PASSWORD)
    visit(page, "/web/ratings")
    with page.expect_download() as info:
        page.click(".export-xlsx")
    path = tmp_path / "ratings.xlsx"
    info.value.save_as(path)
    sheet = load_workbook(path).worksheets[0]
    heading, *rows = list(sheet.iter_rows(values_only=True))
    assert heading[:3] == ("名次", "工作人员", "得分（Wilson 95%下限）")
    assert any(row[1] == "王芳（GA001）" for row in rows)


def test_department_head_cannot_see_another_department(context: Any, served: tuple[RunningHall, Day]) -> None:
    hall, _ = served
    page = login(context, HEAD_USER, HEAD_PASSWORD)
    text = page.inner_text("body")
    assert "王芳" in text and "陈静" not in text
    response = page.goto("/web/officers/RS001")
    assert response is not None and response.status == 403
    assert "无权" in page.inner_text("#error")
    token = httpx.post(
        f"{hall.server_url}/api/v1/auth/token", data={"username": HEAD_USER, "password": HEAD_PASSWORD}
    ).json()["access_token"]
    r = httpx.get(
        f"{hall.server_url}/api/v1/cases",
        params={"department": "RS"},
        headers={"Authorization": f"Bearer {token}"},
    )
    assert r.status_code == 403


def test_form_post_without_token_is_refused(context: Any) -> None:
    page = login(context, "supervisor", SUPERVISOR_PASSWORD)
    response = page.request.post("/web/devices/agent-w6/revoke", form={"confirm": "agent-w6"})
    assert response.status == 403 and "安全校验失败" in response.text()
    assert "密钥已吊销" not in visit(page, "/web/devices")


def test_officer_sees_own_profile_only(context: Any) -> None:
    page = login(context, "officer-ga001", "officer-pass-1")
    assert "/web/officers/GA001" in page.url
    response = page.goto("/web/ratings")
    assert response is not None and response.status == 403


def test_login_rate_limit(context: Any) -> None:
    for _ in range(5):
        page = login(context, "intruder", "guess")
        assert "用户名或密码错误" in page.inner_text("#error")
        page.close()
    page = login(context, "intruder", "guess")
    assert "登录失败次数过多" in page.inner_text("#error")
    shot(page, "login-limited")


def test_supervisor_enters_a_leave_and_approves_it(context: Any, served: tuple[RunningHall, Day]) -> None:
    _, day = served
    page = login(context, "supervisor", SUPERVISOR_PASSWORD)
    visit(page, "/web/attendance")
    page.select_option("#leave-officer", "GA002")
    page.select_option("#leave-type", "病假")
    page.fill("#leave-start", f"{day.past_day}T13:00")
    page.fill("#leave-end", f"{day.past_day}T12:00")
    page.fill("#leave-reason", "发热就医")
    page.click("#form-leave button")
    page.wait_for_selector("#error")
    assert "请假结束时间必须晚于开始时间" in page.inner_text("#error")
    # Nothing typed is lost: mend the end time only.
    assert page.input_value("#leave-reason") == "发热就医" and page.input_value("#leave-officer") == "GA002"
    page.fill("#leave-end", f"{day.past_day}T17:00")
    page.click("#form-leave button")
    page.wait_for_selector("text=请假已登记，待审批")
    row = page.locator("#pending-leave tr", has_text="发热就医")
    assert "病假" in row.inner_text()
    shot(page, "attendance-leave")
    row.locator("form[id$=-approve] button").click()
    page.wait_for_selector("text=已批准请假")
    assert "发热就医" not in page.inner_text("#pending-leave")


def test_admin_enters_the_next_years_holidays(context: Any) -> None:
    """Last in this module: it changes the hall's calendar for the year after the library's."""
    page = login(context, ADMIN_USER, ADMIN_PASSWORD)
    text = visit(page, f"/web/calendar?year={NEXT_YEAR}")
    assert "未包含" in text and "未标记已录入" in page.inner_text("#entered-status")
    page.fill("#form-calendar textarea[name=closed]", f"{NEXT_YEAR}-01-01 元旦\n{NEXT_YEAR}-13-01 错误")
    page.fill("#form-calendar textarea[name=working]", f"{NEXT_YEAR}-02-20 春节调休")
    page.check("#form-calendar input[name=entered]")
    page.click("#form-calendar button")
    page.wait_for_selector("text=工作日历未保存")
    assert "放假日第 2 行" in page.inner_text("body")
    # What was typed is still there: mend the one line and save.
    assert "春节调休" in page.input_value("#form-calendar textarea[name=working]")
    page.fill("#form-calendar textarea[name=closed]", f"{NEXT_YEAR}-01-01 元旦\n{NEXT_YEAR}-02-10 春节")
    page.click("#form-calendar button")
    page.wait_for_selector("text=工作日历已保存")
    assert "已录入" in page.inner_text("#entered-status") and ADMIN_USER in page.inner_text("#entered-status")
    assert "春节调休" in page.inner_text("body") and "周六" in page.inner_text("body")
    shot(page, "calendar")
