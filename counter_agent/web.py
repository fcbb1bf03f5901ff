"""The agent's local pages: the customer-facing window display, the staff console and their JSON.

A plain Starlette app, not FastAPI: FastAPI (with its OpenAPI models and per-route pydantic fields) costs
the agent about 7 MB resident for eleven small routes on loopback. Request bodies are validated with the
pydantic models below and a bad one is answered 422 with pydantic's error list (``loc`` starting with
``"body"``), as FastAPI does; errors are ``{"detail": ...}`` JSON, unknown paths included.
"""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, Field, ValidationError, field_validator
from starlette import status
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.routing import Route

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


class _InvalidRequest(Exception):
    """A request body that does not validate: answered 422 with FastAPI's error list."""

    def __init__(self, errors: list[dict[str, Any]]) -> None:
        super().__init__(errors)
        self.errors = errors


async def _body(request: Request, model: type[BaseModel]) -> BaseModel:
    """The request's JSON body as ``model``; a missing, malformed or invalid body raises the 422 errors."""
    try:
        return model.model_validate_json(await request.body())
    except ValidationError as err:
        errors = err.errors(include_url=False, include_context=False, include_input=False)
        raise _InvalidRequest([{**e, "loc": ["body", *e["loc"]]} for e in errors]) from err


def _route(path: str, method: str, handler: Callable[..., Any], body: type[BaseModel] | None = None) -> Route:
    """A route calling ``handler(**path_params[, body=...])``; plain functions run in the thread pool."""
    is_async = inspect.iscoroutinefunction(handler)

    async def endpoint(request: Request) -> Response:
        kwargs: dict[str, Any] = dict(request.path_params)
        if body is not None:
            try:
                kwargs["body"] = await _body(request, body)
            except _InvalidRequest as err:
                return JSONResponse({"detail": err.errors}, status_code=422)
        result = await handler(**kwargs) if is_async else await run_in_threadpool(handler, **kwargs)
        return result if isinstance(result, Response) else JSONResponse(result)

    route = Route(path, endpoint, methods=[method])
    route.methods = {method}  # no implicit HEAD for GET: the method list is exactly what FastAPI had
    return route


async def _http_error(request: Request, exc: Exception) -> Response:
    """``{"detail": ...}`` as FastAPI answers an HTTPException (an unknown path or method too)."""
    assert isinstance(exc, HTTPException)
    if exc.status_code < 200 or exc.status_code in (204, 205, 304):
        return Response(status_code=exc.status_code, headers=exc.headers)
    return JSONResponse({"detail": exc.detail}, status_code=exc.status_code, headers=exc.headers)


def create_agent_app(agent: Agent, sims: SimulatedDevices | None = None) -> Starlette:
    """The local web app of one agent (bound to loopback by the caller)."""

    def display() -> HTMLResponse:
        return HTMLResponse((PAGES / "display.html").read_text(encoding="utf-8"))

    def console() -> HTMLResponse:
        return HTMLResponse((PAGES / "console.html").read_text(encoding="utf-8"))

    def state() -> dict[str, Any]:
        return window_state(agent)

    async def action(name: str) -> dict[str, Any]:
        if name not in STAFF_ACTIONS:
            raise HTTPException(status.HTTP_404_NOT_FOUND, f"unknown action {name!r}")
        try:
            await agent.staff_action(Key(name))
        except SessionError as err:
            raise HTTPException(status.HTTP_409_CONFLICT, str(err)) from err
        return window_state(agent)

    async def accept_case(body: CaseIn) -> dict[str, Any]:
        try:
            return await agent.accept_case(body.item_code, body.id_number, body.name, body.finished_on_spot)
        except (SessionError, CaseError) as err:
            raise HTTPException(status.HTTP_409_CONFLICT, str(err)) from err

    async def supplement_case(case_no: str, body: SupplementIn) -> dict[str, Any]:
        try:
            return await agent.supplement_case(case_no, body.missing)
        except CaseError as err:
            raise HTTPException(status.HTTP_409_CONFLICT, str(err)) from err

    async def manual_ticket(body: ManualTicketIn) -> dict[str, Any]:
        try:
            await agent.manual_ticket(body.ticket_no)
        except SessionError as err:
            raise HTTPException(status.HTTP_409_CONFLICT, str(err)) from err
        return window_state(agent)

    routes = [
        _route("/", "GET", display),
        _route("/console", "GET", console),
        _route("/state", "GET", state),
        _route("/action/{name}", "POST", action),
        _route("/cases", "POST", accept_case, CaseIn),
        _route("/cases/{case_no}/supplement", "POST", supplement_case, SupplementIn),
        _route("/manual-ticket", "POST", manual_ticket, ManualTicketIn),
    ]

    if sims is not None:
        routes += _sim_routes(agent, sims)

    return Starlette(routes=routes, exception_handlers={HTTPException: _http_error})


def _sim_routes(agent: Agent, sims: SimulatedDevices) -> list[Route]:
    """Routes that drive the in-process simulators (demo and tests only)."""

    def printed() -> dict[str, Any]:
        tickets = sims.printer.tickets if sims.printer is not None else []
        return {"count": len(tickets), "tickets": [t.text for t in tickets]}

    async def sim_finger(body: FingerIn) -> dict[str, Any]:
        enrolled = await sims.place_finger(agent.roster, body.staff_no)
        return {"enrolled": enrolled}

    def sim_key(body: KeyIn) -> dict[str, Any]:
        try:
            key = Key.parse(body.key)
        except KeypadConfigError as err:
            raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, f"unknown key {body.key!r}") from err
        return {"pressed": sims.press(key)}

    async def sim_badge(body: BadgeIn) -> dict[str, Any]:
        try:
            await asyncio.to_thread(sims.present_badge, body.uid, agent.settings.badge_sim_port)
        except PcscError as err:
            raise HTTPException(
                status.HTTP_503_SERVICE_UNAVAILABLE, f"virtual badge not presented: {err}"
            ) from err
        return {"uid": body.uid, "presented": True}

    async def sim_badge_remove() -> dict[str, Any]:
        return {"removed": await asyncio.to_thread(sims.remove_badge)}

    def sim_plug(device: str, plug: str) -> dict[str, Any]:
        if plug not in ("unplug", "replug"):
            raise HTTPException(status.HTTP_404_NOT_FOUND, "use unplug or replug")
        done = sims.unplug(device) if plug == "unplug" else sims.replug(device)
        if not done:
            raise HTTPException(status.HTTP_404_NOT_FOUND, f"no simulated device {device!r}")
        return {"device": device, plug: True}

    return [
        _route("/sim/printer/tickets", "GET", printed),
        _route("/sim/finger", "POST", sim_finger, FingerIn),
        _route("/sim/key", "POST", sim_key, KeyIn),
        _route("/sim/badge", "POST", sim_badge, BadgeIn),
        # Before /sim/{device}/{plug}, which would otherwise take this path.
        _route("/sim/badge/remove", "POST", sim_badge_remove),
        _route("/sim/{device}/{plug}", "POST", sim_plug),
    ]
