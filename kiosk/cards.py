"""The ID-card reader: kept open by a supervisor, polled in a thread, each card handed to the loop."""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Callable
from datetime import date

from kiosk.devices.idcard import CardPoller, IdCardError, IdCardReader, Identity
from kiosk.devices.idcard.errors import IdCardConnectionError
from kiosk.devices.supervisor import DeviceSupervisor, StateCallback
from kiosk.flow_state import Citizen

log = logging.getLogger(__name__)

CardHandler = Callable[[Identity], None]
CardErrorHandler = Callable[[IdCardError], None]


def citizen_from(identity: Identity, today: date) -> Citizen:
    """The card-lane view of an identity read on ``today`` (the hall's local date)."""
    return Citizen(
        id_number=identity.id_number,
        name=identity.name,
        masked=identity.masked_id_number,
        age=identity.age_on(today),
        expired=identity.is_expired(today),
    )


class CardReaderLoop:
    """Reads cards until stopped; hands identities and read failures to the event loop."""

    def __init__(
        self,
        url: str,
        baud: int,
        on_card: CardHandler,
        on_error: CardErrorHandler,
        on_change: StateCallback | None = None,
        interval_s: float = 0.25,
    ) -> None:
        self.url = url
        self.baud = baud
        self.on_card = on_card
        self.on_error = on_error
        self.interval_s = interval_s
        self._stop = threading.Event()

        def open_reader() -> IdCardReader:
            reader = IdCardReader(url, baud=baud)
            reader.open()
            return reader

        self.supervisor: DeviceSupervisor[IdCardReader] = DeviceSupervisor(
            "idcard", "idcard", open_reader, on_change=on_change, close_fn=lambda r: r.close()
        )

    async def run(self) -> None:
        """Supervise the reader and poll it in a thread until cancelled."""
        loop = asyncio.get_running_loop()
        self.supervisor.start()
        try:
            while True:
                reader = await self.supervisor.wait_device()
                err = await asyncio.to_thread(self._poll, reader, loop)
                if err is not None:
                    self.supervisor.report_error(err)
                    await asyncio.sleep(0.2)
        finally:
            self._stop.set()
            await self.supervisor.stop()

    def _poll(self, reader: IdCardReader, loop: asyncio.AbstractEventLoop) -> IdCardError | None:
        """Poll until the reader fails (its error is returned) or the loop stops (None)."""
        failed: list[IdCardError] = []

        def on_error(err: IdCardError) -> None:
            if isinstance(err, IdCardConnectionError):
                failed.append(err)
            else:
                # A card that is there but cannot be read: the citizen should know.
                loop.call_soon_threadsafe(self.on_error, err)

        poller = CardPoller(reader, interval_s=self.interval_s, on_error=on_error)
        while not self._stop.is_set():
            identity = poller.poll_once()
            if identity is not None:
                loop.call_soon_threadsafe(self.on_card, identity)
            if failed:
                return failed[0]
            self._stop.wait(self.interval_s)
        return None

    def stop(self) -> None:
        """End the polling thread (thread-safe)."""
        self._stop.set()
