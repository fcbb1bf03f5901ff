"""Complaints (投诉): the list with overdue flags, the form to record one and the answer form."""

from __future__ import annotations

from typing import Annotated, Unpack
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Form, Request, Response
from fastapi.responses import RedirectResponse
from sqlmodel import Session

from server.api.deps import DB_INT_MAX, DEMO_SECRET, SessionDep, SettingsDep
from server.errors import ConflictError, HallError
from server.repo import registry
from server.services import audit
from server.services import complaints as complaint_svc
from server.services import followups as svc
from server.settings import ServerSettings
from server.web.deps import PageError, Reader, Viewer, check_csrf, client_address, refused_status
from server.web.period import local_today
from server.web.render import FormState, local_text, render_form
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
DONE = {"answer": "答复已保存", "new": "投诉已登记", "1": "答复已保存"}


def _tables(session: Session, settings: ServerSettings, viewer: Viewer) -> tuple[list[Table], list[int]]:
    """The complaints table of the viewer's scope and the ids still to be answered."""
    tz = ZoneInfo(settings.timezone)
    today = local_today(tz)
    departments = {d.id: d.name for d in registry.all_departments(session)}
    windows = {w.id: w.number for w in registry.all_windows(session)}
    officers = {o.id: o for o in registry.all_officers(session)}
    rows, open_ids = [], []
    for c in complaint_svc.list_complaints(session, viewer.user, None, today, False, 1000):
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
    return [Table("投诉列表", COLUMNS, rows)], open_ids


def _page(
    request: Request, session: Session, settings: ServerSettings, viewer: Viewer, **form: Unpack[FormState]
) -> Response:
    tables, open_ids = _tables(session, settings, viewer)
    context = viewer.context(
        title="投诉",
        active="complaints",
        tables=tables,
        open_ids=open_ids,
        channels=CHANNEL_NAMES,
        departments=[d for d in registry.all_departments(session) if viewer.scope in (None, d.id)],
    )
    return render_form(request, "complaints.html", context, **form)


@router.get("/complaints", response_model=None)
def complaints_page(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    viewer: Reader,
    format: ExportFormat | None = None,
    done: str = "",
) -> Response:
    """Complaints in the viewer's scope, newest first; new ones are recorded and open ones answered here."""
    if format is not None:
        return export(_tables(session, settings, viewer)[0], format, "complaints")
    return _page(request, session, settings, viewer, flash=DONE.get(done, ""))


def _optional_int(text: str, what: str) -> int | None:
    if not text.strip():
        return None
    if not text.strip().isdigit() or not 1 <= int(text) <= DB_INT_MAX:
        raise ConflictError(f"{what}必须是正整数")
    return int(text)


@router.post("/complaints/new", response_model=None)
def record(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    viewer: Reader,
    csrf_token: Annotated[str, Form(max_length=100)] = "",
    channel: Annotated[str, Form(max_length=16)] = "",
    content: Annotated[str, Form(max_length=4000)] = "",
    window: Annotated[str, Form(max_length=10)] = "",
    staff_no: Annotated[str, Form(max_length=32)] = "",
    department: Annotated[str, Form(max_length=32)] = "",
    assignee: Annotated[str, Form(max_length=64)] = "",
    contact_phone: Annotated[str, Form(max_length=32)] = "",
) -> Response:
    """Record a complaint received by phone, hotline, letter or in person; errors keep what was typed."""
    check_csrf(viewer, csrf_token)
    # The phone number is personal data: it is never put back into the page or the audit log.
    draft = {"channel": channel, "content": content, "window": window, "staff_no": staff_no}
    draft |= {"department": department, "assignee": assignee}
    try:
        if channel not in CHANNEL_NAMES:
            raise ConflictError("请选择投诉渠道")
        if not content.strip():
            raise ConflictError("请填写投诉内容")
        data = complaint_svc.ComplaintInput(
            channel=complaint_svc.ComplaintChannel(channel),
            content=content.strip(),
            window_number=_optional_int(window, "窗口号"),
            staff_no=staff_no.strip() or None,
            department_code=department.strip() or None,
            assignee=assignee.strip(),
            contact_phone=contact_phone.strip() or None,
        )
        secret = settings.secret_key.get_secret_value() or DEMO_SECRET
        policy = svc.FollowupPolicy.for_hall(session, settings)
        complaint = complaint_svc.record_complaint(session, data, viewer.user, secret, policy)
    except HallError as err:
        session.rollback()
        code = refused_status(err)
        return _page(request, session, settings, viewer, error=str(err), draft=draft, status_code=code)
    details = {"channel": channel, "window": data.window_number, "staff_no": data.staff_no}
    details |= {"department": data.department_code, "contact_given": bool(data.contact_phone)}
    audit.record(
        session,
        viewer.user,
        "complaint_record",
        f"complaint:{complaint.id}",
        details,
        client=client_address(request),
    )
    return RedirectResponse("/web/complaints?done=new", status_code=303)


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
        complaint_svc.answer_complaint(session, complaint_id, viewer.user, text.strip())
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
    return RedirectResponse("/web/complaints?done=answer", status_code=303)
