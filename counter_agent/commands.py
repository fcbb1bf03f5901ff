"""What the server asks a window to do: today, fingerprint enrolments started by a supervisor."""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING, Any

import httpx

from common.events import EnrollmentPayload, EventKind, new_event
from kiosk.devices.errors import DeviceError

if TYPE_CHECKING:
    from counter_agent.runtime import Agent

log = logging.getLogger(__name__)

COMMAND_POLL_S = 3.0
ENROL_PROMPTS = {
    "PRESS_FIRST": "请按压手指",
    "LIFT": "请抬起手指",
    "PRESS_SECOND": "请再次按压同一手指",
    "STORING": "正在保存指纹",
}


async def enroll(agent: Agent, request: dict[str, Any]) -> None:
    """Carry out a server-started enrolment: two presses, then report the page (or why not)."""
    name = request.get("name") or request.get("staff_no") or ""
    agent.notify(f"指纹录入：{name}，请按压手指")
    payload = EnrollmentPayload(request_id=int(request["id"]))
    station = agent.fingerprint
    if station is None:
        payload.error = "no fingerprint reader at this window"
    else:

        async def stored(page: int) -> None:
            # Known here before the reader identifies again; the server's roster follows the event.
            agent.roster.pages[page] = {"page": page, "staff_no": request["staff_no"], "name": name}

        try:
            payload.page = await station.enroll(
                lambda step: agent.notify(f"指纹录入：{ENROL_PROMPTS[step]}"), stored
            )
        except (DeviceError, TimeoutError) as err:
            payload.error = f"{type(err).__name__}: {err}"[:300]
    settings = agent.settings
    await agent.record(new_event(EventKind.ENROLLMENT, settings.device_id, payload, settings.window))
    agent.notify(f"指纹录入{'成功' if payload.page is not None else '失败'}：{name}")


async def command_loop(agent: Agent) -> None:
    """Poll the server for this window's commands and carry them out, one at a time."""
    while True:
        try:
            response = await agent.client.get("/api/v1/edge/commands")
            response.raise_for_status()
            requests = list(response.json().get("enrollments", []))
        except (httpx.HTTPError, ValueError) as err:
            log.debug("commands not fetched: %s", err)
            requests = []
        for request in requests:
            await enroll(agent, request)
        await asyncio.sleep(COMMAND_POLL_S)
