"""Reports the kiosk's device states (printer, ID-card reader) to the server as device_status events.

States are kept in memory until delivered: after a restart each supervisor publishes its state
afresh, so nothing the server needs is lost with them.
"""

from __future__ import annotations

import asyncio
import logging

from common.events import DeviceStatusPayload, EdgeEvent, EventKind, new_event
from kiosk.devices.supervisor import DeviceState
from kiosk.server_client import ServerClient, ServerRejectedError, ServerUnreachableError

log = logging.getLogger(__name__)

RETRY_S = 5.0
MAX_PENDING = 200


class StatusReporter:
    """Queues state changes and delivers them in order, retrying while the server is away."""

    def __init__(self, server: ServerClient, device_id: str) -> None:
        self.server = server
        self.device_id = device_id
        self.pending: list[EdgeEvent] = []
        self._wake = asyncio.Event()

    def report(self, name: str, kind: str, state: DeviceState, reason: str) -> None:
        """A supervisor's state change (call on the event loop)."""
        payload = DeviceStatusPayload(device=name, device_kind=kind, state=str(state), reason=reason[:500])
        self.pending.append(new_event(EventKind.DEVICE_STATUS, self.device_id, payload))
        del self.pending[:-MAX_PENDING]  # a long outage keeps the latest changes
        self._wake.set()

    async def run(self) -> None:
        """Deliver forever."""
        while True:
            await self._wake.wait()
            self._wake.clear()
            while self.pending:
                batch = list(self.pending)
                try:
                    await self.server.post_events([e.model_dump(mode="json") for e in batch])
                except ServerUnreachableError as err:
                    log.debug("device states not delivered yet: %s", err)
                    await asyncio.sleep(RETRY_S)
                    continue
                except ServerRejectedError as err:
                    log.warning("server refused device states: %s", err)
                del self.pending[: len(batch)]
