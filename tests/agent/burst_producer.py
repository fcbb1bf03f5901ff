"""A window's outbox and sender under a burst of events, as its own process (killed at random by tests).

Usage: python -m tests.agent.burst_producer OUTBOX SERVER_URL KEY DEVICE_ID WINDOW COUNT
Commits COUNT misuse events to the outbox (each committed before the next is made) while the
sender delivers them; then waits until the outbox is empty. Prints READY when producing starts.
"""

from __future__ import annotations

import asyncio
import sys

import httpx

from common.events import EventKind, MisusePayload, new_event
from counter_agent.outbox import Outbox
from counter_agent.sender import Sender


async def main(outbox_path: str, server_url: str, key: str, device_id: str, window: int, count: int) -> None:
    outbox = Outbox(outbox_path)
    async with httpx.AsyncClient(base_url=server_url, headers={"Authorization": f"Bearer {key}"}) as client:
        sender = Sender(outbox, client, backoff_initial_s=0.05, backoff_max_s=0.5, idle_poll_s=0.05)
        task = asyncio.create_task(sender.run())
        print("READY", flush=True)
        for _ in range(count):
            event = new_event(
                EventKind.MISUSE, device_id, MisusePayload(signal="burst_test", key="rate_1"), window
            )
            await asyncio.to_thread(outbox.put, event)
            sender.wake()
        while outbox.depth():
            await asyncio.sleep(0.05)
        task.cancel()
    print("DRAINED", flush=True)


if __name__ == "__main__":
    out, url, key, dev, win, n = sys.argv[1:7]
    asyncio.run(main(out, url, key, dev, int(win), int(n)))
