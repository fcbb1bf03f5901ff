"""Waiting estimates, the ticket views the kiosk, agents and status page show, and queue statistics."""

from __future__ import annotations

import datetime as dt
import math
from typing import Any

from sqlmodel import Session

from server.models import Ticket
from server.models.queue import CALLABLE, TicketStatus
from server.repo import queue as queue_repo
from server.repo import queue_stats as stats_repo
from server.repo import registry
from server.services import queue_cache
from server.services.queue import STATUS_TEXT, QueueRules


def open_windows(session: Session, item_id: int, day: dt.date, now: dt.datetime) -> int:
    """Windows serving the item that are open now (recent heartbeat or a call today); else all of them."""
    serving = {w.id for w in queue_cache.registry(session).windows_of_item.get(item_id, ())}
    active = serving & queue_cache.active_window_ids(session, day, now)
    return max(len(active) or len(serving), 1)


def estimate(
    session: Session, ticket: Ticket, rules: QueueRules, now: dt.datetime, ahead: int | None = None
) -> tuple[int, int]:
    """(people ahead, estimated wait in minutes) of a callable ticket; (0, 0) otherwise.

    ``ahead`` is the people-ahead count when the caller has it already (a ticket just issued).
    """
    if ticket.status not in CALLABLE:
        return 0, 0
    if ahead is None:
        ahead = queue_repo.count_ahead(session, ticket)
    per_person = queue_cache.median_service_time(session, ticket.item_id)
    windows = open_windows(session, ticket.item_id, rules.service_day(now), now)
    return ahead, math.ceil(ahead * per_person.total_seconds() / 60 / windows)


def ticket_view(
    session: Session,
    ticket: Ticket,
    rules: QueueRules,
    base_url: str,
    now: dt.datetime,
    ahead: int | None = None,
) -> dict[str, Any]:
    """The ticket as the kiosk prints it and an agent shows it (``ahead``: see ``estimate``)."""
    item = queue_cache.item_by_id(session, ticket.item_id)
    window = queue_cache.window_by_id(session, ticket.window_id) if ticket.window_id else None
    people_ahead, wait_min = estimate(session, ticket, rules, now, ahead)
    return {
        "ticket_no": ticket.ticket_no,
        "item_code": item.code if item else None,
        "item_name": item.name if item else None,
        "window_group": queue_cache.registry(session).window_group(ticket.item_id),
        "people_ahead": people_ahead,
        "estimated_wait_min": wait_min,
        "issued_at": ticket.issued_at.isoformat(),
        "token": ticket.token,
        "status_url": f"{base_url.rstrip('/')}/t/{ticket.token}",
        "materials": list(item.materials) if item else [],
        "priority": ticket.priority,
        "citizen_masked": ticket.citizen_masked,
        "status": ticket.status,
        "status_text": STATUS_TEXT[ticket.status],
        "window_number": window.number if window else None,
        "called_at": ticket.called_at.isoformat() if ticket.called_at else None,
        "recall_count": ticket.recall_count,
        "no_show_count": ticket.no_show_count,
    }


def items_overview(session: Session, rules: QueueRules, now: dt.datetime) -> list[dict[str, Any]]:
    """The kiosk's item screen: every item with department, materials, prefix and waiting count."""
    departments = {d.id: d for d in registry.all_departments(session)}
    waiting = stats_repo.callable_counts(session, rules.service_day(now))
    snapshot = queue_cache.registry(session)
    rows = []
    for item in registry.all_items(session):
        dep = departments.get(item.department_id)
        rows.append(
            {
                "code": item.code,
                "name": item.name,
                "ticket_prefix": item.ticket_prefix,
                "department": {"code": dep.code, "name": dep.name} if dep else None,
                "materials": list(item.materials),
                "committed_days": item.committed_days,
                "window_group": snapshot.window_group(item.id) if item.id is not None else "",
                "waiting": waiting.get(item.id or 0, 0),
            }
        )
    return rows


def _mean_min(spans: list[dt.timedelta]) -> float | None:
    return round(sum(s.total_seconds() for s in spans) / len(spans) / 60, 1) if spans else None


def queue_stats(
    session: Session, rules: QueueRules, now: dt.datetime, department_id: int | None
) -> list[dict[str, Any]]:
    """Per item today: waiting, served, average wait to the call and average service time (minutes)."""
    items = stats_repo.items_by_id(session)
    per_item: dict[int, list[Ticket]] = {}
    for t in stats_repo.tickets_of_day(session, rules.service_day(now), department_id):
        per_item.setdefault(t.item_id, []).append(t)
    rows = []
    for item_id, tickets in sorted(per_item.items(), key=lambda kv: items[kv[0]].code):
        waits = [t.called_at - t.issued_at for t in tickets if t.called_at is not None]
        services = [
            t.finished_at - t.served_at
            for t in tickets
            if t.status == TicketStatus.FINISHED.value and t.finished_at and t.served_at
        ]
        rows.append(
            {
                "item_code": items[item_id].code,
                "item_name": items[item_id].name,
                "issued": len(tickets),
                "waiting": sum(t.status in CALLABLE for t in tickets),
                "served": len(services),
                "avg_wait_min": _mean_min(waits),
                "avg_service_min": _mean_min(services),
            }
        )
    return rows
