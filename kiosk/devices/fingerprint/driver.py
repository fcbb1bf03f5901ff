"""Driver for a fingerprint module on a serial port (pyserial path or URL)."""

from __future__ import annotations

import logging
import termios
import threading
import time
from collections.abc import Callable
from enum import Enum
from types import TracebackType

from kiosk.devices.errors import DeviceConnectionError
from kiosk.devices.fingerprint import codec
from kiosk.devices.fingerprint.codec import (
    INDEX_PAGE_SIZE,
    Ack,
    BufferId,
    Match,
    PacketType,
    SystemParameters,
)
from kiosk.devices.fingerprint.errors import (
    FingerNotLiftedError,
    FingerprintConnectionError,
    FingerprintError,
    FingerprintTimeoutError,
    LibraryFullError,
    NoFingerError,
)
from kiosk.devices.transport import SerialTransport

log = logging.getLogger(__name__)

NO_FINGER = 0x02
POWER_ON_DELAY_S = 0.05  # the module ignores commands for ~50 ms after power-on
READ_SLICE_S = 0.05  # port read timeout, so a reply deadline is checked at this granularity


class EnrollStep(Enum):
    """What the person enrolling must do next (for prompts on a screen)."""

    PRESS_FIRST = "press_first"
    LIFT = "lift"
    PRESS_SECOND = "press_second"
    STORING = "storing"


class FingerprintReader:
    """R30x / R503 / AS608 fingerprint module: verify, identify and enrol fingers."""

    def __init__(
        self,
        url: str,
        baud: int = 57600,
        address: int = codec.DEFAULT_ADDRESS,
        password: int = 0,
        timeout_s: float = 1.0,
        *,
        open_retry_s: float = 1.0,
        poll_interval_s: float = 0.1,
    ) -> None:
        self.baud = baud
        self.address = address
        self.password = password
        self.timeout_s = timeout_s
        self.open_retry_s = open_retry_s
        self.poll_interval_s = poll_interval_s
        self._url = url
        self._transport = self._make_transport(url)
        self._lock = threading.Lock()
        self._capacity: int | None = None

    def _make_transport(self, url: str) -> SerialTransport:
        return SerialTransport(url, self.baud, min(READ_SLICE_S, self.timeout_s), wire_logger=__name__)

    @property
    def url(self) -> str:
        """Port path or pyserial URL; setting it closes the port (e.g. after a replug under a new name)."""
        return self._url

    @url.setter
    def url(self, url: str) -> None:
        self.close()
        self._url = url
        self._transport = self._make_transport(url)

    @property
    def is_open(self) -> bool:
        """True while the port is open."""
        return self._transport.is_open

    # -- lifecycle ---------------------------------------------------------
    def open(self) -> None:
        """Open the port and verify the password, retrying for ``open_retry_s`` while nothing answers."""
        deadline = time.monotonic() + self.open_retry_s
        while True:
            try:
                self._open_once()
                return
            except FingerprintConnectionError:
                self.close()
                if time.monotonic() >= deadline:
                    raise
                log.debug("fingerprint module at %s not ready, retrying", self._url)
                time.sleep(self.poll_interval_s)
            except FingerprintError:
                self.close()
                raise

    def _open_once(self) -> None:
        try:
            self._transport.open()
        except DeviceConnectionError as err:
            raise FingerprintConnectionError(str(err)) from err
        time.sleep(POWER_ON_DELAY_S)
        self.verify_password()
        self._capacity = self.read_system_parameters().capacity
        log.info("fingerprint module ready at %s (%d pages)", self._url, self._capacity)

    def close(self) -> None:
        """Close the port (safe to call twice)."""
        self._transport.close()

    def reconnect(self) -> None:
        """Close and open again, e.g. after the module was unplugged and plugged back."""
        self.close()
        self.open()

    def __enter__(self) -> FingerprintReader:
        self.open()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    # -- one request, one reply: the single place where transport errors are translated ---------------
    def _exchange(self, command: bytes) -> Ack:
        with self._lock:
            try:
                return self._exchange_locked(command)
            except FingerprintError:
                raise
            except DeviceConnectionError as err:
                raise FingerprintConnectionError(f"{self._url}: {err}") from err
            except termios.error as err:
                # The shared transport lets tcflush's error through when the port hung up (unplugged).
                self._transport.close()
                raise FingerprintConnectionError(f"{self._url}: port hung up: {err}") from err

    def _exchange_locked(self, command: bytes) -> Ack:
        # Drop a late reply to an earlier, timed-out command so it is not taken for this one.
        self._transport.reset_input()
        self._transport.write(command)
        decoder = codec.PacketDecoder()
        deadline = time.monotonic() + self.timeout_s
        while time.monotonic() < deadline:
            for packet in decoder.feed(self._transport.read(decoder.bytes_wanted())):
                if packet.pid == PacketType.ACK and packet.address == self.address:
                    return codec.parse_ack(packet)
                log.debug("ignoring packet type 0x%02X from %08X", packet.pid, packet.address)
            errors = decoder.take_errors()
            if errors:
                raise errors[0]
        raise FingerprintTimeoutError(f"{self._url}: no reply within {self.timeout_s:.1f} s")

    def _command(self, command: bytes) -> Ack:
        return self._exchange(command).raise_for_code()

    # -- commands ------------------------------------------------------------
    def verify_password(self) -> None:
        """Verify the module password (WrongPasswordError when it is wrong)."""
        self._command(codec.vfy_pwd(self.password, self.address))

    def read_system_parameters(self) -> SystemParameters:
        """Read status, library capacity, security level, address, packet size and baud."""
        return SystemParameters.decode(self._command(codec.read_sys_para(self.address)).data)

    @property
    def capacity(self) -> int:
        """Number of template pages in the library (read once after open)."""
        if self._capacity is None:
            self._capacity = self.read_system_parameters().capacity
        return self._capacity

    def template_count(self) -> int:
        """Number of stored templates."""
        return self._command(codec.template_num(self.address)).word(0)

    def read_index_table(self) -> set[int]:
        """The set of library pages that hold a template."""
        used: set[int] = set()
        for index_page in range(-(-self.capacity // INDEX_PAGE_SIZE)):
            ack = self._command(codec.read_index_table(index_page, self.address))
            used |= {page for page in ack.index_pages(index_page) if page < self.capacity}
        return used

    def delete(self, page: int) -> None:
        """Delete the template at ``page``."""
        self._command(codec.delete_char(page, 1, self.address))

    def empty(self) -> None:
        """Delete every template."""
        self._command(codec.empty(self.address))

    def identify(self, wait_s: float = 5.0) -> Match:
        """Wait for a finger and search the library (NoFingerError, FingerNotFoundError, PoorImageError)."""
        self._capture(BufferId.ONE, time.monotonic() + wait_s)
        return self._command(codec.search(BufferId.ONE, 0, self.capacity, self.address)).match()

    def enroll(
        self,
        page: int | None = None,
        wait_s: float = 10.0,
        on_step: Callable[[EnrollStep], None] | None = None,
    ) -> int:
        """Enrol a finger with two presses and store it at ``page`` (first free page when None)."""
        step = on_step or (lambda _step: None)
        if page is None:
            page = self.first_free_page()
        deadline = time.monotonic() + wait_s
        step(EnrollStep.PRESS_FIRST)
        self._capture(BufferId.ONE, deadline)
        step(EnrollStep.LIFT)
        self._wait_lift(deadline)
        step(EnrollStep.PRESS_SECOND)
        self._capture(BufferId.TWO, deadline)
        step(EnrollStep.STORING)
        self._command(codec.reg_model(self.address))
        self._command(codec.store(BufferId.ONE, page, self.address))
        log.info("enrolled a finger at page %d", page)
        return page

    def first_free_page(self) -> int:
        """The lowest library page without a template (LibraryFullError when none)."""
        used = self.read_index_table()
        for page in range(self.capacity):
            if page not in used:
                return page
        raise LibraryFullError(f"all {self.capacity} pages are taken")

    # -- helpers ---------------------------------------------------------------
    def _capture(self, buffer_id: int, deadline: float) -> None:
        """Poll GenImg until a finger is on the sensor, then extract its features into ``buffer_id``."""
        while True:
            ack = self._exchange(codec.gen_img(self.address))
            if ack.code != NO_FINGER:
                ack.raise_for_code()
                break
            if time.monotonic() >= deadline:
                raise NoFingerError(NO_FINGER, "no finger on the sensor before the deadline")
            time.sleep(self.poll_interval_s)
        self._command(codec.img2tz(buffer_id, self.address))

    def _wait_lift(self, deadline: float) -> None:
        while self._exchange(codec.gen_img(self.address)).code != NO_FINGER:
            if time.monotonic() >= deadline:
                raise FingerNotLiftedError("the finger was not lifted between the two presses")
            time.sleep(self.poll_interval_s)
