"""The agent's badge logic: reader choice, the roster's badges, and a tap clocking an officer in and out."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest

from common.events import PunchPayload
from counter_agent.badge import mask_uid, pick_reader
from counter_agent.roster import ROSTER_KEY, Roster, load_cached
from counter_agent.runtime import Agent
from counter_agent.session import WindowState
from counter_agent.settings import AgentSettings
from tests.pg_harness import free_port

UID = "04A1B2C3D4E5F6"
ROSTER = {
    "window": {"number": 1, "name": "1号窗口", "commitments": []},
    "items": [],
    "posts": [{"role": "A", "staff_no": "GA001", "name": "王芳"}],
    "fingerprints": [],
    "badges": [{"uid": UID, "staff_no": "GA001", "name": "王芳", "post": "户政受理员"}],
}
READERS = [
    "ACS ACR1252 1S CL Reader [ACR1252 1S CL Reader(1)] 00 00",
    "HID Global OMNIKEY 5022 Smart Card Reader [OMNIKEY 5022 CL] 00 00",
    "Virtual PCD 00 00",
]


@pytest.mark.parametrize(
    ("wanted", "expected"),
    [
        ("Virtual PCD 00 00", "Virtual PCD 00 00"),  # exact name
        ("omnikey", READERS[1]),  # pattern, case-insensitive
        ("HID Global OMNIKEY 5022 Smart Card Reader [OMNIKEY 5022 CL] 00 00", READERS[1]),
        ("[ACR1252 1S CL Reader(1)", READERS[0]),  # not a valid pattern: matched literally
        ("Virtual PCD 00 01", None),
    ],
)
def test_pick_reader(wanted: str, expected: str | None) -> None:
    assert pick_reader(READERS, wanted) == expected


def test_mask_uid_shows_only_the_last_four_digits() -> None:
    assert mask_uid(UID) == "**********E5F6"
    assert mask_uid("A1B2") == "A1B2"


def test_roster_knows_badges_and_keeps_them_in_the_offline_cache() -> None:
    roster = Roster.from_json(1, ROSTER)
    officer = roster.officer_for_badge(UID.lower())
    assert officer is not None and (officer.staff_no, officer.name, officer.role) == ("GA001", "王芳", "A")
    assert roster.officer_for_badge("DEADBEEF") is None
    cached = load_cached(json.dumps(roster.to_json()), 1)
    assert cached.officer_for_badge(UID) == officer
    # A roster cached by an agent from before badges has none: every tap is unknown, nothing breaks.
    assert load_cached(json.dumps({k: v for k, v in ROSTER.items() if k != "badges"}), 1).badges == {}


def _agent(tmp_path: Path, dedupe_s: float) -> Agent:
    # Nothing listens on this port: a roster refresh fails at once, as with the server down.
    settings = AgentSettings(
        window=1,
        device_key="agent-w1.test",
        server_url=f"http://127.0.0.1:{free_port()}",
        data_dir=tmp_path,
        punch_dedupe_s=dedupe_s,
    )
    agent = Agent(settings, {})
    agent.outbox.set_value(ROSTER_KEY, json.dumps(ROSTER))
    agent.roster = Roster.from_json(1, ROSTER)
    return agent


def _punches(agent: Agent) -> list[PunchPayload]:
    return [
        PunchPayload.model_validate(p.body["payload"])
        for p in agent.outbox.pending(100)
        if p.body["kind"] == "punch"
    ]


def test_tap_clocks_in_then_out_with_the_badge_as_source(tmp_path: Path) -> None:
    agent = _agent(tmp_path, dedupe_s=0)

    async def scenario() -> None:
        await agent.on_badge(UID)
        assert agent.session.state is WindowState.STAFFED
        assert agent.session.on_duty is not None and agent.session.on_duty.staff_no == "GA001"
        assert agent.state.notice.text == "王芳 刷卡签到成功"
        await agent.on_badge(UID)
        assert agent.session.state is WindowState.UNSTAFFED
        assert agent.state.notice.text == "王芳 刷卡签退成功"
        await agent.client.aclose()

    asyncio.run(asyncio.wait_for(scenario(), 10))
    punches = _punches(agent)
    assert [(p.badge_uid, p.page, p.officer_staff_no) for p in punches] == [(UID, None, "GA001")] * 2
    agent.outbox.close()


def test_repeated_tap_within_the_interval_counts_once(tmp_path: Path) -> None:
    agent = _agent(tmp_path, dedupe_s=60)

    async def scenario() -> None:
        for _ in range(3):
            await agent.on_badge(UID)
        await agent.client.aclose()

    asyncio.run(asyncio.wait_for(scenario(), 10))
    assert len(_punches(agent)) == 1
    assert agent.session.state is WindowState.STAFFED
    agent.outbox.close()


def test_unknown_badge_gets_a_clear_message_and_no_punch(tmp_path: Path) -> None:
    agent = _agent(tmp_path, dedupe_s=0)

    async def scenario() -> None:
        await agent.on_badge("DEADBEEF")
        await agent.client.aclose()

    asyncio.run(asyncio.wait_for(scenario(), 10))
    assert agent.state.notice.text == "工作证（****BEEF）未登记或已注销，请联系管理员"
    assert _punches(agent) == []
    assert agent.session.state is WindowState.UNSTAFFED
    agent.outbox.close()
