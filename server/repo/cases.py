"""Queries over cases (办件) and their history."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from sqlalchemy import func
from sqlmodel import Session, col, select

from server.models import (
    Case,
    CaseEvent,
    Department,
    Officer,
    PostAssignment,
    ServiceItem,
    Window,
    WindowItem,
)


@dataclass(frozen=True)
class CaseRow:
    """A case with the registry rows it refers to."""

    case: Case
    item: ServiceItem
    window: Window
    officer: Officer
    department: Department


@dataclass(frozen=True)
class CaseQuery:
    """Filters of a case listing; None means no filter."""

    statuses: frozenset[str] | None = None
    department_id: int | None = None
    officer_id: int | None = None
    window_id: int | None = None
    due_from: date | None = None  # due_date >= due_from
    due_to: date | None = None  # due_date <= due_to
    limit: int = 500


def case_by_no(session: Session, case_no: str) -> Case | None:
    """The case with this number."""
    return session.exec(select(Case).where(Case.case_no == case_no)).first()


def case_by_client_ref(session: Session, client_ref: str) -> Case | None:
    """The case a window created with this client reference."""
    return session.exec(select(Case).where(Case.client_ref == client_ref)).first()


def next_seq(session: Session, item_id: int, day: date) -> int:
    """The next sequence number of an item's cases on one hall-local day."""
    stmt = select(func.max(Case.seq)).where(Case.item_id == item_id, Case.accepted_on == day)
    return int(session.exec(stmt).one() or 0) + 1


def events_of(session: Session, case_id: int) -> Sequence[CaseEvent]:
    """A case's history, oldest first."""
    stmt = select(CaseEvent).where(CaseEvent.case_id == case_id).order_by(col(CaseEvent.id))
    return session.exec(stmt).all()


def window_serves(session: Session, window_id: int, item_id: int) -> bool:
    """True when the window serves the item."""
    stmt = select(WindowItem).where(WindowItem.window_id == window_id, WindowItem.item_id == item_id)
    return session.exec(stmt).first() is not None


def has_post_at(session: Session, window_id: int, officer_id: int) -> bool:
    """True when the officer holds the A- or B-post of the window."""
    stmt = select(PostAssignment).where(
        PostAssignment.window_id == window_id, PostAssignment.officer_id == officer_id
    )
    return session.exec(stmt).first() is not None


def case_row(session: Session, case: Case) -> CaseRow:
    """The registry rows of one case."""
    item = session.get(ServiceItem, case.item_id)
    window = session.get(Window, case.window_id)
    officer = session.get(Officer, case.first_officer_id)
    department = session.get(Department, case.department_id)
    if item is None or window is None or officer is None or department is None:
        # Foreign keys make this impossible short of a broken database.
        raise LookupError(f"case {case.case_no} refers to missing registry rows")
    return CaseRow(case, item, window, officer, department)


def find_cases(session: Session, query: CaseQuery) -> list[CaseRow]:
    """Cases matching ``query`` with their registry rows, earliest due first."""
    stmt = (
        select(Case, ServiceItem, Window, Officer)
        .join(ServiceItem, col(ServiceItem.id) == Case.item_id)
        .join(Window, col(Window.id) == Case.window_id)
        .join(Officer, col(Officer.id) == Case.first_officer_id)
        .order_by(col(Case.due_date), col(Case.id))
        .limit(query.limit)
    )
    if query.statuses is not None:
        stmt = stmt.where(col(Case.status).in_(query.statuses))
    if query.department_id is not None:
        stmt = stmt.where(Case.department_id == query.department_id)
    if query.officer_id is not None:
        stmt = stmt.where(Case.first_officer_id == query.officer_id)
    if query.window_id is not None:
        stmt = stmt.where(Case.window_id == query.window_id)
    if query.due_from is not None:
        stmt = stmt.where(Case.due_date >= query.due_from)
    if query.due_to is not None:
        stmt = stmt.where(Case.due_date <= query.due_to)
    rows = session.exec(stmt).all()
    # Departments are few: one query for all, not a join per row.
    departments = {d.id: d for d in session.exec(select(Department))}
    return [CaseRow(c, i, w, o, departments[c.department_id]) for c, i, w, o in rows]
