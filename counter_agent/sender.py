"""Delivers the outbox to the server in batches, with exponential backoff and jitter."""

from __future__ import annotations

import asyncio
import logging
import random
from dataclasses import dataclass
from datetime import UTC, datetime

import httpx

from common.events import MAX_BATCH_EVENTS
from counter_agent.outbox import Outbox, OutboxError

log = logging.getLogger(__name__)


@dataclass
class SenderStatus:
    """What the window display and the heartbeat show about delivery."""

    online: bool = False
    last_error: str = ""
    last_delivery: datetime | None = None
    clock_offset_s: float | None = None
    delivered: int = 0


class Sender:
    """Sends pending events in order; each batch is retried until the server answers it."""

    def __init__(
        self,
        outbox: Outbox,
        client: httpx.AsyncClient,
        *,
        batch_size: int = MAX_BATCH_EVENTS,
        backoff_initial_s: float = 0.5,
        backoff_max_s: float = 60.0,
        idle_poll_s: float = 1.0,
    ) -> None:
        self.outbox = outbox
        self.client = client
        self.batch_size = batch_size
        self.backoff_initial_s = backoff_initial_s
        self.backoff_max_s = backoff_max_s
        self.idle_poll_s = idle_poll_s
        self.status = SenderStatus()
        self._wake = asyncio.Event()
        self._failures = 0

    def wake(self) -> None:
        """A new event is in the outbox: send soon."""
        self._wake.set()

    def backoff_s(self) -> float:
        """Delay before the next try: exponential in the failures so far, with full jitter on top half."""
        ceiling = min(self.backoff_max_s, self.backoff_initial_s * (2 ** min(self._failures, 16)))
        return ceiling * random.uniform(0.5, 1.0)

    async def send_once(self) -> int:
        """Send one batch; return how many events the server answered (0 when nothing was pending)."""
        pending = await asyncio.to_thread(self.outbox.pending, self.batch_size)
        if not pending:
            return 0
        body = {"sent_at": datetime.now(UTC).isoformat(), "events": [p.body for p in pending]}
        response = await self.client.post("/api/v1/events", json=body)
        if response.status_code in (401, 403):
            raise PermissionError(
                f"server refused this agent's key: {response.status_code} {response.text[:200]}"
            )
        response.raise_for_status()
        answer = response.json()
        outcomes = {r["id"]: (r["outcome"], r.get("reason")) for r in answer["results"] if r.get("id")}
        # An event the server could not even parse has no id in the answer: keep it by our own id.
        for item, p in zip(answer["results"], pending, strict=True):
            if not item.get("id"):
                outcomes[p.id] = (item["outcome"], item.get("reason"))
        await asyncio.to_thread(self.outbox.mark_delivered, outcomes)
        for event_id, (outcome, reason) in outcomes.items():
            if outcome == "rejected":
                log.warning("server rejected event %s: %s", event_id, reason)
        server_time = datetime.fromisoformat(answer["server_time"])
        self.status.clock_offset_s = (datetime.now(UTC) - server_time).total_seconds()
        return len(pending)

    async def run(self) -> None:
        """Deliver forever; never lose an event, never crash on a network or server failure."""
        while True:
            try:
                sent = await self.send_once()
            except (httpx.HTTPError, PermissionError, OutboxError, ValueError, KeyError) as err:
                self._failures += 1
                self._mark_offline(err)
                await self._sleep(self.backoff_s())
                continue
            self._failures = 0
            if sent:
                self.status.online = True
                self.status.last_error = ""
                self.status.delivered += sent
                self.status.last_delivery = datetime.now(UTC)
                continue
            await self._sleep(self.idle_poll_s, wakeable=True)

    def _mark_offline(self, err: Exception) -> None:
        message = f"{type(err).__name__}: {err}"[:300]
        if self.status.online or message != self.status.last_error:
            log.warning("cannot deliver to the server (%s); retrying with backoff", message)
        self.status.online = False
        self.status.last_error = message

    async def _sleep(self, seconds: float, wakeable: bool = False) -> None:
        if not wakeable:
            await asyncio.sleep(seconds)
            return
        self._wake.clear()
        try:
            await asyncio.wait_for(self._wake.wait(), timeout=seconds)
        except TimeoutError:
            return
