"""An officer's profile: ratings, attendance marks of the month, cases and bad-review follow-ups."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any, Unpack
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Form, Query, Request, Response
from fastapi.responses import RedirectResponse
from sqlmodel import Session

from common.events import LEVEL_NAMES
from server.api.deps import SessionDep, SettingsDep
from server.api.routes.cases import get_context
from server.errors import HallError
from server.models import Officer
from server.models.attendance_rules import RequestStatus
from server.repo import attendance_rules as attendance_repo
from server.repo import cases as case_repo
from server.repo import followups as followup_repo
from server.repo import registry
from server.services import case_context, case_queries
from server.services.attendance import requests
from server.services.attendance.evaluate import Scope, evaluate_range
from server.services.attendance.schedule import parse_month, working_day_rule
from server.services.ratings import GroupBy, rating_counts, summary_rows
from server.settings import ServerSettings
from server.timeutil import utcnow
from server.web import attendance_requests
from server.web.attendance_forms import FormInputError, parse_local, parse_window
from server.web.attendance_page import MARK_NAMES, marks_text
from server.web.deps import PageError, Viewer, ViewerDep, check_csrf, officer_in_view, refused_status
from server.web.followups_page import followup_rows
from server.web.period import day_range, local_today
from server.web.ratings_page import level_chart
from server.web.render import FormState, local_text, rate_with_count, render_form
from server.web.tables import ExportFormat, Table, export

router = APIRouter(prefix="/web", include_in_schema=False)

CASE_COLUMNS = [
    ("case_no", "办件编号"),
    ("item", "事项"),
    ("status", "状态"),
    ("accepted", "受理日期"),
    ("due", "承诺办结日期"),
    ("warning", "预警"),
]
WARNING_NAMES = {"red": "已超期", "yellow": "即将到期"}
REQUEST_STATUS_NAMES = {
    RequestStatus.PENDING.value: "待审批",
    RequestStatus.APPROVED.value: "已批准",
    RequestStatus.REJECTED.value: "已驳回",
}
MAX_MAKEUPS_SHOWN = 50


def rating_table(
    session: Session, officer: Officer, settings: ServerSettings, from_: str | None, to: str | None
) -> tuple[Table, dict[str, int], int]:
    """The officer's ratings of the range: each level, not rated, 好评率 with its counts."""
    days = day_range(from_, to, ZoneInfo(settings.timezone))
    counts = rating_counts(
        session, GroupBy.STAFF, days.start_utc, days.end_utc, officer.department_id, days.tz
    )
    mine = [r for r in summary_rows(session, GroupBy.STAFF, counts) if r.key == str(officer.id)]
    levels = mine[0].levels if mine else {str(lv): 0 for lv in LEVEL_NAMES}
    not_rated = mine[0].not_rated if mine else 0
    rated, bad = sum(levels.values()), sum(levels[str(lv)] for lv in (4, 5))
    row: dict[str, Any] = {"range": f"{days.first} 至 {days.last}"}
    row.update({f"l{lv}": levels[str(lv)] for lv in LEVEL_NAMES})
    row.update({"not_rated": not_rated, "rate": rate_with_count(rated - bad, rated)})
    columns = [("range", "期间"), *[(f"l{lv}", n) for lv, n in LEVEL_NAMES.items()]]
    columns += [("not_rated", "未评价"), ("rate", "好评率（好评/评价）")]
    return Table("评价情况", columns, [row]), levels, not_rated


def attendance_table(session: Session, officer: Officer, settings: ServerSettings, month: str) -> Table:
    """The officer's marks and punches on each working day of a month so far."""
    first, last = parse_month(month)
    tz = ZoneInfo(settings.timezone)
    scope = Scope(first, last, tz, working_day_rule(session, settings), officer.department_id, utcnow())
    rows = []
    for day in evaluate_range(session, scope):
        if day.officer.id != officer.id:
            continue
        rows.append(
            {
                "date": day.day.isoformat(),
                "marks": marks_text(day.marks),
                "punches": "、".join(f"{p.at:%H:%M}（{p.window}号窗口）" for p in day.punches) or "—",
                "_class": "" if all(m.kind.value in ("on_time", "on_leave") for m in day.marks) else "bad",
            }
        )
    columns = [("date", "日期"), ("marks", "考勤结果"), ("punches", "打卡记录")]
    return Table(f"{month} 考勤", columns, rows, empty="本月暂无已结束的工作时段")


def case_table(session: Session, officer: Officer, settings: ServerSettings) -> Table:
    """Cases the officer accepted first (首问负责), newest first."""
    ctx = get_context(session, settings)
    today = local_today(ZoneInfo(settings.timezone))
    query = case_repo.CaseQuery(officer_id=officer.id, limit=500)
    rows = []
    for r in case_queries.list_cases(session, ctx, query, None, today):
        warning = case_queries.warning_of(r.case, ctx, today)
        rows.append(
            {
                "case_no": r.case.case_no,
                "item": r.item.name,
                "status": case_context.STATUS_NAMES.get(r.case.status, r.case.status),
                "accepted": r.case.accepted_on.isoformat(),
                "due": r.case.due_date.isoformat(),
                "warning": WARNING_NAMES.get(warning.value, "") if warning else "",
                "_class": "bad" if warning else "",
            }
        )
    return Table("首问负责办件", CASE_COLUMNS, rows)


@router.get("/me", response_model=None)
def my_profile(session: SessionDep, viewer: ViewerDep) -> Response:
    """An officer's own profile; other roles go to the overview."""
    if viewer.user.officer_id is None:
        return RedirectResponse("/web/", status_code=303)
    officer = session.get(Officer, viewer.user.officer_id)
    if officer is None:
        raise PageError(404, "账号关联的工作人员不存在")
    return RedirectResponse(f"/web/officers/{officer.staff_no}", status_code=303)


@router.get("/officers/{staff_no}", response_model=None)
def officer_page(
    staff_no: str,
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    viewer: ViewerDep,
    from_: Annotated[str | None, Query(alias="from")] = None,
    to: str | None = None,
    month: Annotated[str | None, Query(pattern=r"^\d{4}-\d{2}$")] = None,
    format: ExportFormat | None = None,
    done: str = "",
) -> Response:
    """One officer's ratings, attendance, cases and follow-ups."""
    officer = officer_in_view(session, viewer, staff_no)
    if format is not None:
        tables = profile_tables(session, settings, officer, Period(from_, to, month))[0]
        return export(tables, format, f"officer-{officer.staff_no}")
    flash = attendance_requests.DONE.get(done, "")
    return profile(request, session, settings, viewer, officer, Period(from_, to, month), flash=flash)


@dataclass(frozen=True)
class Period:
    """The range of the ratings table and the month of the attendance table (None: the defaults)."""

    from_: str | None = None
    to: str | None = None
    month: str | None = None


def profile_tables(
    session: Session, settings: ServerSettings, officer: Officer, period: Period
) -> tuple[list[Table], dict[str, int], int]:
    """The profile's tables, and the rating levels and not-rated count its chart draws."""
    tz = ZoneInfo(settings.timezone)
    today = local_today(tz)
    month = period.month or today.strftime("%Y-%m")
    ratings, levels, not_rated = rating_table(session, officer, settings, period.from_, period.to)
    followups = followup_repo.list_followups(
        session, status=None, overdue_on=None, department_id=None, officer_id=officer.id, limit=200
    )
    tables = [
        ratings,
        attendance_table(session, officer, settings, month),
        makeup_table(session, officer, tz),
        case_table(session, officer, settings),
        followup_rows(session, list(followups), today, "差评整改", tz),
    ]
    return tables, levels, not_rated


def makeup_table(session: Session, officer: Officer, tz: ZoneInfo) -> Table:
    """The officer's make-up punch requests, newest first, with where each stands."""
    rows = [
        {
            "at": local_text(makeup.punch_at, tz),
            "reason": makeup.reason,
            "asked": local_text(makeup.created_at, tz),
            "status": REQUEST_STATUS_NAMES.get(makeup.status, makeup.status),
            "_class": "bad" if makeup.status == RequestStatus.REJECTED.value else "",
        }
        for makeup, _ in attendance_repo.makeup_requests(
            session, None, officer.department_id, MAX_MAKEUPS_SHOWN, officer.id
        )
    ]
    columns = [("at", "补签时间"), ("reason", "原因"), ("asked", "申请时间"), ("status", "状态")]
    return Table("补签申请", columns, rows, empty="没有补签申请")


def profile(
    request: Request,
    session: Session,
    settings: ServerSettings,
    viewer: Viewer,
    officer: Officer,
    period: Period,
    **form: Unpack[FormState],
) -> Response:
    """The profile page; its own officer also gets the form to ask for a make-up punch."""
    tables, levels, not_rated = profile_tables(session, settings, officer, period)
    department = next(
        (d.name for d in registry.all_departments(session) if d.id == officer.department_id), ""
    )
    posts = [
        f"{w.number}号窗口 {p.role}岗"
        for w in registry.all_windows(session)
        for p, o in registry.posts_for_window(session, w.id or 0)
        if o.id == officer.id
    ]
    facts = [
        ("姓名", officer.name),
        ("工号", officer.staff_no),
        ("部门", department),
        ("岗位", officer.post),
        ("窗口", "、".join(posts) or "—"),
        ("监督电话", officer.supervision_phone),
    ]
    own = viewer.user.officer_id == officer.id
    context = viewer.context(
        title=f"工作人员：{officer.name}（{officer.staff_no}）",
        active="profile" if own else "",
        tables=tables,
        facts=facts,
        chart=level_chart(levels, not_rated),
        marks=MARK_NAMES,
        own=own,
        staff_no=officer.staff_no,
    )
    return render_form(request, "officer.html", context, **form)


@router.post("/officers/{staff_no}/makeup", response_model=None)
def ask_own_makeup(
    staff_no: str,
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    viewer: ViewerDep,
    csrf_token: Annotated[str, Form(max_length=100)] = "",
    punch_at: Annotated[str, Form(max_length=40)] = "",
    window: Annotated[str, Form(max_length=40)] = "",
    reason: Annotated[str, Form(max_length=500)] = "",
) -> Response:
    """An officer asks for their own make-up punch (补签), pending a supervisor's approval."""
    check_csrf(viewer, csrf_token)
    officer = officer_in_view(session, viewer, staff_no)
    if viewer.user.officer_id != officer.id:
        raise PageError(403, "只能为本人申请补签；为他人申请请在考勤页面办理")
    draft = {"punch_at": punch_at, "window": window, "reason": reason}
    try:
        at = parse_local(punch_at, "补签时间")
        tz = ZoneInfo(settings.timezone)
        requests.request_makeup(session, viewer.user, officer.staff_no, at, reason, parse_window(window), tz)
    except (FormInputError, HallError) as err:
        session.rollback()
        state: FormState = {"error": str(err), "draft": draft, "status_code": refused_status(err)}
        return profile(request, session, settings, viewer, officer, Period(), **state)
    return RedirectResponse(f"/web/officers/{officer.staff_no}?done=makeup_requested", status_code=303)
