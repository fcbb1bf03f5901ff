"""Edge identifiers are UUIDv7: unique, time-ordered, and accepted wherever a UUID is."""

from __future__ import annotations

import time
from uuid import UUID

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from common.events import EdgeEvent, EventKind, HeartbeatPayload, new_event
from common.ids import new_id, uuid7_from

MS = st.integers(min_value=0, max_value=(1 << 48) - 1)
RAND = st.integers(min_value=0, max_value=(1 << 74) - 1)


def test_the_layout_of_rfc_9562() -> None:
    # unix_ts_ms 0x017F22E279B0, ver 7, rand_a 0xCC3, var 0b10, rand_b 0x18C4DC0C0C07398F (RFC 9562, A.6)
    made = uuid7_from(0x017F22E279B0, 0xCC3 << 62 | 0x18C4DC0C0C07398F)
    assert made == UUID("017f22e2-79b0-7cc3-98c4-dc0c0c07398f")


@given(MS, RAND)
def test_every_id_is_version_7_and_gives_back_its_time(unix_ms: int, rand: int) -> None:
    made = uuid7_from(unix_ms, rand)
    assert made.version == 7
    assert made.variant == "specified in RFC 4122"
    assert made.int >> 80 == unix_ms
    assert UUID(str(made)) == made


@given(MS, MS, RAND, RAND)
def test_a_later_millisecond_gives_a_larger_id_as_number_and_as_text(
    a: int, b: int, ra: int, rb: int
) -> None:
    assume(a != b)
    early, late = sorted((a, b))
    first, second = uuid7_from(early, ra), uuid7_from(late, rb)
    assert first < second
    assert str(first) < str(second)  # stored as text, the index keeps the same order


@pytest.mark.parametrize(("unix_ms", "rand"), [(-1, 0), (1 << 48, 0), (0, -1), (0, 1 << 74)])
def test_values_out_of_range_are_refused(unix_ms: int, rand: int) -> None:
    with pytest.raises(ValueError, match="48 bits"):
        uuid7_from(unix_ms, rand)


def test_new_ids_carry_the_clock_and_are_unique() -> None:
    before_ms = time.time_ns() // 1_000_000
    made = [new_id() for _ in range(20_000)]  # many per millisecond
    after_ms = time.time_ns() // 1_000_000
    assert len(set(made)) == len(made)
    stamps = [m.int >> 80 for m in made]
    assert stamps == sorted(stamps)  # never ahead of the clock, never back
    assert before_ms <= stamps[0] and stamps[-1] <= after_ms


def test_an_event_made_at_the_edge_has_a_v7_id_and_round_trips() -> None:
    event = new_event(EventKind.HEARTBEAT, "agent-w1", HeartbeatPayload(outbox_depth=3), window=1)
    assert event.id.version == 7
    assert EdgeEvent.model_validate_json(event.model_dump_json()) == event
