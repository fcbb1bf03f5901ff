"""The JSON the touch page renders: the flow's screen plus catalog, ticket and device status."""

from __future__ import annotations

import time
from datetime import datetime
from typing import TYPE_CHECKING, Any

from kiosk.flow import seconds_left
from kiosk.flow_state import Failure, Screen
from kiosk.printing import PrintStatus
from kiosk.server_client import CatalogItem

if TYPE_CHECKING:
    from kiosk.service import Kiosk

REISSUED_TEXT = "已为您重新打印原号"
PRINT_TEXT = {
    PrintStatus.PRINTING: "正在打印号票，请稍候……",
    PrintStatus.PRINTED: "请取走号票，留意叫号",
    PrintStatus.CANCELLED: "号票未能打印，请凭屏幕号码到咨询台处理",
}


def _item(item: CatalogItem) -> dict[str, Any]:
    return {
        "code": item.code,
        "name": item.name,
        "department": item.department_code,
        "materials": list(item.materials),
        "waiting": item.waiting,
    }


def departments(catalog: list[CatalogItem]) -> list[dict[str, Any]]:
    """Departments in catalog order, with how many people wait for their items."""
    seen: dict[str, dict[str, Any]] = {}
    for item in catalog:
        entry = seen.setdefault(
            item.department_code, {"code": item.department_code, "name": item.department_name, "waiting": 0}
        )
        entry["waiting"] += item.waiting
    return list(seen.values())


def _local_time(value: object, kiosk: Kiosk) -> str:
    try:
        issued = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        return ""
    if issued.tzinfo is not None:
        issued = issued.astimezone(kiosk.tz)
    return f"{issued:%Y-%m-%d %H:%M}"


def _ticket(kiosk: Kiosk) -> dict[str, Any] | None:
    ticket = kiosk.flow.ticket
    if ticket is None:
        return None
    number = str(ticket.get("ticket_no", ""))
    status = kiosk.printing.status_of(number)
    if status == PrintStatus.WAITING:
        problem = kiosk.printing.problem or "打印机暂时无法打印"
        print_text = f"{problem}：您的号码已保留，打印机恢复后自动补打。请记住您的号码，留意叫号"
    else:
        print_text = PRINT_TEXT.get(status, "")
    appointment = ticket.get("appointment")
    slot = str(appointment.get("slot", "")) if isinstance(appointment, dict) else ""
    return {
        "ticket_no": number,
        "item_name": ticket.get("item_name", ""),
        "window_group": ticket.get("window_group", ""),
        "people_ahead": ticket.get("people_ahead", 0),
        "estimated_wait_min": ticket.get("estimated_wait_min", 0),
        "issued_at": _local_time(ticket.get("issued_at"), kiosk),
        "materials": list(ticket.get("materials") or []),
        # An appointment ticket is in the priority lane, but the citizen is told 预约, not 绿色通道.
        "priority": bool(ticket.get("priority", False)) and appointment is None,
        "appointment": appointment is not None,
        "appointment_text": f"预约 {slot}".strip() if appointment is not None else "",
        "citizen_masked": ticket.get("citizen_masked") or "",
        "reissued": bool(ticket.get("reissued", False)),
        "reissued_text": REISSUED_TEXT if ticket.get("reissued") else "",
        "print_status": status,
        "print_text": print_text,
    }


def render_view(kiosk: Kiosk) -> dict[str, Any]:
    """Everything the page needs for the current screen (never a clear ID number or name)."""
    flow = kiosk.flow
    item = kiosk.item(flow.item_code)
    dept = next((d for d in departments(kiosk.catalog) if d["code"] == flow.department), None)
    left = seconds_left(flow, time.monotonic(), kiosk.config)
    return {
        "screen": flow.screen.value,
        "hall_name": kiosk.settings.hall_name,
        "seconds_left": None if left is None else round(left),
        "departments": departments(kiosk.catalog),
        "department": dept,
        "items": [_item(i) for i in kiosk.catalog if i.department_code == flow.department],
        "item": _item(item) if item is not None else None,
        "citizen_masked": flow.citizen.masked if flow.citizen is not None else "",
        "priority": flow.priority,
        "ticket": _ticket(kiosk) if flow.screen is Screen.TICKET else None,
        "failure": flow.failure.value if flow.failure is not None else None,
        "offer_ticket": (flow.failure is Failure.APPT_TOO_LATE and bool(flow.item_code))
        or flow.failure is Failure.APPT_BY_SERIAL,
        "appointment": flow.appointment,
        "message": flow.message,
        "printer_problem": kiosk.printing.problem,
        "online": kiosk.catalog_ok,
        "priority_age": kiosk.settings.priority_age,
        "card_lane": kiosk.settings.card_lane,
        "clock": f"{datetime.now(kiosk.tz):%Y年%-m月%-d日 %H:%M}",
    }
