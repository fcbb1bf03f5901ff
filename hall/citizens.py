"""A simulated stream of citizens and staff, acting through the agents' simulated devices."""

from __future__ import annotations

import asyncio
import logging
import random
import time
from typing import Any

import httpx

log = logging.getLogger(__name__)

# Rough shape of real 好差评 data: mostly 非常满意/满意, a few bad reviews, some not rated.
LEVEL_WEIGHTS = {"RATE_1": 62, "RATE_2": 20, "RATE_3": 6, "RATE_4": 2, "RATE_5": 1, None: 9}


class WindowActor:
    """Plays the officer and the citizens at one window."""

    def __init__(self, client: httpx.AsyncClient, url: str, rng: random.Random) -> None:
        self.client = client
        self.url = url.rstrip("/")
        self.rng = rng
        self.served = 0

    async def _state(self) -> dict[str, Any]:
        r = await self.client.get(f"{self.url}/state")
        r.raise_for_status()
        data: dict[str, Any] = r.json()
        return data

    async def _key(self, key: str) -> None:
        await self.client.post(f"{self.url}/sim/key", json={"key": key})

    async def clock_in(self) -> None:
        """Wait for the roster, then the A-post officer presses a finger."""
        while True:
            state = await self._state()
            posts = state.get("posts") or []
            if posts:
                break
            await asyncio.sleep(0.5)
        a_post = next((p for p in posts if p["role"] == "A"), posts[0])
        while (await self._state())["state"] == "unstaffed":
            await self.client.post(
                f"{self.url}/sim/finger", json={"staff_no": a_post["staff_no"]}, timeout=10
            )
            await asyncio.sleep(0.5)

    async def serve_one(self) -> None:
        """Call the next citizen (or serve by hand when the queue is away), serve, finish, rate."""
        await self._key("NEXT")
        await asyncio.sleep(0.5)
        state = (await self._state())["state"]
        if state == "staffed":  # nobody waiting
            await asyncio.sleep(self.rng.uniform(1.0, 3.0))
            return
        if state == "calling":
            await asyncio.sleep(self.rng.uniform(1.0, 4.0))  # the citizen walks to the window
            await self._key("NEXT")
        await asyncio.sleep(self.rng.uniform(2.0, 6.0))
        await self._key("FINISH")
        await asyncio.sleep(self.rng.uniform(0.6, 3.0))
        choice = self.rng.choices(list(LEVEL_WEIGHTS), weights=list(LEVEL_WEIGHTS.values()))[0]
        if choice is not None:
            await self._key(choice)
        else:
            while (await self._state())["state"] == "awaiting_rating":
                await asyncio.sleep(0.5)
        self.served += 1
        if self.rng.random() < 0.05:
            await self._key("RATE_1")  # a press outside any service: a misuse signal

    async def run(self, deadline: float | None) -> None:
        """Serve citizens until the deadline."""
        staffed = False
        while deadline is None or time.monotonic() < deadline:
            try:
                if not staffed:
                    await self.clock_in()
                    staffed = True
                await self.serve_one()
            except httpx.HTTPError as err:
                log.warning("%s: %s", self.url, err)
                await asyncio.sleep(1.0)
            await asyncio.sleep(self.rng.uniform(0.2, 1.5))


class KioskActor:
    """Citizens arriving at the kiosk: department, item, sometimes the ID card, take the ticket."""

    def __init__(self, client: httpx.AsyncClient, url: str, rng: random.Random) -> None:
        self.client = client
        self.url = url.rstrip("/")
        self.rng = rng
        self.tickets = 0

    async def _event(self, type_: str, code: str | None = None) -> dict[str, Any]:
        r = await self.client.post(f"{self.url}/api/event", json={"type": type_, "code": code})
        r.raise_for_status()
        data: dict[str, Any] = r.json()
        return data

    async def take_ticket(self) -> None:
        """One citizen at the kiosk."""
        view = await self._event("start")
        department = self.rng.choice(view["departments"])
        view = await self._event("department", department["code"])
        item = self.rng.choice(view["items"])
        await self._event("item", item["code"])
        if self.rng.random() < 0.3:
            await self._event("card")
            await self.client.post(f"{self.url}/sim/card/place", json={"index": self.rng.randrange(3)})
            await asyncio.sleep(1.0)
            await self.client.post(f"{self.url}/sim/card/remove")
        else:
            await self._event("take")
        await asyncio.sleep(2.0)
        self.tickets += 1
        await self._event("home")

    async def run(self, deadline: float | None, windows: int) -> None:
        """A citizen every few seconds, about as many as the windows can serve."""
        while deadline is None or time.monotonic() < deadline:
            try:
                await self.take_ticket()
            except (httpx.HTTPError, KeyError, IndexError) as err:
                log.warning("kiosk: %s", err)
            await asyncio.sleep(self.rng.uniform(4.0, 8.0) / max(1, windows / 3))


async def run_citizens(
    agent_urls: list[str], duration_s: float = 0, seed: int | None = None, kiosk_url: str | None = None
) -> int:
    """Drive the kiosk and every agent until ``duration_s`` passes (0 = forever)."""
    rng = random.Random(seed)
    deadline = time.monotonic() + duration_s if duration_s else None
    async with httpx.AsyncClient(timeout=10.0) as client:
        actors = [WindowActor(client, url, random.Random(rng.random())) for url in agent_urls]
        runs = [actor.run(deadline) for actor in actors]
        if kiosk_url:
            runs.append(KioskActor(client, kiosk_url, random.Random(rng.random())).run(deadline, len(actors)))
        await asyncio.gather(*runs)
    log.info("served %d citizens", sum(a.served for a in actors))
    return 0
