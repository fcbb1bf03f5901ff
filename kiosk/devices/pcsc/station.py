"""A PC/SC reader kept open by a DeviceSupervisor, its CardWatcher's events handed to the event loop.

Shared by the window's staff-badge log-in and the kiosk's card serial lane.
"""

from __future__ import annotations

import asyncio
import inspect
import logging
import re
from collections.abc import Callable
from typing import Any

from kiosk.devices.pcsc.apdu import CardRead
from kiosk.devices.pcsc.driver import CardWatcher, ContactlessReader
from kiosk.devices.pcsc.errors import PcscError, ReaderNotFoundError
from kiosk.devices.supervisor import DeviceSupervisor, StateCallback

log = logging.getLogger(__name__)

# The reader pcscd's vpcd driver shows first: where a simulated card (device setting "sim") goes.
VPCD_READER = "Virtual PCD 00 00"

# Called on the event loop; a returned awaitable is run as a task.
InsertHandler = Callable[[CardRead], Any]
RemoveHandler = Callable[[], Any]
ErrorHandler = Callable[[PcscError], Any]


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


class ReaderStation:
    """One contactless reader: a supervisor keeps it open and a CardWatcher reports its cards.

    The handlers run on the event loop that ``run`` is awaited on, never on the watcher's thread.
    """

    def __init__(
        self,
        name: str,
        kind: str,
        wanted: str,
        on_insert: InsertHandler,
        on_remove: RemoveHandler | None = None,
        on_error: ErrorHandler | None = None,
        on_change: StateCallback | None = None,
        *,
        check_interval_s: float = 2.0,
        redact_uid: bool = False,
    ) -> None:
        self.wanted = wanted
        self.on_insert = on_insert
        self.on_remove = on_remove
        self.on_error = on_error
        self.redact_uid = redact_uid
        self._loop: asyncio.AbstractEventLoop | None = None
        self._tasks: set[asyncio.Future[Any]] = set()
        self.supervisor: DeviceSupervisor[CardWatcher] = DeviceSupervisor(
            name,
            kind,
            self._open,
            check_fn=self._check,
            on_change=on_change,
            close_fn=lambda watcher: watcher.stop(),
            check_interval_s=check_interval_s,
        )

    @property
    def card_present(self) -> bool:
        """True while a card that was read lies on the reader."""
        watcher = self.supervisor.device
        return watcher is not None and watcher.card_present

    async def run(self) -> None:
        """Supervise the reader until cancelled."""
        self._loop = asyncio.get_running_loop()
        await self.supervisor.run()

    def _resolve(self) -> str:
        names = ContactlessReader().list_readers()
        name = pick_reader(names, self.wanted)
        if name is None:
            raise ReaderNotFoundError(f"no PC/SC reader matches {self.wanted!r} (readers: {names})")
        return name

    def _open(self) -> CardWatcher:
        reader = ContactlessReader(reader_name=self._resolve(), redact_uid=self.redact_uid)
        watcher = CardWatcher(
            reader,
            lambda card: self._to_loop(self.on_insert, card),
            self._removed,
            on_error=self._failed,
        )
        watcher.start()
        return watcher

    def _check(self, watcher: CardWatcher) -> None:
        # The watcher retries by itself; the check is what tells the integration the reader is gone.
        name = watcher.reader.reader_name
        if name not in ContactlessReader().list_readers():
            raise ReaderNotFoundError(f"reader {name!r} went away")

    def _removed(self) -> None:
        if self.on_remove is not None:
            self._to_loop(self.on_remove)

    def _failed(self, err: PcscError) -> None:
        if self.on_error is not None:
            self._to_loop(self.on_error, err)

    def _to_loop(self, handler: Callable[..., Any], *args: Any) -> None:
        """On the watcher's thread: run ``handler`` on the event loop."""
        loop = self._loop
        if loop is None or loop.is_closed():
            return
        loop.call_soon_threadsafe(self._deliver, handler, *args)

    def _deliver(self, handler: Callable[..., Any], *args: Any) -> None:
        try:
            result = handler(*args)
        except Exception:
            log.exception("%s handler failed", self.supervisor.name)
            return
        if inspect.isawaitable(result):
            # Keep a reference so the task is not collected before it ends.
            task = asyncio.ensure_future(result)
            self._tasks.add(task)
            task.add_done_callback(self._done)

    def _done(self, task: asyncio.Future[Any]) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.error("%s handler failed", self.supervisor.name, exc_info=task.exception())
