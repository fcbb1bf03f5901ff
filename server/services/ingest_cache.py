"""The registry links edge events name, kept per process so a batch's rows are built before it writes.

A rating names its officer by staff number and its service item by code, and is recorded against its
window's id and department; ingestion turns those into ids before the write transaction begins (on
SQLite, whose one writer at a time makes every microsecond inside the transaction count). The links
are kept the way ``server.services.queue_cache`` keeps the queue's registry: one frozen snapshot per
database (``server.services.snapshot``), read again every ``LINKS_TTL_S`` and at once when a name is
not in it.

A stale snapshot never records a wrong link:

- staff numbers, item codes and window numbers are unique keys that ``hall admin load-hall`` upserts
  in place and nothing deletes or renames, so the id a name maps to does not change; a name new since
  the last load is a miss, which reloads the snapshot (and a name still unknown is looked up again in
  the write transaction before its event is refused);
- the write transaction still checks every link it writes against the tables (``confirm``: one read
  of the window and one of the batch's few distinct officers and items, by primary key), and on any
  difference reloads the snapshot and builds the rows again from it, inside the transaction.

Entries hold plain frozen values, never ORM objects, so threads and sessions may share them.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from sqlalchemy import select
from sqlalchemy.engine import Dialect
from sqlmodel import Session, col

from server.models import Officer, ServiceItem, Window
from server.repo import driver
from server.services.snapshot import Snapshot

LINKS_TTL_S = 5.0


@dataclass(frozen=True)
class WindowLink:
    """A window as a rating records it."""

    id: int
    number: int
    department_id: int


@dataclass(frozen=True)
class Links:
    """One read of the windows, officers and service items, by what edge events call them."""

    windows_by_id: dict[int, WindowLink]
    officers_by_staff_no: dict[str, int]
    items_by_code: dict[str, int]

    def knows(self, staff_nos: Iterable[str], item_codes: Iterable[str]) -> bool:
        """True when every staff number and item code is in this snapshot."""
        return all(s in self.officers_by_staff_no for s in staff_nos) and all(
            c in self.items_by_code for c in item_codes
        )


_WINDOWS = select(col(Window.id), col(Window.number), col(Window.department_id))
_OFFICERS = select(col(Officer.staff_no), col(Officer.id))
_ITEMS = select(col(ServiceItem.code), col(ServiceItem.id))


def _load(session: Session) -> Links:
    conn = session.connection()
    windows = {
        int(w.id): WindowLink(int(w.id), int(w.number), int(w.department_id)) for w in conn.execute(_WINDOWS)
    }
    return Links(
        windows_by_id=windows,
        officers_by_staff_no={str(o.staff_no): int(o.id) for o in conn.execute(_OFFICERS)},
        items_by_code={str(i.code): int(i.id) for i in conn.execute(_ITEMS)},
    )


_links: Snapshot[Links] = Snapshot(lambda session: _load(session), LINKS_TTL_S)


def links(session: Session, *, reload: bool = False) -> Links:
    """The snapshot, read again (in the session's transaction) when ``reload`` or too old."""
    return _links.get(session, reload=reload)


def keep(session: Session, snapshot: Links) -> None:
    """Keep ``snapshot`` as this database's links, as if just read."""
    _links.put(session, snapshot)


def forget(session: Session) -> None:
    """Drop this database's snapshot: the next ``links`` reads the tables again."""
    _links.forget(session)


def confirm(session: Session, window: WindowLink, officers: dict[str, int], items: dict[str, int]) -> bool:
    """True when the tables still hold ``window`` and these staff number -> id and code -> id links.

    Meant for the write transaction: one statement reads the window, officers and items by primary
    key (plain SQL, cached per dialect and sizes: as cheap as a look-up can be while SQLite's write
    lock is held).
    """
    sql = _confirm_sql(session.get_bind().dialect, len(officers), len(items))
    found: dict[int, dict[Any, Any]] = {0: {}, 1: {}, 2: {}}
    for part, key, number, department_id, name in driver.fetch(
        session, sql, (window.id, *officers.values(), *items.values())
    ):
        found[part][key] = (number, department_id) if part == 0 else name
    if found[0] != {window.id: (window.number, window.department_id)}:
        return False
    return {n: k for k, n in found[1].items()} == officers and {n: k for k, n in found[2].items()} == items


@lru_cache(maxsize=256)
def _confirm_sql(dialect: Dialect, officers: int, items: int) -> str:
    """The window, officers and items ``confirm`` checks, as ``(part, id, number, department, name)``."""
    quote = dialect.identifier_preparer.quote
    mark = driver.marks(dialect, 1)
    key = quote("id")
    parts = [
        f"SELECT 0, {key}, {quote('number')}, {quote('department_id')}, NULL "
        f"FROM {quote('window')} WHERE {key} = {mark}"
    ]
    if officers:
        parts.append(
            f"SELECT 1, {key}, NULL, NULL, {quote('staff_no')} FROM {quote('officer')} "
            f"WHERE {key} IN ({driver.marks(dialect, officers)})"
        )
    if items:
        parts.append(
            f"SELECT 2, {key}, NULL, NULL, {quote('code')} FROM {quote('service_item')} "
            f"WHERE {key} IN ({driver.marks(dialect, items)})"
        )
    return " UNION ALL ".join(parts)
