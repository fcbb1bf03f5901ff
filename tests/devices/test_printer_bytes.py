"""Exact bytes of the ticket printer codec: commands, Chinese text, layouts, status bytes."""

from __future__ import annotations

from datetime import date, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kiosk.devices.printer import commands
from kiosk.devices.printer.commands import Align, encode_text
from kiosk.devices.printer.errors import PrinterError, PrinterProtocolError
from kiosk.devices.printer.layout import ReceiptContent, TicketContent, render_receipt, render_ticket
from kiosk.devices.printer.status import (
    PrinterStatus,
    apply_status_byte,
    encode_status_byte,
    parse_status,
    status_request,
)

H = bytes.fromhex


def make_ticket(materials: int = 5, **overrides: object) -> TicketContent:
    fields: dict[str, object] = {
        "number": "A012",
        "item_name": "不动产登记（转移登记）",
        "window_group": "3-5号窗口",
        "issued_at": datetime(2024, 5, 6, 9, 12),
        "people_ahead": 12,
        "estimated_wait_min": 25,
        "materials": ["身份证原件", "户口簿原件", "不动产权证书", "网签购房合同", "契税完税证明"][:materials],
        "qr_url": "https://hall.example.cn/q/A012?d=20240506",
        "hall_name": "某某区政务服务中心",
        "id_masked": "110***********1234",
    }
    fields.update(overrides)
    return TicketContent(**fields)  # type: ignore[arg-type]


def make_receipt() -> ReceiptContent:
    return ReceiptContent(
        case_number="BJ20240506-0007",
        item_name="营业执照变更登记",
        officer_name="李明",
        officer_staff_no="0815",
        window_number="5",
        accepted_at=datetime(2024, 5, 6, 9, 40),
        deadline=date(2024, 5, 13),
        applicant_masked="张*",
        hall_name="某某区政务服务中心",
        notes=["补正材料请在5个工作日内提交", "咨询电话：12345"],
    )


QR_HELLO = (
    H("1d 28 6b 04 00 31 41 32 00")  # model 2
    + H("1d 28 6b 03 00 31 43 06")  # module size 6
    + H("1d 28 6b 03 00 31 45 30")  # error level L
    + H("1d 28 6b 08 00 31 50 30")
    + b"hello"  # store
    + H("1d 28 6b 03 00 31 51 30")  # print
)


@pytest.mark.parametrize(
    ("produced", "expected"),
    [
        (commands.init(), H("1b 40")),
        (commands.full_cut(), H("1b 64 06 1d 56 00")),
        (commands.partial_cut(), H("1b 64 06 1d 56 01")),
        (commands.native_qr("hello"), QR_HELLO),
        (commands.text_size(2, 2), H("1d 21 11")),
        (commands.text_size(1, 1), H("1d 21 00")),
        (commands.align(Align.CENTER), H("1b 61 01")),
        (commands.align(Align.LEFT), H("1b 61 00")),
        (commands.bold(True), H("1b 45 01")),
        (status_request(1), H("10 04 01")),
        (status_request(4), H("10 04 04")),
    ],
)
def test_command_bytes(produced: bytes, expected: bytes) -> None:
    assert produced == expected


GB = "c7 eb b5 bd a3 ba a3 b5 ba c5 b4 b0 bf da a3 ac d0 bb d0 bb"
UTF8 = "e8 af b7 e5 88 b0 ef bc 9a ef bc 95 e5 8f b7 e7 aa 97 e5 8f a3 ef bc 8c e8 b0 a2 e8 b0 a2"


@pytest.mark.parametrize(
    ("text", "encoding", "expected"),
    [
        ("请到：５号窗口，谢谢", "gb18030", H(f"1c 26 {GB} 1c 2e")),
        ("请到：５号窗口，谢谢", "gbk", H(f"1c 26 {GB} 1c 2e")),
        ("请到：５号窗口，谢谢", "utf-8", H(f"1c 26 {UTF8} 1c 2e")),
        ("请到：５号窗口，谢谢", "GB18030", H(f"1c 26 {GB} 1c 2e")),
        # Only full-width punctuation, no Han character: python-escpos would print "?" here.
        ("：，〇", "gb18030", H("1c 26 a3 ba a3 ac a9 96 1c 2e")),
        ("：，〇", "gbk", H("1c 26 a3 ba a3 ac a9 96 1c 2e")),
        # A CJK Extension B character: four bytes in GB18030, not encodable in GBK.
        ("\U00020000", "gb18030", H("1c 26 95 32 82 36 1c 2e")),
        ("\U00020000", "gbk", H("1c 26 3f 1c 2e")),
        ("A012", "gb18030", b"A012"),
        ("", "utf-8", b""),
    ],
)
def test_chinese_text_is_wrapped_in_fs_mode(text: str, encoding: str, expected: bytes) -> None:
    assert encode_text(text, encoding) == expected


def test_unsupported_encoding_is_refused() -> None:
    with pytest.raises(ValueError, match="unsupported"):
        encode_text("请", "big5")


@pytest.mark.parametrize("encoding", ["gb18030", "gbk", "utf-8"])
def test_ticket_layout(encoding: str) -> None:
    data = render_ticket(make_ticket(), encoding)
    assert data.startswith(H("1b 40 1b 61 01"))
    assert data.endswith(H("1b 64 06 1d 56 01"))
    assert H("1d 21 11") + b"A012\n" + H("1d 21 00") in data
    assert commands.native_qr("https://hall.example.cn/q/A012?d=20240506") in data
    assert encode_text("请到：3-5号窗口", encoding) + b"\n" in data
    assert encode_text("5. 契税完税证明", encoding) in data
    assert b"\x1d\x76\x30" not in data  # no raster image


def test_typical_ticket_is_small_enough_for_9600_baud() -> None:
    data = render_ticket(make_ticket(materials=5))
    assert len(data) < 600
    seconds_at_9600 = len(data) * 10 / 9600  # 8N1: ten bits per byte
    assert seconds_at_9600 < 1.0


def test_priority_ticket_is_marked() -> None:
    assert encode_text("【优先】", "gb18030") in render_ticket(make_ticket(priority=True))
    assert encode_text("【优先】", "gb18030") not in render_ticket(make_ticket())


def test_receipt_layout() -> None:
    data = render_receipt(make_receipt())
    assert data.startswith(H("1b 40"))
    assert data.endswith(H("1b 64 06 1d 56 01"))
    assert H("1d 21 11") + b"BJ20240506-0007\n" in data
    assert commands.native_qr("BJ20240506-0007") in data
    assert encode_text("承诺办结：2024-05-13前", "gb18030") in data
    assert encode_text("受理人：李明（工号0815）", "gb18030") in data
    assert len(data) < 600


@pytest.mark.parametrize("clear_id", ["110101199003071234", "身份证110101199003071234"])
def test_unmasked_id_is_refused_without_echoing_it(clear_id: str) -> None:
    with pytest.raises(ValueError) as caught:
        make_ticket(id_masked=clear_id)
    assert "1101011990" not in str(caught.value)


def test_masked_id_is_not_in_repr() -> None:
    assert "1234" not in repr(make_ticket())


@pytest.mark.parametrize(
    ("kind", "value", "expected"),
    [
        (1, 0x12, PrinterStatus()),
        (1, 0x1A, PrinterStatus(online=False)),
        (2, 0x12, PrinterStatus()),
        (2, 0x16, PrinterStatus(cover_open=True)),
        (2, 0x1A, PrinterStatus(feed_button=True)),
        (2, 0x32, PrinterStatus(paper_out=True)),
        (2, 0x52, PrinterStatus(error=True)),
        (3, 0x12, PrinterStatus()),
        (3, 0x1A, PrinterStatus(cutter_error=True)),
        (3, 0x32, PrinterStatus(unrecoverable_error=True)),
        (3, 0x52, PrinterStatus(auto_recoverable_error=True)),
        (4, 0x12, PrinterStatus()),
        (4, 0x1E, PrinterStatus(paper_near_end=True)),
        (4, 0x72, PrinterStatus(paper_out=True)),
        (4, 0x7E, PrinterStatus(paper_out=True, paper_near_end=True)),
        (4, 0x32, PrinterStatus(paper_out=True)),  # one of the two paper-end bits is enough
    ],
)
def test_status_byte_table(kind: int, value: int, expected: PrinterStatus) -> None:
    assert apply_status_byte(PrinterStatus(), kind, value) == expected


@pytest.mark.parametrize("value", [0x00, 0xFF, 0x13, 0x92, 0x10, 0x02])
def test_status_byte_without_fixed_bits_is_a_protocol_error(value: int) -> None:
    with pytest.raises(PrinterProtocolError):
        apply_status_byte(PrinterStatus(), 4, value)
    assert issubclass(PrinterProtocolError, PrinterError)


def test_status_ready_flags() -> None:
    assert PrinterStatus().ready
    assert not PrinterStatus(paper_out=True).ready
    assert not PrinterStatus(cover_open=True).ready
    assert not PrinterStatus(online=False).ready
    assert not PrinterStatus(cutter_error=True).ready
    assert PrinterStatus(paper_near_end=True).ready


status_strategy = st.builds(
    PrinterStatus,
    online=st.booleans(),
    cover_open=st.booleans(),
    paper_out=st.booleans(),
    paper_near_end=st.booleans(),
    error=st.booleans(),
    cutter_error=st.booleans(),
    unrecoverable_error=st.booleans(),
    auto_recoverable_error=st.booleans(),
    feed_button=st.booleans(),
)


@given(status_strategy)
def test_status_encode_parse_round_trip(status: PrinterStatus) -> None:
    answers = {kind: encode_status_byte(status, kind) for kind in (1, 2, 3, 4)}
    assert parse_status(answers) == status


@given(st.integers(1, 4), st.integers(0, 255))
def test_any_status_byte_parses_or_raises_typed_error(kind: int, value: int) -> None:
    try:
        result = apply_status_byte(PrinterStatus(), kind, value)
    except PrinterProtocolError:
        assert value & 0x93 != 0x12
    else:
        assert isinstance(result, PrinterStatus)
