"""Jinja2 rendering of the pages: filters for hall-local time and rates, the navigation."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any, TypedDict, Unpack
from zoneinfo import ZoneInfo

from fastapi import Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates

from server.models import User
from server.models.users import Role
from server.settings import ServerSettings
from server.timeutil import to_db

TEMPLATES_DIR = Path(__file__).parent / "templates"
ROLE_NAMES = {
    Role.ADMIN.value: "系统管理员",
    Role.SUPERVISOR.value: "监督管理人员",
    Role.DEPARTMENT_HEAD.value: "部门负责人",
    Role.OFFICER.value: "窗口工作人员",
}
READER_NAV = [
    ("overview", "/web/", "大厅概况"),
    ("ratings", "/web/ratings", "评价统计"),
    ("attendance", "/web/attendance", "考勤"),
    ("assessment", "/web/assessment", "月度考核"),
    ("followups", "/web/followups", "差评整改"),
    ("complaints", "/web/complaints", "投诉"),
    ("cases", "/web/cases", "办件预警"),
    ("appointments", "/web/appointments", "预约"),
    ("registry", "/web/registry", "基础信息"),
    ("badges", "/web/badges", "工牌"),
    ("devices", "/web/devices", "设备管理"),
]
CALENDAR_NAV = ("calendar", "/web/calendar", "工作日历")
AUDIT_NAV = ("audit", "/web/audit", "操作日志")


def make_templates(settings: ServerSettings) -> Jinja2Templates:
    """The page templates, with filters that show times in the hall's time zone."""
    templates = Jinja2Templates(directory=str(TEMPLATES_DIR))
    tz = ZoneInfo(settings.timezone)

    def local_time(value: datetime | str | None, fmt: str = "%Y-%m-%d %H:%M") -> str:
        return local_text(value, tz, fmt)

    templates.env.filters["local"] = local_time
    templates.env.filters["pct"] = percent
    templates.env.globals["hall_name"] = settings.hall_name
    templates.env.globals["role_names"] = ROLE_NAMES
    return templates


def local_text(value: datetime | str | None, tz: ZoneInfo, fmt: str = "%Y-%m-%d %H:%M") -> str:
    """A stored moment (datetime or ISO text) as hall-local text; empty for none."""
    if value is None or value == "":
        return ""
    moment = datetime.fromisoformat(value) if isinstance(value, str) else value
    return to_db(moment).astimezone(tz).strftime(fmt)


def percent(value: float | None) -> str:
    """0.9512 -> 95.1%; no value -> —."""
    return "—" if value is None else f"{value * 100:.1f}%"


def rate_with_count(part: int, whole: int) -> str:
    """A rate with the counts it is made of, e.g. 95.0%（19/20）."""
    return f"{percent(part / whole if whole else None)}（{part}/{whole}）"


def navigation(user: User) -> list[tuple[str, str, str]]:
    """The menu a role sees: officers only their own profile."""
    if user.role == Role.OFFICER:
        return [("profile", "/web/me", "我的信息")]
    nav = list(READER_NAV)
    if user.role in (Role.ADMIN, Role.SUPERVISOR):
        nav += [CALENDAR_NAV, AUDIT_NAV]
    return nav


def render(request: Request, name: str, context: dict[str, Any], status_code: int = 200) -> HTMLResponse:
    """Render a page template with the request's user, CSRF token and menu."""
    templates: Jinja2Templates = request.app.state.web_templates
    user: User | None = context.get("user")
    base = {
        "nav": navigation(user) if user is not None else [],
        "query": str(request.url.query),
        "path": request.url.path,
    }
    return templates.TemplateResponse(request, name, {**base, **context}, status_code=status_code)


class FormState(TypedDict, total=False):
    """What a page with a form shows besides its content; each key may be left out."""

    flash: str  # the step just done
    error: str  # why the step was refused
    draft: dict[str, str]  # the form as it was typed
    status_code: int


def render_form(
    request: Request, name: str, context: dict[str, Any], **form: Unpack[FormState]
) -> HTMLResponse:
    """Render a page with a form: the flash of a step done, or the error and the form as it was typed."""
    state = {"flash": form.get("flash", ""), "error": form.get("error", ""), "draft": form.get("draft") or {}}
    return render(request, name, {**context, **state}, form.get("status_code", 200))
