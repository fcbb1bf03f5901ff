"""The window's case desk: accept a case (办件) on the server and print its receipt (受理回单) here."""

from __future__ import annotations

import asyncio
import logging
from datetime import date, datetime
from typing import Any

import httpx

from common.ids import new_id
from kiosk.devices.errors import DeviceError
from kiosk.devices.printer import CoverOpenError, PaperOutError, ReceiptContent, TicketPrinter
from kiosk.devices.supervisor import DeviceSupervisor

log = logging.getLogger(__name__)


class CaseError(Exception):
    """The server refused the case action, or cannot be reached (the message is shown to staff)."""


def receipt_content(receipt: dict[str, Any]) -> ReceiptContent:
    """The printer layout's receipt from the server's receipt fields."""
    return ReceiptContent(
        case_number=receipt["case_no"],
        item_name=receipt["item_name"],
        officer_name=receipt["officer_name"],
        officer_staff_no=receipt["officer_staff_no"],
        window_number=str(receipt["window_number"]),
        accepted_at=datetime.strptime(receipt["accepted_at"], "%Y-%m-%d %H:%M"),
        deadline=date.fromisoformat(receipt["due_date"]),
        applicant_masked=receipt["applicant_masked"],
        hall_name=receipt["hall_name"],
        notes=list(receipt.get("notes", [])),
    )


class CaseDesk:
    """Case actions of one window, and its receipt printer (optional)."""

    def __init__(self, client: httpx.AsyncClient, printer: DeviceSupervisor[TicketPrinter] | None) -> None:
        self.client = client
        self.printer = printer

    async def _post(self, path: str, body: dict[str, Any]) -> dict[str, Any]:
        try:
            response = await self.client.post(path, json=body)
        except httpx.HTTPError as err:
            raise CaseError("无法连接服务器，请稍后再试或按应急流程手工登记") from err
        if response.status_code >= 400:
            try:
                detail = response.json().get("detail", response.text)
            except ValueError:
                detail = response.text
            raise CaseError(str(detail)[:300])
        data: dict[str, Any] = response.json()
        return data

    async def accept(
        self, item_code: str, staff_no: str, id_number: str, name: str, ticket_no: str | None, on_spot: bool
    ) -> dict[str, Any]:
        """Accept a case for the citizen being served; the accepting officer is its first-responsible one."""
        body = {
            "client_ref": str(new_id()),
            "item_code": item_code,
            "officer_staff_no": staff_no,
            "applicant": {"id_number": id_number, "name": name},
            "ticket_no": ticket_no,
            "finished_on_spot": on_spot,
        }
        return await self._post("/api/v1/cases", body)

    async def supplement(self, case_no: str, missing: list[str], staff_no: str | None) -> dict[str, Any]:
        """Record the missing materials, told once and completely (一次性告知); the clock pauses."""
        return await self._post(
            f"/api/v1/cases/{case_no}/supplement", {"missing": missing, "officer_staff_no": staff_no}
        )

    async def print_receipt(self, receipt: dict[str, Any]) -> str:
        """Print the receipt at this window; returns a message for staff."""
        if self.printer is None:
            return "本窗口未配置回单打印机，请手工出具受理回单"
        try:
            printer = await asyncio.wait_for(self.printer.wait_device(), timeout=3.0)
            await asyncio.to_thread(printer.print_receipt, receipt_content(receipt))
        except (DeviceError, TimeoutError) as err:
            if isinstance(err, DeviceError):
                self.printer.report_error(err)
            log.warning("receipt %s not printed: %s", receipt.get("case_no"), err)
            return f"受理回单未能打印（{_printer_problem(err)}），请检查打印机后重打"
        return "受理回单已打印"


def _printer_problem(err: BaseException) -> str:
    if isinstance(err, PaperOutError):
        return "打印机缺纸"
    if isinstance(err, CoverOpenError):
        return "打印机纸仓盖未关"
    return "打印机不可用"
