"""The kiosk: holds the flow, feeds it events, issues tickets and hands them to the printer."""

from __future__ import annotations

import asyncio
import logging
import time
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from common.ids import new_id
from kiosk import card_serial
from kiosk.cards import citizen_from
from kiosk.devices.idcard import IdCardError, Identity
from kiosk.devices.pcsc import CardRead as SerialCardRead
from kiosk.devices.pcsc import PcscError
from kiosk.flow import step
from kiosk.flow_events import (
    CardFailed,
    CardRead,
    CheckIn,
    CheckInRefused,
    ChooseDepartment,
    ChooseItem,
    Event,
    Issued,
    IssueFailed,
    IssueTicket,
    Start,
    Tick,
    Unavailable,
)
from kiosk.flow_state import Failure, Flow, FlowConfig, Screen
from kiosk.printing import Printing
from kiosk.server_client import (
    CatalogItem,
    ServerClient,
    ServerRejectedError,
    ServerUnreachableError,
)
from kiosk.settings import KioskSettings
from kiosk.view import render_view

log = logging.getLogger(__name__)

TICK_S = 0.5
ISSUE_ATTEMPTS = 2
APPOINTMENT_MARK = "【预约】"
# The server's refusal reasons of a check-in and the failure screen each one gets.
CHECK_IN_REFUSALS = {"too_early": Failure.APPT_TOO_EARLY, "too_late": Failure.APPT_TOO_LATE}


class UnknownChoiceError(ValueError):
    """A department or item code the kiosk does not offer."""


class Kiosk:
    """One ticket kiosk: the flow state, the item catalog, the server and the printer."""

    def __init__(self, settings: KioskSettings, server: ServerClient, printing: Printing) -> None:
        self.settings = settings
        self.server = server
        self.printing = printing
        self.tz = ZoneInfo(settings.timezone)
        self.config = FlowConfig(
            priority_age=settings.priority_age,
            idle_timeout_s=settings.idle_timeout_s,
            ticket_screen_s=settings.ticket_screen_s,
            failure_screen_s=settings.failure_screen_s,
        )
        self.flow = Flow(since=time.monotonic())
        self.catalog: list[CatalogItem] = []
        self.catalog_ok = False
        self.card_reader_state = "unavailable"
        self.card_present = False  # the card serial lane: a card lies on the PC/SC reader
        self._tasks: set[asyncio.Task[None]] = set()

    # -- events --------------------------------------------------------------
    def handle(self, event: Event) -> None:
        """Apply one event on the loop; start the ticket request when the flow asks for it."""
        if isinstance(event, ChooseDepartment) and not any(
            i.department_code == event.code for i in self.catalog
        ):
            raise UnknownChoiceError(f"unknown department {event.code!r}")
        if isinstance(event, ChooseItem) and self.item(event.code) is None:
            raise UnknownChoiceError(f"unknown item {event.code!r}")
        if isinstance(event, Start) and not self.catalog:
            event = Unavailable()
        before = self.flow.screen
        self.flow, effect = step(self.flow, event, time.monotonic(), self.config)
        if self.flow.screen is not before:
            log.info("screen %s -> %s (%s)", before.value, self.flow.screen.value, type(event).__name__)
        if effect is not None:
            work = self._issue(effect) if isinstance(effect, IssueTicket) else self._check_in(effect)
            task = asyncio.create_task(work, name=type(effect).__name__)
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    def on_card(self, identity: Identity) -> None:
        """A card was read (called on the loop by the reader thread)."""
        if self.flow.screen is not Screen.CARD:
            log.info("card %s read outside the card screen: ignored", identity.masked_id_number)
            return
        self.handle(CardRead(citizen_from(identity, datetime.now(self.tz).date())))

    def on_card_error(self, err: IdCardError) -> None:
        """A card was there but could not be read."""
        if self.flow.screen is Screen.CARD:
            self.handle(CardFailed(err.hint_zh))

    def on_card_serial(self, card: SerialCardRead) -> None:
        """A card was put on the PC/SC reader and its UID read (the card serial lane)."""
        self.card_present = True
        citizen = card_serial.citizen_from_serial(card)
        if self.flow.screen is not Screen.CARD:
            log.info("card %s read outside the card screen: ignored", citizen.masked)
            return
        self.handle(CardRead(citizen))

    def on_card_serial_removed(self) -> None:
        """The card left the PC/SC reader."""
        self.card_present = False
        log.info("card removed from the card serial reader")

    def on_card_serial_error(self, err: PcscError) -> None:
        """A card was on the PC/SC reader but its UID could not be read."""
        if self.flow.screen is Screen.CARD:
            self.handle(CardFailed(card_serial.read_failure_hint(err)))

    def on_card_reader_change(self, name: str, kind: str, state: Any, reason: str) -> None:
        """Remember the reader's availability for the status line."""
        self.card_reader_state = str(state)

    async def _issue(self, effect: IssueTicket) -> None:
        citizen, serial = None, None
        if effect.citizen is not None and effect.citizen.serial_only:
            serial = effect.citizen.card_serial
        elif effect.citizen is not None:
            citizen = {"id_number": effect.citizen.id_number, "name": effect.citizen.name}
        client_ref = str(new_id())  # the same ref on a retry: the server issues at most once
        event: Event = IssueFailed(Failure.SERVER_DOWN)
        for attempt in range(1, ISSUE_ATTEMPTS + 1):
            try:
                ticket = await self.server.issue(
                    effect.item_code, client_ref, effect.priority, citizen, card_serial=serial
                )
            except ServerRejectedError as err:
                log.warning("ticket for %s refused: %s", effect.item_code, err)
                event = IssueFailed(Failure.REJECTED, err.detail)
                break
            except ServerUnreachableError as err:
                log.warning(
                    "ticket for %s: server unreachable (attempt %d): %s", effect.item_code, attempt, err
                )
                continue
            await self.printing.submit(ticket)
            event = Issued(ticket)
            break
        self.handle(event)

    async def _check_in(self, effect: CheckIn) -> None:
        event: Event = IssueFailed(Failure.SERVER_DOWN)
        for attempt in range(1, ISSUE_ATTEMPTS + 1):
            try:
                ticket = await self.server.check_in(effect.citizen.id_number)
            except ServerRejectedError as err:
                log.info("check-in of %s refused: %s", effect.citizen.masked, err.detail)
                event = _refusal(err)
                break
            except ServerUnreachableError as err:
                log.warning("check-in: server unreachable (attempt %d): %s", attempt, err)
                continue  # a repeated check-in gets the same ticket back
            await self.printing.submit(appointment_print(ticket))
            event = Issued(ticket)
            break
        self.handle(event)

    # -- background ----------------------------------------------------------
    async def refresh_catalog(self) -> bool:
        """Fetch the service items; keep the last list when the server is unreachable."""
        try:
            items = await self.server.items()
        except (ServerUnreachableError, ServerRejectedError) as err:
            log.debug("item list not refreshed: %s", err)
            self.catalog_ok = False
            return False
        self.catalog, self.catalog_ok = items, True
        return True

    async def catalog_loop(self) -> None:
        """Keep the item list (and waiting counts) fresh."""
        while True:
            ok = await self.refresh_catalog()
            await asyncio.sleep(self.settings.items_refresh_s if ok else 3.0)

    async def tick_loop(self) -> None:
        """Drive the screen timeouts."""
        while True:
            self.handle(Tick())
            await asyncio.sleep(TICK_S)

    # -- reading -------------------------------------------------------------
    def item(self, code: str | None) -> CatalogItem | None:
        """A catalog item by code."""
        return next((i for i in self.catalog if i.code == code), None)

    def view(self) -> dict[str, Any]:
        """What the page renders now."""
        return render_view(self)


def _refusal(err: ServerRejectedError) -> Event:
    """The flow event of a refused check-in: no booking, too early or too late."""
    if err.status_code == 404:
        return CheckInRefused(Failure.APPT_NONE, err.detail)
    failure = CHECK_IN_REFUSALS.get(str(err.extra.get("reason", "")))
    if failure is None:
        return IssueFailed(Failure.REJECTED, err.detail)
    return CheckInRefused(failure, err.detail, str(err.extra.get("item_code", "")))


def appointment_print(ticket: dict[str, Any]) -> dict[str, Any]:
    """What the printer gets for an appointment ticket: marked 预约 instead of the priority lane."""
    name = str(ticket.get("item_name") or "")
    return {**ticket, "item_name": f"{APPOINTMENT_MARK}{name}", "priority": False}
