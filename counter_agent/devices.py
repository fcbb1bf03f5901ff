"""The window's devices: keypads and the fingerprint reader, each kept open by a supervisor."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

from kiosk.devices.errors import DeviceError
from kiosk.devices.fingerprint.driver import FingerprintReader
from kiosk.devices.fingerprint.errors import ConfirmationError, FingerNotFoundError, NoFingerError
from kiosk.devices.keypad.keymap import KeyMap
from kiosk.devices.keypad.reader import KeypadReader, KeyPress
from kiosk.devices.keypad.sources import EvdevSource, StreamSource, open_source
from kiosk.devices.supervisor import DeviceSupervisor, StateCallback

log = logging.getLogger(__name__)

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


async def run_fingerprint(
    url: str,
    baud: int,
    on_match: MatchHandler,
    on_unknown: UnknownFingerHandler,
    on_change: StateCallback,
    poll_wait_s: float = 1.0,
) -> None:
    """Identify fingers forever: each recognised finger is reported once per placement."""

    def open_reader() -> FingerprintReader:
        reader = FingerprintReader(url, baud=baud)
        reader.open()
        return reader

    supervisor: DeviceSupervisor[FingerprintReader] = DeviceSupervisor(
        "fingerprint", "fingerprint", open_reader, on_change=on_change, close_fn=lambda r: r.close()
    )
    supervisor.start()
    finger_on = False
    try:
        while True:
            reader = await supervisor.wait_device()
            try:
                match = await asyncio.to_thread(reader.identify, poll_wait_s)
            except NoFingerError:
                finger_on = False
                continue
            except FingerNotFoundError:
                if not finger_on:
                    await on_unknown()
                finger_on = True
                continue
            except ConfirmationError as err:
                # A poor image or similar: the reader works, the finger should be placed again.
                log.debug("fingerprint not read: %s", err)
                continue
            except DeviceError as err:
                supervisor.report_error(err)
                await asyncio.sleep(0.2)
                continue
            if not finger_on:
                await on_match(match.page, match.score)
            finger_on = True
    finally:
        await supervisor.stop()
