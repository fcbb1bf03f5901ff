"""Staff badge log-in at the window: a PC/SC contactless reader watched on a thread."""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import Callable, Coroutine
from typing import Any

from common.events import EdgeEvent, EventKind, PunchPayload, new_event
from counter_agent.session import PunchEffect
from kiosk.devices.pcsc import CardRead, CardWatcher, ContactlessReader, ReaderNotFoundError
from kiosk.devices.supervisor import DeviceSupervisor, StateCallback

log = logging.getLogger(__name__)

# The vpcd test reader that a simulated badge (``badge_reader = "sim"``) is presented on.
SIM_READER = "Virtual PCD 00 00"
# ServiceSession.punch wants a page; a badge punch carries its UID instead and never sends this.
NO_PAGE = -1

BadgeHandler = Callable[[str], Coroutine[Any, Any, None]]


def pick_reader(names: list[str], wanted: str) -> str | None:
    """The reader to use: the one named exactly ``wanted``, else the first its pattern matches."""
    if wanted in names:
        return wanted
    try:
        pattern = re.compile(wanted, re.IGNORECASE)
    except re.error:
        # Names such as "... [OMNIKEY 5022 CL] 00 00" are not valid patterns: match them literally.
        pattern = re.compile(re.escape(wanted), re.IGNORECASE)
    return next((name for name in names if pattern.search(name)), None)


def mask_uid(uid: str) -> str:
    """A badge UID as the window display shows it: only the last four hex digits."""
    return "*" * max(len(uid) - 4, 0) + uid[-4:]


def badge_punch_event(effect: PunchEffect, uid: str, device_id: str, window: int) -> EdgeEvent:
    """The punch event of a badge tap: its UID, not a fingerprint page."""
    payload = PunchPayload(badge_uid=uid, officer_staff_no=effect.officer.staff_no)
    return new_event(EventKind.PUNCH, device_id, payload, window)


class BadgeStation:
    """The window's badge reader: a supervisor keeps it open and a CardWatcher reports taps."""

    def __init__(
        self, wanted: str, on_badge: BadgeHandler, on_change: StateCallback, check_interval_s: float = 2.0
    ) -> None:
        self.wanted = wanted
        self.on_badge = on_badge
        self._loop: asyncio.AbstractEventLoop | None = None
        self.supervisor: DeviceSupervisor[CardWatcher] = DeviceSupervisor(
            "badge",
            "badge",
            self._open,
            check_fn=self._check,
            on_change=on_change,
            close_fn=lambda watcher: watcher.stop(),
            check_interval_s=check_interval_s,
        )

    def _resolve(self) -> str:
        names = ContactlessReader().list_readers()
        name = pick_reader(names, self.wanted)
        if name is None:
            raise ReaderNotFoundError(f"no PC/SC reader matches {self.wanted!r} (readers: {names})")
        return name

    def _open(self) -> CardWatcher:
        watcher = CardWatcher(ContactlessReader(reader_name=self._resolve()), self._inserted, _ignore)
        watcher.start()
        return watcher

    def _check(self, watcher: CardWatcher) -> None:
        # The watcher retries by itself; the check is what tells the window the reader is gone.
        name = watcher.reader.reader_name
        if name not in ContactlessReader().list_readers():
            raise ReaderNotFoundError(f"reader {name!r} went away")

    def _inserted(self, card: CardRead) -> None:
        """On the watcher's thread: hand the tap to the event loop."""
        loop = self._loop
        if loop is None or loop.is_closed():
            return
        asyncio.run_coroutine_threadsafe(self.on_badge(card.uid_hex), loop)

    async def run(self) -> None:
        """Supervise the reader until cancelled."""
        self._loop = asyncio.get_running_loop()
        await self.supervisor.run()


def _ignore() -> None:
    """Taking a badge off the reader means nothing: a tap is a punch."""
