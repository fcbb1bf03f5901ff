"""The counter agent process: devices -> service session -> durable outbox -> server."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import ssl
import time
from datetime import timedelta
from typing import Any

import httpx

from common.events import (
    LEVEL_NAMES,
    EdgeEvent,
    EventKind,
    HeartbeatPayload,
    new_event,
)
from counter_agent.agent_state import AgentState, DeviceInfo, Notice
from counter_agent.badge import NO_PAGE, SIM_READER, BadgeStation, badge_punch_event, mask_uid
from counter_agent.casework import CaseDesk
from counter_agent.commands import command_loop
from counter_agent.devices import FingerprintStation, receipt_printer, run_keypad
from counter_agent.effects import device_status_event, to_event
from counter_agent.outbox import Outbox, OutboxError
from counter_agent.queue_client import QueueClient
from counter_agent.roster import ROSTER_KEY, Roster, load_cached
from counter_agent.sender import Sender
from counter_agent.session import Effect, PunchEffect, ServiceSession, SessionError, WindowState
from counter_agent.settings import SIMULATED, AgentSettings
from counter_agent.staff_actions import StaffActions
from kiosk.devices.keypad.keymap import KeyMap
from kiosk.devices.keypad.reader import KeyPress
from kiosk.devices.printer import TicketPrinter
from kiosk.devices.supervisor import DeviceState, DeviceSupervisor

log = logging.getLogger(__name__)

ROSTER_REFRESH_S = 60.0
PRUNE_AFTER = timedelta(days=7)


class Agent(StaffActions):
    """One window's agent."""

    def __init__(self, settings: AgentSettings, device_urls: dict[str, str] | None = None) -> None:
        self.settings = settings
        self.outbox = Outbox(settings.outbox_path, settings.outbox_max_bytes)
        self.session = ServiceSession(
            rating_timeout_s=settings.rating_timeout_s, punch_dedupe_s=settings.punch_dedupe_s
        )
        self.roster = load_cached(self.outbox.get_value(ROSTER_KEY), settings.window)
        self.state = AgentState()
        self.device_urls = device_urls or {
            "rating": settings.rating_keypad_url,
            "caller": settings.caller_keypad_url,
            "fingerprint": settings.fingerprint_url,
        }
        self.client = httpx.AsyncClient(
            base_url=settings.server_url,
            headers={"Authorization": f"Bearer {settings.device_key.get_secret_value()}"},
            timeout=httpx.Timeout(10.0, connect=3.0),
            verify=ssl.create_default_context(cafile=settings.ca_file) if settings.ca_file else True,
        )
        self.sender = Sender(self.outbox, self.client)
        self.queue = QueueClient(self.client)
        self.printer: DeviceSupervisor[TicketPrinter] | None = None
        printer_url = self.device_urls.get("printer", "")
        if printer_url and printer_url != SIMULATED:
            self.printer = receipt_printer(printer_url, settings, self.on_device_change)
        self.cases = CaseDesk(self.client, self.printer)
        self._lock = asyncio.Lock()
        self.fingerprint: FingerprintStation | None = None
        url = self.device_urls.get("fingerprint", "")
        if url and url != SIMULATED:
            self.fingerprint = FingerprintStation(
                url, settings.fingerprint_baud, self.on_finger, self.on_unknown_finger, self.on_device_change
            )
        self.badge: BadgeStation | None = None
        if settings.badge_reader:
            wanted = SIM_READER if settings.badge_reader == SIMULATED else settings.badge_reader
            self.badge = BadgeStation(wanted, self.on_badge, self.on_device_change)

    # -- recording ---------------------------------------------------------
    async def record(self, event: EdgeEvent) -> None:
        """Commit an event durably, then let the sender deliver it."""
        try:
            await asyncio.to_thread(self.outbox.put, event)
        except OutboxError as err:
            # Nothing else can keep the event: say so loudly at the window and in the log.
            log.error("event %s (%s) NOT stored: %s", event.id, event.kind.value, err)
            self.notify("本机数据存储失败（磁盘已满或损坏），请立即联系管理员")
            return
        self.sender.wake()

    async def _apply(self, effects: list[Effect]) -> None:
        for effect in effects:
            await self.record(to_event(effect, self.settings.device_id, self.settings.window))

    def notify(self, text: str) -> None:
        """Show a message on the window display and the console."""
        self.state.notice = Notice(text, time.time())
        log.info("window %d: %s", self.settings.window, text)

    # -- device callbacks --------------------------------------------------
    async def on_device_change(self, name: str, kind: str, state: DeviceState, reason: str) -> None:
        """A device changed state: show it and report it to the server."""
        self.state.devices[name] = DeviceInfo(kind, state.value, reason)
        await self.record(
            device_status_event(
                self.settings.device_id, self.settings.window, name, kind, state.value, reason
            )
        )

    async def on_key(self, press: KeyPress) -> None:
        """A key on the rating keypad or the caller keys."""
        async with self._lock:
            level = press.key.rating_level
            if level is not None:
                await self._apply(self.session.rate(level, press.key.value, time.time()))
                if self.session.state is not WindowState.AWAITING_RATING and level:
                    self.notify(f"感谢您的评价：{LEVEL_NAMES[level]}")
                return
            try:
                await self._do_action(press.key)
            except SessionError as err:
                self.notify(str(err))

    async def on_finger(self, page: int, score: int) -> None:
        """A finger matched a page of this window's reader."""
        officer = self.roster.officer_for_page(page)
        if officer is None:
            self.notify(f"指纹已识别（第{page}页），但未关联工作人员，请联系管理员")
            return
        async with self._lock:
            effects = self.session.punch(officer, page, score, time.time())
            await self._apply(effects)
        for effect in effects:
            if isinstance(effect, PunchEffect):
                self.notify(f"{officer.name} {'签到' if effect.clock_in else '签退'}成功")

    async def on_badge(self, uid: str) -> None:
        """A badge tapped on the reader: clock its officer in or out as a finger would."""
        officer = self.roster.officer_for_badge(uid)
        if officer is None and await self.refresh_roster():
            officer = self.roster.officer_for_badge(uid)  # issued since the last roster fetch
        if officer is None:
            self.notify(f"工作证（{mask_uid(uid)}）未登记或已注销，请联系管理员")
            return
        async with self._lock:
            effects = self.session.punch(officer, NO_PAGE, 0, time.time())
            for effect in effects:
                if isinstance(effect, PunchEffect):
                    await self.record(
                        badge_punch_event(effect, uid, self.settings.device_id, self.settings.window)
                    )
        for effect in effects:
            if isinstance(effect, PunchEffect):
                self.notify(f"{officer.name} 刷卡{'签到' if effect.clock_in else '签退'}成功")

    async def on_unknown_finger(self) -> None:
        """A finger that is not enrolled on this reader."""
        self.notify("指纹未登记，请重新按压或联系管理员")

    # -- background loops --------------------------------------------------
    async def _tick_loop(self) -> None:
        while True:
            async with self._lock:
                effects = self.session.tick(time.time())
                await self._apply(effects)
            if effects:
                self.notify("本次服务未评价")
            await asyncio.sleep(0.5)

    async def _heartbeat_loop(self) -> None:
        while True:
            payload = HeartbeatPayload(
                outbox_depth=await asyncio.to_thread(self.outbox.depth),
                devices={name: info.state for name, info in self.state.devices.items()},
                state=self.session.state.value,
                officer_staff_no=self.session.on_duty.staff_no if self.session.on_duty else None,
            )
            await self.record(
                new_event(EventKind.HEARTBEAT, self.settings.device_id, payload, self.settings.window)
            )
            await asyncio.to_thread(self.outbox.prune, PRUNE_AFTER)
            await asyncio.sleep(self.settings.heartbeat_s)

    async def refresh_roster(self) -> bool:
        """Fetch the roster; keep the cached one when the server is unreachable."""
        try:
            response = await self.client.get("/api/v1/edge/roster")
            response.raise_for_status()
            data: dict[str, Any] = response.json()
        except (httpx.HTTPError, ValueError) as err:
            log.debug("roster not refreshed: %s", err)
            return False
        self.roster = Roster.from_json(self.settings.window, data)
        await asyncio.to_thread(self.outbox.set_value, ROSTER_KEY, json.dumps(data, ensure_ascii=False))
        return True

    async def _roster_loop(self) -> None:
        while True:
            ok = await self.refresh_roster()
            await asyncio.sleep(ROSTER_REFRESH_S if ok else 3.0)

    def device_tasks(self) -> list[asyncio.Task[None]]:
        """Start a task per configured device."""
        tasks = []
        rating_map = (
            KeyMap.from_config(self.settings.rating_keymap, self.settings.rating_keys_reversed)
            if self.settings.rating_keymap
            else KeyMap.rating(self.settings.rating_keys_reversed)
        )
        for name, keymap in (("rating", rating_map), ("caller", KeyMap.caller())):
            url = self.device_urls.get(name, "")
            if url and url != SIMULATED:
                tasks.append(
                    asyncio.create_task(run_keypad(name, url, keymap, self.on_key, self.on_device_change))
                )
        if self.fingerprint is not None:
            tasks.append(asyncio.create_task(self.fingerprint.run(), name="fingerprint"))
        if self.printer is not None:
            tasks.append(asyncio.create_task(self.printer.run(), name="printer"))
        if self.badge is not None:
            tasks.append(asyncio.create_task(self.badge.run(), name="badge"))
        return tasks

    async def run(self, extra: list[asyncio.Task[Any]] | None = None) -> None:
        """Run until cancelled."""
        tasks = [
            asyncio.create_task(self.sender.run(), name="sender"),
            asyncio.create_task(self._tick_loop(), name="tick"),
            asyncio.create_task(self._heartbeat_loop(), name="heartbeat"),
            asyncio.create_task(self._roster_loop(), name="roster"),
            asyncio.create_task(command_loop(self), name="commands"),
            *self.device_tasks(),
            *(extra or []),
        ]
        try:
            await asyncio.gather(*tasks)
        finally:
            for task in tasks:
                task.cancel()
            for task in tasks:
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await task
            await self.client.aclose()
            self.outbox.close()
