"""Ratings: levels and daily trend as SVG charts, the summary and the Wilson ranking, misuse signals."""

from __future__ import annotations

from collections import defaultdict
from datetime import timedelta
from typing import Annotated, Any
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Query, Request, Response
from sqlmodel import Session

from common.events import LEVEL_NAMES
from server.api.deps import SessionDep, SettingsDep
from server.repo import registry
from server.services import analytics as svc
from server.services.ratings import GroupBy, rating_counts, summary_rows
from server.web.charts import PALETTE, Series, bar_chart
from server.web.deps import Reader
from server.web.period import DayRange, day_range
from server.web.render import rate_with_count, render
from server.web.tables import ExportFormat, Link, Table, export

router = APIRouter(prefix="/web", include_in_schema=False)

GROUP_NAMES = {
    GroupBy.STAFF: "工作人员",
    GroupBy.WINDOW: "窗口",
    GroupBy.DEPARTMENT: "部门",
    GroupBy.ITEM: "事项",
}
SIGNAL_NAMES = {
    "burst_ratings": "短时连续评价",
    "press_outside_service": "非服务时段按键",
    "too_fast": "评价过快",
}


def level_chart(levels: dict[str, int], not_rated: int) -> Any:
    """Bars of each level's count, and of the services not rated."""
    labels = [*LEVEL_NAMES.values(), "未评价"]
    values = [float(levels.get(str(lv), 0)) for lv in LEVEL_NAMES] + [float(not_rated)]
    series = [Series("评价数", PALETTE[0], values)]
    return bar_chart(labels, series, "各评价等级数量")


def trend_chart(session: Session, days: DayRange, scope: int | None) -> Any:
    """Per day: satisfied, bad and not-rated services, stacked."""
    rows = svc.analytics(session, GroupBy.DEPARTMENT, svc.Period.DAY, days.first, days.end, scope)
    per_day: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0])
    for r in rows:
        per_day[r["period"]][0] += r["satisfied"]
        per_day[r["period"]][1] += r["bad"]
        per_day[r["period"]][2] += r["not_rated"]
    labels = [(days.first + timedelta(days=n)).isoformat() for n in range((days.end - days.first).days)]
    series = [
        Series("满意（含基本满意）", PALETTE[1], [float(per_day[d][0]) for d in labels]),
        Series("差评", PALETTE[4], [float(per_day[d][1]) for d in labels]),
        Series("未评价", PALETTE[5], [float(per_day[d][2]) for d in labels]),
    ]
    return bar_chart([d[5:] for d in labels], series, "每日评价趋势")


def _label(group_by: GroupBy, row: dict[str, Any], staff_nos: dict[str, str]) -> Any:
    if group_by is GroupBy.STAFF and row["key"] in staff_nos:
        return Link(row["label"], f"/web/officers/{staff_nos[row['key']]}")
    return row["label"]


def ranking_table(session: Session, days: DayRange, group_by: GroupBy, scope: int | None) -> Table:
    """Groups ranked by the Wilson lower bound of 好评率; each rate shown with its counts."""
    counts = rating_counts(session, group_by, days.start_utc, days.end_utc, scope, days.tz)
    staff_nos = _staff_nos(session)
    rows = []
    for r in svc.ranking(session, counts, group_by, 1):
        rows.append(
            {
                "rank": r["rank"],
                "label": _label(group_by, r, staff_nos),
                "score": f"{r['score']:.4f}",
                "satisfaction": rate_with_count(r["satisfied"], r["rated"]),
                "bad": rate_with_count(r["bad"], r["rated"]),
                "active": rate_with_count(r["rated"], r["services"]),
                "not_rated": rate_with_count(r["not_rated"], r["services"]),
                "_class": "bad" if r["bad"] else "",
            }
        )
    columns = [
        ("rank", "名次"),
        ("label", GROUP_NAMES[group_by]),
        ("score", "得分（Wilson 95%下限）"),
        ("satisfaction", "好评率（好评/评价）"),
        ("bad", "差评率（差评/评价）"),
        ("active", "主动评价率（评价/服务）"),
        ("not_rated", "未评价率（未评价/服务）"),
    ]
    return Table(f"{GROUP_NAMES[group_by]}排名", columns, rows)


def _staff_nos(session: Session) -> dict[str, str]:
    return {str(o.id): o.staff_no for o in registry.all_officers(session)}


def levels_table(session: Session, days: DayRange, group_by: GroupBy, scope: int | None) -> Table:
    """Counts of every level per group."""
    counts = rating_counts(session, group_by, days.start_utc, days.end_utc, scope, days.tz)
    staff_nos = _staff_nos(session)
    rows = []
    for r in summary_rows(session, group_by, counts):
        row: dict[str, Any] = {"label": _label(group_by, {"key": r.key, "label": r.label}, staff_nos)}
        row.update({f"l{lv}": r.levels[str(lv)] for lv in LEVEL_NAMES})
        row.update({"not_rated": r.not_rated, "services": r.services, "bad": r.bad})
        rows.append(row)
    columns = [("label", GROUP_NAMES[group_by])]
    columns += [(f"l{lv}", name) for lv, name in LEVEL_NAMES.items()]
    columns += [("not_rated", "未评价"), ("services", "服务总数"), ("bad", "差评数")]
    return Table(f"按{GROUP_NAMES[group_by]}统计", columns, rows)


def misuse_table(session: Session, days: DayRange, scope: int | None) -> Table:
    """Keypad misuse signals and bursts of ratings per window and officer."""
    report = svc.misuse_report(session, days.start_utc, days.end_utc, 20, 3, scope)
    rows = [
        {
            "window": f"{r['window']}号窗口",
            "officer": r["officer"],
            "signals": "；".join(f"{SIGNAL_NAMES.get(k, k)}：{v}" for k, v in r["signals"].items()),
            "total": r["total"],
        }
        for r in report["rows"]
    ]
    columns = [("window", "窗口"), ("officer", "工作人员"), ("signals", "信号"), ("total", "合计")]
    return Table("评价器异常使用信号", columns, rows, empty="未发现异常使用")


@router.get("/ratings", response_model=None)
def ratings_page(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    viewer: Reader,
    from_: Annotated[str | None, Query(alias="from")] = None,
    to: str | None = None,
    group_by: GroupBy = GroupBy.STAFF,
    format: ExportFormat | None = None,
) -> Response:
    """Rating statistics of a date range, by officer, window, department or item."""
    days = day_range(from_, to, ZoneInfo(settings.timezone))
    ranking = ranking_table(session, days, group_by, viewer.scope)
    levels = levels_table(session, days, group_by, viewer.scope)
    tables = [ranking, levels, misuse_table(session, days, viewer.scope)]
    if format is not None:
        return export(tables, format, f"ratings-{days.first}-{days.last}")
    totals = summary_rows(
        session,
        GroupBy.DEPARTMENT,
        rating_counts(session, GroupBy.DEPARTMENT, days.start_utc, days.end_utc, viewer.scope, days.tz),
    )
    level_sum = {str(lv): sum(r.levels[str(lv)] for r in totals) for lv in LEVEL_NAMES}
    rated = sum(r.rated for r in totals)
    bad = sum(r.bad for r in totals)
    not_rated = sum(r.not_rated for r in totals)
    cards = [
        ("评价数", rated, False),
        ("好评率", rate_with_count(rated - bad, rated), False),
        ("差评数", bad, bad > 0),
        ("未评价", not_rated, False),
    ]
    charts = [level_chart(level_sum, not_rated), trend_chart(session, days, viewer.scope)]
    context = viewer.context(
        title="评价统计",
        active="ratings",
        tables=tables,
        cards=cards,
        charts=charts,
        filters={"from": days.first.isoformat(), "to": days.last.isoformat(), "group_by": group_by.value},
        groups=GROUP_NAMES,
    )
    return render(request, "ratings.html", context)
