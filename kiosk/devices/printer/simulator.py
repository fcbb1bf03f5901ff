"""A thermal ticket printer on a pty: answers DLE EOT, keeps each cut ticket, has fault switches."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

from kiosk.devices.printer.page import PageBuilder, PrintedTicket
from kiosk.devices.printer.status import PrinterStatus, encode_status_byte
from kiosk.devices.printer.tokenizer import EscPosTokenizer
from kiosk.devices.printer.tokens import StatusRequest
from kiosk.devices.pty_sim import PtySimulator

log = logging.getLogger(__name__)


class PrinterSimulator(PtySimulator):
    """ESC/POS printer simulator.

    Switches: ``paper_out``, ``cover_open``, ``offline`` (reported through DLE EOT; while any is on,
    print data is dropped like a real printer would), plus ``silent`` and ``unplug()`` from the base.
    """

    def __init__(
        self,
        encoding: str = "gb18030",
        on_ticket: Callable[[PrintedTicket], None] | None = None,
    ) -> None:
        super().__init__()
        self.encoding = encoding
        self.paper_out = False
        self.cover_open = False
        self.offline = False
        self.paper_near_end = False
        self.on_ticket = on_ticket
        self._tokenizer = EscPosTokenizer(encoding)
        self._page = PageBuilder()
        self._tickets: list[PrintedTicket] = []
        self._ticket_added = threading.Condition()

    @property
    def status(self) -> PrinterStatus:
        """What the printer reports right now."""
        return PrinterStatus(
            online=not (self.offline or self.cover_open or self.paper_out),
            cover_open=self.cover_open,
            paper_out=self.paper_out,
            paper_near_end=self.paper_near_end or self.paper_out,
        )

    @property
    def tickets(self) -> list[PrintedTicket]:
        """Tickets cut so far (a copy)."""
        with self._ticket_added:
            return list(self._tickets)

    def wait_for_tickets(self, count: int, timeout_s: float) -> list[PrintedTicket]:
        """Wait until at least ``count`` tickets were cut (or the timeout passed); return them."""
        with self._ticket_added:
            self._ticket_added.wait_for(lambda: len(self._tickets) >= count, timeout=timeout_s)
            return list(self._tickets)

    def start(self) -> str:
        """Start serving with a fresh parser (a replugged printer starts from power-on)."""
        self._tokenizer = EscPosTokenizer(self.encoding)
        self._page = PageBuilder()
        return super().start()

    def on_bytes(self, data: bytes) -> None:
        """Tokenize what the host sent; answer status requests; print the rest unless faulted."""
        for token in self._tokenizer.feed(data):
            if isinstance(token, StatusRequest):
                # Real-time commands are answered even while offline.
                self.send(bytes([encode_status_byte(self.status, token.kind)]))
                continue
            if not self.status.online:
                self._page.discard()
                continue
            ticket = self._page.apply(token)
            if ticket is not None:
                self._add(ticket)

    def _add(self, ticket: PrintedTicket) -> None:
        with self._ticket_added:
            self._tickets.append(ticket)
            self._ticket_added.notify_all()
        log.info("ticket %d cut (%d bytes)", len(self._tickets), len(ticket.raw))
        if self.on_ticket is not None:
            self.on_ticket(ticket)
