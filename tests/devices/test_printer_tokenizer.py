"""ESC/POS tokenizer: exact token tables, render -> tokenize round trips, robustness on random bytes."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kiosk.devices.printer import commands
from kiosk.devices.printer.commands import Align
from kiosk.devices.printer.layout import render_receipt, render_ticket
from kiosk.devices.printer.page import PageBuilder, PrintedTicket
from kiosk.devices.printer.tokenizer import EscPosTokenizer
from kiosk.devices.printer.tokens import (
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
from tests.devices.test_printer_bytes import QR_HELLO, make_receipt, make_ticket

H = bytes.fromhex


def tokenize(data: bytes, encoding: str = "gb18030", chunk: int = 0) -> list[Token]:
    tokenizer = EscPosTokenizer(encoding)
    tokens: list[Token] = []
    step = chunk or max(1, len(data))
    for start in range(0, len(data), step):
        tokens += tokenizer.feed(data[start : start + step])
    return tokens + tokenizer.flush()


def merged(tokens: list[Token]) -> list[Token]:
    """Join adjacent Text tokens (chunking may split a run)."""
    out: list[Token] = []
    for token in tokens:
        if isinstance(token, Text) and out and isinstance(out[-1], Text):
            out[-1] = Text(out[-1].text + token.text)
        else:
            out.append(token)
    return out


def print_out(data: bytes, encoding: str = "gb18030", chunk: int = 0) -> list[PrintedTicket]:
    page = PageBuilder()
    tickets = [page.apply(token) for token in tokenize(data, encoding, chunk)]
    return [ticket for ticket in tickets if ticket is not None]


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (H("1b 40"), [Init()]),
        (H("1b 61 01 1b 61 32"), [SetAlign(Align.CENTER), SetAlign(Align.RIGHT)]),
        (H("1d 21 11 1d 21 00"), [TextSize(2, 2), TextSize(1, 1)]),
        (H("1b 21 38"), [TextSize(2, 2, bold=True)]),
        (H("1b 45 01 1b 45 00"), [Bold(True), Bold(False)]),
        (b"ab\ncd\n", [Text("ab"), LineFeed(), Text("cd"), LineFeed()]),
        (H("1b 64 06 1d 56 01"), [Cut(partial=True, feed_lines=6)]),
        (H("1b 64 06 1d 56 00"), [Cut(partial=False, feed_lines=6)]),
        (H("1d 56 42 03"), [Cut(partial=True)]),
        (H("1b 64 03") + b"x", [LineFeed(3), Text("x")]),
        (H("1b 64 03"), [LineFeed(3)]),  # only at flush: a cut might have followed
        (H("10 04 01 10 04 04"), [StatusRequest(1), StatusRequest(4)]),
        (H("1b 74 00") + b"a", [Opaque(H("1b 74 00")), Text("a")]),
        (H("1d 76 30 00 01 00 02 00 ff 00") + b"z", [Opaque(H("1d 76 30 00 01 00 02 00 ff 00")), Text("z")]),
        (H("1c 26 c7 eb 1c 2e"), [ChineseMode(True), Text("请"), ChineseMode(False)]),
        (H("1c 26 c7 1c 2e"), [ChineseMode(True), Text("\ufffd"), ChineseMode(False)]),
        (
            QR_HELLO,
            [QrModel(2), QrSize(6), QrErrorLevel("L"), QrStore(b"hello"), QrPrint(b"hello")],
        ),
    ],
)
def test_token_table(data: bytes, expected: list[Token]) -> None:
    assert tokenize(data) == expected


def test_incomplete_command_waits_for_the_rest() -> None:
    tokenizer = EscPosTokenizer()
    assert tokenizer.feed(QR_HELLO[:20]) == [QrModel(2), QrSize(6)]
    assert tokenizer.feed(QR_HELLO[20:]) == [QrErrorLevel("L"), QrStore(b"hello"), QrPrint(b"hello")]


def test_half_a_character_waits_for_the_rest() -> None:
    tokenizer = EscPosTokenizer("gb18030")
    assert tokenizer.feed(H("1c 26 c7")) == [ChineseMode(True)]
    assert tokenizer.feed(H("eb 0a")) == [Text("请"), LineFeed()]


@pytest.mark.parametrize("encoding", ["gb18030", "gbk", "utf-8"])
@pytest.mark.parametrize("chunk", [0, 1, 7])
def test_ticket_round_trip(encoding: str, chunk: int) -> None:
    data = render_ticket(make_ticket(), encoding)
    (ticket,) = print_out(data, encoding, chunk)
    texts = [line.text for line in ticket.lines if line.text]
    assert texts[:4] == ["某某区政务服务中心", "A012", "不动产登记（转移登记）", "请到：3-5号窗口"]
    assert "前面等候：12人，预计约25分钟" in texts
    assert "身份证：110***********1234" in texts
    assert "5. 契税完税证明" in texts
    assert texts[-1] == "请留意叫号，过号请重新取号"
    number = next(line for line in ticket.lines if line.text == "A012")
    assert (number.width, number.height, number.align) == (2, 2, Align.CENTER)
    assert ticket.qr_payloads == ["https://hall.example.cn/q/A012?d=20240506"]
    assert ticket.partial_cut
    assert ticket.raw == data


def test_receipt_round_trip() -> None:
    (ticket,) = print_out(render_receipt(make_receipt()))
    assert "受理人：李明（工号0815）" in ticket.text
    assert "※咨询电话：12345" in ticket.text
    assert ticket.qr_payloads == ["BJ20240506-0007"]


def test_two_tickets_in_one_stream() -> None:
    first, second = print_out(render_ticket(make_ticket()) + render_ticket(make_ticket(number="A013")))
    assert "A012" in first.text and "A013" in second.text


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=400), st.integers(1, 50), st.sampled_from(["gb18030", "gbk", "utf-8"]))
def test_random_bytes_never_crash_and_lose_nothing(data: bytes, chunk: int, encoding: str) -> None:
    whole = tokenize(data, encoding)
    chunked = tokenize(data, encoding, chunk)
    assert b"".join(token.raw for token in whole) == data
    assert b"".join(token.raw for token in chunked) == data
    assert merged(whole) == merged(chunked)


@settings(max_examples=100, deadline=None)
@given(st.data())
def test_truncated_and_corrupted_tickets_never_crash(data: st.DataObject) -> None:
    ticket = render_ticket(make_ticket())
    cut_at = data.draw(st.integers(0, len(ticket)))
    flips = data.draw(st.lists(st.tuples(st.integers(0, len(ticket) - 1), st.integers(0, 255)), max_size=5))
    corrupted = bytearray(ticket[:cut_at])
    for index, value in flips:
        if index < len(corrupted):
            corrupted[index] = value
    tokens = tokenize(bytes(corrupted))
    assert b"".join(token.raw for token in tokens) == bytes(corrupted)
    page = PageBuilder()
    for token in tokens:
        page.apply(token)


def test_qr_command_bytes_from_python_escpos_tokenize_back() -> None:
    payload = "https://hall.example.cn/q/A012?d=20240506"
    tokens = tokenize(commands.native_qr(payload))
    assert tokens[-1] == QrPrint(payload.encode())
