"""What the queue reads on nearly every request, kept per process so issuing and calling skip the look-ups.

Two snapshots per database (``server.services.snapshot`` for the registry):

- the registry the queue needs (service items, windows, which windows serve which item), reloaded
  every ``REGISTRY_TTL_S`` and at once when an item code or window id is not in it. The registry is
  changed by ``hall admin load-hall`` from another process, so a change shows within that time.
- the waiting-time facts of the estimate: the median of an item's recent service times and the set of
  open windows (heartbeat or a called ticket today), kept ``ESTIMATE_TTL_S``. This process drops an
  item's median when it finishes one of its tickets, and the open set when a window outside it calls;
  other processes' changes show within the TTL. The estimate is a rough guide ("about 10 minutes"),
  so a few seconds' lag is harmless; the people-ahead count is never cached.

Entries hold plain frozen values, never ORM objects, so threads and sessions may share them.
"""

from __future__ import annotations

import datetime as dt
import statistics
import threading
import time
import weakref
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.pool import Pool
from sqlmodel import Session

from server.repo import queue_stats as stats_repo
from server.repo import registry as registry_repo
from server.services.snapshot import Snapshot, database_key
from server.timeutil import to_db

REGISTRY_TTL_S = 5.0
ESTIMATE_TTL_S = 5.0
DEFAULT_SERVICE_TIME = dt.timedelta(minutes=5)
HISTORY_SIZE = 20
HEARTBEAT_FRESH = dt.timedelta(minutes=3)


@dataclass(frozen=True)
class ItemInfo:
    """A service item as the queue uses it."""

    id: int
    code: str
    name: str
    ticket_prefix: str
    department_id: int
    committed_days: int
    materials: tuple[Any, ...]


@dataclass(frozen=True)
class WindowInfo:
    """A window as the queue uses it."""

    id: int
    number: int
    name: str


@dataclass(frozen=True)
class Registry:
    """One consistent read of the items, the windows and who serves what."""

    items_by_code: dict[str, ItemInfo]
    items_by_id: dict[int, ItemInfo]
    windows_by_id: dict[int, WindowInfo]
    windows_of_item: dict[int, tuple[WindowInfo, ...]]  # by window number
    items_of_window: dict[int, tuple[ItemInfo, ...]]  # by item code

    def window_group(self, item_id: int) -> str:
        """The windows serving an item, as the ticket prints it: "1、2号窗口"."""
        numbers = [str(w.number) for w in self.windows_of_item.get(item_id, ())]
        return f"{'、'.join(numbers)}号窗口" if numbers else ""


@dataclass(frozen=True)
class _Active:
    day: dt.date
    now: dt.datetime
    window_ids: frozenset[int]
    loaded_at: float = field(default_factory=time.monotonic)


@dataclass
class _EstimateCache:
    medians: dict[int, tuple[float, dt.timedelta]] = field(default_factory=dict)
    active: _Active | None = None


_caches: weakref.WeakKeyDictionary[Pool, _EstimateCache] = weakref.WeakKeyDictionary()
_lock = threading.Lock()


def _cache(session: Session) -> _EstimateCache:
    key = database_key(session)
    with _lock:
        found = _caches.get(key)
        if found is None:
            found = _caches[key] = _EstimateCache()
        return found


def _load_registry(session: Session) -> Registry:
    items = {
        i.id: ItemInfo(
            i.id, i.code, i.name, i.ticket_prefix, i.department_id, i.committed_days, tuple(i.materials)
        )
        for i in registry_repo.all_items(session)
        if i.id is not None
    }
    windows = {w.id: WindowInfo(w.id, w.number, w.name) for w in registry_repo.all_windows(session) if w.id}
    serving: dict[int, list[WindowInfo]] = {}
    served: dict[int, list[ItemInfo]] = {}
    for window_id, item_id in stats_repo.window_item_pairs(session):
        if window_id in windows and item_id in items:
            serving.setdefault(item_id, []).append(windows[window_id])
            served.setdefault(window_id, []).append(items[item_id])
    return Registry(
        items_by_code={i.code: i for i in items.values()},
        items_by_id=items,
        windows_by_id=windows,
        windows_of_item={k: tuple(sorted(v, key=lambda w: w.number)) for k, v in serving.items()},
        items_of_window={k: tuple(sorted(v, key=lambda i: i.code)) for k, v in served.items()},
    )


_registry: Snapshot[Registry] = Snapshot(lambda session: _load_registry(session), REGISTRY_TTL_S)


def registry(session: Session, *, reload: bool = False) -> Registry:
    """The registry snapshot, read again when ``reload`` or older than ``REGISTRY_TTL_S``."""
    return _registry.get(session, reload=reload)


def item_by_code(session: Session, code: str) -> ItemInfo | None:
    """The service item with this code; an unknown code reloads the registry once."""
    found = registry(session).items_by_code.get(code)
    return found if found is not None else registry(session, reload=True).items_by_code.get(code)


def item_by_id(session: Session, item_id: int) -> ItemInfo | None:
    """The service item with this id; an unknown id reloads the registry once."""
    found = registry(session).items_by_id.get(item_id)
    return found if found is not None else registry(session, reload=True).items_by_id.get(item_id)


def window_by_id(session: Session, window_id: int) -> WindowInfo | None:
    """The window with this id; an unknown id reloads the registry once."""
    found = registry(session).windows_by_id.get(window_id)
    return found if found is not None else registry(session, reload=True).windows_by_id.get(window_id)


def median_service_time(session: Session, item_id: int) -> dt.timedelta:
    """Median of the item's recent service times (five minutes without history), kept a few seconds."""
    cache = _cache(session)
    kept = cache.medians.get(item_id)
    if kept is not None and time.monotonic() - kept[0] <= ESTIMATE_TTL_S:
        return kept[1]
    times = stats_repo.recent_service_times(session, item_id, HISTORY_SIZE)
    median = (
        dt.timedelta(seconds=statistics.median(t.total_seconds() for t in times))
        if times
        else DEFAULT_SERVICE_TIME
    )
    cache.medians[item_id] = (time.monotonic(), median)
    return median


def active_window_ids(session: Session, day: dt.date, now: dt.datetime) -> frozenset[int]:
    """Windows heard from in the last minutes or with a called ticket on ``day``, kept a few seconds."""
    cache = _cache(session)
    kept = cache.active
    if (
        kept is not None
        and kept.day == day
        and abs(kept.now - now) <= dt.timedelta(seconds=ESTIMATE_TTL_S)
        and time.monotonic() - kept.loaded_at <= ESTIMATE_TTL_S
    ):
        return kept.window_ids
    ids = frozenset(stats_repo.active_window_ids(session, day, to_db(now) - HEARTBEAT_FRESH))
    cache.active = _Active(day, now, ids)
    return ids


def service_finished(session: Session, item_id: int) -> None:
    """A ticket of the item was finished here: its median is read again next time."""
    _cache(session).medians.pop(item_id, None)


def window_called(session: Session, window_id: int) -> None:
    """A window called a ticket here: if it was not counted open, the open set is read again."""
    cache = _cache(session)
    kept = cache.active
    if kept is not None and window_id not in kept.window_ids:
        cache.active = None
