"""Bad-review follow-ups: the list, one follow-up with its history, and the forms of each step."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any, Unpack
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Form, Request, Response
from fastapi.responses import RedirectResponse
from sqlmodel import Session

from common.events import LEVEL_NAMES
from server.api.deps import SessionDep, SettingsDep
from server.errors import ConflictError, ForbiddenError, HallError, NotFoundError
from server.models import Followup, Rating
from server.models.followups import AppealStatus, FollowupStatus
from server.models.users import Role
from server.repo import registry
from server.services import audit
from server.services import followup_actions as action_svc
from server.services import followups as svc
from server.web.deps import PageError, ViewerDep, check_csrf, client_address, refused_status
from server.web.period import local_today
from server.web.render import FormState, local_text, render, render_form
from server.web.tables import ExportFormat, Link, Table, export

router = APIRouter(prefix="/web", include_in_schema=False)

STATUS_NAMES = {"open": "待核实", "verified": "已核实待整改", "rectified": "已整改待回访", "closed": "已办结"}
APPEAL_NAMES = {"none": "", "pending": "申诉待裁定", "upheld": "申诉成立", "rejected": "申诉驳回"}
ACTION_NAMES = {
    "verify": "核实",
    "rectify": "整改",
    "close": "回访办结",
    "note": "备注",
    "appeal": "申诉",
    "appeal_upheld": "申诉成立",
    "appeal_rejected": "申诉驳回",
}
COLUMNS = [
    ("id", "编号"),
    ("opened", "发生日期"),
    ("window", "窗口"),
    ("officer", "工作人员"),
    ("level", "评价"),
    ("status", "状态"),
    ("verify_due", "核实期限"),
    ("rectify_due", "整改期限"),
    ("appeal", "申诉"),
    ("overdue", "逾期"),
]
MAX_TEXT = 4000


def followup_rows(
    session: Session, followups: list[Followup], today: date, title: str, tz: ZoneInfo
) -> Table:
    """A table of follow-ups, each linked to its page; overdue ones marked."""
    windows = {w.id: w.number for w in registry.all_windows(session)}
    officers = {o.id: o for o in registry.all_officers(session)}
    rows = []
    for f in followups:
        officer = officers.get(f.officer_id)
        overdue = svc.is_overdue(f, today)
        rows.append(
            {
                "id": Link(f"#{f.id}", f"/web/followups/{f.id}"),
                "opened": local_text(f.opened_at, tz, "%Y-%m-%d"),
                "window": f"{windows.get(f.window_id, '?')}号窗口",
                "officer": f"{officer.name}（{officer.staff_no}）" if officer else "未登记",
                "level": LEVEL_NAMES.get(f.level, str(f.level)),
                "status": STATUS_NAMES.get(f.status, f.status),
                "verify_due": f.verify_due.isoformat(),
                "rectify_due": f.rectify_due.isoformat(),
                "appeal": APPEAL_NAMES.get(f.appeal_status, f.appeal_status),
                "overdue": "已逾期" if overdue else "",
                "_class": "bad" if overdue else "",
            }
        )
    return Table(title, COLUMNS, rows)


@router.get("/followups", response_model=None)
def followups_page(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    viewer: ViewerDep,
    status: FollowupStatus | None = None,
    overdue: bool = False,
    format: ExportFormat | None = None,
) -> Response:
    """Follow-ups the viewer may read (officers: their own), newest first."""
    today = local_today(ZoneInfo(settings.timezone))
    try:
        rows = svc.list_visible(session, viewer.user, status, today, overdue, 1000)
    except ForbiddenError as err:
        raise PageError(403, str(err)) from err
    tables = [followup_rows(session, rows, today, "差评整改列表", ZoneInfo(settings.timezone))]
    if format is not None:
        return export(tables, format, "followups")
    context = viewer.context(
        title="差评整改",
        active="followups",
        tables=tables,
        statuses=STATUS_NAMES,
        chosen={"status": status.value if status else "", "overdue": overdue},
    )
    return render(request, "followups.html", context)


def _detail(
    request: Request,
    session: Session,
    settings: SettingsDep,
    viewer: ViewerDep,
    followup_id: int,
    **form: Unpack[FormState],
) -> Response:
    try:
        followup = svc.get_followup(session, followup_id, viewer.user)
    except NotFoundError as err:
        raise PageError(404, str(err)) from err
    except ForbiddenError as err:
        raise PageError(403, str(err)) from err
    tz = ZoneInfo(settings.timezone)
    today = local_today(tz)
    rating = session.get(Rating, followup.rating_id)
    summary = followup_rows(session, [followup], today, "概况", tz).rows[0]
    facts = [(heading, str(summary.get(key, ""))) for key, heading in COLUMNS]
    if rating is not None:
        facts.append(("评价时间", local_text(rating.rated_at, tz)))
        facts.append(("号码 / 办件", f"{rating.ticket_no or '—'} / {rating.case_no or '—'}"))
        facts.append(("统计状态", "已剔除（记录保留）" if rating.excluded else "计入统计"))
    if followup.callback_result:
        facts.append(("回访结果", followup.callback_result))
    notes = [
        {
            "at": local_text(n.created_at, tz),
            "action": ACTION_NAMES.get(n.action, n.action),
            "author": n.author,
            "text": n.text,
        }
        for n in svc.history(session, followup)
    ]
    can_act = svc.can_act(viewer.user, followup.department_id)
    context = viewer.context(
        title=f"差评整改 #{followup.id}",
        active="followups",
        followup=followup,
        facts=facts,
        notes=notes,
        can_act=can_act,
        can_decide=viewer.user.role in (Role.ADMIN, Role.SUPERVISOR),
        appeal_pending=followup.appeal_status == AppealStatus.PENDING.value,
        appeal_open=followup.appeal_status == AppealStatus.NONE.value,
        callback_results=[r.value for r in action_svc.CallbackResult],
    )
    return render_form(request, "followup.html", context, **form)


@router.get("/followups/{followup_id}", response_model=None)
def followup_page(
    followup_id: int,
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    viewer: ViewerDep,
    done: str = "",
) -> Response:
    """One follow-up with its history and the forms of the next steps."""
    flash = f"已保存：{ACTION_NAMES.get(done, '')}" if done in ACTION_NAMES else ""
    return _detail(request, session, settings, viewer, followup_id, flash=flash)


def _apply(
    session: Session,
    settings: SettingsDep,
    viewer: ViewerDep,
    followup_id: int,
    action: str,
    form: dict[str, str],
) -> str:
    """Carry out one step; return the history action name it recorded."""
    user, text = viewer.user, form.get("text", "").strip()
    if action in ("verify", "rectify", "note", "appeal") and not text:
        raise ConflictError("请填写说明内容")
    if len(text) > MAX_TEXT:
        raise ConflictError(f"说明内容不能超过 {MAX_TEXT} 字")
    if action == "verify":
        action_svc.verify(session, followup_id, user, text)
    elif action == "rectify":
        action_svc.rectify(session, followup_id, user, text)
    elif action == "note":
        action_svc.add_note(session, followup_id, user, text)
    elif action == "appeal":
        action_svc.appeal(session, followup_id, user, text)
    elif action == "close":
        try:
            result = action_svc.CallbackResult(form.get("callback_result", ""))
        except ValueError as err:
            raise ConflictError("请选择回访结果") from err
        action_svc.close(session, followup_id, user, result, text)
    elif action == "decide":
        if form.get("upheld") not in ("yes", "no") or not text:
            raise ConflictError("请选择裁定结果并填写理由")
        upheld = form["upheld"] == "yes"
        action_svc.decide_appeal(session, followup_id, user, upheld, text, ZoneInfo(settings.timezone))
        return "appeal_upheld" if upheld else "appeal_rejected"
    else:
        raise PageError(404, "未知的操作")
    return action


@router.post("/followups/{followup_id}/{action}", response_model=None)
def followup_action(
    followup_id: int,
    action: str,
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    viewer: ViewerDep,
    csrf_token: Annotated[str, Form(max_length=100)] = "",
    text: Annotated[str, Form()] = "",
    callback_result: Annotated[str, Form(max_length=16)] = "",
    upheld: Annotated[str, Form(max_length=3)] = "",
) -> Response:
    """A step of the follow-up from its page; errors show the page again with the text kept."""
    check_csrf(viewer, csrf_token)
    form = {"text": text, "callback_result": callback_result, "upheld": upheld}
    try:
        done = _apply(session, settings, viewer, followup_id, action, form)
    except HallError as err:
        session.rollback()
        code = refused_status(err, otherwise=409)
        return _detail(
            request,
            session,
            settings,
            viewer,
            followup_id,
            error=str(err),
            status_code=code,
            draft={action: text, "kept": text},
        )
    details: dict[str, Any] = {"text": text}
    if action == "close":
        details["callback_result"] = callback_result
    if action == "decide":
        details["upheld"] = upheld == "yes"
    audit.record(
        session,
        viewer.user,
        f"followup_{action}",
        f"followup:{followup_id}",
        details,
        client=client_address(request),
    )
    return RedirectResponse(f"/web/followups/{followup_id}?done={done}", status_code=303)
