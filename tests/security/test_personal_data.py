"""A citizen's ID number and name pass the kiosk, a window, a case and a complaint: kept nowhere in clear."""

from __future__ import annotations

import uuid
from pathlib import Path

import httpx
import pytest
import sqlalchemy as sa

from hall.demo import write_agent_config
from hall.processes import ProcessGroup, wait_http
from tests.e2e.harness import AgentClient, eventually
from tests.kiosk.harness import SERVER_ENV, KioskRig
from tests.pg_harness import free_port
from tests.server.conftest import SUPERVISOR_PASSWORD, prepare_database

pytestmark = pytest.mark.e2e

# The first demo identity on the simulated ID-card reader (kiosk/screens/demo_identities.json).
ID_NUMBER = "11010519491231002X"
NAME = "王秀英"
PHONE = "13812345678"
# The full number, its birth date and serial, and the name, in every spelling that could leak.
NEEDLES = (ID_NUMBER, ID_NUMBER.lower(), ID_NUMBER[6:14], ID_NUMBER[:17], NAME, PHONE)
ENCODINGS = ("utf-8", "utf-16-le", "gb18030")


def _leaks(data: bytes) -> list[str]:
    return [n for n in NEEDLES for enc in ENCODINGS if n.encode(enc) in data]


def _start(rig: KioskRig, group: ProcessGroup) -> tuple[AgentClient, str]:
    """Server, kiosk and the window 1 agent, all logging at DEBUG."""
    env = {**SERVER_ENV, "HALL_DATABASE_URL": rig.database_url, "HALL_LOG_LEVEL": "DEBUG"}
    proc = group.start("server", "server", "--port", str(rig.server_port), env=env)
    wait_http(f"{rig.server_url}/healthz", 60, proc)
    rig.start_kiosk(log_level="DEBUG")
    agent_port = free_port()
    config = write_agent_config(rig.tmp, 1, rig.keys["agent-w1"], rig.server_url, agent_port)
    proc = group.start("agent-w1", "--log-level", "DEBUG", "agent", "--config", str(config))
    wait_http(f"http://127.0.0.1:{agent_port}/state", 30, proc)
    return AgentClient(f"http://127.0.0.1:{agent_port}"), rig.server_url


def _kiosk_ticket_with_card(rig: KioskRig) -> str:
    for event in ({"type": "start"}, {"type": "department", "code": "GA"}, {"type": "item", "code": "GA01"}):
        httpx.post(f"{rig.kiosk_url}/api/event", json=event, timeout=5).raise_for_status()
    httpx.post(f"{rig.kiosk_url}/api/event", json={"type": "card"}, timeout=5).raise_for_status()
    rig.sim("POST", "/sim/card/place", index=0)
    printed: str = eventually(lambda: rig.printed() and rig.printed()[0], 20)
    rig.sim("POST", "/sim/card/remove")
    return printed


def _case_and_complaint(server_url: str, keys: dict[str, str]) -> list[str]:
    """Accept a case for the citizen at window 1 and record a complaint with a contact phone."""
    agent = {"Authorization": f"Bearer {keys['agent-w1']}"}
    body = {
        "client_ref": str(uuid.uuid4()),
        "item_code": "GA01",
        "officer_staff_no": "GA001",
        "applicant": {"id_number": ID_NUMBER, "name": NAME},
    }
    r = httpx.post(f"{server_url}/api/v1/cases", json=body, headers=agent, timeout=10)
    assert r.status_code in (201, 503), r.text  # 503: the hall calendar lacks this year; nothing stored
    token = httpx.post(
        f"{server_url}/api/v1/auth/token",
        data={"username": "supervisor", "password": SUPERVISOR_PASSWORD},
        timeout=10,
    ).json()["access_token"]
    sup = {"Authorization": f"Bearer {token}"}
    complaint = {"channel": "phone", "content": "等候时间过长", "window": 1, "contact_phone": PHONE}
    r2 = httpx.post(f"{server_url}/api/v1/complaints", json=complaint, headers=sup, timeout=10)
    assert r2.status_code == 201, r2.text
    # What the API shows back: only masked forms.
    shown = [r.text, r2.text, httpx.get(f"{server_url}/api/v1/cases", headers=sup, timeout=10).text]
    return [n for text in shown for n in NEEDLES if n in text]


def _text_columns_with_needles(database_url: str) -> list[str]:
    """Every text-like column of every table on PostgreSQL, searched for the needles."""
    engine = sa.create_engine(database_url)
    found: list[str] = []
    with engine.connect() as conn:
        columns = conn.execute(
            sa.text(
                "SELECT table_name, column_name FROM information_schema.columns "
                "WHERE table_schema = 'public' AND data_type IN "
                "('text', 'character varying', 'character', 'json', 'jsonb', 'ARRAY', 'USER-DEFINED')"
            )
        ).all()
        for table, column in columns:
            for needle in NEEDLES:
                query = sa.text(f'SELECT count(*) FROM "{table}" WHERE upper("{column}"::text) LIKE :n')
                if conn.execute(query, {"n": f"%{needle.upper()}%"}).scalar():
                    found.append(f"{table}.{column}: {needle}")
    engine.dispose()
    assert len(columns) > 20  # the scan looked at the real schema
    return found


def test_id_number_and_name_are_stored_nowhere_in_clear(tmp_path: Path, database_url: str) -> None:
    keys = prepare_database(database_url)
    group = ProcessGroup(tmp_path / "logs")
    rig = KioskRig(tmp_path, group, database_url, keys, free_port(), free_port())
    try:
        agent, server_url = _start(rig, group)
        printed = _kiosk_ticket_with_card(rig)
        assert "110***********002X" in printed and _leaks(printed.encode()) == []
        agent.wait_devices()
        agent.finger("GA001")
        agent.wait_state("staffed")
        agent.serve("RATE_1")  # the citizen's ticket is called, served and rated at window 1
        called = agent.state()
        assert _leaks(str(called).encode()) == []
        assert _case_and_complaint(server_url, keys) == []
    finally:
        rig.stop()
    leaks = [f"{path}: {_leaks(path.read_bytes())}" for path in tmp_path.rglob("*") if path.is_file()]
    assert [leak for leak in leaks if not leak.endswith(": []")] == []
    assert any(p.suffix == ".log" for p in tmp_path.rglob("*")), "the logs were searched"
    if database_url.startswith("sqlite"):
        assert (tmp_path / "hall.db").stat().st_size > 0
    else:
        assert _text_columns_with_needles(database_url) == []
