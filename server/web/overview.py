"""The live hall overview: windows staffed or not, waiting per item, devices with problems."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Request, Response
from fastapi.responses import RedirectResponse
from sqlmodel import Session

from server.api.deps import SessionDep, SettingsDep
from server.models import Device, Officer
from server.models.users import Role
from server.repo import attendance_rules as attendance_repo
from server.repo import devices as device_repo
from server.repo import registry
from server.services.attendance.schedule import day_bounds
from server.services.queue import QueueRules
from server.services.queue_estimate import queue_stats
from server.services.ratings import GroupBy, rating_summary
from server.settings import ServerSettings
from server.timeutil import to_db, utcnow
from server.web.deps import READERS, PageError, ViewerDep
from server.web.render import local_text, render
from server.web.tables import ExportFormat, Table, export

router = APIRouter(prefix="/web", include_in_schema=False)

# Agents send a heartbeat every 15 s by default: three missed in a row means the window PC is off-line.
OFFLINE_AFTER = timedelta(seconds=45)
STATE_NAMES = {"ok": "正常", "degraded": "异常", "unavailable": "不可用"}


@dataclass(frozen=True)
class HallNow:
    """What the overview needs to know about this moment."""

    now: datetime
    tz: ZoneInfo
    scope: int | None


def present_officers(session: Session, hall: HallNow) -> dict[int, list[int]]:
    """Window id -> officers clocked in now: each punch of the day toggles its officer in or out."""
    day = hall.now.astimezone(hall.tz).date()
    start, end = day_bounds(day, day, hall.tz)
    present: dict[int, set[int]] = defaultdict(set)
    for punch, _ in attendance_repo.punches_between(session, start, end):
        present[punch.window_id] ^= {punch.officer_id}
    return {w: sorted(ids) for w, ids in present.items()}


def agent_status(device: Device | None, now: datetime) -> tuple[bool, str]:
    if device is None:
        return False, "未登记终端"
    if device.revoked_at is not None:
        return False, "密钥已吊销"
    if device.last_seen_at is None or now - to_db(device.last_seen_at) > OFFLINE_AFTER:
        return False, "终端离线"
    return True, "终端在线"


def window_table(session: Session, hall: HallNow) -> tuple[Table, int]:
    """One row per window: who is in, the agent's last heartbeat, device problems; and how many staffed."""
    officers: dict[int | None, Officer] = {o.id: o for o in registry.all_officers(session)}
    departments = {d.id: d.name for d in registry.all_departments(session)}
    agents = {d.window_id: d for d in device_repo.all_devices(session) if d.window_id is not None}
    problems: dict[str, list[str]] = defaultdict(list)
    for s in device_repo.device_states(session):
        if s.state != "ok":
            problems[s.device_id].append(f"{s.device}：{STATE_NAMES.get(s.state, s.state)}")
    present = present_officers(session, hall)
    rows, staffed = [], 0
    for window in registry.all_windows(session):
        if hall.scope not in (None, window.department_id):
            continue
        agent = agents.get(window.id or 0)
        online, agent_text = agent_status(agent, hall.now)
        people = [officers[o] for o in present.get(window.id or 0, []) if o in officers]
        staffed += bool(people)
        status = "在岗" if people else "空岗"
        rows.append(
            {
                "window": f"{window.number}号窗口",
                "department": departments.get(window.department_id, ""),
                "status": status,
                "officers": "、".join(f"{o.name}（{o.staff_no}）" for o in people) or "—",
                "agent": agent_text,
                "last_seen": local_text(agent.last_seen_at, hall.tz, "%H:%M:%S") if agent else "",
                "problems": "；".join(problems.get(agent.device_id, [])) if agent else "",
                "_class": "" if people and online else "bad",
            }
        )
    columns = [
        ("window", "窗口"),
        ("department", "部门"),
        ("status", "在岗状态"),
        ("officers", "在岗人员"),
        ("agent", "窗口终端"),
        ("last_seen", "最近心跳"),
        ("problems", "设备异常"),
    ]
    return Table("窗口在岗情况", columns, rows), staffed


def problem_table(session: Session, hall: HallNow) -> Table:
    """Devices that report a problem, agents gone silent and revoked keys."""
    windows = {w.id: w for w in registry.all_windows(session)}
    devices = {d.device_id: d for d in device_repo.all_devices(session)}

    def visible(device_id: str) -> bool:
        device = devices.get(device_id)
        window = windows.get(device.window_id) if device else None
        return hall.scope is None or (window is not None and window.department_id == hall.scope)

    rows: list[dict[str, Any]] = []
    for s in device_repo.device_states(session):
        if s.state != "ok" and visible(s.device_id):
            since = local_text(s.since, hall.tz)
            rows.append(
                {
                    "device_id": s.device_id,
                    "device": s.device,
                    "problem": STATE_NAMES.get(s.state, s.state),
                    "reason": s.reason,
                    "since": since,
                }
            )
    for d in devices.values():
        online, text = agent_status(d, hall.now)
        if not online and visible(d.device_id):
            rows.append(
                {
                    "device_id": d.device_id,
                    "device": "终端进程",
                    "problem": text,
                    "reason": "",
                    "since": local_text(d.last_seen_at or d.revoked_at, hall.tz),
                }
            )
    columns = [
        ("device_id", "终端"),
        ("device", "设备"),
        ("problem", "问题"),
        ("reason", "原因"),
        ("since", "自"),
    ]
    return Table("有问题的设备", columns, rows, empty="所有设备正常")


def waiting_table(session: Session, settings: ServerSettings, hall: HallNow) -> tuple[Table, int]:
    """Today's queue per service item, and how many wait in all."""
    rows = queue_stats(session, QueueRules.from_settings(settings), hall.now, hall.scope)
    columns = [
        ("item_name", "事项"),
        ("waiting", "等候人数"),
        ("issued", "今日取号"),
        ("served", "已办结"),
        ("avg_wait_min", "平均等候（分钟）"),
        ("avg_service_min", "平均办理（分钟）"),
    ]
    return Table("各事项排队情况", columns, rows, empty="今日暂无取号"), sum(r["waiting"] for r in rows)


@router.get("/", response_model=None)
def overview(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    viewer: ViewerDep,
    format: ExportFormat | None = None,
) -> Response:
    """The hall right now; officers are sent to their own profile."""
    if viewer.user.role == Role.OFFICER:
        return RedirectResponse("/web/me", status_code=303)
    if viewer.user.role not in READERS:
        raise PageError(403, "您的账号无权访问此页面")
    hall = HallNow(utcnow(), ZoneInfo(settings.timezone), viewer.scope)
    windows, staffed = window_table(session, hall)
    waiting, waiting_total = waiting_table(session, settings, hall)
    problems = problem_table(session, hall)
    tables = [windows, waiting, problems]
    if format is not None:
        return export(tables, format, "overview")
    day = hall.now.astimezone(hall.tz).date()
    start, end = day_bounds(day, day, hall.tz)
    today = rating_summary(session, GroupBy.DEPARTMENT, start, end, hall.scope, hall.tz)
    cards = [
        ("在岗窗口", f"{staffed}/{len(windows.rows)}", staffed < len(windows.rows)),
        ("等候人数", waiting_total, False),
        ("今日评价", sum(r["rated"] for r in today), False),
        ("今日差评", sum(r["bad"] for r in today), any(r["bad"] for r in today)),
        ("设备问题", len(problems.rows), bool(problems.rows)),
    ]
    context = viewer.context(
        title="大厅概况",
        active="overview",
        tables=tables,
        cards=cards,
        updated=local_text(hall.now, hall.tz, "%Y-%m-%d %H:%M:%S"),
    )
    return render(request, "overview.html", context)
