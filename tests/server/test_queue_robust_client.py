"""The agent's queue client against the real server app, with the answer of a call lost on the way back."""

from __future__ import annotations

import asyncio
import uuid

import httpx
import pytest
from sqlmodel import Session, select

from counter_agent.queue_client import QueueClient, QueueUnavailable
from server.models import Ticket
from tests.server.conftest import Hall

CALL_TIMEOUT_S = 30


class LosingTransport(httpx.AsyncBaseTransport):
    """Passes requests to the server, then loses the first ``lose`` answers as a dropped link would."""

    def __init__(self, inner: httpx.AsyncBaseTransport, lose: int) -> None:
        self.inner = inner
        self.lose = lose
        self.bodies: list[bytes] = []

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        """Forward the request; drop its answer while there are answers left to lose."""
        self.bodies.append(request.content)
        response = await self.inner.handle_async_request(request)
        await response.aread()
        if self.lose > 0:
            self.lose -= 1
            raise httpx.ReadError("connection reset while reading the answer", request=request)
        return response


def issue(hall: Hall) -> None:
    body = {"item_code": "GA01", "client_ref": str(uuid.uuid4()), "priority": False, "citizen": None}
    r = hall.client.post("/api/v1/tickets", json=body, headers=hall.device_headers("kiosk-1"))
    assert r.status_code == 201, r.text


def called(hall: Hall) -> list[str]:
    with Session(hall.engine) as session:
        return sorted(t.ticket_no for t in session.exec(select(Ticket).where(Ticket.status == "called")))


async def _call(hall: Hall, transport: LosingTransport) -> dict[str, object] | None:
    async with httpx.AsyncClient(
        transport=transport, base_url="http://hall", headers=hall.device_headers("agent-w1")
    ) as client:
        return await asyncio.wait_for(QueueClient(client).call_next("A0101"), CALL_TIMEOUT_S)


def test_lost_answer_is_retried_with_the_same_call_ref(hall: Hall) -> None:
    issue(hall)
    issue(hall)
    transport = LosingTransport(httpx.ASGITransport(app=hall.client.app), lose=1)
    ticket = asyncio.run(_call(hall, transport))
    assert ticket is not None and ticket["ticket_no"] == "A001"
    assert called(hall) == ["A001"]  # the first try did call A001; the retry did not call A002
    assert len(transport.bodies) == 2 and transport.bodies[0] == transport.bodies[1]
    assert b'"call_ref"' in transport.bodies[0]


def test_two_lost_answers_make_the_window_work_by_hand(hall: Hall) -> None:
    issue(hall)
    transport = LosingTransport(httpx.ASGITransport(app=hall.client.app), lose=2)
    with pytest.raises(QueueUnavailable, match="unreachable"):
        asyncio.run(_call(hall, transport))
    assert called(hall) == ["A001"]  # called once, though both answers were lost


def test_every_call_has_a_fresh_call_ref(hall: Hall) -> None:
    issue(hall)
    issue(hall)
    transport = LosingTransport(httpx.ASGITransport(app=hall.client.app), lose=0)
    first = asyncio.run(_call(hall, transport))
    second = asyncio.run(_call(hall, transport))
    assert first is not None and second is not None
    assert (first["ticket_no"], second["ticket_no"]) == ("A001", "A002")
    assert transport.bodies[0] != transport.bodies[1]
