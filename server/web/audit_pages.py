"""The audit log: a page for supervisors and ``GET /api/v1/audit`` for API clients."""

from __future__ import annotations

from typing import Annotated, Any
from zoneinfo import ZoneInfo

from fastapi import APIRouter, HTTPException, Query, Request, Response, status

from server.api.deps import SessionDep, SettingsDep, require_roles
from server.api.responses import UNPROCESSABLE
from server.models import User
from server.models.users import Role
from server.repo.audit import AuditQuery
from server.services import audit
from server.services.periods import PeriodError, parse_bound
from server.settings import ServerSettings
from server.web.deps import PageError, Supervisor
from server.web.render import local_text, render
from server.web.tables import ExportFormat, Table, export

router = APIRouter(responses=UNPROCESSABLE)

COLUMNS = [
    ("at", "时间"),
    ("actor", "操作人"),
    ("role", "角色"),
    ("action", "操作"),
    ("target", "对象"),
    ("details", "详情"),
    ("client", "来源地址"),
]
ACTION_NAMES = {
    "login": "登录",
    "login_failed": "登录失败",
    "logout": "退出登录",
    "followup_verify": "差评核实",
    "followup_rectify": "差评整改",
    "followup_close": "回访办结",
    "followup_note": "添加备注",
    "followup_appeal": "提出申诉",
    "followup_decide": "申诉裁定",
    "complaint_answer": "答复投诉",
    "device_revoke": "吊销设备密钥",
    "enrollment_start": "发起指纹登记",
}


def _query(
    settings: ServerSettings,
    from_: str | None,
    to: str | None,
    actor: str | None,
    action: str | None,
    limit: int,
) -> AuditQuery:
    tz = ZoneInfo(settings.timezone)
    start, end = parse_bound(from_, tz, end=False), parse_bound(to, tz, end=True)
    return AuditQuery(start=start, end=end, actor=actor or None, action=action or None, limit=limit)


@router.get("/api/v1/audit", tags=["audit"])
def audit_api(
    session: SessionDep,
    settings: SettingsDep,
    _user: Annotated[User, require_roles(Role.ADMIN, Role.SUPERVISOR)],
    from_: Annotated[str | None, Query(alias="from", description="YYYY-MM-DD or ISO date-time")] = None,
    to: Annotated[str | None, Query(description="YYYY-MM-DD (inclusive) or ISO date-time")] = None,
    actor: Annotated[str | None, Query(max_length=64)] = None,
    action: Annotated[str | None, Query(max_length=48)] = None,
    limit: Annotated[int, Query(ge=1, le=5000)] = 500,
) -> dict[str, Any]:
    """Audit entries (who, when, what, target, details), newest first."""
    try:
        query = _query(settings, from_, to, actor, action, limit)
    except PeriodError as err:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, str(err)) from err
    return {"entries": audit.entries(session, query)}


@router.get("/web/audit", include_in_schema=False, response_model=None)
def audit_page(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    viewer: Supervisor,
    from_: Annotated[str | None, Query(alias="from")] = None,
    to: str | None = None,
    actor: str | None = None,
    action: str | None = None,
    format: ExportFormat | None = None,
) -> Response:
    """The audit log page with filters."""
    try:
        query = _query(settings, from_, to, actor, action, 1000)
    except PeriodError as err:
        raise PageError(422, f"日期格式不正确：{err}") from err
    rows = []
    for entry in audit.entries(session, query):
        details = "；".join(f"{k}={v}" for k, v in entry["details"].items())
        name = ACTION_NAMES.get(entry["action"], entry["action"])
        at = local_text(entry["at"], ZoneInfo(settings.timezone), "%Y-%m-%d %H:%M:%S")
        rows.append({**entry, "action": name, "details": details, "at": at})
    table = Table("操作日志", COLUMNS, rows)
    if format is not None:
        return export([table], format, "audit")
    filters = {"from": from_ or "", "to": to or "", "actor": actor or "", "action": action or ""}
    context = viewer.context(title="操作日志", active="audit", tables=[table], filters=filters)
    context["actions"] = ACTION_NAMES
    return render(request, "audit.html", context)
