"""Log-in rate limit: failed attempts per username and per client address, in memory.

The counts live in the memory of one server process: with several workers or hosts each keeps its own,
so the effective limit is that many times higher. That is enough to stop password guessing at a pace
that matters; a shared store would be needed for an exact hall-wide limit.
"""

from __future__ import annotations

import threading
import time
from collections import defaultdict, deque
from collections.abc import Callable


class LoginLimiter:
    """Sliding-window counts of failed log-ins; blocked once a count reaches its maximum."""

    def __init__(
        self,
        max_per_user: int = 5,
        max_per_client: int = 20,
        window_s: float = 300.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.max_per_user = max_per_user
        self.max_per_client = max_per_client
        self.window_s = window_s
        self._clock = clock
        self._failures: dict[str, deque[float]] = defaultdict(deque)
        self._lock = threading.Lock()

    def _recent(self, key: str, now: float) -> deque[float]:
        times = self._failures[key]
        while times and now - times[0] >= self.window_s:
            times.popleft()
        if not times:
            del self._failures[key]  # keep memory bounded by the keys seen in the window
            return deque()
        return times

    def retry_after_s(self, username: str, client: str) -> float | None:
        """Seconds until a log-in may be tried again, or None when it may be tried now."""
        now = self._clock()
        waits = []
        with self._lock:
            for key, limit in (
                (f"u:{username.lower()}", self.max_per_user),
                (f"c:{client}", self.max_per_client),
            ):
                times = self._recent(key, now)
                if len(times) >= limit:
                    waits.append(times[len(times) - limit] + self.window_s - now)
        return max(waits) if waits else None

    def failed(self, username: str, client: str) -> None:
        """Count one failed attempt for the username and for the address."""
        now = self._clock()
        with self._lock:
            self._failures[f"u:{username.lower()}"].append(now)
            self._failures[f"c:{client}"].append(now)

    def succeeded(self, username: str) -> None:
        """A correct password clears the username's failures (not the address's)."""
        with self._lock:
            self._failures.pop(f"u:{username.lower()}", None)
