"""Pure vpcd codec, APDU helpers and the virtual card's socket side (no pcscd needed)."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from functools import reduce

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kiosk.devices.pcsc.apdu import (
    GET_UID_APDU,
    MIFARE_1K_ATR,
    answer_apdu,
    split_response,
    uid_from_response,
)
from kiosk.devices.pcsc.errors import (
    CardCommandError,
    PcscProtocolError,
    PcscUnavailableError,
    VpcdProtocolError,
)
from kiosk.devices.pcsc.vpcd import (
    ApduMessage,
    Control,
    ControlMessage,
    FrameDecoder,
    VirtualCard,
    encode_frame,
    encode_message,
    parse_payload,
)

UID = bytes.fromhex("04A1B2C3")
H = bytes.fromhex

# -- exact bytes ---------------------------------------------------------------------------

ENCODE_TABLE = [
    (ControlMessage(Control.POWER_OFF), "00 01 00"),
    (ControlMessage(Control.POWER_ON), "00 01 01"),
    (ControlMessage(Control.RESET), "00 01 02"),
    (ControlMessage(Control.GET_ATR), "00 01 04"),
    (ApduMessage(H("FF CA 00 00 00")), "00 05 FF CA 00 00 00"),
]


@pytest.mark.parametrize(("message", "wire"), ENCODE_TABLE)
def test_encode_message_exact_bytes(message: ControlMessage | ApduMessage, wire: str) -> None:
    assert encode_message(message) == H(wire)


@pytest.mark.parametrize(("message", "wire"), ENCODE_TABLE)
def test_decode_and_parse_exact_bytes(message: ControlMessage | ApduMessage, wire: str) -> None:
    assert [parse_payload(p) for p in FrameDecoder().feed(H(wire))] == [message]


def test_card_answer_frames_exact_bytes() -> None:
    assert encode_frame(UID + H("90 00")) == H("00 06 04 A1 B2 C3 90 00")
    assert encode_frame(MIFARE_1K_ATR)[:3] == H("00 14 3B")
    assert encode_frame(bytes(256))[:2] == H("01 00")


@pytest.mark.parametrize("payload", [b"", bytes(0x10000)])
def test_encode_frame_rejects_bad_sizes(payload: bytes) -> None:
    with pytest.raises(VpcdProtocolError):
        encode_frame(payload)


@pytest.mark.parametrize("payload", ["", "03", "05", "FF"])
def test_parse_payload_rejects_unknown_control(payload: str) -> None:
    with pytest.raises(VpcdProtocolError):
        parse_payload(H(payload))


def test_parse_payload_two_bytes_and_more_is_an_apdu() -> None:
    assert parse_payload(H("00 A4")) == ApduMessage(H("00 A4"))


def test_decoder_keeps_partial_frames_across_feeds() -> None:
    decoder = FrameDecoder()
    stream = H("00 01 04 00 05 FF CA 00 00 00")
    got = [payload for byte in stream for payload in decoder.feed(bytes([byte]))]
    assert got == [H("04"), H("FF CA 00 00 00")]
    assert decoder.pending == 0
    assert decoder.feed(H("00 05 FF")) == []
    assert decoder.pending == 3


def test_decoder_rejects_zero_length_frame_and_resynchronises() -> None:
    decoder = FrameDecoder()
    with pytest.raises(VpcdProtocolError):
        decoder.feed(H("00 00 01"))
    assert decoder.pending == 0
    assert decoder.feed(H("00 01 01")) == [H("01")]


# -- APDUs ---------------------------------------------------------------------------------

ANSWER_TABLE = [
    ("FF CA 00 00 00", "04 A1 B2 C3 90 00"),  # PC/SC part 3 GET UID
    ("FF CA 00 00 04", "04 A1 B2 C3 90 00"),  # exact Le
    ("FF CA 00 00 02", "6C 04"),  # short Le: retry with 04
    ("FF CA 00 00 0A", "04 A1 B2 C3 62 82"),  # long Le: end of data
    ("FF CA 01 00 00", "6A 81"),  # ATS historical bytes: not offered
    ("FF B0 00 00 10", "6D 00"),  # unknown INS
    ("00 A4 04 00", "6E 00"),  # ISO class: not a PC/SC pseudo-APDU
    ("FF CA 00", "67 00"),  # too short for a header
    ("FF CA 00 00", "67 00"),  # no Le
]


@pytest.mark.parametrize(("apdu", "answer"), ANSWER_TABLE)
def test_card_answers_apdus(apdu: str, answer: str) -> None:
    assert answer_apdu(H(apdu), UID) == H(answer)


def test_get_uid_apdu_bytes() -> None:
    assert H("FF CA 00 00 00") == GET_UID_APDU


def test_mifare_atr_checksum_is_valid() -> None:
    # TCK makes the XOR of every byte after TS zero.
    assert reduce(lambda a, b: a ^ b, MIFARE_1K_ATR[1:]) == 0


def test_uid_from_response() -> None:
    assert uid_from_response(H("04 A1 B2 C3 90 00")) == UID
    assert split_response(H("6A 81")) == (b"", 0x6A81)
    with pytest.raises(CardCommandError) as info:
        uid_from_response(H("6A 81"))
    assert info.value.sw == 0x6A81
    for bad in ("", "90", "90 00"):
        with pytest.raises(PcscProtocolError):
            uid_from_response(H(bad))


def test_virtual_card_answers_without_socket() -> None:
    card = VirtualCard(UID, MIFARE_1K_ATR)
    assert card.answer(ControlMessage(Control.GET_ATR)) == MIFARE_1K_ATR
    assert card.answer(ControlMessage(Control.POWER_ON)) is None
    assert card.powered
    assert card.answer(ControlMessage(Control.POWER_OFF)) is None
    assert not card.powered
    assert card.answer(ApduMessage(GET_UID_APDU)) == UID + H("90 00")
    card.fault_sw = 0x6F00
    assert card.answer(ApduMessage(GET_UID_APDU)) == H("6F 00")


def test_virtual_card_needs_a_uid() -> None:
    with pytest.raises(ValueError):
        VirtualCard(b"", MIFARE_1K_ATR)


# -- properties ----------------------------------------------------------------------------

payloads = st.lists(st.binary(min_size=1, max_size=300), max_size=8)


@settings(max_examples=200, deadline=None)
@given(payloads, st.data())
def test_frames_survive_any_chunking(items: list[bytes], data: st.DataObject) -> None:
    stream = b"".join(encode_frame(p) for p in items)
    cuts = sorted(data.draw(st.lists(st.integers(0, len(stream)), max_size=10)))
    decoder = FrameDecoder()
    got: list[bytes] = []
    for start, end in zip([0, *cuts], [*cuts, len(stream)], strict=True):
        got += decoder.feed(stream[start:end])
    assert got == items
    assert decoder.pending == 0


@settings(max_examples=200, deadline=None)
@given(payloads, st.data())
def test_truncated_stream_gives_a_prefix_and_waits(items: list[bytes], data: st.DataObject) -> None:
    stream = b"".join(encode_frame(p) for p in items)
    cut = data.draw(st.integers(0, len(stream)))
    decoder = FrameDecoder()
    got = decoder.feed(stream[:cut])
    assert got == items[: len(got)]
    assert decoder.pending == cut - sum(len(p) + 2 for p in got)


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=600))
def test_random_bytes_give_frames_or_a_typed_error(stream: bytes) -> None:
    decoder = FrameDecoder()
    try:
        got = decoder.feed(stream)
    except VpcdProtocolError:
        return
    assert b"".join(encode_frame(p) for p in got) == stream[: len(stream) - decoder.pending]
    for payload in got:
        try:
            message = parse_payload(payload)
        except VpcdProtocolError:
            continue
        assert isinstance(message, ControlMessage | ApduMessage)


@settings(max_examples=200, deadline=None)
@given(payloads.filter(bool), st.data())
def test_corrupted_stream_gives_frames_or_a_typed_error(items: list[bytes], data: st.DataObject) -> None:
    stream = bytearray(b"".join(encode_frame(p) for p in items))
    index = data.draw(st.integers(0, len(stream) - 1))
    stream[index] ^= data.draw(st.integers(1, 255))
    try:
        got = FrameDecoder().feed(bytes(stream))
    except VpcdProtocolError:
        return
    assert all(isinstance(p, bytes) and p for p in got)


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=300), st.binary(min_size=1, max_size=10))
def test_card_always_answers_with_a_status_word(apdu: bytes, uid: bytes) -> None:
    answer = answer_apdu(apdu, uid)
    data, sw = split_response(answer)
    assert sw in {0x9000, 0x6282, 0x6700, 0x6A81, 0x6D00, 0x6E00} or sw >> 8 == 0x6C
    assert data in (b"", uid)


# -- the card's socket side against a listener speaking vpcd's half ------------------------


@pytest.fixture
def vpcd_listener() -> Iterator[socket.socket]:
    server = socket.create_server(("127.0.0.1", 0))
    server.settimeout(2)
    yield server
    server.close()


def _exchange(conn: socket.socket, message: ControlMessage | ApduMessage) -> bytes:
    conn.sendall(encode_message(message))
    decoder = FrameDecoder()
    while True:
        chunk = conn.recv(4096)
        assert chunk, "card closed the connection"
        got = decoder.feed(chunk)
        if got:
            return got[0]


def test_virtual_card_speaks_vpcd_over_a_socket(vpcd_listener: socket.socket) -> None:
    port = vpcd_listener.getsockname()[1]
    with VirtualCard(UID, MIFARE_1K_ATR, port=port) as card:
        conn, _ = vpcd_listener.accept()
        conn.settimeout(2)
        with conn:
            assert card.inserted
            assert _exchange(conn, ControlMessage(Control.GET_ATR)) == MIFARE_1K_ATR
            conn.sendall(encode_message(ControlMessage(Control.POWER_ON)))
            assert _exchange(conn, ApduMessage(GET_UID_APDU)) == UID + H("90 00")
            assert card.powered
            # A zero-length frame is garbage: the card hangs up rather than guess.
            conn.sendall(H("00 00"))
            assert conn.recv(16) == b""
    assert not card.inserted


def test_virtual_card_remove_closes_the_socket(vpcd_listener: socket.socket) -> None:
    port = vpcd_listener.getsockname()[1]
    card = VirtualCard(UID, MIFARE_1K_ATR, port=port)
    for _ in range(2):
        card.insert()
        conn, _ = vpcd_listener.accept()
        conn.settimeout(2)
        with conn:
            assert _exchange(conn, ControlMessage(Control.GET_ATR)) == MIFARE_1K_ATR
            card.remove()
            assert conn.recv(16) == b""
        assert not card.inserted


def test_virtual_card_insert_without_vpcd_is_a_connection_error() -> None:
    with socket.create_server(("127.0.0.1", 0)) as probe:
        free_port = probe.getsockname()[1]
    card = VirtualCard(UID, MIFARE_1K_ATR, port=free_port)
    with pytest.raises(PcscUnavailableError):
        card.insert()
    assert not card.inserted
