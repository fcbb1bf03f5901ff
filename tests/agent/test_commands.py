"""The agent's command long poll: the wait it asks for, carrying a command out once, backing off."""

from __future__ import annotations

import asyncio
import itertools
from pathlib import Path

import httpx
import pytest

from common.events import EnrollmentPayload
from counter_agent import commands
from counter_agent.runtime import Agent
from counter_agent.settings import AgentSettings

REQUEST = {"id": 7, "device_id": "agent-w1", "staff_no": "GA001", "name": "王芳", "status": "sent"}


def test_command_loop_long_polls_carries_out_once_and_backs_off(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(commands, "COMMAND_RETRY_S", 1.0)
    # What the server answers, in turn: a request, the same again (its outcome not yet delivered),
    # an error, then nothing (a long poll's deadline) for ever.
    answers = [
        httpx.Response(200, json={"enrollments": [REQUEST]}),
        httpx.Response(200, json={"enrollments": [REQUEST]}),
        httpx.Response(503, json={"detail": "busy"}),
    ]
    asked: list[tuple[float, httpx.Request]] = []
    done = asyncio.Event()

    def server(request: httpx.Request) -> httpx.Response:
        asked.append((asyncio.get_running_loop().time(), request))
        if len(asked) >= 5:
            done.set()
        return answers.pop(0) if answers else httpx.Response(200, json={"enrollments": []})

    settings = AgentSettings(
        window=1, device_key="agent-w1.test", server_url="http://hall", data_dir=tmp_path
    )
    agent = Agent(settings, {})  # no fingerprint reader: the enrolment fails at once, with its reason

    async def scenario() -> None:
        await agent.client.aclose()
        agent.client = httpx.AsyncClient(base_url="http://hall", transport=httpx.MockTransport(server))
        loop = asyncio.create_task(commands.command_loop(agent))
        await asyncio.wait_for(done.wait(), 10)
        loop.cancel()
        await asyncio.gather(loop, return_exceptions=True)
        await agent.client.aclose()

    asyncio.run(scenario())
    first = asked[0][1]
    assert first.url.path == "/api/v1/edge/commands"
    assert first.url.params["wait_s"] == str(commands.COMMAND_WAIT_S)
    assert first.extensions["timeout"]["read"] >= commands.COMMAND_WAIT_S + 5
    # Asked again at once after carrying the request out; after the repeat, the error and an empty
    # answer that came at once (a server that does not wait), only after the pause. The pause after an
    # empty answer runs from the poll's start, a moment before this transport saw the request: allow
    # for that moment.
    gaps = [later[0] - earlier[0] for earlier, later in itertools.pairwise(asked)]
    assert gaps[0] < 0.5 and min(gaps[1:]) >= 1.0 - 0.05
    outcomes = [
        EnrollmentPayload.model_validate(p.body["payload"])
        for p in agent.outbox.pending(100)
        if p.body["kind"] == "enrollment"
    ]
    assert [(o.request_id, o.page) for o in outcomes] == [(7, None)]
    assert "no fingerprint reader" in outcomes[0].error
    agent.outbox.close()
