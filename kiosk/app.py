"""The kiosk's local web app: the touch page, its small JSON API and the simulator switches."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from fastapi import FastAPI, HTTPException, status
from fastapi.responses import FileResponse
from pydantic import BaseModel, Field

from kiosk.devices.pcsc import PcscError
from kiosk.flow_events import (
    Back,
    ChooseDepartment,
    ChooseItem,
    Event,
    Home,
    Start,
    TakeTicket,
    Touch,
    UseCard,
)
from kiosk.service import UnknownChoiceError

if TYPE_CHECKING:
    from kiosk.service import Kiosk
    from kiosk.simulated import SimulatedKioskDevices

SCREENS = Path(__file__).parent / "screens"
ASSETS = {"kiosk.css": "text/css", "kiosk.js": "text/javascript"}
SIMPLE_EVENTS: dict[str, Callable[[], Event]] = {
    "start": Start,
    "take": TakeTicket,
    "card": UseCard,
    "back": Back,
    "home": Home,
    "touch": Touch,
}


class EventIn(BaseModel):
    """A touch on the page."""

    type: Literal["start", "department", "item", "take", "card", "back", "home", "touch"]
    code: str | None = None


class CardIn(BaseModel):
    """Which simulated identity to put on the reader."""

    index: int


class SerialCardIn(BaseModel):
    """The UID of the simulated card to put on the PC/SC reader."""

    uid: str = Field(pattern=r"^([0-9A-Fa-f]{2}){4,10}$")


class FaultIn(BaseModel):
    """A simulated printer fault switch."""

    name: str
    on: bool


def _event(body: EventIn) -> Event:
    if body.type in ("department", "item"):
        if not body.code:
            raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, f"{body.type} needs a code")
        return ChooseDepartment(body.code) if body.type == "department" else ChooseItem(body.code)
    return SIMPLE_EVENTS[body.type]()


def create_kiosk_app(kiosk: Kiosk, sims: SimulatedKioskDevices | None = None) -> FastAPI:
    """The local app (bound to loopback by the caller); ``sims`` adds the simulator switches."""
    app = FastAPI(title="ticket kiosk", docs_url=None, redoc_url=None, openapi_url=None)
    # Handlers that touch the kiosk are async: they run on the kiosk's loop, never in a worker thread.

    @app.get("/")
    def page() -> FileResponse:
        return FileResponse(SCREENS / "index.html", media_type="text/html; charset=utf-8")

    @app.get("/assets/{name}")
    def asset(name: str) -> FileResponse:
        if name not in ASSETS:
            raise HTTPException(status.HTTP_404_NOT_FOUND, "no such file")
        return FileResponse(SCREENS / name, media_type=f"{ASSETS[name]}; charset=utf-8")

    @app.get("/api/state")
    async def state() -> dict[str, Any]:
        return kiosk.view()

    @app.post("/api/event")
    async def event(body: EventIn) -> dict[str, Any]:
        try:
            kiosk.handle(_event(body))
        except UnknownChoiceError as err:
            raise HTTPException(status.HTTP_404_NOT_FOUND, str(err)) from err
        return kiosk.view()

    @app.get("/healthz")
    async def healthz() -> dict[str, Any]:
        return {
            "status": "ok",
            "printer": kiosk.printing.supervisor.state.value,
            "printer_problem": kiosk.printing.problem,
            "idcard": kiosk.card_reader_state,
            "card_lane": kiosk.settings.card_lane,
            "card_present": kiosk.card_present,
            "server": "ok" if kiosk.catalog_ok else "unreachable",
            "unprinted": len(kiosk.printing.journal.pending()),
        }

    if sims is not None:
        _add_sim_routes(app, sims)
    return app


def _add_sim_routes(app: FastAPI, sims: SimulatedKioskDevices) -> None:
    @app.post("/sim/card/place")
    def place_card(body: CardIn) -> dict[str, Any]:
        try:
            masked = sims.place_card(body.index)
        except LookupError as err:
            raise HTTPException(status.HTTP_404_NOT_FOUND, str(err)) from err
        return {"placed": body.index, "masked": masked}

    @app.post("/sim/card/remove")
    def remove_card() -> dict[str, Any]:
        sims.remove_card()
        return {"removed": True}

    @app.post("/sim/serial-card/place")
    def place_serial_card(body: SerialCardIn) -> dict[str, Any]:
        try:
            masked = sims.present_serial_card(body.uid)
        except PcscError as err:
            raise HTTPException(
                status.HTTP_503_SERVICE_UNAVAILABLE, f"virtual card not presented: {err}"
            ) from err
        return {"placed": masked}

    @app.post("/sim/serial-card/remove")
    def remove_serial_card() -> dict[str, Any]:
        sims.remove_serial_card()
        return {"removed": True}

    @app.post("/sim/printer/fault")
    def printer_fault(body: FaultIn) -> dict[str, Any]:
        try:
            sims.set_printer_fault(body.name, body.on)
        except LookupError as err:
            raise HTTPException(status.HTTP_404_NOT_FOUND, str(err)) from err
        except ValueError as err:
            raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, str(err)) from err
        return {"fault": body.name, "on": body.on}

    @app.get("/sim/printer/tickets")
    def printed() -> dict[str, Any]:
        texts = sims.printed_texts()
        return {"count": len(texts), "tickets": texts}
