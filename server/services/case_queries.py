"""Reading cases (办件): one case, deadline warnings (预警) and the filtered lists and warning report."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta
from enum import StrEnum
from typing import Any

from sqlmodel import Session

from server.errors import ForbiddenError, NotFoundError
from server.models import Case
from server.models.cases import CaseStatus
from server.repo import cases as repo
from server.services.case_context import Actor, CaseContext


def get_case(session: Session, actor: Actor, case_no: str) -> Case:
    """A case the actor may read."""
    case = repo.case_by_no(session, case_no)
    if case is None:
        raise NotFoundError(f"办件 {case_no} 不存在")
    if not actor.may_read(case):
        raise ForbiddenError(f"无权查看办件 {case_no}")
    return case


class Warning(StrEnum):
    """Deadline warnings of open cases."""

    YELLOW = "yellow"  # due within the configured working days
    RED = "red"  # overdue


def warning_of(case: Case, ctx: CaseContext, today: date) -> Warning | None:
    """The warning of a case on ``today``; paused (补正) and closed cases have none."""
    if case.status != CaseStatus.ACCEPTED:
        return None
    if case.due_date < today:
        return Warning.RED
    if case.due_date <= ctx.calendar.add_working_days(today, ctx.warning_days):
        return Warning.YELLOW
    return None


def list_cases(
    session: Session, ctx: CaseContext, query: repo.CaseQuery, warning: Warning | None, today: date
) -> list[repo.CaseRow]:
    """Cases matching ``query``, narrowed to one warning colour on ``today`` when asked."""
    if warning is not None:
        statuses = {CaseStatus.ACCEPTED.value}
        if query.statuses is not None:
            statuses &= query.statuses
        yellow_to = ctx.calendar.add_working_days(today, ctx.warning_days)
        query = replace(
            query,
            statuses=frozenset(statuses),
            due_from=today if warning is Warning.YELLOW else None,
            due_to=yellow_to if warning is Warning.YELLOW else today - timedelta(days=1),
        )
    return repo.find_cases(session, query)


def warnings_report(
    session: Session, ctx: CaseContext, today: date, department_id: int | None
) -> dict[str, list[dict[str, Any]]]:
    """Yellow and red cases grouped by officer (首问负责人), window and department."""
    query = repo.CaseQuery(
        statuses=frozenset({CaseStatus.ACCEPTED.value}),
        department_id=department_id,
        due_to=ctx.calendar.add_working_days(today, ctx.warning_days),
        limit=100_000,
    )
    groups: dict[str, dict[str, dict[str, Any]]] = {"by_officer": {}, "by_window": {}, "by_department": {}}
    for row in repo.find_cases(session, query):
        colour = warning_of(row.case, ctx, today)
        if colour is None:
            continue
        keys = {
            "by_officer": (row.officer.staff_no, f"{row.officer.name}（{row.officer.staff_no}）"),
            "by_window": (str(row.window.number), f"{row.window.number}号窗口"),
            "by_department": (row.department.code, row.department.name),
        }
        for group, (key, label) in keys.items():
            entry = groups[group].setdefault(
                key, {"key": key, "label": label, "yellow": 0, "red": 0, "cases": []}
            )
            entry[colour.value] += 1
            entry["cases"].append({"case_no": row.case.case_no, "warning": colour.value})
    return {
        name: sorted(entries.values(), key=lambda e: (-e["red"], -e["yellow"], e["key"]))
        for name, entries in groups.items()
    }
