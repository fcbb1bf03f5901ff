"""Staff badge log-in at the window: a PC/SC contactless reader watched on a thread."""

from __future__ import annotations

import logging
from collections.abc import Callable, Coroutine
from typing import Any

from common.events import EdgeEvent, EventKind, PunchPayload, new_event
from counter_agent.session import PunchEffect
from kiosk.devices.pcsc import VPCD_READER, ReaderStation, pick_reader
from kiosk.devices.supervisor import StateCallback

log = logging.getLogger(__name__)

# The vpcd test reader that a simulated badge (``badge_reader = "sim"``) is presented on.
SIM_READER = VPCD_READER
# ServiceSession.punch wants a page; a badge punch carries its UID instead and never sends this.
NO_PAGE = -1

BadgeHandler = Callable[[str], Coroutine[Any, Any, None]]

__all__ = ["NO_PAGE", "SIM_READER", "BadgeStation", "badge_punch_event", "mask_uid", "pick_reader"]


def mask_uid(uid: str) -> str:
    """A badge UID as the window display shows it: only the last four hex digits."""
    return "*" * max(len(uid) - 4, 0) + uid[-4:]


def badge_punch_event(effect: PunchEffect, uid: str, device_id: str, window: int) -> EdgeEvent:
    """The punch event of a badge tap: its UID, not a fingerprint page."""
    payload = PunchPayload(badge_uid=uid, officer_staff_no=effect.officer.staff_no)
    return new_event(EventKind.PUNCH, device_id, payload, window)


class BadgeStation(ReaderStation):
    """The window's badge reader: each tap is a punch; taking the badge off means nothing."""

    def __init__(
        self, wanted: str, on_badge: BadgeHandler, on_change: StateCallback, check_interval_s: float = 2.0
    ) -> None:
        super().__init__(
            "badge",
            "badge",
            wanted,
            lambda card: on_badge(card.uid_hex),
            on_change=on_change,
            check_interval_s=check_interval_s,
        )
        self.on_badge = on_badge
