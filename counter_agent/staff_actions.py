"""The staff's actions at a window (caller keys and console): call, recall, transfer, pause, cases."""

from __future__ import annotations

import asyncio
import logging
import time
from typing import Any

from counter_agent.casework import CaseDesk
from counter_agent.queue_client import QueueClient, QueueUnavailable
from counter_agent.session import ServiceSession, SessionError, WindowState
from counter_agent.settings import AgentSettings
from kiosk.devices.keypad.keymap import Key

log = logging.getLogger(__name__)


class StaffActions:
    """The staff's actions, mixed into the Agent, which owns the session, queue, case desk and lock."""

    settings: AgentSettings
    session: ServiceSession
    queue: QueueClient
    cases: CaseDesk
    _lock: asyncio.Lock

    def notify(self, text: str) -> None:
        """Show a message on the window display and the console (the Agent's)."""
        raise NotImplementedError

    async def _do_action(self, key: Key) -> None:
        actions = {
            Key.NEXT: self.call_next,
            Key.RECALL: self.recall,
            Key.NO_SHOW: self.no_show,
            Key.TRANSFER: self.transfer,
            Key.PAUSE: self.toggle_pause,
            Key.FINISH: self.finish,
        }
        await actions[key]()

    def _staff_no(self) -> str | None:
        return self.session.on_duty.staff_no if self.session.on_duty else None

    async def _queue(self, action: str, **extra: Any) -> None:
        """Tell the server's queue what happened to the called ticket (best effort when offline)."""
        service = self.session.service
        if service is None or service.ticket_no is None:
            return
        try:
            await self.queue.act(service.ticket_no, action, self._staff_no(), **extra)
        except QueueUnavailable as err:
            log.warning("queue %s of %s not recorded: %s", action, service.ticket_no, err)

    async def call_next(self) -> None:
        """Call the next ticket from the server's queue; offline, start a manual service (手工处理)."""
        if self.session.state is WindowState.CALLING:
            await self._queue("start")
            self.session.start()
            self.notify("开始办理")
            return
        if self.session.state is not WindowState.STAFFED:
            self.session.call(None, None, time.time())  # raises the state's message
        try:
            ticket = await self.queue.call_next(self._staff_no())
        except QueueUnavailable as err:
            log.info("manual service: %s", err)
            self.session.call(None, None, time.time())
            self.notify("网络中断，手工处理：开始办理")
            return
        if ticket is None:
            self.notify("当前无人等候")
            return
        self.session.call(ticket["ticket_no"], ticket.get("item_code"), time.time())
        self.notify(f"请 {ticket['ticket_no']} 号到 {self.settings.window} 号窗口办理")

    async def manual_ticket(self, ticket_no: str) -> None:
        """A ticket taken by hand while the system was down (手工处理): serve it with its number."""
        self.session.call(ticket_no.strip().upper() or None, None, time.time())
        if self.session.state is WindowState.CALLING:
            self.session.start()
        self.notify(f"手工处理：{ticket_no} 开始办理")

    async def recall(self) -> None:
        """Announce the current ticket again."""
        if self.session.service is None or self.session.service.ticket_no is None:
            raise SessionError("没有可重呼的号码")
        await self._queue("recall")
        self.notify(f"重呼 {self.session.service.ticket_no}")

    async def no_show(self) -> None:
        """The called citizen did not come."""
        await self._queue("no-show")
        service = self.session.no_show()
        self.notify(f"{service.ticket_no or ''} 过号")

    async def transfer(self) -> None:
        """Send the citizen to another window: the ticket goes back to the queue keeping its time."""
        service = self.session.service
        if service is not None and service.item_code:
            await self._queue("transfer", item_code=service.item_code)
        self.session.transfer()
        self.notify("已转办")

    async def toggle_pause(self) -> None:
        """暂离 / 恢复."""
        if self.session.state is WindowState.PAUSED:
            self.session.resume()
            self.notify("恢复服务")
        else:
            self.session.pause()
            self.notify("暂停服务")

    async def finish(self) -> None:
        """End the service and arm the keypad."""
        if self.session.state is WindowState.SERVING:
            await self._queue("finish")
        self.session.finish(time.time())
        self.notify("办理结束，请对本次服务进行评价")

    async def accept_case(self, item_code: str, id_number: str, name: str, on_spot: bool) -> dict[str, Any]:
        """Accept a case for the citizen being served, link it to the service, print the receipt if due."""
        service = self.session.service
        if service is None or self.session.state is not WindowState.SERVING:
            raise SessionError("请在办理过程中受理办件")
        staff_no = self._staff_no() or service.officer.staff_no
        case = await self.cases.accept(item_code, staff_no, id_number, name, service.ticket_no, on_spot)
        async with self._lock:
            if self.session.service is service:
                self.session.set_case(case["case_no"])
        message = f"已受理办件 {case['case_no']}"
        if case.get("receipt"):
            message += "；" + await self.cases.print_receipt(case["receipt"])
        self.notify(message)
        return {"case": case, "message": message}

    async def supplement_case(self, case_no: str, missing: list[str]) -> dict[str, Any]:
        """Request the missing materials of a case, told once and completely (一次性告知)."""
        case = await self.cases.supplement(case_no, missing, self._staff_no())
        self.notify(f"办件 {case_no} 已一次性告知补正材料：{'、'.join(missing)}")
        return {"case": case}

    async def staff_action(self, key: Key) -> None:
        """A console button; raises SessionError when not possible now."""
        async with self._lock:
            await self._do_action(key)
