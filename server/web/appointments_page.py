"""Appointments (预约): a day's slots and bookings, the no-shows, and the form to open a slot."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Unpack

from fastapi import APIRouter, Form, Request, Response
from fastapi.responses import RedirectResponse
from sqlmodel import Session

from server.api.deps import SessionDep, SettingsDep
from server.errors import HallError, NotFoundError
from server.models.appointments import AppointmentStatus
from server.repo import appointments as repo
from server.repo import queue_stats as stats_repo
from server.services import appointments as service
from server.services import appointments_checkin as checkin_service
from server.services import audit
from server.services.appointments import AppointmentRules, SlotRequest
from server.settings import ServerSettings
from server.timeutil import utcnow
from server.web.deps import PageError, Reader, Supervisor, Viewer, check_csrf, client_address
from server.web.render import FormState, render_form
from server.web.tables import ExportFormat, Table, export

router = APIRouter(prefix="/web", include_in_schema=False)

SLOT_COLUMNS = [
    ("id", "编号"),
    ("item", "办理事项"),
    ("time", "时段"),
    ("capacity", "名额"),
    ("booked", "已预约"),
    ("free", "剩余"),
]
BOOKING_COLUMNS = [
    ("code", "预约码"),
    ("item", "办理事项"),
    ("time", "时段"),
    ("citizen", "预约人"),
    ("id_number", "身份证号"),
    ("phone", "电话"),
    ("status", "状态"),
    ("ticket", "票号"),
]
MAX_CAPACITY = 1000


class SlotFormError(HallError):
    """A field of the slot form that cannot be read."""


def _day(text: str | None, rules: AppointmentRules) -> dt.date:
    if not text:
        return rules.today(utcnow())
    try:
        return dt.date.fromisoformat(text)
    except ValueError as err:
        raise PageError(422, f"日期格式应为 YYYY-MM-DD：{text[:20]}") from err


def day_tables(session: Session, viewer: Viewer, day: dt.date, rules: AppointmentRules) -> list[Table]:
    """The day's slots, its bookings (no-shows marked first) and the no-shows, in the viewer's scope."""
    checkin_service.mark_no_shows(session, rules, utcnow())
    items = stats_repo.items_by_id(session)
    visible = {i for i, item in items.items() if viewer.scope in (None, item.department_id)}
    slots = []
    for slot in repo.slots_between(session, day, day, None):
        if slot.item_id not in visible:
            continue
        v = service.slot_view(session, slot, items)
        slots.append(
            {
                **v,
                "item": f"{v['item_name']}（{v['item_code']}）",
                "time": f"{v['start_time']}-{v['end_time']}",
            }
        )
    bookings = []
    for appointment, slot, item in repo.of_day(session, day, None, viewer.scope):
        v = service.appointment_view(session, appointment, slot, item)
        bookings.append(
            {
                "code": v["code"],
                "item": v["item_name"],
                "time": f"{v['start_time']}-{v['end_time']}",
                "citizen": v["name_masked"],
                "id_number": v["citizen_masked"],
                "phone": v["phone_masked"] or "",
                "status": v["status_text"],
                "ticket": v["ticket_no"] or "",
                "_status": v["status"],
                "_class": "bad" if v["status"] == AppointmentStatus.NO_SHOW.value else "",
            }
        )
    no_shows = [b for b in bookings if b["_status"] == AppointmentStatus.NO_SHOW.value]
    return [
        Table(f"{day} 预约时段", SLOT_COLUMNS, slots, empty="当日没有开放预约时段"),
        Table(f"{day} 预约记录", BOOKING_COLUMNS, bookings, empty="当日没有预约"),
        Table(f"{day} 爽约（未到）", BOOKING_COLUMNS, no_shows, empty="当日没有爽约"),
    ]


def _page(
    request: Request,
    session: Session,
    settings: ServerSettings,
    viewer: Viewer,
    day: dt.date,
    **form: Unpack[FormState],
) -> Response:
    rules = AppointmentRules.from_settings(settings)
    items = [i for i in stats_repo.items_by_id(session).values() if viewer.scope in (None, i.department_id)]
    context = viewer.context(
        title="预约",
        active="appointments",
        tables=day_tables(session, viewer, day, rules),
        day=day.isoformat(),
        items=sorted(items, key=lambda i: i.code),
    )
    return render_form(request, "appointments.html", context, **form)


@router.get("/appointments", response_model=None)
def appointments_page(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    viewer: Reader,
    date: str | None = None,
    format: ExportFormat | None = None,
    done: str = "",
) -> Response:
    """A day's slots, bookings and no-shows (today by default)."""
    rules = AppointmentRules.from_settings(settings)
    day = _day(date, rules)
    if format is not None:
        return export(day_tables(session, viewer, day, rules), format, f"appointments-{day}")
    flash = "预约时段已开放" if done == "slot" else ""
    return _page(request, session, settings, viewer, day, flash=flash)


def _slot_request(form: dict[str, str]) -> SlotRequest:
    """The slot the form asks for; SlotFormError with a readable message when a field is wrong."""
    try:
        day = dt.date.fromisoformat(form["date"])
        start, end = dt.time.fromisoformat(form["start_time"]), dt.time.fromisoformat(form["end_time"])
        capacity = int(form["capacity"])
    except ValueError as err:
        raise SlotFormError("请填写正确的日期、开始和结束时间以及名额") from err
    if end <= start:
        raise SlotFormError("结束时间必须晚于开始时间")
    if not 1 <= capacity <= MAX_CAPACITY:
        raise SlotFormError(f"名额应在 1 至 {MAX_CAPACITY} 之间")
    return SlotRequest(form["item_code"], day, start, end, capacity)


@router.post("/appointments/slots", response_model=None)
def create_slot(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    viewer: Supervisor,
    csrf_token: Annotated[str, Form(max_length=100)] = "",
    item_code: Annotated[str, Form(max_length=32)] = "",
    date: Annotated[str, Form(max_length=10)] = "",
    start_time: Annotated[str, Form(max_length=8)] = "",
    end_time: Annotated[str, Form(max_length=8)] = "",
    capacity: Annotated[str, Form(max_length=6)] = "",
) -> Response:
    """Open a slot of an item (admins and supervisors); errors show the form again as typed."""
    check_csrf(viewer, csrf_token)
    form = {"item_code": item_code, "date": date, "start_time": start_time, "end_time": end_time}
    form["capacity"] = capacity
    rules = AppointmentRules.from_settings(settings)
    try:
        req = _slot_request(form)
    except SlotFormError as err:
        today = rules.today(utcnow())
        return _page(request, session, settings, viewer, today, error=str(err), draft=form, status_code=422)
    try:
        slot = service.create_slot(session, req, rules, viewer.user.username, utcnow())
    except HallError as err:
        session.rollback()
        code = 404 if isinstance(err, NotFoundError) else 409
        return _page(
            request, session, settings, viewer, req.day, error=str(err), draft=form, status_code=code
        )
    details = {**form, "slot_id": slot.id}
    audit.record(
        session, viewer.user, "slot_create", f"slot:{slot.id}", details, client=client_address(request)
    )
    return RedirectResponse(f"/web/appointments?date={req.day}&done=slot", status_code=303)
