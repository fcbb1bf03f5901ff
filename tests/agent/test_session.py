"""The window's service state machine."""

from __future__ import annotations

import pytest

from counter_agent.session import (
    MisuseEffect,
    Officer,
    PunchEffect,
    RatingEffect,
    ServiceSession,
    SessionError,
    WindowState,
)

A = Officer("GA001", "王芳", "A")
B = Officer("GA003", "张敏", "B")


def staffed(**kw: float) -> ServiceSession:
    s = ServiceSession(**kw)  # type: ignore[arg-type]
    s.punch(A, 1, 100, now=0.0)
    return s


def test_clock_in_staffs_the_window_and_repeat_within_interval_counts_once() -> None:
    s = ServiceSession(punch_dedupe_s=60)
    (effect,) = s.punch(A, 1, 100, now=0.0)
    assert isinstance(effect, PunchEffect) and effect.clock_in
    assert s.state is WindowState.STAFFED and s.on_duty == A
    assert s.punch(A, 1, 100, now=30.0) == []
    (out,) = s.punch(A, 1, 100, now=90.0)
    assert isinstance(out, PunchEffect) and not out.clock_in
    assert s.state is WindowState.UNSTAFFED and s.on_duty is None


def test_full_service_with_one_rating() -> None:
    s = staffed()
    service = s.call("A001", "GA01", now=10.0)
    assert s.state is WindowState.CALLING
    s.start()
    assert s.state is WindowState.SERVING
    s.set_case("GA01-20261123-0001")
    s.finish(now=100.0)
    assert s.state is WindowState.AWAITING_RATING
    (rating,) = s.rate(2, "rate_2", now=101.5)
    assert isinstance(rating, RatingEffect)
    assert (rating.level, rating.reaction_ms, rating.service.service_id) == (2, 1500, service.service_id)
    assert rating.service.case_no == "GA01-20261123-0001" and rating.service.officer == A
    assert s.state is WindowState.STAFFED
    # A second press after the rating is a misuse signal, not a second rating (一次一评).
    (second,) = s.rate(1, "rate_1", now=102.0)
    assert isinstance(second, MisuseEffect) and second.signal == "press_outside_service"


@pytest.mark.parametrize("state_setup", ["unstaffed", "staffed", "serving"])
def test_presses_outside_awaiting_rating_are_misuse(state_setup: str) -> None:
    s = ServiceSession()
    if state_setup != "unstaffed":
        s.punch(A, 1, 100, now=0.0)
    if state_setup == "serving":
        s.call(None, None, now=1.0)
    (effect,) = s.rate(1, "rate_1", now=5.0)
    assert isinstance(effect, MisuseEffect)


def test_not_rated_after_timeout_never_a_default_level() -> None:
    s = staffed(rating_timeout_s=30)
    s.call(None, None, now=1.0)
    s.finish(now=10.0)
    assert s.tick(now=39.0) == []
    (effect,) = s.tick(now=40.0)
    assert isinstance(effect, RatingEffect) and effect.level is None
    assert s.state is WindowState.STAFFED
    assert s.tick(now=100.0) == []


def test_too_fast_rating_is_recorded_and_flagged() -> None:
    s = staffed()
    s.call(None, None, now=1.0)
    s.finish(now=10.0)
    effects = s.rate(1, "rate_1", now=10.1)
    assert [type(e) for e in effects] == [RatingEffect, MisuseEffect]
    assert isinstance(effects[1], MisuseEffect) and effects[1].signal == "too_fast"


def test_b_post_covers_while_a_post_is_paused() -> None:
    s = staffed()
    s.pause()
    assert s.state is WindowState.PAUSED and s.on_duty is None
    s.punch(B, 2, 90, now=5.0)
    assert s.on_duty == B and s.state is WindowState.STAFFED
    s.call(None, None, now=6.0)
    s.finish(now=7.0)
    (rating,) = s.rate(1, "rate_1", now=9.0)
    assert isinstance(rating, RatingEffect) and rating.service.officer == B


def test_no_show_and_transfer_rate_nothing() -> None:
    s = staffed()
    s.call("A002", "GA01", now=1.0)
    assert s.no_show().ticket_no == "A002"
    assert s.state is WindowState.STAFFED
    s.call("A003", "GA01", now=2.0)
    s.transfer()
    assert s.state is WindowState.STAFFED and s.service is None


def test_actions_not_possible_now_raise_with_a_chinese_message() -> None:
    s = ServiceSession()
    with pytest.raises(SessionError, match="不能进行此操作"):
        s.finish(now=1.0)
    s.punch(A, 1, 100, now=0.0)
    with pytest.raises(SessionError):
        s.no_show()
