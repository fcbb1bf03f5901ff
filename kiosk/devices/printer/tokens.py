"""Tokens of an ESC/POS byte stream, as produced by ``EscPosTokenizer``."""

from __future__ import annotations

from dataclasses import dataclass, field

from kiosk.devices.printer.commands import Align

QR_ERROR_LEVELS = {48: "L", 49: "M", 50: "Q", 51: "H"}


@dataclass(frozen=True)
class Token:
    """Base of all tokens; ``raw`` holds the bytes the token was read from."""

    raw: bytes = field(default=b"", compare=False, repr=False, kw_only=True)


@dataclass(frozen=True)
class Text(Token):
    """A run of printable text, decoded in the current mode."""

    text: str


@dataclass(frozen=True)
class ChineseMode(Token):
    """``FS &`` (on) or ``FS .`` (off)."""

    on: bool


@dataclass(frozen=True)
class Init(Token):
    """``ESC @``."""


@dataclass(frozen=True)
class SetAlign(Token):
    """``ESC a n``."""

    align: Align


@dataclass(frozen=True)
class TextSize(Token):
    """``GS ! n`` or ``ESC ! n`` (the latter also carries bold)."""

    width: int
    height: int
    bold: bool | None = None


@dataclass(frozen=True)
class Bold(Token):
    """``ESC E n``."""

    on: bool


@dataclass(frozen=True)
class LineFeed(Token):
    """``LF`` (one line) or ``ESC d n`` not followed by a cut."""

    lines: int = 1


@dataclass(frozen=True)
class QrModel(Token):
    """``GS ( k`` fn 65: QR model (1, 2 or micro)."""

    model: int


@dataclass(frozen=True)
class QrSize(Token):
    """``GS ( k`` fn 67: module size in dots."""

    module_dots: int


@dataclass(frozen=True)
class QrErrorLevel(Token):
    """``GS ( k`` fn 69: error correction level L/M/Q/H."""

    level: str


@dataclass(frozen=True)
class QrStore(Token):
    """``GS ( k`` fn 80: store the symbol data."""

    payload: bytes


@dataclass(frozen=True)
class QrPrint(Token):
    """``GS ( k`` fn 81: print the stored symbol (``payload`` is what was stored)."""

    payload: bytes | None


@dataclass(frozen=True)
class Cut(Token):
    """``GS V m`` (optionally after the ``ESC d n`` feed python-escpos sends before it)."""

    partial: bool
    feed_lines: int = 0


@dataclass(frozen=True)
class StatusRequest(Token):
    """``DLE EOT n``: real-time status request."""

    kind: int


@dataclass(frozen=True)
class Opaque(Token):
    """A command or control byte this tokenizer does not interpret (skipped by its known length)."""

    data: bytes
