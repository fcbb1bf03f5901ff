"""The durable outbox."""

from __future__ import annotations

import threading
from datetime import timedelta
from pathlib import Path

import pytest

from common.events import EventKind, PunchPayload, new_event
from counter_agent.outbox import Outbox, OutboxError


def punch(page: int = 1):  # type: ignore[no-untyped-def]
    return new_event(EventKind.PUNCH, "agent-w1", PunchPayload(page=page), 1)


def test_events_survive_reopen_in_order(tmp_path: Path) -> None:
    path = tmp_path / "o.db"
    box = Outbox(path)
    events = [punch(i) for i in range(5)]
    for ev in events:
        box.put(ev)
    box.put(events[0])  # the same event twice is stored once
    box.close()
    again = Outbox(path)
    assert [p.id for p in again.pending(10)] == [str(e.id) for e in events]
    assert again.depth() == 5


def test_mark_delivered_and_prune_keeps_rejected(tmp_path: Path) -> None:
    box = Outbox(tmp_path / "o.db")
    ok, bad = punch(1), punch(2)
    box.put(ok)
    box.put(bad)
    box.mark_delivered({str(ok.id): ("accepted", None), str(bad.id): ("rejected", "page not enrolled")})
    assert box.depth() == 0
    assert box.prune(timedelta(seconds=-1)) == 1
    assert box.rejected() == [(str(bad.id), "punch", "page not enrolled")]


def test_concurrent_writers_lose_nothing(tmp_path: Path) -> None:
    box = Outbox(tmp_path / "o.db")

    def write() -> None:
        for _ in range(50):
            box.put(punch())

    threads = [threading.Thread(target=write) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert box.depth() == 200


def test_unusable_file_is_a_clear_error(tmp_path: Path) -> None:
    bad = tmp_path / "o.db"
    bad.write_bytes(b"this is not a database" * 100)
    with pytest.raises(OutboxError, match=r"o\.db"):
        Outbox(bad)


def test_cached_values(tmp_path: Path) -> None:
    box = Outbox(tmp_path / "o.db")
    assert box.get_value("roster") is None
    box.set_value("roster", "{}")
    box.set_value("roster", '{"a": 1}')
    assert box.get_value("roster") == '{"a": 1}'


def test_full_disk_is_a_clear_error_and_keeps_what_was_committed(tmp_path: Path) -> None:
    path = tmp_path / "o.db"
    box = Outbox(path, max_bytes=64 * 1024)
    stored = []
    with pytest.raises(OutboxError, match="full"):
        for _ in range(10_000):
            ev = punch()
            box.put(ev)
            stored.append(str(ev.id))
    assert len(stored) > 10
    box.close()
    again = Outbox(path)
    assert again._db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    assert [p.id for p in again.pending(len(stored) + 10)] == stored
