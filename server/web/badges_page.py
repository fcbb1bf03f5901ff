"""Staff badges (工牌): the registry, issuing a card to an officer and revoking a lost one."""

from __future__ import annotations

from typing import Annotated, Any, Unpack
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Form, Request, Response
from fastapi.responses import RedirectResponse
from sqlmodel import Session

from server.api.deps import SessionDep, SettingsDep
from server.errors import ConflictError, HallError, NotFoundError
from server.services import badges
from server.services.badges import BadgeUidError
from server.settings import ServerSettings
from server.web.deps import Reader, Supervisor, Viewer, check_csrf
from server.web.render import FormState, local_text, render_form
from server.web.tables import ExportFormat, Table, export

router = APIRouter(prefix="/web", include_in_schema=False)

COLUMNS = [
    ("uid", "卡号"),
    ("officer", "工作人员"),
    ("state", "状态"),
    ("issued", "发放时间"),
    ("issued_by", "发放人"),
    ("revoked", "注销时间"),
    ("revoked_by", "注销人"),
]
DONE = {"issue": "工牌已登记", "revoke": "工牌已注销，此后用该卡打卡将被拒绝"}


def _tables(session: Session, settings: ServerSettings, viewer: Viewer) -> tuple[list[Table], list[str]]:
    """The badges of the viewer's scope, and the UIDs still active."""
    tz = ZoneInfo(settings.timezone)
    rows: list[dict[str, Any]] = []
    for b in badges.listing(session, viewer.scope, None, False):
        rows.append(
            {
                "uid": b["uid"],
                "officer": f"{b['name']}（{b['staff_no']}）",
                "state": "有效" if b["active"] else "已注销",
                "issued": local_text(b["issued_at"], tz),
                "issued_by": b["issued_by"],
                "revoked": local_text(b["revoked_at"], tz),
                "revoked_by": b["revoked_by"] or "",
                "_class": "" if b["active"] else "muted",
            }
        )
    active = [r["uid"] for r in rows if r["state"] == "有效"]
    return [Table("工牌登记", COLUMNS, rows, empty="尚未登记工牌")], active


def _page(
    request: Request, session: Session, settings: ServerSettings, viewer: Viewer, **form: Unpack[FormState]
) -> Response:
    tables, active = _tables(session, settings, viewer)
    context = viewer.context(title="工牌", active="badges", tables=tables, active_uids=active)
    return render_form(request, "badges.html", context, **form)


@router.get("/badges", response_model=None)
def badges_page(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    viewer: Reader,
    format: ExportFormat | None = None,
    done: str = "",
) -> Response:
    """Registered badges of the viewer's scope, newest first."""
    if format is not None:
        return export(_tables(session, settings, viewer)[0], format, "badges")
    return _page(request, session, settings, viewer, flash=DONE.get(done, ""))


def _message(err: HallError, uid: str, staff_no: str = "") -> tuple[int, str]:
    """The status and the message staff read for a refused badge change."""
    if isinstance(err, BadgeUidError):
        return 422, "卡号格式不正确：应为 4 至 10 字节的十六进制数（可含空格、冒号或连字符）"
    if isinstance(err, NotFoundError):
        return 404, f"没有工号为 {staff_no} 的工作人员" if staff_no else f"没有卡号为 {uid} 的工牌"
    if isinstance(err, ConflictError) and "not active" in str(err):
        return 409, f"工号 {staff_no} 的工作人员已停用，不能发放工牌"
    if isinstance(err, ConflictError):
        # A revoked (lost) card is never revived: a new card gets a new registration.
        return 409, f"卡号 {uid} 已登记过（含已注销的卡），不能重复登记"
    return 422, str(err)


@router.post("/badges/issue", response_model=None)
def issue(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    viewer: Supervisor,
    csrf_token: Annotated[str, Form(max_length=100)] = "",
    uid: Annotated[str, Form(max_length=64)] = "",
    staff_no: Annotated[str, Form(max_length=32)] = "",
) -> Response:
    """Register a card for an officer (admins and supervisors); the service writes the audit entry."""
    check_csrf(viewer, csrf_token)
    draft = {"uid": uid, "staff_no": staff_no}
    try:
        if not staff_no.strip():
            raise NotFoundError("staff number missing")
        badges.issue(session, uid, staff_no.strip(), viewer.user)
    except HallError as err:
        session.rollback()
        code, message = _message(err, uid, staff_no.strip() or "（空）")
        return _page(request, session, settings, viewer, error=message, draft=draft, status_code=code)
    return RedirectResponse("/web/badges?done=issue", status_code=303)


@router.post("/badges/revoke", response_model=None)
def revoke(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    viewer: Supervisor,
    csrf_token: Annotated[str, Form(max_length=100)] = "",
    uid: Annotated[str, Form(max_length=64)] = "",
) -> Response:
    """Revoke a lost or returned card (admins and supervisors); the service writes the audit entry."""
    check_csrf(viewer, csrf_token)
    try:
        badges.revoke(session, uid, viewer.user)
    except HallError as err:
        session.rollback()
        code, message = _message(err, uid)
        return _page(request, session, settings, viewer, error=message, status_code=code)
    return RedirectResponse("/web/badges?done=revoke", status_code=303)
