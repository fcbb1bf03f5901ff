"""The agent's local pages: the customer-facing window display, the staff console and their JSON."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import TYPE_CHECKING, Any

from fastapi import FastAPI, HTTPException, status
from fastapi.responses import HTMLResponse
from pydantic import BaseModel, Field, field_validator

from common.events import BADGE_UID_PATTERN, LEVEL_NAMES
from counter_agent.casework import CaseError
from counter_agent.session import STATE_TEXT, SessionError
from kiosk.devices.keypad.errors import KeypadConfigError
from kiosk.devices.keypad.keymap import Key
from kiosk.devices.pcsc import PcscError

if TYPE_CHECKING:
    from counter_agent.runtime import Agent
    from counter_agent.simulated import SimulatedDevices

PAGES = Path(__file__).parent / "pages"
STAFF_ACTIONS = {k.value for k in (Key.NEXT, Key.RECALL, Key.NO_SHOW, Key.TRANSFER, Key.PAUSE, Key.FINISH)}


class CaseIn(BaseModel):
    """A case accepted for the citizen being served."""

    item_code: str = Field(min_length=1, max_length=32)
    id_number: str = Field(min_length=15, max_length=18)
    name: str = Field(min_length=1, max_length=50)
    finished_on_spot: bool = False


class SupplementIn(BaseModel):
    """The missing materials of a case, told once and completely."""

    missing: list[str] = Field(min_length=1)


class ManualTicketIn(BaseModel):
    """A paper ticket taken by hand while the system was down."""

    ticket_no: str = Field(min_length=1, max_length=16)


class FingerIn(BaseModel):
    """A simulated finger placement."""

    staff_no: str


class BadgeIn(BaseModel):
    """A simulated badge tap: the card's UID in hex."""

    uid: str = Field(pattern=BADGE_UID_PATTERN)

    @field_validator("uid", mode="before")
    @classmethod
    def _upper(cls, value: object) -> object:
        return value.upper() if isinstance(value, str) else value


class KeyIn(BaseModel):
    """A simulated key press."""

    key: str


def window_state(agent: Agent) -> dict[str, Any]:
    """What the display and console show."""
    s = agent.session
    officer = s.on_duty
    service = s.service
    return {
        "window": agent.settings.window,
        "window_name": agent.roster.window_name or f"{agent.settings.window}号窗口",
        "state": s.state.value,
        "state_text": STATE_TEXT[s.state],
        "officer": agent.roster.profile(officer.staff_no) | {"role": officer.role} if officer else None,
        "clocked_in": [o.staff_no for o in s.clocked_in.values()],
        "service": {"ticket_no": service.ticket_no, "case_no": service.case_no} if service else None,
        "commitments": agent.roster.commitments,
        "posts": [
            {"staff_no": p["staff_no"], "name": p["name"], "role": p["role"]} for p in agent.roster.posts
        ],
        "levels": LEVEL_NAMES,
        "notice": agent.state.notice.text,
        "online": agent.sender.status.online,
        "outbox_depth": agent.outbox.depth(),
        "devices": {n: {"state": d.state, "reason": d.reason} for n, d in agent.state.devices.items()},
    }


def create_agent_app(agent: Agent, sims: SimulatedDevices | None = None) -> FastAPI:
    """The local web app of one agent (bound to loopback by the caller)."""
    app = FastAPI(title=f"window {agent.settings.window}", docs_url=None, redoc_url=None)

    @app.get("/", response_class=HTMLResponse)
    def display() -> str:
        return (PAGES / "display.html").read_text(encoding="utf-8")

    @app.get("/console", response_class=HTMLResponse)
    def console() -> str:
        return (PAGES / "console.html").read_text(encoding="utf-8")

    @app.get("/state")
    def state() -> dict[str, Any]:
        return window_state(agent)

    @app.post("/action/{name}")
    async def action(name: str) -> dict[str, Any]:
        if name not in STAFF_ACTIONS:
            raise HTTPException(status.HTTP_404_NOT_FOUND, f"unknown action {name!r}")
        try:
            await agent.staff_action(Key(name))
        except SessionError as err:
            raise HTTPException(status.HTTP_409_CONFLICT, str(err)) from err
        return window_state(agent)

    @app.post("/cases")
    async def accept_case(body: CaseIn) -> dict[str, Any]:
        try:
            return await agent.accept_case(body.item_code, body.id_number, body.name, body.finished_on_spot)
        except (SessionError, CaseError) as err:
            raise HTTPException(status.HTTP_409_CONFLICT, str(err)) from err

    @app.post("/cases/{case_no}/supplement")
    async def supplement_case(case_no: str, body: SupplementIn) -> dict[str, Any]:
        try:
            return await agent.supplement_case(case_no, body.missing)
        except CaseError as err:
            raise HTTPException(status.HTTP_409_CONFLICT, str(err)) from err

    @app.post("/manual-ticket")
    async def manual_ticket(body: ManualTicketIn) -> dict[str, Any]:
        try:
            await agent.manual_ticket(body.ticket_no)
        except SessionError as err:
            raise HTTPException(status.HTTP_409_CONFLICT, str(err)) from err
        return window_state(agent)

    if sims is not None:

        @app.get("/sim/printer/tickets")
        def printed() -> dict[str, Any]:
            tickets = sims.printer.tickets if sims.printer is not None else []
            return {"count": len(tickets), "tickets": [t.text for t in tickets]}

        @app.post("/sim/finger")
        async def sim_finger(body: FingerIn) -> dict[str, Any]:
            enrolled = await sims.place_finger(agent.roster, body.staff_no)
            return {"enrolled": enrolled}

        @app.post("/sim/key")
        def sim_key(body: KeyIn) -> dict[str, Any]:
            try:
                key = Key.parse(body.key)
            except KeypadConfigError as err:
                raise HTTPException(
                    status.HTTP_422_UNPROCESSABLE_CONTENT, f"unknown key {body.key!r}"
                ) from err
            return {"pressed": sims.press(key)}

        @app.post("/sim/badge")
        async def sim_badge(body: BadgeIn) -> dict[str, Any]:
            try:
                await asyncio.to_thread(sims.present_badge, body.uid, agent.settings.badge_sim_port)
            except PcscError as err:
                raise HTTPException(
                    status.HTTP_503_SERVICE_UNAVAILABLE, f"virtual badge not presented: {err}"
                ) from err
            return {"uid": body.uid, "presented": True}

        # Registered before /sim/{device}/{plug}, which would otherwise take this path.
        @app.post("/sim/badge/remove")
        async def sim_badge_remove() -> dict[str, Any]:
            return {"removed": await asyncio.to_thread(sims.remove_badge)}

        @app.post("/sim/{device}/{plug}")
        def sim_plug(device: str, plug: str) -> dict[str, Any]:
            if plug not in ("unplug", "replug"):
                raise HTTPException(status.HTTP_404_NOT_FOUND, "use unplug or replug")
            done = sims.unplug(device) if plug == "unplug" else sims.replug(device)
            if not done:
                raise HTTPException(status.HTTP_404_NOT_FOUND, f"no simulated device {device!r}")
            return {"device": device, plug: True}

    return app
