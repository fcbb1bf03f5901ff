"""Builds printed tickets from tokens, as the paper would show them."""

from __future__ import annotations

from dataclasses import dataclass, field

from kiosk.devices.printer.commands import Align
from kiosk.devices.printer.tokens import (
    Bold,
    Cut,
    Init,
    LineFeed,
    QrPrint,
    SetAlign,
    Text,
    TextSize,
    Token,
)


@dataclass(frozen=True)
class PrintedLine:
    """One printed line: its text and print mode, or a QR symbol (``qr`` set, ``text`` empty)."""

    text: str
    align: Align = Align.LEFT
    width: int = 1
    height: int = 1
    bold: bool = False
    qr: str | None = None


@dataclass(frozen=True)
class PrintedTicket:
    """One piece of paper between two cuts."""

    lines: list[PrintedLine]
    qr_payloads: list[str]
    raw: bytes
    partial_cut: bool

    @property
    def text(self) -> str:
        """The ticket as plain text, one printed line per line (QR codes as ``[QR] payload``)."""
        return "\n".join(f"[QR] {line.qr}" if line.qr is not None else line.text for line in self.lines)


@dataclass
class PageBuilder:
    """Applies tokens to the print state; ``apply`` returns a ticket at each cut."""

    align: Align = Align.LEFT
    width: int = 1
    height: int = 1
    bold: bool = False
    _line: list[str] = field(default_factory=list)
    _lines: list[PrintedLine] = field(default_factory=list)
    _qr: list[str] = field(default_factory=list)
    _raw: bytearray = field(default_factory=bytearray)

    def apply(self, token: Token) -> PrintedTicket | None:
        """Apply one token; return the finished ticket when it is a cut."""
        self._raw += token.raw
        match token:
            case Text(text=text):
                self._line.append(text)
            case LineFeed(lines=lines):
                for _ in range(lines):
                    self._end_line()
            case SetAlign(align=align):
                self.align = align
            case TextSize(width=width, height=height, bold=bold):
                self.width, self.height = width, height
                self.bold = self.bold if bold is None else bold
            case Bold(on=on):
                self.bold = on
            case Init():
                self.align, self.width, self.height, self.bold = Align.LEFT, 1, 1, False
            case QrPrint(payload=payload) if payload is not None:
                qr = payload.decode("utf-8", errors="replace")
                self._qr.append(qr)
                self._lines.append(PrintedLine("", self.align, qr=qr))
            case Cut(partial=partial, feed_lines=feed_lines):
                for _ in range(feed_lines):
                    self._end_line()
                return self._finish(partial)
        return None

    def discard(self) -> None:
        """Forget the page in progress (e.g. the paper ran out under it)."""
        self._line.clear()
        self._lines.clear()
        self._qr.clear()
        self._raw.clear()

    def _end_line(self) -> None:
        self._lines.append(PrintedLine("".join(self._line), self.align, self.width, self.height, self.bold))
        self._line.clear()

    def _finish(self, partial: bool) -> PrintedTicket:
        if self._line:
            self._end_line()
        lines = list(self._lines)
        # The feed before the cut only moves paper past the blade: drop trailing blank lines.
        while lines and not lines[-1].text and lines[-1].qr is None:
            lines.pop()
        ticket = PrintedTicket(lines, list(self._qr), bytes(self._raw), partial)
        self.discard()
        return ticket
