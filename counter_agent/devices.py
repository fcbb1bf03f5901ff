"""The window's devices: keypads and the fingerprint reader, each kept open by a supervisor."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

from counter_agent.settings import AgentSettings
from kiosk.devices.errors import DeviceError
from kiosk.devices.fingerprint.driver import EnrollStep, FingerprintReader
from kiosk.devices.fingerprint.errors import ConfirmationError, FingerNotFoundError, NoFingerError
from kiosk.devices.keypad.keymap import KeyMap
from kiosk.devices.keypad.reader import KeypadReader, KeyPress
from kiosk.devices.keypad.sources import EvdevSource, StreamSource, open_source
from kiosk.devices.printer import PrinterNotReadyError, TicketPrinter
from kiosk.devices.supervisor import DeviceState, DeviceSupervisor, StateCallback

log = logging.getLogger(__name__)

FINGER_REST_POLL_S = 0.2

PressHandler = Callable[[KeyPress], Awaitable[None]]
MatchHandler = Callable[[int, int], Awaitable[None]]
UnknownFingerHandler = Callable[[], Awaitable[None]]


async def run_keypad(
    name: str, url: str, keymap: KeyMap, on_press: PressHandler, on_change: StateCallback
) -> None:
    """Read one keypad forever, reopening it after an unplug."""
    supervisor = DeviceSupervisor(
        name, "keypad", lambda: _opened_source(url), on_change=on_change, close_fn=lambda s: s.close()
    )
    supervisor.start()
    reader = KeypadReader(keymap)
    try:
        while True:
            source = await supervisor.wait_device()
            try:
                async for event in source.events():
                    press = reader.feed(event)
                    if press is not None:
                        await on_press(press)
            except DeviceError as err:
                supervisor.report_error(err)
                await asyncio.sleep(0.05)
    finally:
        await supervisor.stop()


def _opened_source(url: str) -> EvdevSource | StreamSource:
    source = open_source(url)
    source.open()
    return source


class FingerprintStation:
    """The window's fingerprint reader: identifies fingers, and lends itself for an enrolment."""

    def __init__(
        self,
        url: str,
        baud: int,
        on_match: MatchHandler,
        on_unknown: UnknownFingerHandler,
        on_change: StateCallback,
        poll_wait_s: float = 1.0,
    ) -> None:
        self.on_match = on_match
        self.on_unknown = on_unknown
        self.poll_wait_s = poll_wait_s
        self._lock = asyncio.Lock()
        self._finger_on = False

        def open_reader() -> FingerprintReader:
            reader = FingerprintReader(url, baud=baud)
            reader.open()
            return reader

        self.supervisor: DeviceSupervisor[FingerprintReader] = DeviceSupervisor(
            "fingerprint", "fingerprint", open_reader, on_change=on_change, close_fn=lambda r: r.close()
        )

    async def run(self) -> None:
        """Identify fingers forever: each recognised finger is reported once per placement."""
        self.supervisor.start()
        self._finger_on = False
        try:
            while True:
                reader = await self.supervisor.wait_device()
                async with self._lock:
                    outcome = await self._identify_once(reader)
                if outcome is None:
                    self._finger_on = False
                elif outcome == "unknown":
                    if self._finger_on:
                        await asyncio.sleep(FINGER_REST_POLL_S)
                    else:
                        await self.on_unknown()
                    self._finger_on = True
                elif isinstance(outcome, tuple):
                    if self._finger_on:
                        # Same finger still resting on the sensor: poll gently until it is lifted.
                        await asyncio.sleep(FINGER_REST_POLL_S)
                    else:
                        await self.on_match(*outcome)
                    self._finger_on = True
        finally:
            await self.supervisor.stop()

    async def _identify_once(self, reader: FingerprintReader) -> tuple[int, int] | str | None:
        try:
            # While a recognised finger rests on the sensor, ask once (no waiting) so a lift is seen at once.
            wait_s = 0.0 if self._finger_on else self.poll_wait_s
            match = await asyncio.to_thread(reader.identify, wait_s)
        except NoFingerError:
            return None
        except FingerNotFoundError:
            return "unknown"
        except ConfirmationError as err:
            # A poor image or similar: the reader works, the finger should be placed again.
            log.debug("fingerprint not read: %s", err)
            return "retry"
        except DeviceError as err:
            self.supervisor.report_error(err)
            await asyncio.sleep(0.2)
            return "retry"
        return (match.page, match.score)

    async def enroll(
        self,
        on_step: Callable[[str], None],
        on_stored: Callable[[int], Awaitable[None]],
        wait_s: float = 30.0,
    ) -> int:
        """Enrol a finger in two presses into the first free page; ``on_stored`` runs before identifying."""
        loop = asyncio.get_running_loop()

        def step(value: EnrollStep) -> None:
            loop.call_soon_threadsafe(on_step, value.name)

        reader = await asyncio.wait_for(self.supervisor.wait_device(), timeout=wait_s)
        async with self._lock:
            try:
                page = await asyncio.to_thread(reader.enroll, None, wait_s, step)
                await on_stored(page)
                return page
            finally:
                # The enrolled finger may still rest on the sensor: only a new placement counts.
                self._finger_on = True


def receipt_printer(
    url: str, settings: AgentSettings, on_change: StateCallback
) -> DeviceSupervisor[TicketPrinter]:
    """The window's receipt printer, kept open (and its paper checked) by a supervisor."""

    def open_printer() -> TicketPrinter:
        printer = TicketPrinter(url, baud=settings.printer_baud, encoding=settings.printer_encoding)
        printer.open()
        return printer

    return DeviceSupervisor(
        "printer",
        "printer",
        open_printer,
        check_fn=lambda p: p.check_ready(),
        on_change=on_change,
        close_fn=lambda p: p.close(),
        classify=_printer_state,
        check_interval_s=5.0,
    )


def _printer_state(err: DeviceError) -> DeviceState:
    # Out of paper or cover open: the printer is there and answers, but cannot print.
    return DeviceState.DEGRADED if isinstance(err, PrinterNotReadyError) else DeviceState.UNAVAILABLE
