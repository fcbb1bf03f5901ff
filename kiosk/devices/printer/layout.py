"""Layouts of the queue ticket and the case receipt (受理回单)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, datetime

from kiosk.devices.printer.commands import Align, TicketBuilder

_UNMASKED_ID = re.compile(r"\d{6,}")


def _require_masked(value: str | None, what: str) -> None:
    # Personal data reaches paper masked only; the value itself stays out of the message.
    if value is not None and "*" not in value and _UNMASKED_ID.search(value):
        raise ValueError(f"{what} must be masked (e.g. 110***********1234)")


@dataclass(frozen=True)
class TicketContent:
    """What a queue ticket shows."""

    number: str
    item_name: str
    window_group: str
    issued_at: datetime
    people_ahead: int
    estimated_wait_min: int
    materials: list[str]
    qr_url: str
    hall_name: str
    priority: bool = False
    id_masked: str | None = field(default=None, repr=False)

    def __post_init__(self) -> None:
        _require_masked(self.id_masked, "id_masked")


@dataclass(frozen=True)
class ReceiptContent:
    """What a case receipt (受理回单) shows."""

    case_number: str
    item_name: str
    officer_name: str
    officer_staff_no: str
    window_number: str
    accepted_at: datetime
    deadline: date
    applicant_masked: str = field(repr=False)
    hall_name: str
    notes: list[str]

    def __post_init__(self) -> None:
        _require_masked(self.applicant_masked, "applicant_masked")


def render_ticket(content: TicketContent, encoding: str = "gb18030") -> bytes:
    """ESC/POS bytes of a queue ticket: text mode, number in double size, native QR, partial cut."""
    out = TicketBuilder(encoding).align(Align.CENTER)
    out.line(content.hall_name)
    if content.priority:
        out.line("【优先】")
    out.size(2, 2).line(content.number).size(1, 1)
    out.line(content.item_name)
    out.line(f"请到：{content.window_group}")
    out.align(Align.LEFT)
    out.line(f"取号时间：{content.issued_at:%Y-%m-%d %H:%M}")
    out.line(f"前面等候：{content.people_ahead}人，预计约{content.estimated_wait_min}分钟")
    if content.id_masked:
        out.line(f"身份证：{content.id_masked}")
    if content.materials:
        out.line("请备齐以下材料：")
        for index, material in enumerate(content.materials, start=1):
            out.line(f"{index}. {material}")
    out.align(Align.CENTER).qr(content.qr_url)
    out.line("扫码查看排队进度")
    out.line("请留意叫号，过号请重新取号")
    return out.cut()


def render_receipt(content: ReceiptContent, encoding: str = "gb18030") -> bytes:
    """ESC/POS bytes of a case receipt: text mode, case number in double size, native QR, partial cut."""
    out = TicketBuilder(encoding).align(Align.CENTER)
    out.line(content.hall_name)
    out.line("受理回单")
    out.size(2, 2).line(content.case_number).size(1, 1)
    out.align(Align.LEFT)
    out.line(f"办理事项：{content.item_name}")
    out.line(f"申请人：{content.applicant_masked}")
    out.line(f"受理窗口：{content.window_number}号窗口")
    out.line(f"受理人：{content.officer_name}（工号{content.officer_staff_no}）")
    out.line(f"受理时间：{content.accepted_at:%Y-%m-%d %H:%M}")
    out.line(f"承诺办结：{content.deadline:%Y-%m-%d}前")
    for note in content.notes:
        out.line(f"※{note}")
    out.align(Align.CENTER).qr(content.case_number)
    out.line("凭此回单查询办理进度")
    return out.cut()
