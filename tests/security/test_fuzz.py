"""Schemathesis against a real `hall server`: no 5xx anywhere, responses as the schema says."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_schema_conformance,
)
from schemathesis.core.failures import Failure, FailureGroup
from schemathesis.generation import GenerationMode

from tests.e2e.harness import RunningHall, prepared_hall
from tests.security.test_permissions import AGENT, ALLOWED, KIOSK

pytestmark = pytest.mark.e2e

EXAMPLES_PER_OPERATION = 25
TOTAL_BUDGET_S = 240.0
NOT_FUZZED = {("GET", "/api/v1/display/events")}  # an endless event stream
CHECKS = [not_a_server_error, response_schema_conformance, content_type_conformance]


@pytest.fixture(scope="module")
def running(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningHall]:
    """A `hall server` process over a prepared SQLite database with the demo hall."""
    hall = prepared_hall(tmp_path_factory.mktemp("fuzz"))
    # Any wait_s up to 30 is valid and would be waited out in full: the server caps the agents' long
    # poll so the fuzzing still takes the waiting path but stays fast (tests/server/test_command_long_poll.py
    # covers the full waits).
    hall.server_env["HALL_COMMAND_WAIT_MAX_S"] = "0.2"
    try:
        hall.start_server()
        yield hall
    finally:
        hall.group.stop()


def _auth(hall: RunningHall, method: str, path: str, token: str) -> str:
    """The credentials that get past authentication for this operation."""
    allowed = ALLOWED.get((method, path), frozenset())  # new routes: a supervisor token
    if allowed & KIOSK and not allowed & AGENT:
        return f"Bearer {hall.keys['kiosk-1']}"
    if allowed & AGENT:
        return f"Bearer {hall.keys['agent-w1']}"
    return f"Bearer {token}"


def _describe(case: schemathesis.Case, response: Any, failure: Failure) -> str:
    message = " ".join(str(failure.message).split())[:200]
    where = f"{case.method} {case.path} -> {response.status_code}"
    return f"{where}: {failure.title}: {message} {response.text[:200]}"


def _fuzz_operation(operation: Any, base_url: str, authorization: str, deadline: float) -> list[str]:
    failures: list[str] = []
    strategy = st.one_of(
        operation.as_strategy(generation_mode=GenerationMode.POSITIVE),
        operation.as_strategy(generation_mode=GenerationMode.NEGATIVE),
    )

    @settings(
        max_examples=EXAMPLES_PER_OPERATION,
        deadline=None,
        database=None,
        phases=[Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @given(case=strategy)
    def run(case: schemathesis.Case) -> None:
        if time.monotonic() > deadline:
            return
        headers = {k: v for k, v in (case.headers or {}).items() if k.lower() != "authorization"}
        case.headers = {**headers, "Authorization": authorization}
        response = case.call(base_url=base_url, timeout=20)
        try:
            case.validate_response(response, checks=CHECKS)
        except FailureGroup as group:
            failures.extend(_describe(case, response, f) for f in group.exceptions)
        except Failure as failure:
            failures.append(_describe(case, response, failure))

    run()
    return failures


def test_no_server_error_and_responses_match_the_schema(running: RunningHall) -> None:
    schema = schemathesis.openapi.from_url(f"{running.server_url}/openapi.json")
    token = running.token()["Authorization"].removeprefix("Bearer ")
    deadline = time.monotonic() + TOTAL_BUDGET_S
    failures: list[str] = []
    fuzzed = 0
    for result in schema.get_all_operations():
        operation = result.ok()
        key = (operation.method.upper(), operation.path)
        if key in NOT_FUZZED:
            continue
        authorization = _auth(running, *key, token)
        failures += _fuzz_operation(operation, running.server_url, authorization, deadline)
        fuzzed += 1
    assert fuzzed > 40
    assert running.group.check_alive() == []
    assert sorted(set(failures)) == []
    server_log = Path(running.group.log_dir / "server.log").read_text(encoding="utf-8", errors="replace")
    assert "Traceback" not in server_log
