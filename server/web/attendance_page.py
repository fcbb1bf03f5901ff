"""Attendance: daily marks with unstaffed windows, weekly notice flags, the monthly summary."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from datetime import date as date_type
from enum import StrEnum
from typing import Any, Unpack
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Request, Response
from sqlmodel import Session

from server.api.deps import SessionDep, SettingsDep
from server.models.attendance_rules import LeaveType
from server.services.attendance import AttendanceError
from server.services.attendance.evaluate import Scope, evaluate_range
from server.services.attendance.export import DEPARTMENT_COLUMNS, OFFICER_COLUMNS
from server.services.attendance.rules import Mark, MarkKind
from server.services.attendance.schedule import (
    load_rules,
    parse_day,
    parse_month,
    parse_week,
    working_day_rule,
)
from server.services.attendance.summary import monthly_summary, weekly_rows
from server.services.attendance.unstaffed import unstaffed_windows
from server.settings import ServerSettings
from server.timeutil import utcnow
from server.web import attendance_requests
from server.web.deps import PageError, Reader, Viewer
from server.web.period import local_today
from server.web.render import FormState, local_text, render_form
from server.web.tables import ExportFormat, Link, Table, export

router = APIRouter(prefix="/web", include_in_schema=False)

MARK_NAMES = {
    MarkKind.ON_TIME: "正常",
    MarkKind.LATE: "迟到",
    MarkKind.EARLY_LEAVE: "早退",
    MarkKind.ABSENT_HALF: "旷工半天",
    MarkKind.ABSENT_DAY: "旷工一天",
    MarkKind.MISSED_PUNCH: "缺卡",
    MarkKind.ON_LEAVE: "请假",
}
PERIOD_NAMES = {0: "上午", 1: "下午"}


class View(StrEnum):
    """The three reports of the attendance page."""

    DAILY = "daily"
    WEEKLY = "weekly"
    MONTHLY = "monthly"


def marks_text(marks: Iterable[Mark]) -> str:
    """Marks as people read them, e.g. 上午迟到12分钟；下午正常."""
    parts = []
    for m in marks:
        where = "" if m.period is None else PERIOD_NAMES.get(m.period, f"第{m.period + 1}时段")
        minutes = f"{m.minutes}分钟" if m.minutes and m.kind in (MarkKind.LATE, MarkKind.EARLY_LEAVE) else ""
        parts.append(f"{where}{MARK_NAMES[m.kind]}{minutes}")
    return "；".join(parts)


def _officer(staff_no: str, name: str) -> Link:
    return Link(f"{name}（{staff_no}）", f"/web/officers/{staff_no}")


def _scope(
    session: Session, settings: ServerSettings, first: date, last: date, department_id: int | None
) -> Scope:
    is_working = working_day_rule(session, settings)
    return Scope(first, last, ZoneInfo(settings.timezone), is_working, department_id, utcnow())


def daily_tables(
    session: SessionDep, settings: ServerSettings, day: date, scope_id: int | None
) -> list[Table]:
    """Each officer's marks and punches of the day, and the windows left unstaffed."""
    scope = _scope(session, settings, day, day, scope_id)
    rows = []
    for r in evaluate_range(session, scope):
        bad = any(m.kind not in (MarkKind.ON_TIME, MarkKind.ON_LEAVE) for m in r.marks)
        rows.append(
            {
                "officer": _officer(r.officer.staff_no, r.officer.name),
                "department": r.department.name,
                "marks": marks_text(r.marks),
                "punches": "、".join(
                    f"{p.at:%H:%M}" + ("（补卡）" if p.source == "makeup" else "") for p in r.punches
                ),
                "covered_by": "、".join(r.covered_by),
                "_class": "bad" if bad else "",
            }
        )
    columns = [
        ("officer", "工作人员"),
        ("department", "部门"),
        ("marks", "考勤结果"),
        ("punches", "打卡"),
        ("covered_by", "B岗顶岗"),
    ]
    tz = ZoneInfo(settings.timezone)
    gaps = [
        {
            "window": f"{a['window']}号窗口",
            "from": local_text(a["from"], tz, "%H:%M"),
            "to": "至今" if a["ongoing"] else local_text(a["to"], tz, "%H:%M"),
            "minutes": a["minutes"],
        }
        for a in unstaffed_windows(session, scope)
    ]
    gap_columns = [("window", "窗口"), ("from", "开始"), ("to", "结束"), ("minutes", "时长（分钟）")]
    return [
        Table(f"{day} 考勤日报", columns, rows, empty="当日无已结束的工作时段（非工作日或尚未下班）"),
        Table(f"{day} 空岗记录", gap_columns, gaps, empty="无空岗"),
    ]


def weekly_table(session: SessionDep, settings: ServerSettings, week: str, scope_id: int | None) -> Table:
    """Late, early and absent marks of the week; officers at the notice threshold flagged."""
    first, last = parse_week(week)
    rules = load_rules(session)
    rows = []
    for r in weekly_rows(
        evaluate_range(session, _scope(session, settings, first, last, scope_id), rules),
        rules.weekly_notice_marks,
    ):
        rows.append(
            {
                **r,
                "officer": _officer(r["staff_no"], r["name"]),
                "flagged": "需通报" if r["flagged"] else "",
                "_class": "bad" if r["flagged"] else "",
            }
        )
    columns = [
        ("officer", "工作人员"),
        ("department", "部门"),
        ("late", "迟到"),
        ("early_leave", "早退"),
        ("absent", "旷工"),
        ("marks", "合计"),
        ("flagged", "通报"),
    ]
    return Table(f"{week.upper()}（{first} 至 {last}）考勤周报", columns, rows)


def monthly_tables(
    session: SessionDep, settings: ServerSettings, month: str, scope_id: int | None
) -> list[Table]:
    """The month's totals per officer and per department."""
    first, last = parse_month(month)
    summary = monthly_summary(evaluate_range(session, _scope(session, settings, first, last, scope_id)))
    officers = [{**r, "name": _officer(r["staff_no"], r["name"])} for r in summary["officers"]]
    return [
        Table(f"{month} 考勤月报（个人）", OFFICER_COLUMNS, officers),
        Table(f"{month} 考勤月报（部门）", DEPARTMENT_COLUMNS, summary["departments"]),
    ]


@router.get("/attendance", response_model=None)
def attendance_page(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    viewer: Reader,
    view: View = View.DAILY,
    date: str | None = None,
    week: str | None = None,
    month: str | None = None,
    format: ExportFormat | None = None,
    done: str = "",
) -> Response:
    """The daily, weekly or monthly attendance report of the viewer's scope, and pending requests."""
    chosen = Chosen(view, date, week, month)
    if format is not None:
        return export(report_tables(session, settings, viewer, chosen), format, f"attendance-{view.value}")
    return page(request, session, settings, viewer, chosen, flash=attendance_requests.DONE.get(done, ""))


@dataclass(frozen=True)
class Chosen:
    """The report asked for; a missing day, week or month is the current one."""

    view: View = View.DAILY
    date: str | None = None
    week: str | None = None
    month: str | None = None

    def filled(self, today: date_type) -> dict[str, Any]:
        """The day, week and month the form shows."""
        iso = today.isocalendar()
        return {
            "date": self.date or today.isoformat(),
            "week": self.week or f"{iso.year}-W{iso.week:02d}",
            "month": self.month or today.strftime("%Y-%m"),
        }


def report_tables(session: Session, settings: ServerSettings, viewer: Viewer, chosen: Chosen) -> list[Table]:
    """The tables of the chosen report, in the viewer's scope."""
    filled = chosen.filled(local_today(ZoneInfo(settings.timezone)))
    try:
        if chosen.view is View.DAILY:
            return daily_tables(session, settings, parse_day(filled["date"]), viewer.scope)
        if chosen.view is View.WEEKLY:
            return [weekly_table(session, settings, filled["week"], viewer.scope)]
        return monthly_tables(session, settings, filled["month"], viewer.scope)
    except AttendanceError as err:
        raise PageError(422, f"查询条件不正确：{err}") from err


def page(
    request: Request,
    session: Session,
    settings: ServerSettings,
    viewer: Viewer,
    chosen: Chosen,
    **form: Unpack[FormState],
) -> Response:
    """The attendance page: the report, the pending requests, and the forms to enter new ones."""
    tz = ZoneInfo(settings.timezone)
    context = viewer.context(
        title="考勤",
        active="attendance",
        tables=report_tables(session, settings, viewer, chosen),
        view=chosen.view.value,
        chosen=chosen.filled(local_today(tz)),
        pending=attendance_requests.pending(session, viewer, tz),
        officers=attendance_requests.officers_in_scope(session, viewer),
        leave_types=[t.value for t in LeaveType],
    )
    return render_form(request, "attendance.html", context, **form)
