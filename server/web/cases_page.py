"""Cases past or near their committed deadline (限时办结 warnings)."""

from __future__ import annotations

from zoneinfo import ZoneInfo

from fastapi import APIRouter, Request, Response

from server.api.deps import SessionDep, SettingsDep
from server.api.routes.cases import get_context
from server.repo import cases as case_repo
from server.services import case_context
from server.services import case_queries as svc
from server.web.deps import Reader
from server.web.period import local_today
from server.web.render import local_text, render
from server.web.tables import ExportFormat, Link, Table, export

router = APIRouter(prefix="/web", include_in_schema=False)

COLUMNS = [
    ("case_no", "办件编号"),
    ("item", "事项"),
    ("department", "部门"),
    ("window", "窗口"),
    ("officer", "首问负责人"),
    ("applicant", "申请人"),
    ("accepted", "受理时间"),
    ("due", "承诺办结日期"),
    ("status", "状态"),
]
GROUP_COLUMNS = [("label", "对象"), ("red", "已超期"), ("yellow", "即将到期"), ("cases", "办件")]


@router.get("/cases", response_model=None)
def cases_page(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    viewer: Reader,
    format: ExportFormat | None = None,
) -> Response:
    """Red (overdue) and yellow (due soon) cases, and their counts per officer and department."""
    ctx = get_context(session, settings)
    tz = ZoneInfo(settings.timezone)
    today = local_today(tz)
    tables = []
    for colour, title in ((svc.Warning.RED, "已超期办件"), (svc.Warning.YELLOW, "即将到期办件")):
        query = case_repo.CaseQuery(department_id=viewer.scope, limit=1000)
        rows = [
            {
                "case_no": r.case.case_no,
                "item": r.item.name,
                "department": r.department.name,
                "window": f"{r.window.number}号窗口",
                "officer": Link(
                    f"{r.officer.name}（{r.officer.staff_no}）", f"/web/officers/{r.officer.staff_no}"
                ),
                "applicant": f"{r.case.applicant_name_masked} {r.case.applicant_masked}",
                "accepted": local_text(r.case.accepted_at, tz),
                "due": r.case.due_date.isoformat(),
                "status": case_context.STATUS_NAMES.get(r.case.status, r.case.status),
                "_class": "bad" if colour is svc.Warning.RED else "",
            }
            for r in svc.list_cases(session, ctx, query, colour, today)
        ]
        tables.append(Table(title, COLUMNS, rows, empty="无"))
    report = svc.warnings_report(session, ctx, today, viewer.scope)
    for key, title in (("by_officer", "按首问负责人"), ("by_department", "按部门")):
        rows = [{**g, "cases": "、".join(c["case_no"] for c in g["cases"])} for g in report[key]]
        tables.append(Table(f"预警汇总（{title}）", GROUP_COLUMNS, rows, empty="无"))
    if format is not None:
        return export(tables, format, "case-warnings")
    context = viewer.context(title="办件预警", active="cases", tables=tables, warning_days=ctx.warning_days)
    return render(request, "tables.html", context)
