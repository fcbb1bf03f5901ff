"""The monthly assessment page in process, on SQLite and PostgreSQL: grades, reasons, scope, exports."""

from __future__ import annotations

import io
from datetime import date
from zoneinfo import ZoneInfo

import pytest
from openpyxl import load_workbook

from server.settings import ServerSettings
from server.web.assessment_page import default_month
from server.web.period import local_today
from tests.server.conftest import SUPERVISOR_PASSWORD, Hall
from tests.server.test_assessment import MONTH, ON_TIME, punches, ratings, send, working_days
from tests.web.conftest import (
    HEAD_PASSWORD,
    HEAD_USER,
    OFFICER_PASSWORD,
    OFFICER_USER,
    add_officer_user,
    web_login,
)

pytestmark = pytest.mark.timeout(120)

PAGE = f"/web/assessment?month={MONTH}"


def _month_of_data(hall: Hall) -> None:
    """GA001 优秀 (late once, 25 good ratings); GA002 不称职 (two days absent); RS001 不称职 (6 marks)."""
    days = working_days(MONTH)
    late_in = ((9, 20), *ON_TIME[1:])
    early_out = (*ON_TIME[:3], (16, 40))
    send(
        hall, 1, punches(1, days[1:]) + punches(1, days[:1], late_in) + ratings(1, "GA001", [1] * 25, days[3])
    )
    send(hall, 2, punches(2, days[2:]) + ratings(2, "GA002", [1] * 19 + [5], days[3]))
    send(hall, 3, punches(3, days[6:]) + punches(3, days[:3], late_in) + punches(3, days[3:6], early_out))


def _row(html: str, name: str) -> str:
    start = html.index(name)
    return html[start : html.index("</tr>", start)]


def test_supervisor_sees_each_grade_with_the_checks_that_decided_it(hall: Hall) -> None:
    _month_of_data(hall)
    assert web_login(hall.client, "supervisor", SUPERVISOR_PASSWORD).status_code == 303
    r = hall.client.get(PAGE)
    assert r.status_code == 200, r.text[:500]
    page = r.text
    assert 'href="/web/assessment"' in page and "月度考核" in page  # in the menu
    assert "优秀 1 人" in page and "不称职 11 人" in page  # everyone else never punched
    ga001 = _row(page, "王芳（GA001）")
    assert "优秀" in ga001 and "全部达到" in ga001 and "100.0%（25/25）" in ga001
    ga002 = _row(page, "GA002）")
    assert "不称职" in ga002 and "95.0%（19/20）" in ga002
    assert "旷工天数 &lt; 2：实际 2" in ga002 and "差评数 ≤ 0（优秀）：实际 1" in ga002
    rs001 = _row(page, "RS001）")
    assert "迟到/早退/缺卡次数 &lt; 6：实际 6" in rs001
    assert "考核规则" in page and "不能评为优秀" in page and "好评率 ≥ 0.9" in page
    assert page.index("GA002）") < page.index("王芳（GA001）")  # the lowest grades come first

    sheet = load_workbook(io.BytesIO(hall.client.get(f"{PAGE}&format=xlsx").content)).worksheets[0]
    heading, *rows = list(sheet.iter_rows(values_only=True))
    assert heading[:3] == ("工作人员", "部门", "考核等级")
    assert ("王芳（GA001）", "优秀") in {(row[0], row[2]) for row in rows}
    csv_text = hall.client.get(f"{PAGE}&format=csv").content.decode("utf-8-sig")
    assert "旷工天数 < 2：实际 2" in csv_text


def test_department_head_sees_own_department_only_and_officers_are_turned_away(hall: Hall) -> None:
    _month_of_data(hall)
    assert web_login(hall.client, HEAD_USER, HEAD_PASSWORD).status_code == 303
    page = hall.client.get(PAGE).text
    assert "王芳（GA001）" in page and "RS001" not in page
    hall.client.cookies.clear()
    add_officer_user(hall.engine)
    assert web_login(hall.client, OFFICER_USER, OFFICER_PASSWORD).status_code == 303
    r = hall.client.get(PAGE)
    assert r.status_code == 403 and "无权访问" in r.text


def test_a_month_that_cannot_be_assessed_is_explained(hall: Hall) -> None:
    assert web_login(hall.client, "supervisor", SUPERVISOR_PASSWORD).status_code == 303
    for month, status, text in (
        ("2026/10", 422, "月份格式不正确"),
        ("2026-13", 422, "月份格式不正确"),
        ("2999-01", 422, "尚未开始"),
        ("0185-01", 422, "工作日历不包含 185 年"),
    ):
        r = hall.client.get(f"/web/assessment?month={month}")
        assert r.status_code == status and text in r.text, (month, r.text[:300])


def test_the_page_opens_on_the_month_last_finished(hall: Hall) -> None:
    assert default_month(date(2026, 1, 5)) == "2025-12"
    assert default_month(date(2026, 3, 31)) == "2026-02"
    assert web_login(hall.client, "supervisor", SUPERVISOR_PASSWORD).status_code == 303
    page = hall.client.get("/web/assessment").text
    expected = default_month(local_today(ZoneInfo(ServerSettings(demo=True).timezone)))
    assert f'name="month" value="{expected}"' in page
