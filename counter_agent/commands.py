"""What the server asks a window to do: today, fingerprint enrolments started by a supervisor.

The agent long-polls ``GET /api/v1/edge/commands?wait_s=``: the server answers when there is a
command for this window, or with nothing after ``COMMAND_WAIT_S``, and the agent asks again at once.
A command is carried out once per run of the agent: the server hands an open request out again until
its outcome (an outbox event) arrives, so one it repeats meanwhile is skipped, and the agent waits
``COMMAND_RETRY_S`` before asking again, as it does after an error. A poll that brings nothing is
never followed by the next sooner than ``COMMAND_RETRY_S`` after its start (a server that does not
wait, or caps the wait, is not hammered).
"""

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

COMMAND_WAIT_S = 25.0  # the long poll's wait; the server caps it at 30 s
# The pause after an error or an answer of only repeated commands, and the least time between the
# starts of two polls that brought nothing (a server that answers at once is asked at the old pace).
COMMAND_RETRY_S = 3.0
COMMAND_TIMEOUT_S = COMMAND_WAIT_S + 10.0  # the request's own timeout: the wait and a slow answer
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


async def fetch_commands(agent: Agent) -> list[dict[str, Any]]:
    """This window's open enrolment requests, waiting up to ``COMMAND_WAIT_S`` for one."""
    response = await agent.client.get(
        "/api/v1/edge/commands",
        params={"wait_s": COMMAND_WAIT_S},
        timeout=httpx.Timeout(COMMAND_TIMEOUT_S, connect=3.0),
    )
    response.raise_for_status()
    return list(response.json().get("enrollments", []))


async def command_loop(agent: Agent) -> None:
    """Long-poll the server for this window's commands and carry them out, one at a time."""
    carried_out: set[int] = set()
    loop = asyncio.get_running_loop()
    while True:
        started = loop.time()
        try:
            requests = await fetch_commands(agent)
        except (httpx.HTTPError, ValueError) as err:
            log.debug("commands not fetched: %s", err)
            await asyncio.sleep(COMMAND_RETRY_S)  # a down server is not asked again at once
            continue
        new = [r for r in requests if int(r["id"]) not in carried_out]
        for request in new:
            await enroll(agent, request)
            carried_out.add(int(request["id"]))
        if requests and not new:
            # Only requests whose outcome is still on its way: ask again once it has arrived.
            await asyncio.sleep(COMMAND_RETRY_S)
        elif not requests:
            await asyncio.sleep(max(0.0, started + COMMAND_RETRY_S - loop.time()))
