"""Complaints (投诉): the list with overdue flags and the answer form."""

from __future__ import annotations

from typing import Annotated
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Form, Request, Response
from fastapi.responses import RedirectResponse

from server.api.deps import SessionDep, SettingsDep
from server.errors import HallError
from server.repo import registry
from server.services import audit
from server.services import followups as svc
from server.web.deps import PageError, Reader, check_csrf, client_address
from server.web.period import local_today
from server.web.render import local_text, render
from server.web.tables import ExportFormat, Table, export

router = APIRouter(prefix="/web", include_in_schema=False)

CHANNEL_NAMES = {
    "phone": "监督电话",
    "12345": "12345热线",
    "onsite": "现场",
    "web": "网站",
    "letter": "信件",
    "other": "其他",
}
COLUMNS = [
    ("id", "编号"),
    ("received", "收到时间"),
    ("channel", "渠道"),
    ("department", "部门"),
    ("target", "被投诉对象"),
    ("content", "内容"),
    ("contact", "联系电话"),
    ("due", "答复期限"),
    ("answer", "答复"),
    ("overdue", "逾期"),
]


@router.get("/complaints", response_model=None)
def complaints_page(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    viewer: Reader,
    format: ExportFormat | None = None,
    done: str = "",
) -> Response:
    """Complaints in the viewer's scope, newest first; unanswered ones can be answered here."""
    tz = ZoneInfo(settings.timezone)
    today = local_today(tz)
    departments = {d.id: d.name for d in registry.all_departments(session)}
    windows = {w.id: w.number for w in registry.all_windows(session)}
    officers = {o.id: o for o in registry.all_officers(session)}
    rows, open_ids = [], []
    for c in svc.list_complaints(session, viewer.user, None, today, False, 1000):
        officer = officers.get(c["officer_id"])
        target = [f"{windows[c['window_id']]}号窗口"] if c["window_id"] in windows else []
        target += [f"{officer.name}（{officer.staff_no}）"] if officer else []
        rows.append(
            {
                "id": c["id"],
                "received": local_text(c["received_at"], tz),
                "channel": CHANNEL_NAMES.get(c["channel"], c["channel"]),
                "department": departments.get(c["department_id"], ""),
                "target": "、".join(target) or "部门",
                "content": c["content"],
                "contact": c["contact_masked"] or "",
                "due": c["answer_due"],
                "answer": f"{c['answer']}（{c['answered_by']}）" if c["answered_at"] else "未答复",
                "overdue": "已逾期" if c["overdue"] else "",
                "_class": "bad" if c["overdue"] else "",
            }
        )
        if not c["answered_at"]:
            open_ids.append(c["id"])
    tables = [Table("投诉列表", COLUMNS, rows)]
    if format is not None:
        return export(tables, format, "complaints")
    flash = "答复已保存" if done else ""
    context = viewer.context(title="投诉", active="complaints", tables=tables, open_ids=open_ids, flash=flash)
    return render(request, "complaints.html", context)


@router.post("/complaints/answer", response_model=None)
def answer(
    request: Request,
    session: SessionDep,
    viewer: Reader,
    complaint_id: Annotated[int, Form()],
    csrf_token: Annotated[str, Form(max_length=100)] = "",
    text: Annotated[str, Form(max_length=4000)] = "",
) -> Response:
    """Record the answer given to the complainant."""
    check_csrf(viewer, csrf_token)
    if not text.strip():
        raise PageError(422, "请填写答复内容")
    try:
        svc.answer_complaint(session, complaint_id, viewer.user, text.strip())
    except HallError as err:
        raise PageError(409, str(err)) from err
    audit.record(
        session,
        viewer.user,
        "complaint_answer",
        f"complaint:{complaint_id}",
        {"text": text},
        client=client_address(request),
    )
    return RedirectResponse("/web/complaints?done=1", status_code=303)
