"""The agents' command feed as a long poll: `GET /api/v1/edge/commands?wait_s=N`."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from starlette.requests import Request

from server.api.routes.enrollments import _wait_for
from server.app import create_app
from server.settings import ServerSettings
from tests.server.conftest import ANY_HOUR, SUPERVISOR_PASSWORD, Hall

COMMANDS = "/api/v1/edge/commands"


def _app(database_url: str, **settings: Any) -> FastAPI:
    return create_app(
        ServerSettings(demo=True, database_url=database_url, queue_last_ticket_time=ANY_HOUR, **settings)
    )


async def _supervisor(client: httpx.AsyncClient) -> dict[str, str]:
    r = await client.post(
        "/api/v1/auth/token", data={"username": "supervisor", "password": SUPERVISOR_PASSWORD}
    )
    r.raise_for_status()
    return {"Authorization": f"Bearer {r.json()['access_token']}"}


def _run(scenario: Callable[..., Awaitable[Any]], *apps: FastAPI) -> Any:
    """Run a scenario with one in-process client per app (each as if another server process)."""

    async def main() -> Any:
        clients = [
            httpx.AsyncClient(transport=httpx.ASGITransport(app), base_url="http://hall") for app in apps
        ]
        try:
            return await asyncio.wait_for(scenario(*clients), 30)
        finally:
            for client in clients:
                await client.aclose()

    try:
        return asyncio.run(main())
    finally:
        for app in apps:
            app.state.engine.dispose()


def test_without_wait_the_answer_comes_at_once(hall: Hall) -> None:
    agent = hall.device_headers("agent-w5")
    started = time.monotonic()
    r = hall.client.get(COMMANDS, params={"wait_s": 0}, headers=agent)
    assert (r.status_code, r.json()) == (200, {"enrollments": []})
    assert time.monotonic() - started < 1.0
    created = hall.client.post(
        "/api/v1/enrollments",
        json={"device_id": "agent-w5", "staff_no": "SJ002"},
        headers=hall.user_headers(),
    )
    (cmd,) = hall.client.get(COMMANDS, params={"wait_s": 0}, headers=agent).json()["enrollments"]
    assert (cmd["id"], cmd["status"]) == (created.json()["id"], "sent")


@pytest.mark.parametrize("wait_s", ["-1", "30.5", "600", "soon"])
def test_wait_out_of_range_is_refused(hall: Hall, wait_s: str) -> None:
    r = hall.client.get(COMMANDS, params={"wait_s": wait_s}, headers=hall.device_headers("agent-w1"))
    assert r.status_code == 422
    assert r.json()["detail"][0]["loc"] == ["query", "wait_s"]


def test_the_device_key_is_checked_before_waiting(hall: Hall) -> None:
    started = time.monotonic()
    r = hall.client.get(COMMANDS, params={"wait_s": 5}, headers={"Authorization": "Bearer agent-w1.wrong"})
    assert r.status_code == 401
    assert time.monotonic() - started < 2.0


def test_long_poll_answers_when_a_supervisor_makes_a_request(
    prepared_database: tuple[str, dict[str, str]],
) -> None:
    url, keys = prepared_database
    agent = {"Authorization": f"Bearer {keys['agent-w5']}"}

    async def scenario(
        client: httpx.AsyncClient,
    ) -> tuple[httpx.Response, httpx.Response, httpx.Response, float]:
        supervisor = await _supervisor(client)

        async def request_later() -> httpx.Response:
            await asyncio.sleep(0.5)
            return await client.post(
                "/api/v1/enrollments", json={"device_id": "agent-w5", "staff_no": "SJ002"}, headers=supervisor
            )

        started = time.monotonic()
        # Another window's poll keeps waiting: the request is not for it.
        other, polled, created = await asyncio.gather(
            client.get(
                COMMANDS, params={"wait_s": 2}, headers={"Authorization": f"Bearer {keys['agent-w6']}"}
            ),
            client.get(COMMANDS, params={"wait_s": 5}, headers=agent),
            request_later(),
        )
        return other, polled, created, time.monotonic() - started

    other, polled, created, elapsed = _run(scenario, _app(url))
    assert created.status_code == 201
    assert polled.status_code == 200
    (cmd,) = polled.json()["enrollments"]
    assert (cmd["id"], cmd["staff_no"], cmd["name"], cmd["status"]) == (
        created.json()["id"],
        "SJ002",
        "吴军",
        "sent",
    )
    assert other.json() == {"enrollments": []}
    assert elapsed < 4.5  # well before the poll's deadline


def test_long_poll_sees_a_request_made_in_another_process(
    prepared_database: tuple[str, dict[str, str]],
) -> None:
    url, keys = prepared_database
    agent = {"Authorization": f"Bearer {keys['agent-w2']}"}

    async def scenario(polled_at: httpx.AsyncClient, made_at: httpx.AsyncClient) -> tuple[Any, Any, float]:
        supervisor = await _supervisor(made_at)

        async def request_later() -> httpx.Response:
            await asyncio.sleep(0.5)
            return await made_at.post(
                "/api/v1/enrollments", json={"device_id": "agent-w2", "staff_no": "GA002"}, headers=supervisor
            )

        started = time.monotonic()
        polled, created = await asyncio.gather(
            polled_at.get(COMMANDS, params={"wait_s": 8}, headers=agent), request_later()
        )
        return polled.json(), created.json(), time.monotonic() - started

    # Two apps over one database: the poll's process learns of the request from its snapshot's TTL.
    polled, created, elapsed = _run(scenario, _app(url), _app(url))
    assert [e["id"] for e in polled["enrollments"]] == [created["id"]]
    assert elapsed < 7.5


def test_long_poll_with_nothing_answers_empty_at_its_deadline(
    prepared_database: tuple[str, dict[str, str]],
) -> None:
    url, keys = prepared_database

    async def scenario(client: httpx.AsyncClient) -> tuple[httpx.Response, float]:
        started = time.monotonic()
        r = await client.get(
            COMMANDS, params={"wait_s": 1}, headers={"Authorization": f"Bearer {keys['agent-w3']}"}
        )
        return r, time.monotonic() - started

    r, elapsed = _run(scenario, _app(url))
    assert (r.status_code, r.json()) == (200, {"enrollments": []})
    assert 0.9 <= elapsed < 3.0


def test_the_servers_cap_shortens_the_wait(prepared_database: tuple[str, dict[str, str]]) -> None:
    url, keys = prepared_database

    async def scenario(client: httpx.AsyncClient) -> tuple[httpx.Response, float]:
        started = time.monotonic()
        r = await client.get(
            COMMANDS, params={"wait_s": 30}, headers={"Authorization": f"Bearer {keys['agent-w3']}"}
        )
        return r, time.monotonic() - started

    r, elapsed = _run(scenario, _app(url, command_wait_max_s=0.2))
    assert r.json() == {"enrollments": []}
    assert elapsed < 2.0


def test_waiting_ends_when_the_agent_disconnects(prepared_database: tuple[str, dict[str, str]]) -> None:
    url, _ = prepared_database
    app = _app(url)

    async def gone() -> dict[str, Any]:
        return {"type": "http.disconnect"}

    async def scenario() -> tuple[bool, float]:
        request = Request(
            {"type": "http", "app": app, "method": "GET", "path": COMMANDS, "headers": []}, gone
        )
        started = time.monotonic()
        found = await _wait_for(request, "agent-w1", time.monotonic() + 20)
        return found, time.monotonic() - started

    try:
        found, elapsed = asyncio.run(scenario())
    finally:
        app.state.engine.dispose()
    assert not found
    assert elapsed < 3.0
