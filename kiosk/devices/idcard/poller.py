"""Polling loop that reads each card placement once."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING

from kiosk.devices.idcard.errors import (
    IdCardConnectionError,
    IdCardError,
    InvalidIdNumberError,
    UnsupportedCardError,
    WrongCardTypeError,
)
from kiosk.devices.idcard.identity import Identity

if TYPE_CHECKING:
    from kiosk.devices.idcard.driver import IdCardReader

log = logging.getLogger(__name__)

# Reading such a card again gives the same answer: wait for it to be taken away.
_FINAL_ERRORS = (UnsupportedCardError, InvalidIdNumberError, WrongCardTypeError)


class CardPoller:
    """Yields an identity once per placement; a card left on the reader is not read again.

    The card counts as removed after ``misses_to_rearm`` polls in a row find nothing, so a
    single missed answer while it lies still does not cause a second read. Connection
    failures close the reader; the next poll opens it again.
    """

    def __init__(
        self,
        reader: IdCardReader,
        interval_s: float = 0.3,
        misses_to_rearm: int = 2,
        on_error: Callable[[IdCardError], None] | None = None,
    ) -> None:
        self.reader = reader
        self.interval_s = interval_s
        self.misses_to_rearm = misses_to_rearm
        self.on_error = on_error
        #: The last error seen, None after a poll that went through.
        self.last_error: IdCardError | None = None
        self._armed = True
        self._misses = 0
        self._stop = threading.Event()

    def poll_once(self) -> Identity | None:
        """One poll: the identity of a newly placed card, or None."""
        try:
            if not self.reader.is_open:
                self.reader.open()
            present = self.reader.find_card()
        except IdCardError as err:
            self._failed(err)
            return None
        self.last_error = None
        if not present:
            self._misses += 1
            if self._misses >= self.misses_to_rearm:
                self._armed = True
            return None
        self._misses = 0
        if not self._armed:
            return None
        try:
            identity = self.reader.read_identity()
        except IdCardError as err:
            if isinstance(err, _FINAL_ERRORS):
                self._armed = False
            self._failed(err)
            return None
        self._armed = False
        return identity

    def _failed(self, err: IdCardError) -> None:
        repeated = type(err) is type(self.last_error)
        self.last_error = err
        if isinstance(err, IdCardConnectionError):
            self.reader.close()
        # Warn once per kind of failure, not every interval while the reader stays unplugged.
        log.log(logging.DEBUG if repeated else logging.WARNING, "ID-card poll failed: %s", err)
        if self.on_error is not None:
            self.on_error(err)

    def stop(self) -> None:
        """Make the iterator end after the current poll (thread-safe)."""
        self._stop.set()

    def __iter__(self) -> Iterator[Identity]:
        while not self._stop.is_set():
            identity = self.poll_once()
            if identity is not None:
                yield identity
            self._stop.wait(self.interval_s)
