"""Device management: edge processes and their devices, revoking a key, fingerprint enrolment requests."""

from __future__ import annotations

from typing import Annotated, Any
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Form, Request, Response
from fastapi.responses import RedirectResponse
from sqlmodel import Session

from server.api.deps import SessionDep, SettingsDep
from server.errors import ConflictError, NotFoundError
from server.models import Officer
from server.models.enrollment import EnrollmentStatus
from server.repo import devices as device_repo
from server.repo import registry
from server.services import audit, enrollment
from server.services.admin import revoke_device
from server.timeutil import utcnow
from server.web.deps import PageError, Reader, Supervisor, Viewer, check_csrf, client_address
from server.web.overview import STATE_NAMES, agent_status
from server.web.render import local_text, render
from server.web.tables import ExportFormat, Table, export

router = APIRouter(prefix="/web", include_in_schema=False)

ENROLL_NAMES: dict[str, str] = {
    EnrollmentStatus.PENDING: "待下发",
    EnrollmentStatus.SENT: "已下发，等待按指纹",
    EnrollmentStatus.DONE: "已完成",
    EnrollmentStatus.FAILED: "失败",
    EnrollmentStatus.EXPIRED: "超时未回报",
}


def _visible_devices(session: Session, viewer: Viewer) -> list[Any]:
    windows = {w.id: w for w in registry.all_windows(session)}
    return [
        d
        for d in device_repo.all_devices(session)
        if viewer.scope is None
        or (d.window_id in windows and windows[d.window_id].department_id == viewer.scope)
    ]


def device_tables(session: Session, viewer: Viewer, tz: ZoneInfo) -> list[Table]:
    """Edge processes, the state of each device behind them, and enrolment requests."""
    windows = {w.id: w.number for w in registry.all_windows(session)}
    devices = _visible_devices(session, viewer)
    ids = {d.device_id for d in devices}
    now = utcnow()
    rows = []
    for d in devices:
        online, status = agent_status(d, now)
        rows.append(
            {
                "device_id": d.device_id,
                "kind": "窗口终端" if d.kind == "agent" else "取号机",
                "window": f"{windows[d.window_id]}号窗口" if d.window_id in windows else "—",
                "status": status,
                "last_seen": local_text(d.last_seen_at, tz, "%Y-%m-%d %H:%M:%S"),
                "offset": "" if d.clock_offset_s is None else f"{d.clock_offset_s:+.1f}",
                "revoked": local_text(d.revoked_at, tz) if d.revoked_at else "",
                "_class": "" if online else "bad",
            }
        )
    states = [
        {
            "device_id": s.device_id,
            "device": s.device,
            "kind": s.device_kind,
            "state": STATE_NAMES.get(s.state, s.state),
            "reason": s.reason,
            "since": local_text(s.since, tz, "%Y-%m-%d %H:%M:%S"),
            "_class": "" if s.state == "ok" else "bad",
        }
        for s in device_repo.device_states(session)
        if s.device_id in ids
    ]
    officers = {o.id: o for o in registry.all_officers(session)}
    requests = []
    for r in enrollment.list_requests(session):
        officer = officers.get(r.officer_id)
        if r.device_id in ids:
            requests.append(
                {
                    "id": r.id,
                    "device_id": r.device_id,
                    "officer": f"{officer.name}（{officer.staff_no}）" if officer else "",
                    "status": ENROLL_NAMES.get(r.status, r.status),
                    "page": "" if r.page is None else r.page,
                    "message": r.message,
                    "by": r.requested_by,
                    "at": local_text(r.created_at, tz),
                }
            )
    return [
        Table(
            "终端",
            [
                ("device_id", "终端编号"),
                ("kind", "类型"),
                ("window", "窗口"),
                ("status", "状态"),
                ("last_seen", "最近联络"),
                ("offset", "时钟偏差（秒）"),
                ("revoked", "吊销时间"),
            ],
            rows,
        ),
        Table(
            "外设状态",
            [
                ("device_id", "终端"),
                ("device", "设备"),
                ("kind", "类型"),
                ("state", "状态"),
                ("reason", "原因"),
                ("since", "自"),
            ],
            states,
            empty="尚未收到外设状态",
        ),
        Table(
            "指纹登记请求",
            [
                ("id", "编号"),
                ("device_id", "终端"),
                ("officer", "工作人员"),
                ("status", "状态"),
                ("page", "指纹页"),
                ("message", "说明"),
                ("by", "发起人"),
                ("at", "发起时间"),
            ],
            requests,
            empty="暂无登记请求",
        ),
    ]


@router.get("/devices", response_model=None)
def devices_page(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    viewer: Reader,
    format: ExportFormat | None = None,
    done: str = "",
) -> Response:
    """Devices of the viewer's scope; supervisors also get the revoke and enrol forms."""
    tables = device_tables(session, viewer, ZoneInfo(settings.timezone))
    if format is not None:
        return export(tables, format, "devices")
    agents = [
        d.device_id
        for d in _visible_devices(session, viewer)
        if d.window_id is not None and d.revoked_at is None
    ]
    flash = {"revoked": "设备密钥已吊销", "enrol": "已发起指纹登记，请工作人员到窗口按两次手指"}.get(done, "")
    context = viewer.context(
        title="设备管理",
        active="devices",
        tables=tables,
        flash=flash,
        agents=agents,
        live=[d.device_id for d in _visible_devices(session, viewer) if d.revoked_at is None],
        officers=[(o.staff_no, o.name) for o in registry.all_officers(session) if o.active],
    )
    return render(request, "devices.html", context)


@router.get("/devices/{device_id}/revoke", response_model=None)
def revoke_confirm(device_id: str, request: Request, session: SessionDep, viewer: Supervisor) -> Response:
    """Ask for confirmation before a device key is revoked."""
    if device_repo.device_by_id(session, device_id) is None:
        raise PageError(404, f"终端 {device_id} 不存在")
    context = viewer.context(title="吊销设备密钥", active="devices", device_id=device_id)
    return render(request, "revoke.html", context)


@router.post("/devices/{device_id}/revoke", response_model=None)
def revoke(
    device_id: str,
    request: Request,
    session: SessionDep,
    viewer: Supervisor,
    csrf_token: Annotated[str, Form(max_length=100)] = "",
    confirm: Annotated[str, Form(max_length=64)] = "",
) -> Response:
    """Revoke a device key once its id is typed again; the device is refused from its next request."""
    check_csrf(viewer, csrf_token)
    if confirm != device_id:
        raise PageError(422, "确认失败：请输入完整的终端编号以确认吊销")
    try:
        revoke_device(session, device_id)
    except NotFoundError as err:
        raise PageError(404, f"终端 {device_id} 不存在") from err
    audit.record(session, viewer.user, "device_revoke", f"device:{device_id}", client=client_address(request))
    return RedirectResponse("/web/devices?done=revoked", status_code=303)


@router.post("/enrollments", response_model=None)
def start_enrollment(
    request: Request,
    session: SessionDep,
    viewer: Supervisor,
    csrf_token: Annotated[str, Form(max_length=100)] = "",
    device_id: Annotated[str, Form(max_length=64)] = "",
    staff_no: Annotated[str, Form(max_length=32)] = "",
) -> Response:
    """Start enrolling an officer's finger at a window's reader."""
    check_csrf(viewer, csrf_token)
    try:
        req = enrollment.request_enrollment(session, device_id, staff_no, viewer.user.username)
    except NotFoundError as err:
        raise PageError(404, f"终端或工号不存在：{err}") from err
    except ConflictError as err:
        raise PageError(409, f"该终端已有进行中的登记请求：{err}") from err
    officer = session.get(Officer, req.officer_id)
    details = {"request_id": req.id, "staff_no": officer.staff_no if officer else staff_no}
    audit.record(
        session,
        viewer.user,
        "enrollment_start",
        f"device:{device_id}",
        details,
        client=client_address(request),
    )
    return RedirectResponse("/web/devices?done=enrol", status_code=303)
