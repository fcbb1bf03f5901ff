"""The monthly assessment page (月度考核): each officer's grade, the checks that decided it, the rule."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Request, Response
from sqlmodel import Session

from server.api.deps import SessionDep, SettingsDep
from server.repo import registry
from server.services import assessment
from server.services.assessment import AttendanceCounts, Grade
from server.services.ratings import SummaryRow
from server.services.workdays import CalendarRangeError
from server.settings import ServerSettings
from server.timeutil import utcnow
from server.web.deps import PageError, Reader
from server.web.period import local_today
from server.web.render import rate_with_count, render
from server.web.tables import ExportFormat, Link, Table, export

router = APIRouter(prefix="/web", include_in_schema=False)

COLUMNS = [
    ("officer", "工作人员"),
    ("department", "部门"),
    ("grade", "考核等级"),
    ("rated", "评价数"),
    ("satisfaction", "好评率（好评/评价）"),
    ("bad", "差评数"),
    ("marks", "迟到/早退/缺卡"),
    ("absent_days", "旷工天数"),
    ("why", "未达到的考核项"),
]
RULE_COLUMNS = [("check", "考核项"), ("basis", "依据"), ("required_for", "未达到时")]
RULE_TITLE = "考核规则（未达到任一“不称职”项为不称职；其余为称职，另达到全部优秀项为优秀）"
GRADE_ORDER = {Grade.INCOMPETENT.value: 0, Grade.COMPETENT.value: 1, Grade.EXCELLENT.value: 2}


def parse_month(text: str) -> date:
    """The first day of a ``YYYY-MM`` month, or a 422 page."""
    try:
        if len(text) != 7:
            raise ValueError(text)
        return date.fromisoformat(f"{text}-01")
    except ValueError as err:
        raise PageError(422, f"月份格式不正确，应为 年-月（如 2026-11）：{text}") from err


def default_month(today: date) -> str:
    """The month last finished: an assessment is of a whole month."""
    return (today.replace(day=1) - timedelta(days=1)).strftime("%Y-%m")


def _found(check: dict[str, Any]) -> str:
    """The figure a check looked at, as people read it: 好评率 as a percentage."""
    value = check["value"]
    if value is None:
        return "无评价"
    if check["check"].startswith("好评率"):
        return f"{value * 100:.1f}%"
    return f"{value:g}" if isinstance(value, float) else str(value)


def _why(row: dict[str, Any]) -> str:
    """The checks the officer did not pass, with the figure found, e.g. 差评数 < 5：实际 6."""
    failed = [c for c in row["checks"] if not c["passed"]]
    if not failed:
        return "全部达到"
    return "；".join(f"{c['check']}：实际 {_found(c)}" for c in failed)


def assessment_rows(
    session: Session, settings: ServerSettings, month: str, department_id: int | None
) -> list[dict[str, Any]]:
    """Each officer's grade of the month in the scope, lowest grade first, with what decided it."""
    first = parse_month(month)
    now = utcnow()
    if first > local_today(ZoneInfo(settings.timezone)):
        raise PageError(422, f"{month} 尚未开始，无法考核")
    end = (first + timedelta(days=32)).replace(day=1)
    try:
        rows = assessment.monthly(session, settings, first, end, department_id, now)
    except CalendarRangeError as err:
        if err.day.year < err.known[0]:  # before any calendar: no such month to assess
            raise PageError(422, f"无法考核 {month}：{err}") from err
        raise PageError(503, f"无法考核 {month}：{err}") from err
    officers = {o.staff_no: o for o in registry.all_officers(session)}
    departments = {d.id: d.name for d in registry.all_departments(session)}
    out = []
    for r in sorted(rows, key=lambda row: (GRADE_ORDER[row["grade"]], row["staff_no"])):
        officer = officers[r["staff_no"]]
        attendance = r["attendance"]
        out.append(
            {
                "officer": Link(f"{officer.name}（{officer.staff_no}）", f"/web/officers/{officer.staff_no}"),
                "department": departments.get(officer.department_id, ""),
                "grade": r["grade"],
                "rated": r["rated"],
                "satisfaction": rate_with_count(r["satisfied"], r["rated"]),
                "bad": r["bad"],
                "marks": attendance["marks"],
                "absent_days": f"{attendance['absent_days']:g}",
                "why": _why(r),
                "_class": "bad" if r["grade"] == Grade.INCOMPETENT.value else "",
            }
        )
    return out


def rule_rows(settings: ServerSettings) -> list[dict[str, Any]]:
    """The rule's checks as configured: which grade each one decides."""
    rule = settings.assessment
    sample = assessment.rating_checks(SummaryRow(key="", label=""), rule)
    sample += assessment.attendance_checks(AttendanceCounts(), rule)
    return [
        {
            "check": c.text,
            "basis": c.basis,
            "required_for": "不称职" if c.required_for is Grade.COMPETENT else "不能评为优秀",
        }
        for c in sample
    ]


def tables(session: Session, settings: ServerSettings, month: str, department_id: int | None) -> list[Table]:
    """The grades of the month and the rule they were computed with."""
    rows = assessment_rows(session, settings, month, department_id)
    counts = {g.value: sum(1 for r in rows if r["grade"] == g.value) for g in Grade}
    title = f"{month} 月度考核（" + "，".join(f"{g} {n} 人" for g, n in counts.items()) + "）"
    return [
        Table(title, COLUMNS, rows, empty="没有在岗工作人员"),
        Table(RULE_TITLE, RULE_COLUMNS, rule_rows(settings)),
    ]


@router.get("/assessment", response_model=None)
def assessment_page(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    viewer: Reader,
    month: str = "",
    format: ExportFormat | None = None,
) -> Response:
    """Each officer's monthly grade in the viewer's scope, with every check shown; exports too."""
    chosen = month or default_month(local_today(ZoneInfo(settings.timezone)))
    found = tables(session, settings, chosen, viewer.scope)
    if format is not None:
        return export(found, format, f"assessment-{chosen}")
    context = viewer.context(title="月度考核", active="assessment", tables=found, month=chosen)
    return render(request, "assessment.html", context)
