"""The window's side of the server queue: call next and act on the called ticket."""

from __future__ import annotations

import logging
from typing import Any

import httpx

from common.ids import new_id

log = logging.getLogger(__name__)


class QueueUnavailable(Exception):
    """The server's queue cannot be reached or refused; the window works by hand (手工处理)."""


class QueueClient:
    """Thin client of ``/api/v1/queue`` over the agent's authenticated HTTP client."""

    def __init__(self, client: httpx.AsyncClient) -> None:
        self.client = client

    async def call_next(self, staff_no: str | None) -> dict[str, Any] | None:
        """Claim the next ticket for this window; None when nobody waits.

        The request carries a fresh ``call_ref``; after a transport error it is sent once more with the
        same reference, so a call the server did make before the answer was lost is not made twice.
        """
        body = {"staff_no": staff_no, "call_ref": str(new_id())}
        try:
            response = await self._post_twice("/api/v1/queue/call-next", body)
        except httpx.HTTPError as err:
            raise QueueUnavailable(f"queue unreachable: {err}") from err
        if response.status_code == 204:
            return None
        if response.status_code != 200:
            raise QueueUnavailable(_detail(response))
        ticket: dict[str, Any] = response.json()
        return ticket

    async def _post_twice(self, path: str, body: dict[str, Any]) -> httpx.Response:
        try:
            return await self.client.post(path, json=body)
        except httpx.TransportError as err:
            log.info("retrying %s once after a transport error: %s", path, err)
            return await self.client.post(path, json=body)

    async def act(self, ticket_no: str, action: str, staff_no: str | None, **extra: Any) -> dict[str, Any]:
        """recall | no-show | start | finish | transfer the ticket this window called."""
        try:
            response = await self.client.post(
                f"/api/v1/queue/tickets/{ticket_no}/{action}", json={"staff_no": staff_no, **extra}
            )
        except httpx.HTTPError as err:
            raise QueueUnavailable(f"queue unreachable: {err}") from err
        if response.status_code != 200:
            raise QueueUnavailable(_detail(response))
        result: dict[str, Any] = response.json()
        return result


def _detail(response: httpx.Response) -> str:
    try:
        return str(response.json().get("detail", response.text))[:200]
    except ValueError:
        return response.text[:200]
