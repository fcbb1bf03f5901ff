"""The log-in limiter: per username and per client address, in a sliding window."""

from __future__ import annotations

from server.web.ratelimit import LoginLimiter


class Clock:
    """A clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_five_failures_block_the_username_until_the_window_passes() -> None:
    clock = Clock()
    limiter = LoginLimiter(max_per_user=5, max_per_client=20, window_s=300, clock=clock)
    for _ in range(4):
        limiter.failed("Supervisor", "10.0.0.1")
        clock.now += 10
    assert limiter.retry_after_s("supervisor", "10.0.0.9") is None
    limiter.failed("supervisor", "10.0.0.2")
    wait = limiter.retry_after_s("SUPERVISOR", "10.0.0.9")
    assert wait is not None and 0 < wait <= 300
    clock.now += wait
    assert limiter.retry_after_s("supervisor", "10.0.0.9") is None


def test_many_usernames_from_one_address_block_the_address() -> None:
    clock = Clock()
    limiter = LoginLimiter(max_per_user=5, max_per_client=20, window_s=300, clock=clock)
    for n in range(20):
        limiter.failed(f"user{n}", "10.0.0.1")
    assert limiter.retry_after_s("someone-else", "10.0.0.1") is not None
    assert limiter.retry_after_s("someone-else", "10.0.0.2") is None


def test_success_clears_the_username_but_not_the_address() -> None:
    limiter = LoginLimiter(max_per_user=2, max_per_client=3, window_s=300, clock=Clock())
    limiter.failed("a", "ip")
    limiter.failed("a", "ip")
    assert limiter.retry_after_s("a", "other") is not None
    limiter.succeeded("a")
    assert limiter.retry_after_s("a", "other") is None
    limiter.failed("b", "ip")
    assert limiter.retry_after_s("c", "ip") is not None
