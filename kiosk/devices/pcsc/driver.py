"""Contactless card reader over PC/SC (pcscd): list readers, read a card's UID, watch taps.

Every method here blocks on pcscd; the kiosk and the counter agent call them from a thread
(``asyncio.to_thread``), and ``CardWatcher`` runs its own thread.
"""

from __future__ import annotations

import logging
import re
import threading
from collections.abc import Callable
from typing import Any

from kiosk.devices.pcsc import scard_io
from kiosk.devices.pcsc.apdu import GET_UID_APDU, CardRead, uid_from_response
from kiosk.devices.pcsc.errors import NoCardError, PcscError, ReaderNotFoundError
from kiosk.devices.transport import hex_bytes

log = logging.getLogger(__name__)

# Names contactless readers give their PICC slot (ACS, Identiv, HID) and the vpcd test reader.
DEFAULT_READER_PATTERN = r"PICC|Contactless|\bCL\b|ACR122|OMNIKEY 5022|Virtual PCD"


class ContactlessReader:
    """One PC/SC reader, chosen by exact name or as the first whose name matches ``name_pattern``."""

    def __init__(
        self,
        reader_name: str | None = None,
        name_pattern: str = DEFAULT_READER_PATTERN,
        wire_logger: str = __name__,
        redact_uid: bool = False,
    ) -> None:
        self.reader_name = reader_name
        self.name_pattern = re.compile(name_pattern, re.IGNORECASE)
        self._wire = logging.getLogger(wire_logger)
        # A card that stands for a citizen: its UID is personal data and stays out of the wire log.
        self.redact_uid = redact_uid

    def list_readers(self) -> list[str]:
        """Names of all attached PC/SC readers (blocking)."""
        with scard_io.context() as hcontext:
            return scard_io.list_readers(hcontext)

    def resolve(self, hcontext: Any) -> str:
        """The reader name to use: the configured one, else the first matching the pattern."""
        if self.reader_name is not None:
            return self.reader_name
        for name in scard_io.list_readers(hcontext):
            if self.name_pattern.search(name):
                return name
        raise ReaderNotFoundError(f"no reader name matches {self.name_pattern.pattern!r}")

    def read_uid(self) -> CardRead:
        """Read the UID and ATR of the card on the reader (blocking); NoCardError if none."""
        with scard_io.context() as hcontext:
            return self.read_uid_in(hcontext, self.resolve(hcontext))

    def read_uid_in(self, hcontext: Any, reader: str) -> CardRead:
        """read_uid on an open context and a resolved reader name (for the watcher)."""
        with scard_io.connected(hcontext, reader) as (hcard, protocol):
            atr = scard_io.card_atr(hcard)
            self._wire.debug("%s >>> %s", reader, hex_bytes(GET_UID_APDU))
            response = scard_io.transmit(hcard, protocol, GET_UID_APDU)
            if self.redact_uid:
                self._wire.debug(
                    "%s <<< [%d bytes withheld] %s", reader, len(response) - 2, hex_bytes(response[-2:])
                )
            else:
                self._wire.debug("%s <<< %s", reader, hex_bytes(response))
        return CardRead(uid_hex=uid_from_response(response).hex().upper(), atr_hex=atr.hex().upper())


class CardWatcher:
    """Calls ``on_insert(CardRead)`` when a card arrives and ``on_remove()`` when it leaves.

    ``on_error(PcscError)``, if given, hears of a card that arrived but could not be read (it
    left during the read, or refused GET UID). Callbacks run on the watcher's thread. Losing
    pcscd or the reader counts as a removal; the watcher then retries every ``retry_s``.
    """

    def __init__(
        self,
        reader: ContactlessReader,
        on_insert: Callable[[CardRead], None],
        on_remove: Callable[[], None],
        poll_s: float = 0.5,
        retry_s: float = 1.0,
        on_error: Callable[[PcscError], None] | None = None,
    ) -> None:
        self.reader = reader
        self.on_insert = on_insert
        self.on_remove = on_remove
        self.on_error = on_error
        self.poll_s = poll_s
        self.retry_s = retry_s
        self.card_present = False
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._hcontext: Any = None
        self._last_error = ""

    def start(self) -> None:
        """Start watching on a daemon thread."""
        if self._thread is not None:
            return
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name="CardWatcher", daemon=True)
        self._thread.start()

    def stop(self, timeout_s: float = 3.0) -> None:
        """Stop watching and wait up to ``timeout_s`` for the thread."""
        self._stop.set()
        hcontext = self._hcontext
        if hcontext is not None:
            scard_io.cancel(hcontext)
        thread, self._thread = self._thread, None
        if thread is not None:
            thread.join(timeout=timeout_s)

    def __enter__(self) -> CardWatcher:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self._hcontext = scard_io.establish()
                try:
                    self._watch(self._hcontext, self.reader.resolve(self._hcontext))
                finally:
                    hcontext, self._hcontext = self._hcontext, None
                    scard_io.release(hcontext)
            except PcscError as err:
                # Log a lasting outage once, not at every retry.
                if str(err) != self._last_error:
                    log.warning("card watcher: %s; retrying every %.1f s", err, self.retry_s)
                    self._last_error = str(err)
                self._set_absent()
                self._stop.wait(self.retry_s)

    def _watch(self, hcontext: Any, reader: str) -> None:
        known_state = scard_io.STATE_UNAWARE
        self._last_error = ""
        while not self._stop.is_set():
            code, state = scard_io.wait_status_change(hcontext, reader, known_state, self.poll_s)
            if code != 0:
                continue
            if state & scard_io.STATE_GONE:
                raise ReaderNotFoundError(f"reader {reader!r} went away")
            # pcsc-lite counts card events in the high 16 bits: a changed count with the card
            # still present means it was swapped between two waits.
            swapped = known_state != scard_io.STATE_UNAWARE and (state >> 16) != (known_state >> 16)
            known_state = state & ~scard_io.STATE_CHANGED
            present = bool(state & scard_io.STATE_PRESENT) and not state & scard_io.STATE_MUTE
            if self.card_present and (swapped or not present):
                self._set_absent()
            if present and not self.card_present:
                self._card_arrived(hcontext, reader)

    def _card_arrived(self, hcontext: Any, reader: str) -> None:
        try:
            card = self.reader.read_uid_in(hcontext, reader)
        except NoCardError as err:
            log.info("card left %r before its UID was read", reader)
            self._failed_read(err)
            return
        except PcscError as err:
            # A card that cannot be read (not contactless, refuses GET UID) is no tap.
            log.warning("card on %r not read: %s", reader, err)
            self._failed_read(err)
            return
        self.card_present = True
        self._call(lambda: self.on_insert(card))

    def _failed_read(self, err: PcscError) -> None:
        on_error = self.on_error
        if on_error is not None:
            self._call(lambda: on_error(err))

    def _set_absent(self) -> None:
        if self.card_present:
            self.card_present = False
            self._call(self.on_remove)

    def _call(self, callback: Callable[[], None]) -> None:
        try:
            callback()
        except Exception:
            log.exception("card watcher callback failed")
