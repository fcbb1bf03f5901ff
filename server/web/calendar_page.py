"""The working-day calendar page (工作日历): a year's days off and make-up working days, entered by admins."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any, Unpack
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Depends, Form, Request, Response
from fastapi.responses import RedirectResponse
from sqlmodel import Session

from server.api.deps import SessionDep, SettingsDep
from server.models.users import Role
from server.services import calendar_entry as entry
from server.web.deps import PageError, Supervisor, Viewer, allow, check_csrf, client_address
from server.web.period import local_today
from server.web.render import FormState, render_form
from server.web.tables import ExportFormat, Table, export

router = APIRouter(prefix="/web", include_in_schema=False)

Admin = Annotated[Viewer, Depends(allow(Role.ADMIN))]
WEEKDAYS = "一二三四五六日"
COLUMNS = [("day", "日期"), ("weekday", "星期"), ("note", "备注")]
MAX_TEXT = 20_000
# The State Council publishes next year's arrangement around November: from October the page opens on it.
NEXT_YEAR_FROM_MONTH = 10


def _checked(year: int) -> int:
    try:
        return entry.check_year(year)
    except entry.CalendarInputError as err:
        raise PageError(422, str(err)) from err


def _year(text: str, today: date) -> int:
    """The year asked for, or the one most likely to be entered next."""
    if not text:
        return today.year + 1 if today.month >= NEXT_YEAR_FROM_MONTH else today.year
    try:
        return _checked(int(text))
    except ValueError as err:
        raise PageError(422, f"年份应为 {entry.YEAR_MIN} 至 {entry.YEAR_MAX} 之间的数字") from err


def _rows(days: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [
        {"day": d["day"].isoformat(), "weekday": f"周{WEEKDAYS[d['day'].weekday()]}", "note": d["note"]}
        for d in days
    ]


def _lines(days: list[dict[str, Any]]) -> str:
    return "\n".join(entry.DayEntry(d["day"], d["note"]).line for d in days)


def _tables(view: dict[str, Any]) -> list[Table]:
    year = view["year"]
    return [
        Table(f"{year} 年放假日", COLUMNS, _rows(view["closed"]), empty="尚未录入放假日"),
        Table(f"{year} 年调休上班日", COLUMNS, _rows(view["working"]), empty="尚未录入调休上班日"),
    ]


def _page(
    request: Request, session: Session, viewer: Viewer, year: int, **form: Unpack[FormState]
) -> Response:
    view = entry.year_view(session, year)
    stored = {"closed": _lines(view["closed"]), "working": _lines(view["working"])}
    stored["entered"] = "1" if view["entered"] else ""
    context = viewer.context(
        title="工作日历",
        active="calendar",
        tables=_tables(view),
        view=view,
        year=year,
        year_min=entry.YEAR_MIN,
        year_max=entry.YEAR_MAX,
        stored=stored,
        can_edit=viewer.user.role == Role.ADMIN,
    )
    return render_form(request, "calendar.html", context, **form)


@router.get("/calendar", response_model=None)
def calendar_page(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    viewer: Supervisor,
    year: str = "",
    format: ExportFormat | None = None,
    done: str = "",
) -> Response:
    """A year's entered days, whether the library knows the year and whether it is entered; admins edit."""
    chosen = _year(year, local_today(ZoneInfo(settings.timezone)))
    if format is not None:
        return export(_tables(entry.year_view(session, chosen)), format, f"calendar-{chosen}")
    return _page(request, session, viewer, chosen, flash="工作日历已保存" if done == "saved" else "")


@router.post("/calendar/{year}", response_model=None)
def save_year(
    request: Request,
    session: SessionDep,
    viewer: Admin,
    year: int,
    csrf_token: Annotated[str, Form(max_length=100)] = "",
    closed: Annotated[str, Form(max_length=MAX_TEXT)] = "",
    working: Annotated[str, Form(max_length=MAX_TEXT)] = "",
    entered: Annotated[str, Form(max_length=10)] = "",
) -> Response:
    """Replace the year's days and entered mark (admins); refused input is shown again as typed."""
    check_csrf(viewer, csrf_token)
    chosen = _checked(year)
    draft = {"closed": closed, "working": working, "entered": "1" if entered else ""}
    try:
        plan = entry.arrangement_from_lines(chosen, closed, working, bool(entered))
    except entry.CalendarInputError as err:
        return _page(request, session, viewer, chosen, error=str(err), draft=draft, status_code=422)
    entry.save(session, viewer.user, plan, client=client_address(request))
    return RedirectResponse(f"/web/calendar?year={chosen}&done=saved", status_code=303)
