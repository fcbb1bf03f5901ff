"""Queries over the registry: departments, items, windows, officers, posts, enrolments."""

from __future__ import annotations

from collections.abc import Sequence

from sqlmodel import Session, col, select

from server.models import (
    Department,
    FingerprintEnrollment,
    Officer,
    PostAssignment,
    ServiceItem,
    Window,
    WindowItem,
)


def window_by_number(session: Session, number: int) -> Window | None:
    """The window with this number."""
    return session.exec(select(Window).where(Window.number == number)).first()


def window_by_id(session: Session, window_id: int) -> Window | None:
    """The window with this id."""
    return session.get(Window, window_id)


def officer_by_staff_no(session: Session, staff_no: str) -> Officer | None:
    """The officer with this staff number."""
    return session.exec(select(Officer).where(Officer.staff_no == staff_no)).first()


def officers_by_staff_no(session: Session, staff_nos: set[str]) -> dict[str, Officer]:
    """Officers keyed by staff number, for the given numbers."""
    if not staff_nos:
        return {}
    rows = session.exec(select(Officer).where(col(Officer.staff_no).in_(staff_nos)))
    return {o.staff_no: o for o in rows}


def items_by_code(session: Session, codes: set[str]) -> dict[str, ServiceItem]:
    """Service items keyed by code, for the given codes."""
    if not codes:
        return {}
    rows = session.exec(select(ServiceItem).where(col(ServiceItem.code).in_(codes)))
    return {i.code: i for i in rows}


def enrolled_officers(session: Session, device_id: str, pages: set[int]) -> dict[int, int]:
    """Reader page -> officer id for one reader."""
    if not pages:
        return {}
    stmt = select(FingerprintEnrollment).where(
        FingerprintEnrollment.device_id == device_id, col(FingerprintEnrollment.page).in_(pages)
    )
    return {e.page: e.officer_id for e in session.exec(stmt)}


def enrollments_for_device(session: Session, device_id: str) -> Sequence[FingerprintEnrollment]:
    """Every enrolment on one reader."""
    return session.exec(
        select(FingerprintEnrollment).where(FingerprintEnrollment.device_id == device_id)
    ).all()


def posts_for_window(session: Session, window_id: int) -> list[tuple[PostAssignment, Officer]]:
    """The A/B posts of a window with their officers, A first."""
    stmt = (
        select(PostAssignment, Officer)
        .join(Officer, col(Officer.id) == PostAssignment.officer_id)
        .where(PostAssignment.window_id == window_id)
        .order_by(col(PostAssignment.role))
    )
    return [(p, o) for p, o in session.exec(stmt)]


def items_for_window(session: Session, window_id: int) -> Sequence[ServiceItem]:
    """The service items a window serves."""
    stmt = (
        select(ServiceItem)
        .join(WindowItem, col(WindowItem.item_id) == ServiceItem.id)
        .where(WindowItem.window_id == window_id)
        .order_by(col(ServiceItem.code))
    )
    return session.exec(stmt).all()


def all_departments(session: Session) -> Sequence[Department]:
    """Every department, by code."""
    return session.exec(select(Department).order_by(col(Department.code))).all()


def all_items(session: Session) -> Sequence[ServiceItem]:
    """Every service item, by code."""
    return session.exec(select(ServiceItem).order_by(col(ServiceItem.code))).all()


def all_windows(session: Session) -> Sequence[Window]:
    """Every window, by number."""
    return session.exec(select(Window).order_by(col(Window.number))).all()


def all_officers(session: Session) -> Sequence[Officer]:
    """Every officer, by staff number."""
    return session.exec(select(Officer).order_by(col(Officer.staff_no))).all()
