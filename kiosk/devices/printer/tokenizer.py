"""Incremental ESC/POS tokenizer: bytes in any chunking -> tokens (used by the simulator and tests)."""

from __future__ import annotations

import codecs

from kiosk.devices.printer import grammar
from kiosk.devices.printer.commands import Align, normalize_encoding
from kiosk.devices.printer.tokens import (
    QR_ERROR_LEVELS,
    Bold,
    ChineseMode,
    Cut,
    Init,
    LineFeed,
    Opaque,
    QrErrorLevel,
    QrModel,
    QrPrint,
    QrSize,
    QrStore,
    SetAlign,
    StatusRequest,
    Text,
    TextSize,
    Token,
)

LF = 0x0A
_ALIGNS = {0: Align.LEFT, 1: Align.CENTER, 2: Align.RIGHT, 48: Align.LEFT, 49: Align.CENTER, 50: Align.RIGHT}
_PARTIAL_CUTS = frozenset({1, 49, 66, 98, 104})
# Outside FS & the printer uses a single-byte code page; PC437 is the ESC/POS power-on default.
_SINGLE_BYTE = "cp437"


class EscPosTokenizer:
    """Turns a byte stream into tokens; incomplete trailing input waits for the next ``feed``."""

    def __init__(self, encoding: str = "gb18030", chinese_mode: bool = False) -> None:
        self.encoding = normalize_encoding(encoding)
        self.chinese_mode = chinese_mode
        self._buf = bytearray()
        self._decoder = self._new_decoder()
        self._qr_payload: bytes | None = None
        self._text_raw = bytearray()  # bytes held by the decoder (half a character) so far

    def _new_decoder(self) -> codecs.IncrementalDecoder:
        name = self.encoding if self.chinese_mode else _SINGLE_BYTE
        return codecs.getincrementaldecoder(name)(errors="replace")

    def feed(self, data: bytes) -> list[Token]:
        """Add bytes; return the tokens now complete."""
        self._buf += data
        tokens: list[Token] = []
        pos = 0
        buf = self._buf
        while pos < len(buf):
            byte = buf[pos]
            if byte >= 0x20:
                end = pos + 1
                while end < len(buf) and buf[end] >= 0x20:
                    end += 1
                self._text(tokens, bytes(buf[pos:end]), final=False)
                pos = end
                continue
            # A control byte never occurs inside a multi-byte character: end any pending one.
            self._text(tokens, b"", final=True)
            if byte not in grammar.COMMAND_PREFIXES:
                raw = bytes([byte])
                tokens.append(LineFeed(raw=raw) if byte == LF else Opaque(raw, raw=raw))
                pos += 1
                continue
            length = grammar.command_length(buf, pos)
            if length is None:
                break
            length = self._merge_feed_and_cut(buf, pos, length)
            if length is None:
                break
            tokens.append(self._command(bytes(buf[pos : pos + length])))
            pos += length
        del buf[:pos]
        return tokens

    def flush(self) -> list[Token]:
        """End of stream: return whatever is still pending as tokens."""
        tokens: list[Token] = []
        rest = bytes(self._buf)
        self._buf.clear()
        if rest[:2] == b"\x1bd" and len(rest) >= 3:
            tokens.append(LineFeed(rest[2], raw=rest[:3]))
            rest = rest[3:]
        if rest:
            tokens.append(Opaque(rest, raw=rest))
        self._text(tokens, b"", final=True)
        return tokens

    def _text(self, tokens: list[Token], raw: bytes, final: bool) -> None:
        self._text_raw += raw
        text = self._decoder.decode(raw, final=final)
        if final:
            self._decoder.reset()
        if text:
            tokens.append(Text(text, raw=bytes(self._text_raw)))
            self._text_raw.clear()

    @staticmethod
    def _merge_feed_and_cut(buf: bytearray, pos: int, length: int) -> int | None:
        """``ESC d n`` directly followed by ``GS V``: one Cut token (python-escpos's ``cut()``)."""
        if buf[pos : pos + 2] != b"\x1bd":
            return length
        after = pos + length
        lookahead = bytes(buf[after : after + 2])
        if not b"\x1dV".startswith(lookahead):
            return length
        if len(lookahead) < 2:
            return None
        cut_length = grammar.command_length(buf, after)
        return None if cut_length is None else length + cut_length

    def _command(self, cmd: bytes) -> Token:
        if len(cmd) < 2:  # a lone DLE
            return Opaque(cmd, raw=cmd)
        prefix, op = cmd[0], cmd[1]
        if prefix == grammar.ESC:
            return self._esc(cmd, op)
        if prefix == grammar.GS:
            return self._gs(cmd, op)
        if prefix == grammar.FS and op in (0x26, 0x2E):
            self.chinese_mode = op == 0x26
            self._decoder = self._new_decoder()
            return ChineseMode(self.chinese_mode, raw=cmd)
        if prefix == grammar.DLE and op == 0x04 and len(cmd) == 3 and 1 <= cmd[2] <= 4:
            return StatusRequest(cmd[2], raw=cmd)
        return Opaque(cmd, raw=cmd)

    def _esc(self, cmd: bytes, op: int) -> Token:
        if op == 0x40:
            self.chinese_mode = False
            self._decoder = self._new_decoder()
            return Init(raw=cmd)
        if op == 0x61 and cmd[2] in _ALIGNS:
            return SetAlign(_ALIGNS[cmd[2]], raw=cmd)
        if op == 0x45:
            return Bold(bool(cmd[2] & 1), raw=cmd)
        if op == 0x21:
            mode = cmd[2]
            return TextSize(2 if mode & 0x20 else 1, 2 if mode & 0x10 else 1, bool(mode & 0x08), raw=cmd)
        if op == 0x64 and len(cmd) == 3:
            return LineFeed(cmd[2], raw=cmd)
        if op == 0x64:  # ESC d n GS V m [n], merged
            return Cut(cmd[5] in _PARTIAL_CUTS, feed_lines=cmd[2], raw=cmd)
        return Opaque(cmd, raw=cmd)

    def _gs(self, cmd: bytes, op: int) -> Token:
        if op == 0x21 and (cmd[2] >> 4) < 8 and (cmd[2] & 0x0F) < 8:
            return TextSize((cmd[2] >> 4) + 1, (cmd[2] & 0x0F) + 1, raw=cmd)
        if op == 0x56:
            return Cut(cmd[2] in _PARTIAL_CUTS, raw=cmd)
        if op == 0x28 and cmd[2] == 0x6B and len(cmd) >= 7 and cmd[5] == 0x31:
            return self._qr(cmd, fn=cmd[6], params=cmd[7:])
        return Opaque(cmd, raw=cmd)

    def _qr(self, cmd: bytes, fn: int, params: bytes) -> Token:
        if fn == 65 and params:
            return QrModel(params[0] - 48, raw=cmd)
        if fn == 67 and params:
            return QrSize(params[0], raw=cmd)
        if fn == 69 and params and params[0] in QR_ERROR_LEVELS:
            return QrErrorLevel(QR_ERROR_LEVELS[params[0]], raw=cmd)
        if fn == 80 and params:
            self._qr_payload = params[1:]
            return QrStore(self._qr_payload, raw=cmd)
        if fn == 81:
            return QrPrint(self._qr_payload, raw=cmd)
        return Opaque(cmd, raw=cmd)
